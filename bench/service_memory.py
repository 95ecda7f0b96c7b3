"""Benchmark: resident memory of every service at rest, and of its worker processes, on the local
stack (every service, the gateway, the broker, PostgreSQL as processes), beside a baseline measured in the
same run.

    uv run python bench/service_memory.py [--pool-idle-s 10] [--days 120]

1. Baseline: a bare `python -c "import fastapi, sqlalchemy, aiokafka"` process (what any service of
   ours holds before its own code).
2. The stack started and settled (`tallystack.polling.settled`): each service's own process and its
   children (VmRSS from /proc/<pid>/status), apart.
3. One household with `--days` days of spending (enough for Prophet), settled; then a cash-flow and a
   category forecast straight from the analytics service (the gateway gives up after 10 s, which a
   busy machine's first fits may take), each timed (the first includes the fitting pool's start), and
   a cash flow of 90 days with the pool running; every process right after.
4. Left alone: how long until the worker processes of analytics and of the ledger (its categoriser's
   training, for the new household) are gone (`TALLY_<SERVICE>_WORKER_POOL_IDLE_S`, set to
   `--pool-idle-s` for this run), and every process's memory then.

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
    for service in ("ANALYTICS", "LEDGER"):
        os.environ[f"TALLY_{service}_WORKER_POOL_IDLE_S"] = str(args.pool_idle_s)
    result: dict[str, Any] = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0],
                              "pool_idle_s": args.pool_idle_s, "grace_s": args.grace_s, "days": args.days}
    result["baseline_mib"] = bare_service_rss_mib()
    with tempfile.TemporaryDirectory(prefix="tally-bench-") as folder:
        stack = Stack(Path(folder), Ports.free(), progress=show)
        try:
            stack.start()
            settled(stack, timeout=300)
            result["idle"] = memory(stack)
            show("  a household, its spending, forecasts…")
            with httpx.Client(base_url=stack.url, timeout=600) as client:
                household = create_household(client, 0, budget_minor=100_000)
                spending(client, household.auth, household.account_id, household.category_id, args.days)
                settled(stack, [household.tenant_id], timeout=300)
                result["settled_with_household"] = memory(stack)
                # The first (the pool not running), then one more not cached (the pool running).
                for label, path, params in (("first_cash_flow_s", "cash-flow", {"horizon": 30}),
                                            ("first_categories_s", "categories", {}),
                                            ("running_pool_cash_flow_s", "cash-flow", {"horizon": 90})):
                    started = time.perf_counter()
                    response = client.get(f"{stack.service_url('analytics')}/forecasts/{path}",
                                          params=params, headers=household.auth)
                    response.raise_for_status()
                    result[label] = time.perf_counter() - started
            result["after_forecast"] = memory(stack)
            started = time.perf_counter()
            deadline = started + args.pool_idle_s + args.grace_s
            result["workers_gone_after_s"] = {}
            for name in ("analytics", "ledger"):
                pid = stack.processes[name].pid
                while spawned_children(pid) and time.perf_counter() < deadline:
                    time.sleep(0.2)
                result["workers_gone_after_s"][name] = (
                    None if spawned_children(pid) else time.perf_counter() - started)
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
        workers = int(m["workers"])
        return f"{m['process']:.0f}{extra}" + (f" ({workers} worker{'s' * (workers > 1)})" if workers else "")

    def gone(name: str) -> str:
        after = result["workers_gone_after_s"][name]
        return f"{name}'s {after:.1f} s" if after is not None else f"{name}'s **never**"

    lines = [
        f"# Service memory benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"The local stack as processes on {platform.machine()} ({result['cores']} cores; load average "
        f"{result['load_before']:.1f} before, {result['load_after']:.1f} after: "
        f"{sharing(max(result['load_before'], result['load_after']))}), Python {platform.python_version()}."
        " Resident memory (VmRSS) in MiB: the service's own process + its children (worker processes: "
        "analytics' fitting, the ledger's categoriser training; multiprocessing's resource tracker, about "
        "12 MiB, stays once a pool has run).",
        "",
        f"Baseline in the same run: a bare `python -c \"import fastapi, sqlalchemy, aiokafka\"` process, "
        f"**{result['baseline_mib']:.0f} MiB**.",
        "",
        f"| process | started, settled | with a household of {result['days']} days | "
        "right after the forecasts | left alone |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in (*SERVICES, "gateway"):
        cells = [cell(result[phase][name])
                 for phase in ("idle", "settled_with_household", "after_forecast", "after_idle")]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines += [
        "",
        f"The household's first cash-flow forecast took {result['first_cash_flow_s']:.1f} s (the fitting "
        f"pool's start and Prophet's import included), then its category forecast "
        f"{result['first_categories_s']:.1f} s and a cash flow of 90 days, not cached, "
        f"{result['running_pool_cash_flow_s']:.1f} s (the pool running). Worker processes gone after the "
        f"last task (idle timeout {result['pool_idle_s']:.0f} s for both services, waited at most "
        f"{result['pool_idle_s'] + result['grace_s']:.0f} s): {gone('analytics')}, {gone('ledger')} "
        "(its categoriser's training).",
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
                        help="how long past the idle timeout to wait for the worker processes to go")
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
