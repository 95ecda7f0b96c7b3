"""Benchmark: a category suggestion while a payee is typed, through the gateway (issue #18: one suggestion
p99 ≤ 20 ms), against a baseline measured in the same run: the gateway's round trip of a trivial GET.

    uv run python bench/categoriser_typing.py [--months 12] [--typed 30] [--seed 2]

It starts the whole local stack (embedded PostgreSQL, broker, services, gateway) in a temporary folder,
signs a household up through the gateway, gives it the categories of one synthetic household of
bench/categoriser.py (seed 2) and records that household's first `--months` months of categorised
bookings (about 75 a month) through the API, as a person would have. It waits until the ledger's trainer
has learnt from all of them (the stack looks every 2 s; training runs in the ledger's worker process),
then asks for one suggestion the way the entry form does (web/js/panels/entry.js): for each of the next
month's first `--typed` bookings, every prefix of its payee from the third character on, one request per
prefix, with its amount, account and day (`GET /api/ledger/categories/suggest`, with the access token and
the read-your-writes position the web client sends). Interleaved with each suggestion, the baselines:

- `GET /healthz` of the gateway (the gateway alone: no token, no service behind it);
- `GET /api/ledger/categoriser` (the gateway, the token, the ledger and one primary-key read: the
  trivial authenticated round trip every ledger request pays).

Reported: p50, p90, p99 and max of each, the suggestion's own cost over the trivial GET, the share of
typed prefixes that got a suggestion, and the first suggestion after training (it loads the stored
model and scikit-learn's hashing into the ledger's process). Writes bench/results/categoriser_typing.
{json,md}; the load average says whether other work shared the machine (then the figures are noisy).
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import categoriser as cat
import httpx
from stack_bench import sign_up

from tallystack.measure import percentile, sharing
from tallystack.people import PASSWORD, Person
from tallystack.polling import eventually
from tallystack.stack import Ports, Stack

RESULTS = Path(__file__).parent / "results"
TARGET_P99_MS = 20.0
FIRST_TYPED = 3  # the entry form asks from the second character; the third is where a payee starts to say
WARM_UP = 20


def _timed(person: Person, path: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = person.session.request("GET", path, headers=person.auth)
    return (time.perf_counter() - started) * 1000, response


def _sign_in(person: Person) -> None:
    answer = person.session.request("POST", "/api/auth/login", json={"email": person.email,
                                                                      "password": PASSWORD})
    answer.raise_for_status()
    person.pair = answer.json()


def _learnt(person: Person, recorded: int) -> dict[str, Any] | None:
    """The household's categoriser once it has learnt from every recorded transaction."""
    answer = person.call("GET", "/ledger/categoriser")
    if answer.status_code == 401:  # recording a year by hand outlasts an access token
        _sign_in(person)
        return None
    state: dict[str, Any] = answer.json()
    return state if answer.is_success and state["examples"] >= recorded else None


def _gateway(client: httpx.Client) -> float:
    started = time.perf_counter()
    client.get("/healthz").raise_for_status()
    return (time.perf_counter() - started) * 1000


