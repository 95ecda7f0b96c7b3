"""Benchmark: resident memory of every service at rest, and of the analytics fitting pool, on the local
stack (every service, the gateway, the broker, PostgreSQL as processes), beside a baseline measured in the
same run.

    uv run python bench/service_memory.py [--pool-idle-s 10] [--days 120]

1. Baseline: a bare `python -c "import fastapi, sqlalchemy, aiokafka"` process (what any service of
   ours holds before its own code).
2. The stack started and settled (`tallystack.polling.settled`): each service's own process and its
   children (VmRSS from /proc/<pid>/status), apart.
3. One household with `--days` days of spending (enough for Prophet), settled; then a cash-flow and a
   category forecast straight from the analytics service (the gateway gives up after 10 s, which a
   busy machine's first fits may take): how long the first pair took (the fitting pool's start
   included when it was not running), and the analytics process and its fitting processes right after.
4. Analytics left alone: how long until its fitting processes are gone (the pool's idle timeout,
   `TALLY_ANALYTICS_WORKER_POOL_IDLE_S`, set to `--pool-idle-s` for this run), and its memory then.

Prints a table and writes bench/results/service_memory.{json,md}.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tallystack.chaos import create_household
from tallystack.measure import bare_service_rss_mib, process_tree, rss_mib, sharing, spawned_children
from tallystack.polling import settled
from tallystack.stack import SERVICES, Ports, Stack

RESULTS = Path(__file__).parent / "results"
GOAL_ANALYTICS_IDLE_MIB = 150.0


def show(line: str) -> None:
    print(line, flush=True)


def memory(stack: Stack) -> dict[str, dict[str, float]]:
    out = {}
    for name, process in stack.processes.items():
        children = process_tree(process.pid)[1:]
        out[name] = {"process": rss_mib(process.pid), "children": rss_mib(*children),
                     "workers": len(spawned_children(process.pid))}
    return out


def spending(client: httpx.Client, auth: dict[str, str], account: str, category: str, days: int) -> None:
    today = date.today()
    for n in range(days):
        body = {"account_id": account, "kind": "expense", "amount_minor": 500 + (n * 37) % 4_000,
                "currency": "EUR", "category_id": category, "payee": "Market",
                "booked_on": (today - timedelta(days=days - n)).isoformat()}
        client.post("/api/ledger/transactions", headers=auth, json=body).raise_for_status()


def run(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["TALLY_ANALYTICS_WORKER_POOL_IDLE_S"] = str(args.pool_idle_s)
    result: dict[str, Any] = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0],
                              "pool_idle_s": args.pool_idle_s, "days": args.days}
    result["baseline_mib"] = bare_service_rss_mib()
    with tempfile.TemporaryDirectory(prefix="tally-bench-") as folder:
        stack = Stack(Path(folder), Ports.free(), progress=show)
        try:
            stack.start()
            settled(stack, timeout=300)
            result["idle"] = memory(stack)
            show("  a household, its spending, forecasts…")
            with httpx.Client(base_url=stack.url, timeout=120) as client:
                household = create_household(client, 0, budget_minor=100_000)
                spending(client, household.auth, household.account_id, household.category_id, args.days)
                settled(stack, [household.tenant_id], timeout=300)
                result["settled_with_household"] = memory(stack)
                started = time.perf_counter()
                for path, params in (("cash-flow", {"horizon": 30}), ("categories", {})):
                    response = client.get(f"{stack.service_url('analytics')}/forecasts/{path}",
                                          params=params, headers=household.auth)
                    response.raise_for_status()
                    result.setdefault("fallback_used", []).append(response.json()["fallback_used"])
                result["first_forecasts_s"] = time.perf_counter() - started
            result["after_forecast"] = memory(stack)
            analytics = stack.processes["analytics"].pid
            started = time.perf_counter()
            deadline = started + args.pool_idle_s + args.grace_s
            while spawned_children(analytics) and time.perf_counter() < deadline:
                time.sleep(0.2)
            result["workers_gone_after_s"] = (
                None if spawned_children(analytics) else time.perf_counter() - started)
            result["after_idle"] = memory(stack)
        finally:
            stack.stop()
    result["load_after"] = os.getloadavg()[0]
    analytics_idle = result["after_idle"]["analytics"]
    result["analytics_idle_mib"] = analytics_idle["process"] + analytics_idle["children"]
    result["goal_met"] = result["analytics_idle_mib"] <= GOAL_ANALYTICS_IDLE_MIB
    return result


def report(result: dict[str, Any]) -> str:
    def cell(m: dict[str, float]) -> str:
        extra = f" + {m['children']:.0f}" if m["children"] >= 0.5 else ""
        return f"{m['process']:.0f}{extra}" + (f" ({m['workers']:.0f} fitting)" if m["workers"] else "")

    gone = result["workers_gone_after_s"]
    lines = [
        f"# Service memory benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"The local stack as processes on {platform.machine()} ({result['cores']} cores; load average "
        f"{result['load_before']:.1f} before, {result['load_after']:.1f} after: "
        f"{sharing(max(result['load_before'], result['load_after']))}), Python {platform.python_version()}."
        " Resident memory (VmRSS) in MiB: the service's own process + its children (fitting processes of "
        "analytics, multiprocessing's resource tracker).",
        "",
        f"Baseline in the same run: a bare `python -c \"import fastapi, sqlalchemy, aiokafka\"` process, "
        f"**{result['baseline_mib']:.0f} MiB**.",
        "",
        f"| process | started, settled | with a household of {result['days']} days | "
        "right after two forecasts | analytics left alone |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in (*SERVICES, "gateway"):
        cells = [cell(result[phase][name])
                 for phase in ("idle", "settled_with_household", "after_forecast", "after_idle")]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines += [
        "",
        f"First cash-flow + category forecasts of the household: {result['first_forecasts_s']:.1f} s "
        "(the fitting pool's start included when it was not running). Fitting processes gone "
        + (f"{gone:.1f} s after the last forecast (idle timeout {result['pool_idle_s']:.0f} s)."
           if gone is not None else
           f"**never** (waited {result['pool_idle_s']:.0f} s + grace)."),
        "",
        f"Analytics left alone: {result['analytics_idle_mib']:.0f} MiB with its children, target "
        f"≤ {GOAL_ANALYTICS_IDLE_MIB:.0f} MiB: **{'met' if result['goal_met'] else 'not met'}**.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool-idle-s", type=float, default=10.0)
    parser.add_argument("--grace-s", type=float, default=30.0,
                        help="how long past the idle timeout to wait for the fitting processes to go")
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()
    result = run(args)
    text = report(result)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "service_memory.md").write_text(text)
    (RESULTS / "service_memory.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
