"""What the installable client needs from the gateway: the service worker may control the whole site and
is always revalidated, the manifest has its type, and API answers are never stored by any cache."""

import json
import uuid

import httpx

from tally_gateway.settings import DEFAULT_WEB_DIR
from tallystack.tokens import TokenMinter


async def test_service_worker_controls_the_site_and_is_always_revalidated(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/sw.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == (DEFAULT_WEB_DIR / "sw.js").read_text()
    # Other scripts may not widen their scope.
    assert "service-worker-allowed" not in (await gateway.get("/js/app.js")).headers


async def test_manifest_has_its_type_and_its_icons_exist(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text)
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        served = await gateway.get(icon["src"])
        assert served.status_code == 200, icon["src"]
        assert served.headers["content-type"] == icon["type"]


async def test_api_answers_are_never_stored(gateway: httpx.AsyncClient, token_minter: TokenMinter) -> None:
    refused = await gateway.get("/api/ledger/accounts")
    auth = token_minter.headers(uuid.uuid4(), uuid.uuid4())
    proxied = await gateway.get("/api/ledger/accounts", headers=auth)
    page = await gateway.get("/")

    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"
    assert proxied.status_code == 200
    assert proxied.headers["cache-control"] == "no-store"
    assert page.headers["cache-control"] == "no-cache"


async def test_static_files_are_compressed_when_asked_but_api_answers_are_not(
    gateway: httpx.AsyncClient, token_minter: TokenMinter
) -> None:
    auth = token_minter.headers(uuid.uuid4(), uuid.uuid4())
    script = await gateway.get("/js/api.js", headers={"Accept-Encoding": "gzip"})
    plain = await gateway.get("/js/api.js", headers={"Accept-Encoding": "identity"})
    api = await gateway.get("/api/ledger/accounts", headers={**auth, "Accept-Encoding": "gzip"})

    assert script.headers["content-encoding"] == "gzip"
    assert script.text == (DEFAULT_WEB_DIR / "js" / "api.js").read_text()  # httpx decodes it
    assert int(script.headers["content-length"]) < len(plain.content) / 2
    assert script.headers["cache-control"] == "no-cache"
    assert "content-encoding" not in plain.headers
    assert "content-encoding" not in api.headers
