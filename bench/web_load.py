"""Benchmark: the first load of the dashboard in Chromium (Debian's, driven by Playwright) against the whole
local stack, with a same-run baseline (the same browser loading a near-empty page from the same gateway).

    uv run python bench/web_load.py [--samples 7] [--routes / /dashboard]

It starts the stack (embedded PostgreSQL, broker, services, gateway) in a temporary folder, signs a
household up through the API and gives it an account and 40 transactions, then loads the home screen and
the dashboard (the routes given) in a fresh browser context per sample (empty cache, no service worker
yet: a first visit), already signed in (the access token is put where the client keeps it, so no sign-in
page is in the way). For each load it reads the browser's own Navigation and Resource Timing: time to
first byte, DOMContentLoaded, the load event, "data shown" (the end of the last response the page asked
for — modules, strings and API answers — once no response has completed for a second), and the JavaScript
transferred (bytes on the wire, headers included). A second load in the same context (warm: HTTP cache
and service worker) is measured too. Prints a table and writes bench/results/web_load.{json,md}. Targets:
under 1 s to load, under 300 KB of JavaScript transferred.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, sync_playwright

from tallystack.measure import sharing
from tallystack.polling import eventually
from tallystack.stack import Ports, Stack

RESULTS = Path(__file__).parent / "results"
TARGET_LOAD_MS = 1000.0
TARGET_JS_BYTES = 300 * 1024
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
EMAIL = "bench@example.com"
PASSWORD = "correct horse battery"

# "networkidle" never comes while a screen holds a live stream open (the notifier's server-sent events), so
# quiet means: no response has completed for QUIET_MS (a stream still open is not a completed response).
QUIET_MS = 1000
QUIET = f"""async () => {{
  const start = performance.now();
  let seen = -1;
  let since = performance.now();
  while (performance.now() - since < {QUIET_MS} && performance.now() - start < 20000) {{
    const count = performance.getEntriesByType("resource").length;
    if (count !== seen) {{ seen = count; since = performance.now(); }}
    await new Promise((resolve) => setTimeout(resolve, 50));
  }}
}}"""

# Read in the page once the network is quiet: what the browser itself measured for this navigation.
TIMINGS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const isJs = (r) => r.initiatorType === "script" || /\\.m?js(\\?|$)/.test(new URL(r.name).pathname);
  const js = resources.filter(isJs);
  const sum = (list, key) => list.reduce((total, r) => total + (r[key] || 0), 0);
  return {
    ttfb_ms: nav.responseStart,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    load_ms: nav.loadEventEnd,
    data_shown_ms: Math.max(nav.loadEventEnd, ...resources.map((r) => r.responseEnd)),
    js_files: js.length,
    js_transferred_bytes: sum(js, "transferSize"),
    js_body_bytes: sum(js, "encodedBodySize"),
    api_requests: resources.filter((r) => new URL(r.name).pathname.startsWith("/api/")).length,
    all_transferred_bytes: nav.transferSize + sum(resources, "transferSize"),
    requests: resources.length + 1,
  };
}"""


def seed(base: str) -> str:
    """A household with an account and 40 transactions; returns the access token."""
    with httpx.Client(base_url=f"{base}/api", timeout=30) as client:
        client.post("/auth/register", json={"email": EMAIL, "password": PASSWORD, "display_name": "Bench"})
        token = client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        categories = eventually(
            lambda: client.get("/ledger/categories", headers=auth).json()["items"],
            "the household's default categories",
        )
        expense = [c["id"] for c in categories if c["kind"] == "expense"]
        account = client.post(
            "/ledger/accounts",
            headers=auth,
            json={
                "name": "Everyday",
                "kind": "checking",
                "currency": "EUR",
                "opening_balance_minor": 250_000,
            },
        ).json()
        today = date.today()
        for i in range(40):
            client.post(
                "/ledger/transactions",
                headers=auth,
                json={
                    "account_id": account["id"],
                    "kind": "expense",
                    "amount_minor": 500 + 37 * i,
                    "category_id": expense[i % len(expense)],
                    "payee": f"Shop {i % 9}",
                    "booked_on": (today - timedelta(days=i % 20)).isoformat(),
                },
            ).raise_for_status()
        return str(token)


