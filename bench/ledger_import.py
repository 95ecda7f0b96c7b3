"""Benchmark: import a 100,000-row bank CSV through the gateway until the ledger's read model shows
every row, against PostgreSQL COPY of the same rows in the same run.

    uv run python bench/ledger_import.py [--rows 100000] [--baseline]

It starts the whole local stack (every service, the gateway, the broker, embedded PostgreSQL, the SMTP
sink, as `make up` runs them) in a temporary folder, registers a household and opens an account through
the gateway. Upload → preview → confirm are the requests the web client sends; the batch's progress
(rows_done of rows_total) is polled and shown until it is imported. Budget and analytics take the
100,000 events meanwhile, on the same two cores; the time until both have handled every one is shown
too. Then, against the ledger's own database:

- COPY of the same rows (date, amount, payee, purpose) into a scratch table;
- COPY of exactly what the import wrote (events, read-model rows, outbox and import rows) into empty
  copies of those tables with all their indexes, table by table: what PostgreSQL alone needs.

The services and the broker are stopped first, so the baselines have the machine to themselves.

With `--baseline` (or `--baseline consumers`) the whole run is made twice in the same invocation, first
with the consumers as they were before batch handlers (`consumer_batches` off: each event of a poll
applied by itself; 200 records and 1 MiB a partition per poll), then as they are: the catch-up of both
is shown side by side, and the results go to bench/results/ledger_import_consumers.{json,md}. With
`--baseline relay` the first run has the relays as they were before record sets (one record per produce
request into the local broker, `kafka_records_per_request` = 1); results in
bench/results/ledger_import_relay.{json,md}.

The relay's pace is shown too: when the ledger's relay published the first and the last of the import's
events (its outbox rows' `published_at`, against the database's clock at the upload).

Prints a table and writes bench/results/ledger_import.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from stack_bench import (
    CONSUMERS,
    consumers_caught_up,
    copy_into_empty_copies,
    dsn,
    newest_position,
    progress,
    sign_up,
)

from tally_ledger.batches import IMPORT_ROW_COLUMNS
from tally_ledger.projections import TRANSACTION_COLUMNS
from tallystack.measure import sharing
from tallystack.stack import Ports, Stack

RESULTS = Path(__file__).parent / "results"
GOAL_ROWS_PER_S = 20_000
CATCH_UP_LIMIT_S = 300.0

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


# The consumers as they were before batch handlers (issue #19), for --baseline consumers.
BASELINE_ENV = {f"TALLY_{service.upper()}_{name}": value for service in CONSUMERS for name, value in (
    ("CONSUMER_BATCHES", "false"), ("KAFKA_MAX_POLL_RECORDS", "200"),
    ("KAFKA_MAX_PARTITION_FETCH_BYTES", str(1024 * 1024)))}
# The relays as they were before record sets (issue #19): one record per produce request, for
# --baseline relay.
RELAY_BASELINE_ENV = {f"TALLY_{service.upper()}_KAFKA_RECORDS_PER_REQUEST": "1"
                      for service in ("auth", "ledger", "budget", "analytics")}
BASELINES = {
    "consumers": (BASELINE_ENV, "one event at a time (before, `consumer_batches` off, 200 records a poll)",
                  "**batch handlers, 1,000 records a poll (now)**"),
    "relay": (RELAY_BASELINE_ENV, "relay: one record per produce request (before)",
              "**relay: up to 500 records of a partition per produce request (now)**"),
}


def run(rows: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})  # the stack's processes inherit them
    try:
        return _run(rows)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run(rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tally-bench-") as folder:
        stack = Stack(Path(folder), Ports.free(), progress=lambda line: print(line, flush=True))
        try:
            stack.start()
            return asyncio.run(_measure(stack, rows))
        finally:
            stack.stop()


def _household(stack: Stack) -> tuple[dict[str, str], UUID, str]:
    """A new household through the gateway: its auth header, tenant id and a checking account's id."""
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        person = sign_up(client)
        account = person.call("POST", "/ledger/accounts",
                              {"name": "Girokonto", "kind": "checking", "currency": "EUR"})
        account.raise_for_status()
    return person.auth, UUID(person.home), account.json()["id"]


