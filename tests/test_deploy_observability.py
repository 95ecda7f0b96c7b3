"""What operators watch: the gateway's /metrics, and a Grafana dashboard that asks only for metrics the
services really export."""

import json
import re
from pathlib import Path

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tally_gateway.main import create_app
from tally_gateway.settings import GatewaySettings
from tallykit import meters
from tallystack.broker import free_port
from tallystack.stack import SERVICES

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "tally-overview.json"


def _exported_sample_names() -> set[str]:
    """Every sample name the kit's metrics produce (counters add _total, histograms _bucket...)."""
    ours = {
        meters.REQUEST_DURATION,
        meters.OUTBOX_BACKLOG,
        meters.EVENTS_PUBLISHED,
        meters.CONSUMER_EVENTS,
        meters.CONSUMER_LAG,
        meters.NOTIFICATIONS_SENT,
    }
    names: set[str] = set()
    for metric in ours:
        for family in metric.describe():
            names.add(family.name)
            if family.type == "counter":
                names.add(family.name + "_total")
            if family.type == "histogram":
                names |= {family.name + suffix for suffix in ("_bucket", "_count", "_sum")}
    return names


def test_dashboard_queries_only_metrics_the_services_export() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\b(tally_[a-z_]+)\b", expr)}
    assert used
    assert used <= _exported_sample_names(), used - _exported_sample_names()
    for wanted in (
        "tally_http_request_duration_seconds_bucket",
        "tally_consumer_lag",
        "tally_outbox_backlog",
        "tally_consumer_events_total",
        "tally_notifications_sent_total",
    ):
        assert wanted in used
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert all(p["datasource"]["uid"] == "${datasource}" for p in dashboard["panels"])
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource"}


async def test_gateway_exposes_request_metrics_by_route_template() -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = GatewaySettings(
        web_dir=ROOT / "web",
        jwks_url=f"{unreachable}/.well-known/jwks.json",
        **{f"{s}_url": unreachable for s in SERVICES},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            assert (await client.get("/")).status_code == 200
            unauthenticated = (await client.get("/api/ledger/accounts")).status_code
            assert unauthenticated == 401
            response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts = {
        (s.labels["route"], s.labels["status"])
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.name == "tally_http_request_duration_seconds_count" and s.labels.get("service") == "gateway"
    }
    assert ("/api/{rest:path}", str(unauthenticated)) in counts
    assert ("<unmatched>", "200") in counts, "static files are served by a mount, not a route"
    assert REGISTRY.get_sample_value(
        "tally_http_request_duration_seconds_count",
        {"service": "gateway", "method": "GET", "route": "/api/{rest:path}", "status": str(unauthenticated)},
    )
