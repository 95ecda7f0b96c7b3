"""Benchmark: import a 100,000-row bank CSV through the ledger's HTTP API until the read model shows
every row, against PostgreSQL COPY of the same rows into a scratch table, in the same run.

    uv run python bench/ledger_import.py [--rows 100000] [--keep]

It starts an embedded PostgreSQL in a temporary folder, migrates a fresh ledger database, and runs the
ledger app in-process behind httpx (no broker: the outbox fills and is left for a relay). Upload →
preview → confirm are the same requests the web client sends; while the confirm request runs, the
batch's progress (rows_done of rows_total) is polled and shown. Prints a table and writes
bench/results/ledger_import.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx

from tally_ledger.importers.batches import IMPORT_ROW_COLUMNS
from tally_ledger.main import MIGRATIONS, create_app
from tally_ledger.projections import TRANSACTION_COLUMNS
from tally_ledger.settings import LedgerSettings
from tallykit.service import tune_garbage_collector
from tallykit.tokens import TokenVerifier
from tallystack import postgres
from tallystack.measure import sharing
from tallystack.tokens import TokenMinter

RESULTS = Path(__file__).parent / "results"
GOAL_ROWS_PER_S = 20_000

PAYEES = ["REWE Markt GmbH", "Aldi Süd", "Deutsche Bahn AG", "Stadtwerke München", "Vodafone GmbH",
          "Amazon EU S.à r.l.", "dm-drogerie markt", "Shell Deutschland", "Spotify AB", "Bäckerei Müller",
          "Apotheke am Markt", "IKEA Deutschland", "Lidl Vertriebs GmbH", "Netflix International",
          "Allianz Versicherungs-AG", "Muster Maschinenbau AG", "Café Central", "MVG Ticket", "Zalando SE"]


def make_csv(rows: int, seed: int = 4) -> tuple[bytes, list[tuple[date, int, str, str]]]:
    """A bank export as German banks write it: preamble, semicolons, dd.mm.yyyy, decimal comma."""
    rnd = random.Random(seed)
    start = date(2022, 1, 1)
    records = []
    lines = ['"Kontonummer:";"DE12 1203 0000 1234 5678 90 / Girokonto";', "",
             '"Buchungstag";"Wertstellung";"Buchungstext";"Auftraggeber / Begünstigter";"Verwendungszweck";'
             '"Betrag (EUR)";']
    for n in range(rows):
        booked = start + timedelta(days=n * 1095 // rows)
        payee = rnd.choice(PAYEES)
        income = payee == "Muster Maschinenbau AG"
        minor = rnd.randint(250_000, 450_000) if income else -rnd.randint(50, 25_000)
        purpose = f"Ref {n:06d} {payee[:12]} {booked:%m/%Y}"
        amount = f"{Decimal(minor) / 100:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        lines.append(f'"{booked:%d.%m.%Y}";"{booked:%d.%m.%Y}";"{"Gutschrift" if income else "Lastschrift"}";'
                     f'"{payee}";"{purpose}";"{amount}";')
        records.append((booked, minor, payee, purpose))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8"), records


def progress(label: str, done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    width = 30
    filled = width * done // total if total else 0
    sys.stdout.write(f"\r  {label} [{'#' * filled}{'.' * (width - filled)}] {done:>7}/{total} "
                     f"{elapsed:6.1f} s {rate:8.0f} rows/s")
    sys.stdout.flush()


async def run(rows: int, keep: bool) -> dict[str, Any]:
    async with postgres.scratch_database(MIGRATIONS, keep=keep) as url:
        return await _measure(url, rows)


async def _measure(url: str, rows: int) -> dict[str, Any]:
    print(f"Generating a {rows:,}-row CSV ...")
    data, records = make_csv(rows)
    print(f"  {len(data) / 1e6:.1f} MB")

    minter = TokenMinter()
    settings = LedgerSettings(service_name="ledger", environment="test", database_url=url,
                              log_level="WARNING", kafka_bootstrap_servers="127.0.0.1:9")
    app = create_app(settings, verifier=TokenVerifier(settings, jwks=minter.jwks), run_background=False)
    tune_garbage_collector()  # as `serve` does once the service is built
    tenant, user = uuid4(), uuid4()
    headers = {"Authorization": f"Bearer {minter.mint(user, tenant, ttl_s=3600)}"}
    result: dict[str, Any] = {"rows": rows, "file_bytes": len(data), "load_before": os.getloadavg()[0]}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ledger", timeout=3600) as client:
        account = (await client.post("/accounts", json={"name": "Girokonto", "kind": "checking",
                                                        "currency": "EUR"}, headers=headers)).json()
        print("Importing through the HTTP API (upload → preview → confirm) ...")
        started = time.perf_counter()
        uploaded = await client.post("/imports", files={"file": ("umsaetze.csv", data)},
                                     data={"account_id": account["id"]}, headers=headers)
        uploaded.raise_for_status()
        preview = uploaded.json()
        assert preview["problem"] is None, preview["problem"]
        batch_id = preview["batch"]["id"]
        result["upload_preview_s"] = time.perf_counter() - started
        # The ledger answers 202 and records the rows after the answer (behind httpx's ASGI transport the
        # call returns only when that is done); the batch shows its progress meanwhile.
        confirm = asyncio.create_task(client.post(f"/imports/{batch_id}/confirm", json={}, headers=headers))
        batch = {"status": "importing"}
        while batch["status"] == "importing" or not confirm.done():
            await asyncio.wait([confirm], timeout=0.25)
            batch = (await client.get(f"/imports/{batch_id}", headers=headers)).json()
            progress("import", batch["rows_done"], batch["rows_total"] or rows, started)
        (await confirm).raise_for_status()
        print()
        assert batch["status"] == "imported", batch
        db = await asyncpg.connect(postgres.asyncpg_dsn(url))
        try:
            # Each chunk's read-model rows commit with its events: the finished batch shows them all.
            shown = await db.fetchval(
                "SELECT count(*) FROM transactions WHERE tenant_id = $1 AND NOT deleted", tenant)
            assert shown == rows, f"the read model shows {shown} of {rows} rows"
            result["import_s"] = time.perf_counter() - started
            events = await db.fetchval("SELECT count(*) FROM event_store WHERE tenant_id = $1", tenant)
            outbox = await db.fetchval("SELECT count(*) FROM outbox")
            total = await db.fetchval("SELECT balance_minor FROM accounts WHERE id = $1::uuid", account["id"])
            assert total == sum(r[1] for r in records), "the balance must be the sum of every row"
            batch = (await client.get(f"/imports/{batch_id}", headers=headers)).json()
            result.update(events=events, outbox_rows=outbox, batch=batch)

            print("Loading the same rows with COPY into a scratch table ...")
            await db.execute("CREATE TABLE copy_baseline (booked_on date, amount_minor bigint, payee text, "
                             "purpose text)")
            started = time.perf_counter()
            await db.copy_records_to_table("copy_baseline", records=records)
            result["copy_s"] = time.perf_counter() - started
            assert await db.fetchval("SELECT count(*) FROM copy_baseline") == rows
            result["floor_s"] = await copy_what_the_import_wrote(db, tenant)
        finally:
            await db.close()
    result["load_after"] = os.getloadavg()[0]
    result["import_rows_per_s"] = rows / result["import_s"]
    result["copy_rows_per_s"] = rows / result["copy_s"]
    result["ratio_copy_to_import"] = result["import_s"] / result["copy_s"]
    result["floor_rows_per_s"] = rows / result["floor_s"]
    result["ratio_floor_to_import"] = result["import_s"] / result["floor_s"]
    result["goal_met"] = result["import_rows_per_s"] >= GOAL_ROWS_PER_S
    return result


async def copy_what_the_import_wrote(db: asyncpg.Connection, tenant: Any) -> float:
    """The same rows the import wrote (its events, read-model rows, outbox and import rows) copied with
    COPY, in one transaction, into empty copies of those tables with all their indexes: the least time
    any import that keeps these tables can take on this machine, whatever its code does."""
    print("Copying what the import wrote into empty copies of its tables ...")
    tables = {"event_store": ["event_id", "tenant_id", "stream_id", "stream_version", "type", "envelope"],
              "transactions": list(TRANSACTION_COLUMNS), "outbox": ["event_id", "topic", "key", "envelope"],
              "import_rows": list(IMPORT_ROW_COLUMNS)}
    written = {}
    for table, columns in tables.items():
        query = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608 - the bench's own table names
        written[table] = [tuple(r) for r in await db.fetch(query)]
        await db.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
    started = time.perf_counter()
    async with db.transaction():
        for table, columns in tables.items():
            await db.copy_records_to_table(f"floor_{table}", columns=columns, records=written[table])
    took = time.perf_counter() - started
    for table in tables:
        copied = await db.fetchval(f"SELECT count(*) FROM floor_{table}")  # noqa: S608 - as above
        assert copied == len(written[table])
    return took


def report(result: dict[str, Any]) -> str:
    rows = result["rows"]
    lines = [
        f"# Ledger import benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{rows:,} CSV rows ({result['file_bytes'] / 1e6:.1f} MB, Windows-style German bank export) on "
        f"{platform.machine()} ({os.cpu_count()} cores, load average {result['load_before']:.1f} before and "
        f"{result['load_after']:.1f} after: {sharing(max(result['load_before'], result['load_after']))}), "
        f"Python {platform.python_version()}, embedded PostgreSQL, the ledger app in-process behind httpx. "
        "Every row becomes a TransactionRecorded event, its read-model rows and an outbox row.",
        "",
        "| path | seconds | rows/s |",
        "|---|---:|---:|",
        f"| upload + detect + preview (first request) | {result['upload_preview_s']:.2f} | |",
        f"| HTTP import end to end, until the read model shows every row | {result['import_s']:.2f} | "
        f"{result['import_rows_per_s']:,.0f} |",
        f"| PostgreSQL COPY of the same rows into a scratch table | {result['copy_s']:.2f} | "
        f"{result['copy_rows_per_s']:,.0f} |",
        f"| PostgreSQL COPY of what the import wrote (events, read-model rows, outbox and import rows) "
        f"into empty copies of those tables, with their indexes | {result['floor_s']:.2f} | "
        f"{result['floor_rows_per_s']:,.0f} |",
        "",
        f"COPY into a scratch table is {result['ratio_copy_to_import']:.0f} times faster. Copying only "
        "what the import writes, into tables like its own, is "
        f"{result['ratio_floor_to_import']:.1f} times faster: "
        "no import that keeps these tables and indexes can beat that row on this machine. Goal of at least "
        f"{GOAL_ROWS_PER_S:,} rows/s end to end: **{'met' if result['goal_met'] else 'not met'}**.",
        "",
        f"Events written: {result['events']:,}; outbox rows: {result['outbox_rows']:,}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary PostgreSQL folder")
    args = parser.parse_args()
    result = asyncio.run(run(args.rows, args.keep))
    text = report(result)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ledger_import.md").write_text(text)
    (RESULTS / "ledger_import.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