async def _measure(stack: Stack, rows: int) -> dict[str, Any]:
    print(f"Generating a {rows:,}-row CSV ...")
    data, records = make_csv(rows)
    print(f"  {len(data) / 1e6:.1f} MB")
    headers, tenant, account = _household(stack)
    async with httpx.AsyncClient(base_url=stack.url, timeout=3600) as client:
        await asyncio.sleep(3)  # the household's own events (categories, account) settle first
        before = await newest_position(stack, tenant)
        ledger = await asyncpg.connect(dsn(stack, "ledger"))
        db_started = await ledger.fetchval("SELECT clock_timestamp()")
        result: dict[str, Any] = {"rows": rows, "file_bytes": len(data), "load_before": os.getloadavg()[0]}
        print("Importing through the gateway (upload → preview → confirm) ...")
        started = time.perf_counter()
        uploaded = await client.post("/api/ledger/imports", files={"file": ("umsaetze.csv", data)},
                                     data={"account_id": account}, headers=headers)
        uploaded.raise_for_status()
        preview = uploaded.json()
        assert preview["problem"] is None, preview["problem"]
        batch_id = preview["batch"]["id"]
        result["upload_preview_s"] = time.perf_counter() - started
        confirmed = await client.post(f"/api/ledger/imports/{batch_id}/confirm", json={}, headers=headers)
        confirmed.raise_for_status()  # 202: the ledger records the rows after answering
        batch = confirmed.json()
        while batch["status"] == "importing":
            await asyncio.sleep(0.2)
            batch = (await client.get(f"/api/ledger/imports/{batch_id}", headers=headers)).json()
            progress("import", batch["rows_done"], batch["rows_total"] or rows, started)
        print()
        assert batch["status"] == "imported", batch
        try:
            # Each chunk's read-model rows commit with its events: the finished batch shows them all.
            shown = await ledger.fetchval(
                "SELECT count(*) FROM transactions WHERE tenant_id = $1 AND NOT deleted", tenant)
            assert shown == rows, f"the read model shows {shown} of {rows} rows"
            result["import_s"] = time.perf_counter() - started
            after = await newest_position(stack, tenant)
            result["consumers"] = await consumers_caught_up(stack, tenant, before, after, started,
                                                            CATCH_UP_LIMIT_S)
            result["relay"] = await relay_published(ledger, tenant, before, db_started)
            total = await ledger.fetchval("SELECT balance_minor FROM accounts WHERE id = $1::uuid", account)
            assert total == sum(r[1] for r in records), "the balance must be the sum of every row"
            result["batch"] = batch

            # The baselines get the machine to themselves: only PostgreSQL keeps running.
            for name in list(stack.processes):
                stack.stop_service(name)
            stack.stop_broker()
            print("Loading the same rows with COPY into a scratch table ...")
            await ledger.execute("CREATE TABLE copy_baseline (booked_on date, amount_minor bigint, "
                                 "payee text, purpose text)")
            began = time.perf_counter()
            await ledger.copy_records_to_table("copy_baseline", records=records)
            result["copy_s"] = time.perf_counter() - began
            assert await ledger.fetchval("SELECT count(*) FROM copy_baseline") == rows
            result["floor_tables_s"] = await copy_what_the_import_wrote(ledger, tenant, batch_id)
        finally:
            await ledger.close()
    result["floor_s"] = sum(result["floor_tables_s"].values())
    # What no design that keeps search and duplicate detection can skip: reading the file whole before
    # writing anything (a malformed file adds nothing), then the read model and the import rows.
    result["bound_s"] = (result["upload_preview_s"] + result["floor_tables_s"]["transactions"]
                         + result["floor_tables_s"]["import_rows"])
    result["bound_rows_per_s"] = rows / result["bound_s"]
    result["load_after"] = os.getloadavg()[0]
    result["import_rows_per_s"] = rows / result["import_s"]
    result["copy_rows_per_s"] = rows / result["copy_s"]
    result["ratio_copy_to_import"] = result["import_s"] / result["copy_s"]
    result["floor_rows_per_s"] = rows / result["floor_s"]
    result["ratio_floor_to_import"] = result["import_s"] / result["floor_s"]
    result["goal_met"] = result["import_rows_per_s"] >= GOAL_ROWS_PER_S
    return result


