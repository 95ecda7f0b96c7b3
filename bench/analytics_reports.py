"""Benchmark: analytics reports and forecasts for a household with 100,000 transactions over 3 years.

    uv run python bench/analytics_reports.py [--rows 100000] [--samples 200] [--keep]

An embedded PostgreSQL in a temporary folder, a freshly migrated analytics database, one household
from the demo generator (`tallystack.demo.plan`, scaled to `--rows`; 4 accounts, 20+ expense categories,
transfers, tags). Its events are applied through the analytics projection code itself (`deltas_of` →
`apply_deltas`, and the journal) in batches of 1,000 per transaction: the read model is exactly what
the consumer builds, seeded faster than one inbox transaction per event (the consumer's own rate is
measured on a sample and reported).

Measured through the analytics app behind httpx (token check, JSON), in a process of its own started
after the seeding, so that its memory is the service's alone (the seeding process holds the household's
events; it is reported apart):
- reports: the summary of a month, a quarter and a year, cash flow of a year by month, net worth of 3
  years by month; p50/p99 of `--samples` requests each. Baselines in the same run: the report's main
  aggregate replayed raw on asyncpg, and the same totals computed by scanning the journal (the raw
  transactions), which is what the rollups spare a report.
- forecasts: cash flow (4 accounts + total) and categories (20) — first with the fitting pool stopped
  (its start and Prophet's import included), cold (the pool running, the cache empty) and cached
  (p50/p99).
- a rebuild of the household's read model from its journal (POST /rebuild).
- memory: resident set of the service process when started, its peak (VmHWM) while serving the
  reports, the forecasts and the rebuild, and each fitting process; baseline: a bare process importing
  fastapi, sqlalchemy and aiokafka.

Targets: report p99 < 100 ms; forecast refresh < 5 s cold, < 50 ms cached. Writes
bench/results/analytics_reports.{json,md}.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4, uuid5

import asyncpg
import httpx

from tally_analytics import forecast_tasks, read_model, tables
from tally_analytics.consumers import ledger_consumer
from tally_analytics.domain import Deltas, deltas_of
from tally_analytics.forecasting import Forecaster
from tally_analytics.main import MIGRATIONS, create_app
from tally_analytics.projections import apply, recorded_state, transfer_state
from tally_analytics.settings import AnalyticsSettings
from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    AccountKind,
    AccountOpened,
    CategoryCreated,
    CategoryKind,
    TransactionKind,
    TransactionRecorded,
    TransferRecorded,
)
from tallykit.db import Database
from tallykit.events import SYSTEM, Envelope, EventPayload
from tallykit.tokens import TokenVerifier
from tallykit.workers import WorkerPool
from tallystack import demo, postgres
from tallystack.measure import (
    bare_service_rss_mib,
    peak_rss_mib,
    percentile,
    reset_peak_rss,
    rss_mib,
    sharing,
    spawned_children,
)
from tallystack.tokens import TokenMinter

RESULTS = Path(__file__).parent / "results"
GOAL_REPORT_P99_MS = 100.0
GOAL_COLD_S = 5.0
GOAL_CACHED_MS = 50.0
ACCOUNTS = {
    "checking": ("Checking", AccountKind.checking, 250_000),
    "savings": ("Savings", AccountKind.savings, 1_000_000),
    "card": ("Card", AccountKind.credit_card, 0),
    "cash": ("Cash", AccountKind.cash, 20_000),
}
INCOME = {"Salary", "Interest"}


def household(rows: int, today: date) -> list[demo.Entry]:
    """The demo plan over 36 months, scaled to about `rows` entries; small everyday payees pay cash, and
    the everyday categories are split by payee so that the household has 20+ expense categories."""
    # The plan's bills and salaries are fixed; its everyday spending grows with `scale`: take the smallest
    # scale that reaches `rows` (whole days are kept, so the count may pass `rows` a little).
    one = len(demo.plan(today, months=36, scale=1).entries)
    daily = len(demo.plan(today, months=36, scale=2).entries) - one
    scale = max(1, -(-(rows - (one - daily)) // max(daily, 1)))
    entries = demo.plan(today, months=36, scale=scale).entries
    while len(entries) < rows:  # the draws are random: a step more when short
        scale += 1
        entries = demo.plan(today, months=36, scale=scale).entries
    out = []
    for e in entries:
        account = "cash" if e.payee in ("Bakery", "Kiosk") else e.account
        category = e.category
        if category in ("Groceries", "Eating out", "Shopping", "Gifts", "Travel"):
            category = f"{category}: {e.payee}"
        out.append(
            demo.Entry(e.day, e.kind, e.amount_minor, account, category, e.payee, e.to_account, e.tags)
        )
    return out


def envelopes(tenant: UUID, entries: list[demo.Entry]) -> list[tuple[Envelope, EventPayload]]:
    def env(payload: EventPayload, stream: UUID) -> tuple[Envelope, EventPayload]:
        return registry.envelope(
            payload, tenant_id=tenant, stream_id=stream, stream_version=1, actor=SYSTEM
        ), payload

    accounts = {key: uuid5(tenant, f"account:{key}") for key in ACCOUNTS}
    out = [
        env(AccountOpened(name=name, kind=kind, currency="EUR", opening_balance_minor=opening), accounts[key])
        for key, (name, kind, opening) in ACCOUNTS.items()
    ]
    names = sorted({e.category for e in entries if e.category})
    categories = {name: uuid5(tenant, f"category:{name}") for name in names}
    for name in names:
        kind = CategoryKind.income if name in INCOME else CategoryKind.expense
        out.append(env(CategoryCreated(name=name, group=name.split(":")[0], kind=kind), categories[name]))
    for e in entries:
        if e.kind == "transfer":
            payload: EventPayload = TransferRecorded(
                from_account_id=accounts[e.account],
                to_account_id=accounts[e.to_account],
                amount_minor=e.amount_minor,
                currency="EUR",
                booked_on=e.day,
                payee=e.payee,
            )
        else:
            payload = TransactionRecorded(
                account_id=accounts[e.account],
                kind=TransactionKind(e.kind),
                amount_minor=e.amount_minor,
                currency="EUR",
                category_id=categories[e.category],
                payee=e.payee,
                booked_on=e.day,
                tags=e.tags,
            )
        out.append(env(payload, uuid4()))
    return out


def progress(done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    filled = 30 * done // total
    sys.stdout.write(
        f"\r  seeding [{'#' * filled}{'.' * (30 - filled)}] {done:>7}/{total} {elapsed:6.1f} s "
        f"{done / max(elapsed, 1e-9):7.0f} events/s"
    )
    sys.stdout.flush()


async def seed(db: Database, events: list[tuple[Envelope, EventPayload]], batch: int = 1_000) -> None:
    started = time.perf_counter()
    for first in range(0, len(events), batch):
        chunk = events[first : first + batch]
        async with db.transaction() as session:
            merged = Deltas()
            for envelope, payload in chunk:
                if isinstance(payload, TransactionRecorded):
                    merged.extend(deltas_of(recorded_state(payload), +1))
                elif isinstance(payload, TransferRecorded):
                    merged.extend(deltas_of(transfer_state(payload), +1))
                else:
                    await apply(session, envelope, payload)
            await session.execute(
                tables.journal.insert(),
                [
                    {
                        "tenant_id": e.tenant_id,
                        "event_id": e.id,
                        "event_type": e.type,
                        "envelope": e.model_dump(mode="json"),
                    }
                    for e, _ in chunk
                ],
            )
            await read_model.apply_deltas(session, chunk[0][0].tenant_id, merged)
            await read_model.bump_generation(session, chunk[0][0].tenant_id)
        progress(min(first + batch, len(events)), len(events), started)
    print()


async def timed(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str], n: int
) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = await client.get(path, params=params, headers=headers)
        out.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return out


async def run(rows: int, samples: int, keep: bool) -> dict[str, Any]:
    async with postgres.scratch_database(MIGRATIONS, keep=keep) as url:
        return await _measure(url, rows, samples)


def _settings(url: str) -> AnalyticsSettings:
    return AnalyticsSettings(
        service_name="analytics",
        environment="test",
        database_url=url,
        log_level="WARNING",
        kafka_bootstrap_servers="127.0.0.1:9",
        database_pool_size=10,
    )


async def _measure(url: str, rows: int, samples: int) -> dict[str, Any]:
    settings = _settings(url)
    tenant = uuid4()
    today = datetime.now(UTC).date()
    entries = household(rows, today)
    events = envelopes(tenant, entries)
    result: dict[str, Any] = {
        "rows": len(entries),
        "events": len(events),
        "from": min(e.day for e in entries).isoformat(),
        "to": today.isoformat(),
        "samples": samples,
        "categories": len({e.category for e in entries if e.category and e.category not in INCOME}),
        "accounts": len(ACCOUNTS),
    }
    db = Database.from_settings(settings)
    print(f"Seeding {len(entries):,} transactions ({len(events):,} events) through the projection ...")
    started = time.perf_counter()
    await seed(db, events)
    result["seed_s"] = time.perf_counter() - started
    # The consumer's own rate (one inbox transaction per event, irregular-spending check included), on a
    # second household of 500 events.
    other = envelopes(uuid4(), entries[-500:])
    consumer = ledger_consumer(db, settings)
    t0 = time.perf_counter()
    for envelope, _ in other:
        await consumer.handle(envelope.to_json())
    result["consumer_events_per_s"] = len(other) / (time.perf_counter() - t0)
    await db.dispose()
    raw = await asyncpg.connect(postgres.asyncpg_dsn(url))
    try:
        await raw.execute("VACUUM ANALYZE")
        result["flow_rows"] = await raw.fetchval("SELECT count(*) FROM flows WHERE tenant_id = $1", tenant)
    finally:
        await raw.close()
    result["seeding_process_rss_mib"] = rss_mib(os.getpid())
    # The service is measured in a process of its own: what this one holds is the seeding's (the
    # household's entries and events), not the service's.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as service:
        result |= service.submit(service_side, url, str(tenant), samples).result()
    result["load_average"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    result["worst_report_p99_ms"] = max(r["api_p99_ms"] for r in result["reports"])
    result["goals"] = {
        "report_p99": result["worst_report_p99_ms"] < GOAL_REPORT_P99_MS,
        "forecast_cold": result["forecast_cold_s"] < GOAL_COLD_S,
        "forecast_cached": result["forecast_cached_p99_ms"] < GOAL_CACHED_MS,
    }
    return result


def service_side(url: str, tenant: str, samples: int) -> dict[str, Any]:
    """The analytics app in this process, alone (runs in a process of its own)."""
    return asyncio.run(_service_side(url, UUID(tenant), samples))


async def _service_side(url: str, tenant: UUID, samples: int) -> dict[str, Any]:
    me = os.getpid()
    minter = TokenMinter()
    settings = _settings(url)
    user = uuid4()
    today = datetime.now(UTC).date()
    app = create_app(settings, verifier=TokenVerifier(settings, jwks=minter.jwks), run_background=False)
    workers = WorkerPool(forecast_tasks.worker_count(), idle_s=3600)
    app.state.forecaster = Forecaster(workers)
    headers = {"Authorization": f"Bearer {minter.mint(user, tenant, ttl_s=3600)}"}
    last_month = (today.replace(day=1) - timedelta(days=1)).isoformat()[:7]
    quarter = f"{today.year - 1}-Q{(today.month - 1) // 3 + 1}"
    year = str(today.year - 1)
    reports = [
        ("summary, a month", "/reports/summary", {"period": last_month}),
        ("summary, a quarter", "/reports/summary", {"period": quarter}),
        ("summary, a year", "/reports/summary", {"period": year}),
        ("cash flow, a year by month", "/reports/cash-flow", {"period": year, "granularity": "month"}),
        (
            "net worth, 3 years by month",
            "/reports/net-worth",
            {
                "from": (today - timedelta(days=3 * 365)).isoformat(),
                "to": today.isoformat(),
                "granularity": "month",
            },
        ),
    ]
    result: dict[str, Any] = {"reports": [], "baseline_rss_mib": bare_service_rss_mib()}
    raw = await asyncpg.connect(postgres.asyncpg_dsn(url))
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics") as client,
        ):
            result["rss_started_mib"] = rss_mib(me)
            reset_peak_rss(me)
            for label, path, params in reports:
                await timed(client, path, params, headers, 3)  # warm
                api_ms = await timed(client, path, params, headers, samples)
                start, end = _bounds(params, today)
                sql_ms = []
                for _ in range(samples):
                    t0 = time.perf_counter()
                    await raw.fetch(
                        "SELECT category_id, payee, sum(income_minor), sum(expense_minor), sum(entries)"
                        " FROM flows"
                        " WHERE tenant_id = $1 AND currency = 'EUR' AND day >= $2 AND day <= $3"
                        " GROUP BY category_id, payee",
                        tenant,
                        start,
                        end,
                    )
                    sql_ms.append((time.perf_counter() - t0) * 1000)
                scan_ms = []
                for _ in range(max(3, samples // 20)):
                    t0 = time.perf_counter()
                    await raw.fetch(
                        "SELECT envelope->'data'->>'category_id',"
                        " sum((envelope->'data'->>'amount_minor')::bigint)"
                        " FROM journal WHERE tenant_id = $1 AND event_type = 'ledger.TransactionRecorded'"
                        " AND (envelope->'data'->>'booked_on')::date BETWEEN $2 AND $3 GROUP BY 1",
                        tenant,
                        start,
                        end,
                    )
                    scan_ms.append((time.perf_counter() - t0) * 1000)
                row = {
                    "report": label,
                    "api_p50_ms": statistics.median(api_ms),
                    "api_p99_ms": percentile(api_ms, 99),
                    "sql_p50_ms": statistics.median(sql_ms),
                    "sql_p99_ms": percentile(sql_ms, 99),
                    "scan_p50_ms": statistics.median(scan_ms),
                }
                result["reports"].append(row)
                print(
                    f"  {label:32} api p50 {row['api_p50_ms']:6.1f} p99 {row['api_p99_ms']:6.1f} ms"
                    " | rollup SQL "
                    f"p99 {row['sql_p99_ms']:6.1f} ms | journal scan p50 {row['scan_p50_ms']:7.1f} ms"
                )
            result["peak_reports_mib"] = peak_rss_mib(me)

            reset_peak_rss(me)

            async def both(forecaster: Forecaster) -> float:
                app.state.forecaster = forecaster
                t0 = time.perf_counter()
                cash, categories = await asyncio.gather(
                    client.get("/forecasts/cash-flow", params={"horizon": 30}, headers=headers),
                    client.get("/forecasts/categories", headers=headers),
                )
                cash.raise_for_status()
                categories.raise_for_status()
                series = len(cash.json()["accounts"]) + 1 + len(categories.json()["categories"])
                result["forecast_series"] = series
                result["forecast_methods"] = sorted(
                    {cash.json()["total"]["method"]} | {c["method"] for c in categories.json()["categories"]}
                )
                return time.perf_counter() - t0

            # First with the pool stopped (its start, Prophet's import included), then with fresh caches
            # on the running pool.
            result["forecast_first_s"] = await both(Forecaster(workers))
            result["forecast_cold_s"] = await both(Forecaster(workers))
            t0 = time.perf_counter()
            (
                await client.get("/forecasts/cash-flow", params={"horizon": 90}, headers=headers)
            ).raise_for_status()
            result["forecast_cold_90_s"] = time.perf_counter() - t0
            cached = []
            for _ in range(samples):
                t0 = time.perf_counter()
                for path, query in (
                    ("/forecasts/cash-flow", {"horizon": "30"}),
                    ("/forecasts/categories", {}),
                ):
                    response = await client.get(path, params=query, headers=headers)
                    assert response.json()["cached"] is True
                cached.append((time.perf_counter() - t0) * 1000)
            result["forecast_cached_p50_ms"] = statistics.median(cached)
            result["forecast_cached_p99_ms"] = percentile(cached, 99)
            result["peak_forecasts_mib"] = peak_rss_mib(me)
            result["rss_workers_mib"] = [round(rss_mib(pid), 1) for pid in spawned_children(me)]
            workers.close()
            print(
                f"  forecasts: first {result['forecast_first_s']:.1f} s (the pool's start included),"
                f" cold {result['forecast_cold_s']:.2f} s "
                f"({result['forecast_series']} series), cached p99 {result['forecast_cached_p99_ms']:.1f} ms"
            )

            reset_peak_rss(me)
            t0 = time.perf_counter()
            rebuilt = await client.post("/rebuild", headers=headers, timeout=None)
            rebuilt.raise_for_status()
            result["rebuild_s"] = time.perf_counter() - t0
            result["rebuild_events"] = rebuilt.json()["events_applied"]
            result["peak_rebuild_mib"] = peak_rss_mib(me)
            result["rss_end_mib"] = rss_mib(me)
            print(
                f"  rebuild: {result['rebuild_events']:,} events in {result['rebuild_s']:.1f} s,"
                f" peak {result['peak_rebuild_mib']:.0f} MiB"
            )
    finally:
        workers.close()
        await raw.close()
    return result


def _bounds(params: dict[str, Any], today: date) -> tuple[date, date]:
    from tally_analytics.domain import parse_period

    if "period" in params:
        period = parse_period(params["period"])
        return period.start, period.end
    return date.fromisoformat(params["from"]), date.fromisoformat(params["to"])


def report(result: dict[str, Any]) -> str:
    met = {True: "met", False: "**not met**"}
    lines = [
        f"# Analytics reports and forecasts benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"One household from the demo generator: {result['rows']:,} transactions from {result['from']} to "
        f"{result['to']}, {result['accounts']} accounts, {result['categories']} expense categories; "
        f"{result['flow_rows']:,} rollup rows. {platform.machine()}, Python {platform.python_version()},"
        " embedded "
        f"PostgreSQL. Seeded through the projection code in batches of 1,000 ({result['seed_s']:.0f} s); the "
        f"consumer itself applies {result['consumer_events_per_s']:,.0f} events/s,"
        " one inbox transaction each. "
        f"{result['samples']} requests per report through the app in-process (httpx, token check, JSON).",
        "",
        "| report | API p50 ms | API p99 ms | rollup aggregate (raw SQL) p99 ms |"
        " scanning the raw transactions p50 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in result["reports"]:
        lines.append(
            f"| {r['report']} | {r['api_p50_ms']:.1f} | {r['api_p99_ms']:.1f} | {r['sql_p99_ms']:.1f} | "
            f"{r['scan_p50_ms']:.1f} |"
        )
    lines += [
        "",
        f"Worst report p99: {result['worst_report_p99_ms']:.1f} ms, target < {GOAL_REPORT_P99_MS:.0f} ms: "
        f"{met[result['goals']['report_p99']]}.",
        "",
        "| forecasts | figure | target |",
        "|---|---:|---|",
        f"| first refresh, the pool not running (its start and Prophet's import included) | "
        f"{result['forecast_first_s']:.2f} s | |",
        "| cold refresh, the pool running: cash flow 30 days + categories "
        f"({result['forecast_series']} series, "
        f"{', '.join(result['forecast_methods'])}) | {result['forecast_cold_s']:.2f} s"
        f" | < {GOAL_COLD_S:.0f} s: "
        f"{met[result['goals']['forecast_cold']]} |",
        f"| cold cash flow 90 days (5 series) | {result['forecast_cold_90_s']:.2f} s | |",
        f"| cached, both requests, p50 / p99 | {result['forecast_cached_p50_ms']:.1f} / "
        f"{result['forecast_cached_p99_ms']:.1f} ms | < {GOAL_CACHED_MS:.0f} ms: "
        f"{met[result['goals']['forecast_cached']]} |",
        "",
        "Memory (resident, MiB) of the service measured alone: the analytics app (and the httpx client "
        "driving it) in a process of its own, started after the seeding; its fitting processes apart (they "
        "stop when idle; here they also import this benchmark's modules).",
        "",
        "| memory | MiB |",
        "|---|---:|",
        "| baseline: a bare process importing fastapi, sqlalchemy, aiokafka | "
        f"{result['baseline_rss_mib']:.0f} |",
        f"| the benchmark's seeding process (the household's {result['events']:,} events in memory), "
        f"not the service | {result['seeding_process_rss_mib']:,.0f} |",
        f"| service: started | {result['rss_started_mib']:.0f} |",
        f"| service: peak while serving the reports | {result['peak_reports_mib']:.0f} |",
        f"| service: peak while serving the forecasts | {result['peak_forecasts_mib']:.0f} |",
        f"| each fitting process | {', '.join(f'{x:.0f}' for x in result['rss_workers_mib'])} |",
        f"| service: peak while rebuilding the household's read model ({result['rebuild_events']:,} events "
        f"in {result['rebuild_s']:.0f} s) | {result['peak_rebuild_mib']:.0f} |",
        f"| service: at the end | {result['rss_end_mib']:.0f} |",
        "",
        f"Load average at the end: {', '.join(f'{x:.1f}' for x in result['load_average'])}"
        f" on {result['cpus']} CPUs ({sharing(result['load_average'][1])}).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the temporary PostgreSQL folder")
    args = parser.parse_args()
    result = asyncio.run(run(args.rows, args.samples, args.keep))
    text = report(result)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "analytics_reports.md").write_text(text)
    (RESULTS / "analytics_reports.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