def seed(person: Person, household: cat.Household, months: int) -> tuple[str, int]:
    """The household's categories and account, and its first `months` months of bookings; returns the
    account's id and how many were recorded."""
    have = {c["name"] for c in eventually(lambda: person.call("GET", "/ledger/categories").json()["items"],
                                          "the default categories")}
    for name in household.categories:
        if name not in have:
            kind = "income" if name in cat.INCOMES else "expense"
            person.call("POST", "/ledger/categories", {"name": name, "group": "Bench", "kind": kind}
                        ).raise_for_status()
    ids = {c["name"]: c["id"] for c in person.call("GET", "/ledger/categories").json()["items"]}
    account = person.call("POST", "/ledger/accounts", {"name": "Giro", "kind": "checking", "currency": "EUR",
                                                       "opening_balance_minor": 0}).json()
    rows = [r for r in household.rows if r.month < months]
    started = time.perf_counter()
    for n, row in enumerate(rows, start=1):
        e = row.example
        person.call("POST", "/ledger/transactions", {
            "account_id": account["id"], "kind": "income" if e.amount_minor > 0 else "expense",
            "amount_minor": abs(e.amount_minor), "payee": e.payee, "note": e.note,
            "booked_on": e.booked_on.isoformat(), "category_id": ids[row.label]}).raise_for_status()
        if n % 50 == 0 or n == len(rows):
            rate = n / (time.perf_counter() - started)
            print(f"\r  recorded {n}/{len(rows)} ({rate:.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return str(account["id"]), len(rows)


def typed(household: cat.Household, months: int, count: int, account_id: str) -> list[str]:
    """The suggestion requests of typing the next month's first `count` payees, prefix by prefix."""
    paths = []
    for row in [r for r in household.rows if r.month == months][:count]:
        e = row.example
        for end in range(FIRST_TYPED, len(e.payee) + 1):
            if not e.payee[:end].strip():
                continue
            query = {"account_id": account_id, "amount_minor": e.amount_minor, "payee": e.payee[:end],
                     "booked_on": e.booked_on.isoformat()}
            paths.append(f"/api/ledger/categories/suggest?{urlencode(query)}")
    return paths


def summary(samples: list[float]) -> dict[str, float]:
    return {"count": len(samples), "p50_ms": percentile(samples, 50), "p90_ms": percentile(samples, 90),
            "p99_ms": percentile(samples, 99), "max_ms": max(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", type=int, default=12, help="months of history recorded before typing")
    parser.add_argument("--typed", type=int, default=30, help="payees typed, prefix by prefix")
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    household = cat.households(args.seed, 1)[0]

    folder = Path(tempfile.mkdtemp(prefix="tally-typing-bench-"))
    stack = Stack(folder, Ports.free(), progress=lambda line: print(line, file=sys.stderr))
    try:
        print("starting the stack…", file=sys.stderr)
        stack.start()
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            person = sign_up(client)
            account_id, recorded = seed(person, household, args.months)
            print("  waiting for the categoriser to learn…", file=sys.stderr)
            learnt = eventually(lambda: _learnt(person, recorded), "the categoriser to learn the history",
                                timeout=900)
            _sign_in(person)  # a fresh access token (15 minutes) for the measurement
            paths = typed(household, args.months, args.typed, account_id)
            first_ms, _ = _timed(person, paths[0])
            for path in paths[:WARM_UP]:
                _timed(person, path)
            suggest, trivial, gateway, answered = [], [], [], 0
            load_before = os.getloadavg()[0]
            for path in paths:
                elapsed, response = _timed(person, path)
                response.raise_for_status()
                suggest.append(elapsed)
                answered += bool(response.json()["items"])
                trivial.append(_timed(person, "/api/ledger/categoriser")[0])
                gateway.append(_gateway(client))
            load_after = os.getloadavg()[0]
    finally:
        stack.stop()
        shutil.rmtree(folder, ignore_errors=True)

    result = {
        "date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "sharing": sharing(max(load_before, load_after)),
        "history": {"months": args.months, "transactions": recorded, "categories": learnt["categories"],
                    "method": learnt["method"], "training_seconds": learnt["training_seconds"]},
        "typed_payees": args.typed, "answered_share": answered / len(paths),
        "first_suggestion_ms": first_ms,
        "suggestion": summary(suggest), "ledger_trivial_get": summary(trivial),
        "gateway_healthz": summary(gateway),
        "target_p99_ms": TARGET_P99_MS,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "categoriser_typing.json").write_text(json.dumps(result, indent=2) + "\n")
    text = report(result)
    (RESULTS / "categoriser_typing.md").write_text(text)
    print(text)


def report(result: dict[str, Any]) -> str:
    h = result["history"]
    rows = [("one suggestion while typing (`GET /api/ledger/categories/suggest`)", result["suggestion"]),
            ("baseline: trivial ledger GET through the gateway (`GET /api/ledger/categoriser`)",
             result["ledger_trivial_get"]),
            ("baseline: the gateway alone (`GET /healthz`)", result["gateway_healthz"])]
    lines = [
        "# One category suggestion while typing, through the gateway",
        "",
        f"{result['date']}, {result['machine']}; load average {result['load_average'][0]} → "
        f"{result['load_average'][1]}: {result['sharing']}. Made by `bench/categoriser_typing.py`.",
        "",
        f"History: {h['transactions']} categorised transactions ({h['months']} months of one synthetic "
        f"household of bench/categoriser.py, {h['categories']} categories), learnt as `{h['method']}` in "
        f"{h['training_seconds']:.1f} s. Typed: {result['typed_payees']} payees of the next month, every "
        f"prefix from the third character ({result['suggestion']['count']} requests, one at a time, each "
        "followed by the two baselines).",
        "",
        "| request | n | p50 | p90 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, s in rows:
        lines.append(f"| {label} | {s['count']} | {s['p50_ms']:.1f} ms | {s['p90_ms']:.1f} ms | "
                     f"{s['p99_ms']:.1f} ms | {s['max_ms']:.1f} ms |")
    s, b = result["suggestion"], result["ledger_trivial_get"]
    verdict = "met" if s["p99_ms"] <= result["target_p99_ms"] else "missed"
    lines += [
        "",
        f"Target p99 ≤ {result['target_p99_ms']:.0f} ms: **{verdict}** ({s['p99_ms']:.1f} ms). The "
        f"suggestion costs {s['p50_ms'] - b['p50_ms']:.1f} ms more than the trivial ledger GET at the "
        "median, "
        f"{s['p99_ms'] - b['p99_ms']:.1f} ms at p99. {result['answered_share']:.0%} of the typed prefixes "
        f"got a suggestion. The first suggestion after training took {result['first_suggestion_ms']:.0f} ms "
        "(it loads the stored model, and the first of a process loads scikit-learn's hashing).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