async def relay_published(db: asyncpg.Connection, tenant: UUID, before: int, started: Any) -> dict[str, Any]:
    """When the ledger's relay published the household's events written after `before` (its outbox
    rows' `published_at`), in seconds after `started` (the database's clock at the upload)."""
    row = await db.fetchrow(
        "SELECT count(*) AS events, count(published_at) AS published,"
        " extract(epoch FROM min(published_at) - $3::timestamptz) AS first_s,"
        " extract(epoch FROM max(published_at) - $3::timestamptz) AS last_s"
        " FROM outbox WHERE key = $1 AND id > $2", str(tenant), before, started)
    relay = {k: (float(v) if v is not None and k.endswith("_s") else v) for k, v in dict(row).items()}
    span = (relay["last_s"] or 0) - (relay["first_s"] or 0)
    relay["events_per_s"] = relay["published"] / span if span > 0 else None
    return relay


async def copy_what_the_import_wrote(db: asyncpg.Connection, tenant: UUID, batch_id: str) -> dict[str, float]:
    """The rows the import wrote (its events, read-model rows, outbox and import rows) copied with COPY
    into empty copies of those tables with all their indexes. Seconds per table."""
    # Every event of a batch carries the batch id as its correlation id.
    events = "SELECT event_id FROM event_store WHERE tenant_id = $1 AND envelope->>'correlation_id' = $2"
    recorded = "SELECT transaction_id FROM import_rows WHERE tenant_id = $1 AND batch_id = $2::uuid"
    return await copy_into_empty_copies(db, {
        "event_store": (["event_id", "tenant_id", "stream_id", "stream_version", "type", "envelope"],
                        f"WHERE event_id IN ({events})"),
        "transactions": (list(TRANSACTION_COLUMNS), f"WHERE tenant_id = $1 AND id IN ({recorded})"),
        "outbox": (["event_id", "topic", "key", "envelope"], f"WHERE event_id IN ({events})"),
        "import_rows": (list(IMPORT_ROW_COLUMNS), "WHERE tenant_id = $1 AND batch_id = $2::uuid"),
    }, tenant, batch_id)


def _caught_up(result: dict[str, Any]) -> str:
    seconds, handled = result["consumers"]["seconds"], result["consumers"]["handled"]
    events = result["consumers"]["events"]
    return "; ".join(f"{name} {seconds[name]:.1f} s" if name in seconds
                     else f"{name} {handled[name]:,} of {events:,} after {CATCH_UP_LIMIT_S:.0f} s"
                     for name in CONSUMERS)


def _relay_line(result: dict[str, Any]) -> str:
    relay = result.get("relay")
    if not relay or not relay["published"]:
        return ""
    rate = f" ({relay['events_per_s']:,.0f} events/s)" if relay["events_per_s"] else ""
    return (f" The ledger's relay published the import's {relay['published']:,} events (of "
            f"{relay['events']:,}) from {relay['first_s']:.1f} s to {relay['last_s']:.1f} s after the "
            f"upload{rate}.")


