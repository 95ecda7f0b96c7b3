"""Benchmark: how many round trips to PostgreSQL one ledger write costs (POST /transactions).

    uv run python bench/ledger_write_trips.py [--writes 50]

It starts an embedded PostgreSQL in a temporary folder, migrates a fresh ledger database and runs the
ledger's app in-process (no relay, no consumers: only the request's own work), opens an account and a
category for a household, warms up (each connection prepares its statements once), then records
`--writes` expenses with a category and a payee through POST /transactions, and counts what reached
PostgreSQL per request: statements with SQLAlchemy's engine events (each one round trip with asyncpg
once prepared), BEGIN and COMMIT (one round trip each), and COPY on the driver's connection (counted
once, though the driver waits for the server twice). Statements are listed by what they do, so the
table shows where the round trips go. Baselines in the same run: the same writes with the saving as it
goes for anything but a few new entries (append, then one statement or COPY per read model and the
outbox: `repository._ONE_STATEMENT_MOST = 0`); and one INSERT and COMMIT (3 round trips: BEGIN, INSERT,
COMMIT) through the same engine.

Prints a table and writes bench/results/ledger_write_trips.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
from sqlalchemy import event, text

from tally_ledger import repository
from tally_ledger.main import MIGRATIONS, create_app
from tally_ledger.settings import LedgerSettings
from tallykit.tokens import TokenVerifier
from tallystack import postgres
from tallystack.measure import percentile, sharing
from tallystack.tokens import TokenMinter

RESULTS = Path(__file__).parent / "results"


def _what(statement: str) -> str:
    """A statement named by its verb and first table (or function)."""
    flat = " ".join(statement.split())
    verb = flat.split(" ", 1)[0].upper()
    if verb == "SELECT" and (m := re.search(r"SELECT (pg_\w+)", flat)):
        return f"SELECT {m.group(1)}"
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+([\w.]+)", flat)
    return f"{verb} {table.group(1) if table else ''}".strip()


class Trips:
    """Counts what an engine sends: statements by kind, BEGINs and COMMITs."""

    def __init__(self, engine: Any) -> None:
        self.statements: Counter[str] = Counter()
        self.begins = self.commits = self.rollbacks = 0
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "begin", self._begin)
        event.listen(sync, "commit", self._commit)
        event.listen(sync, "rollback", self._rollback)
        copy = asyncpg.Connection.copy_records_to_table

        async def counted_copy(conn: Any, table_name: str, **kw: Any) -> Any:
            self.statements[f"COPY {table_name}"] += 1
            return await copy(conn, table_name, **kw)

        asyncpg.Connection.copy_records_to_table = counted_copy

    def _statement(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self.statements[_what(statement)] += 1

    def _begin(self, _: Any) -> None:
        self.begins += 1

    def _commit(self, _: Any) -> None:
        self.commits += 1

    def _rollback(self, _: Any) -> None:
        self.rollbacks += 1

    def reset(self) -> None:
        self.statements.clear()
        self.begins = self.commits = self.rollbacks = 0

    @property
    def total(self) -> int:
        return sum(self.statements.values()) + self.begins + self.commits + self.rollbacks


async def measure(writes: int) -> dict[str, Any]:
    async with postgres.scratch_database(MIGRATIONS) as url:
        minter = TokenMinter()
        settings = LedgerSettings(database_url=url, environment="test")
        app = create_app(settings, verifier=TokenVerifier(settings, jwks=minter.jwks), run_background=False)
        async with app.router.lifespan_context(app):
            trips = Trips(app.state.db.engine)
            headers = minter.headers(uuid4(), uuid4())
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledger",
                                         headers=headers) as client:
                account = (await client.post("/accounts", json={"name": "Girokonto", "kind": "checking",
                                                                "currency": "EUR"})).json()["id"]
                category = (await client.post("/categories", json={"name": "Groceries", "group": "Food",
                                                                   "kind": "expense"})).json()["id"]

                async def write(n: int) -> None:
                    answer = await client.post("/transactions", json={
                        "account_id": account, "kind": "expense", "amount_minor": 1234 + n,
                        "booked_on": "2026-12-01", "category_id": category, "payee": "REWE Markt GmbH"})
                    assert answer.status_code == 201, answer.text

                async def writes_counted() -> dict[str, Any]:
                    for n in range(10):  # every statement prepared on the pool's connections
                        await write(n)
                    per_request: list[int] = []
                    seconds: list[float] = []
                    kinds: Counter[str] = Counter()
                    begins = commits = 0
                    for n in range(writes):
                        trips.reset()
                        began = time.perf_counter()
                        await write(n)
                        seconds.append(time.perf_counter() - began)
                        per_request.append(trips.total)
                        kinds.update(trips.statements)
                        begins, commits = begins + trips.begins, commits + trips.commits
                    return {
                        "trips_per_write": sum(per_request) / writes, "trips_min": min(per_request),
                        "trips_max": max(per_request),
                        "statements_per_write": {k: v / writes for k, v in kinds.most_common()},
                        "begins_per_write": begins / writes, "commits_per_write": commits / writes,
                        "p50_ms": 1000 * percentile(seconds, 50), "p99_ms": 1000 * percentile(seconds, 99),
                    }

                one_statement = repository._ONE_STATEMENT_MOST
                repository._ONE_STATEMENT_MOST = 0
                try:
                    before = await writes_counted()
                finally:
                    repository._ONE_STATEMENT_MOST = one_statement
                result = await writes_counted()
            # Baseline: one INSERT and COMMIT through the same engine.
            async with app.state.db.engine.begin() as conn:
                await conn.execute(text("CREATE TABLE trips_baseline (id bigserial PRIMARY KEY, v int)"))
            trips.reset()
            baseline_seconds = []
            for n in range(writes):
                began = time.perf_counter()
                async with app.state.db.engine.begin() as conn:
                    await conn.execute(text("INSERT INTO trips_baseline (v) VALUES (:v)"), {"v": n})
                baseline_seconds.append(time.perf_counter() - began)
            baseline = trips.total / writes
    return {
        "writes": writes, "load": os.getloadavg()[0], **result, "before": before,
        "baseline_trips": baseline, "baseline_p50_ms": 1000 * percentile(baseline_seconds, 50),
    }


def report(r: dict[str, Any]) -> str:
    lines = [
        f"# Ledger write: round trips to PostgreSQL ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{r['writes']} expenses (with an account, a category and a payee) through POST /transactions of the "
        f"ledger's app in-process, on an embedded PostgreSQL, after 10 writes of warm-up; "
        f"{platform.machine()} "
        f"({os.cpu_count()} cores, load average {r['load']:.1f}: {sharing(r['load'])}), Python "
        f"{platform.python_version()}. Counted with SQLAlchemy's engine events and the driver's COPY.",
        "",
        "| write | round trips | p50 ms in-process | p99 ms |",
        "|---|---:|---:|---:|",
        "| POST /transactions, its reads in one query, then the append, one statement or COPY per read "
        f"model and the outbox (before; what larger saves still do) | "
        f"{r['before']['trips_per_write']:.1f} ({r['before']['trips_min']}-{r['before']['trips_max']}) | "
        f"{r['before']['p50_ms']:.1f} | {r['before']['p99_ms']:.1f} |",
        "| **POST /transactions, its reads in one query, append + read models + outbox in one statement "
        f"(now)** | {r['trips_per_write']:.1f} "
        f"({r['trips_min']}-{r['trips_max']}) | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |",
        f"| baseline: INSERT + COMMIT through the same engine | {r['baseline_trips']:.1f} | "
        f"{r['baseline_p50_ms']:.1f} | |",
        "",
        "Per POST /transactions (`WITH event_store` is the one statement that appends, writes the read "
        "models and the outbox):",
        "",
        "| statement | before | now |",
        "|---|---:|---:|",
        f"| BEGIN | {r['before']['begins_per_write']:.1f} | {r['begins_per_write']:.1f} |",
        *(f"| `{k}` | {r['before']['statements_per_write'].get(k, 0):.1f} | "
          f"{r['statements_per_write'].get(k, 0):.1f} |"
          for k in dict.fromkeys([*r["before"]["statements_per_write"], *r["statements_per_write"]])),
        f"| COMMIT | {r['before']['commits_per_write']:.1f} | {r['commits_per_write']:.1f} |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=50)
    args = parser.parse_args()
    result = asyncio.run(measure(args.writes))
    text_ = report(result)
    print(text_)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ledger_write_trips.md").write_text(text_)
    (RESULTS / "ledger_write_trips.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