def fresh_token(base: str) -> str:
    response = httpx.post(f"{base}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def measure(browser: Browser, url: str, token: str | None, ready: str | None) -> tuple[dict[str, Any], ...]:
    """One cold load of `url` in a new context, then a warm reload; returns both timings."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if token:
        # What the client keeps after signing in (api.js): the token in this tab, the flag in the origin.
        context.add_init_script(
            f"sessionStorage.setItem('tally.accessToken', {json.dumps(token)});"
            "localStorage.setItem('tally.session', '1');"
        )
    page = context.new_page()
    results = []
    try:
        for load in ("cold", "warm"):
            if load == "cold":
                page.goto(url, wait_until="load")
            else:
                page.reload(wait_until="load")
            if ready:
                page.wait_for_function(ready, timeout=30_000)
            page.evaluate(QUIET)
            results.append(page.evaluate(TIMINGS))
    finally:
        context.close()
    return tuple(results)


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    keys = samples[0].keys()
    return {
        key: {"median": statistics.median(s[key] for s in samples), "max": max(s[key] for s in samples)}
        for key in keys
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument(
        "--routes",
        nargs="+",
        default=["/", "/dashboard"],
        help="client routes to load (those app.js does not have are left out)",
    )
    args = parser.parse_args()
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        sys.exit("Chromium is needed: apt-get install chromium")
    app_js = (Path(__file__).parents[1] / "web" / "js" / "app.js").read_text()
    routes = [route for route in args.routes if f'"{route}":' in app_js]

    folder = Path(tempfile.mkdtemp(prefix="tally-web-bench-"))
    stack = Stack(folder, Ports.free(), progress=lambda line: print(line, file=sys.stderr))
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        name: {"cold": [], "warm": []} for name in [*routes, BASELINE]
    }
    try:
        print("starting the stack…", file=sys.stderr)
        stack.start()
        seed(stack.url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            version = browser.version
            try:
                measure(browser, f"{stack.url}/healthz", None, None)  # the browser's own first start
                for _ in range(args.samples):
                    for route in routes:
                        cold, warm = measure(browser, f"{stack.url}/#{route}", fresh_token(stack.url), READY)
                        runs[route]["cold"].append(cold)
                        runs[route]["warm"].append(warm)
                    cold, warm = measure(browser, f"{stack.url}/healthz", None, None)
                    runs[BASELINE]["cold"].append(cold)
                    runs[BASELINE]["warm"].append(warm)
            finally:
                browser.close()
    finally:
        stack.stop()
        shutil.rmtree(folder, ignore_errors=True)

    summary = {
        page: {load: summarise(samples) for load, samples in loads.items()} for page, loads in runs.items()
    }
    report(args.samples, routes, version, summary, runs)


BASELINE = "baseline"
# A screen is shown when its heading is there, nothing says "Loading", and (then) the network is quiet.
READY = "() => Boolean(document.querySelector('#app h1')) && !document.querySelector('#app .loading')"
ROWS = [
    ("time to first byte", "ttfb_ms", "ms"),
    ("DOMContentLoaded", "dom_content_loaded_ms", "ms"),
    ("load event", "load_ms", "ms"),
    ("data shown (last response)", "data_shown_ms", "ms"),
    ("JavaScript files", "js_files", ""),
    ("JavaScript transferred", "js_transferred_bytes", "KB"),
    ("JavaScript bodies (compressed)", "js_body_bytes", "KB"),
    ("API requests", "api_requests", ""),
    ("everything transferred", "all_transferred_bytes", "KB"),
]


def _cell(value: dict[str, float], unit: str) -> str:
    if unit == "KB":
        return f"{value['median'] / 1024:.1f} (max {value['max'] / 1024:.1f})"
    if unit == "ms":
        return f"{value['median']:.0f} (max {value['max']:.0f})"
    return f"{value['median']:.0f}"


def report(
    samples: int, routes: list[str], version: str, summary: dict[str, Any], runs: dict[str, Any]
) -> None:
    columns = (
        [(route, "cold") for route in routes] + [(route, "warm") for route in routes] + [(BASELINE, "cold")]
    )
    titles = [f"`#{r}` first load" if k == "cold" else f"`#{r}` warm reload" for r, k in columns[:-1]]
    verdicts = {}
    for route in routes:
        cold = summary[route]["cold"]
        verdicts[route] = {
            "load_ms_median": cold["data_shown_ms"]["median"],
            "load_ms_max": cold["data_shown_ms"]["max"],
            "js_bytes": cold["js_transferred_bytes"]["max"],
            "load_met": cold["data_shown_ms"]["max"] < TARGET_LOAD_MS,
            "load_median_met": cold["data_shown_ms"]["median"] < TARGET_LOAD_MS,
            "js_met": cold["js_transferred_bytes"]["max"] < TARGET_JS_BYTES,
        }
    load = os.getloadavg()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Web client load benchmark ({now})",
        "",
        f"Chromium {version} (Debian, headless) on {platform.machine()}, against the whole local stack "
        "(gateway serving web/ gzip-compressed, every service, embedded PostgreSQL). "
        f"{samples} samples; each a new browser context (empty cache, no service worker: first visit), "
        "already signed in, in a household with an account and 40 transactions; then a reload in the same "
        "context (warm: HTTP cache revalidated, service worker in place). Baseline: the same browser loading "
        "the gateway's `/healthz` (a near-empty page) in the same run. Figures: median (max).",
        "",
        "| measure | " + " | ".join([*titles, "baseline (empty page)"]) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for title, key, unit in ROWS:
        suffix = f" ({unit})" if unit else ""
        cells = [_cell(summary[page][kind][key], unit) for page, kind in columns]
        lines.append(f"| {title}{suffix} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Load average at the end: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} on {os.cpu_count()} CPUs "
        f"({sharing(load[1])}).",
        "",
    ]
    for route, verdict in verdicts.items():
        met = (
            "met" if verdict["load_met"] else "met by the median" if verdict["load_median_met"] else "not met"
        )
        lines.append(
            f"- `#{route}` first load, data shown: {verdict['load_ms_median']:.0f} ms median, "
            f"{verdict['load_ms_max']:.0f} ms worst; target under {TARGET_LOAD_MS:.0f} ms: "
            f"**{met}**."
            f" JavaScript transferred: {verdict['js_bytes'] / 1024:.1f} KB; target under "
            f"{TARGET_JS_BYTES // 1024} KB: **{'met' if verdict['js_met'] else 'not met'}**."
        )
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "web_load.md").write_text(text)
    (RESULTS / "web_load.json").write_text(
        json.dumps(
            {
                "measured_at": now,
                "samples": samples,
                "routes": routes,
                "chromium": version,
                "load_average": load,
                "targets": {"load_ms": TARGET_LOAD_MS, "js_bytes": TARGET_JS_BYTES},
                "verdicts": verdicts,
                "summary": summary,
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