def catch_up_table(result: dict[str, Any], baseline: dict[str, Any], which: str = "consumers") -> list[str]:
    """Budget and analytics catching up, before (baseline) and now, in the same invocation."""
    _, before, now = BASELINES[which]
    lines = [
        "",
        "Budget and analytics catching up with the import (seconds from the upload until each has applied "
        "the household's last event, and after the ledger's read model showed every row; the ledger's "
        "relay: seconds from the upload until it had published the last of them), both runs of this "
        "invocation:",
        "",
        "| run | import (ledger) s | relay done s | relay events/s | budget s | analytics s "
        "| behind the ledger s | events/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in ((before, baseline), (now, result)):
        relay = r.get("relay") or {}
        relay_cells = (f"{relay['last_s']:.1f} | {relay['events_per_s']:,.0f}"
                       if relay.get("last_s") is not None and relay.get("events_per_s") else " | ")
        seconds = r["consumers"]["seconds"]
        if all(name in seconds for name in CONSUMERS):
            last = max(seconds[name] for name in CONSUMERS)
            cells = [f"{seconds[name]:.1f}" for name in CONSUMERS]
            cells += [f"{last - r['import_s']:.1f}", f"{r['rows'] / last:,.0f}"]
        else:
            cells = [f"{seconds[n]:.1f}" if n in seconds else
                     f"> {CATCH_UP_LIMIT_S:.0f} ({r['consumers']['handled'][n]:,} done)" for n in CONSUMERS]
            cells += ["", ""]
        lines.append(f"| {label} | {r['import_s']:.1f} | {relay_cells} | " + " | ".join(cells) + " |")
    return lines


def report(result: dict[str, Any], baseline: dict[str, Any] | None = None, which: str = "consumers") -> str:
    rows = result["rows"]
    floor = result["floor_tables_s"]
    caught_up = _caught_up(result)
    lines = [
        f"# Ledger import benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{rows:,} CSV rows ({result['file_bytes'] / 1e6:.1f} MB, Windows-style German bank export) on "
        f"{platform.machine()} ({os.cpu_count()} cores, load average {result['load_before']:.1f} before and "
        f"{result['load_after']:.1f} after: {sharing(max(result['load_before'], result['load_after']))}), "
        f"Python {platform.python_version()}. The whole local stack runs as `make up` runs it (every service "
        "a process, the broker, embedded PostgreSQL); the file goes through the gateway. Every row becomes "
        "a TransactionRecorded event, its read-model rows and an outbox row.",
        "",
        "| path | seconds | rows/s |",
        "|---|---:|---:|",
        "| upload + detect + preview through the gateway (first request) | "
        f"{result['upload_preview_s']:.2f} | |",
        f"| **import end to end through the gateway, until the ledger's read model shows every row** | "
        f"{result['import_s']:.2f} | **{result['import_rows_per_s']:,.0f}** |",
        f"| PostgreSQL COPY of the same rows into a scratch table | {result['copy_s']:.2f} | "
        f"{result['copy_rows_per_s']:,.0f} |",
        f"| PostgreSQL COPY of what the import wrote into empty copies of its tables, with their indexes | "
        f"{result['floor_s']:.2f} | {result['floor_rows_per_s']:,.0f} |",
        *(f"| &nbsp;&nbsp;of which `{table}` | {seconds:.2f} | {rows / seconds:,.0f} |"
          for table, seconds in floor.items()),
        "| upload + preview, then only the read-model and import rows' COPY (no events, no outbox, no "
        f"Python): the least any design keeping search and duplicate detection needs | "
        f"{result['bound_s']:.2f} | {result['bound_rows_per_s']:,.0f} |",
        "",
        f"COPY into a scratch table is {result['ratio_copy_to_import']:.0f} times faster. Copying only "
        "what the import writes, into tables like its own, is "
        f"{result['ratio_floor_to_import']:.1f} times faster: "
        "no import that keeps these tables and indexes can beat that row on this machine. Goal of at least "
        f"{GOAL_ROWS_PER_S:,} rows/s end to end: **{'met' if result['goal_met'] else 'not met'}**.",
        "",
        f"Every row's event handled by the other services, counted from the upload: {caught_up}. On "
        "the local stack the broker (Tansu 0.6, in memory) limits this: a fetch costs it more the longer "
        "its log, so with three consumer groups reading, what it takes in falls as the log grows."
        + _relay_line(result),
    ]
    if baseline is not None:
        lines += catch_up_table(result, baseline, which)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline", nargs="?", const="consumers", choices=sorted(BASELINES),
                        help="run first with the consumers as they were before batch handlers (consumers) "
                             "or the relays as they were before record sets (relay)")
    args = parser.parse_args()
    baseline = run(args.rows, BASELINES[args.baseline][0]) if args.baseline else None
    result = run(args.rows)
    if baseline is not None:
        result["baseline"] = baseline
    text = report(result, baseline, args.baseline or "consumers")
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    # the run beside its baseline
    name = f"ledger_import_{args.baseline}" if args.baseline else "ledger_import"
    (RESULTS / f"{name}.md").write_text(text)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
