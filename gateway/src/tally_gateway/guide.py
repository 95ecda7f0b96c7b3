"""The user guide (docs/guide.md) as a page of the gateway's own, at /guide/, with its screenshots at
/guide/screenshots/. The web client's Help link opens it. Served rather than linked to a repository on the
internet: a self-hosted Tally may have no way out, and the guide then always matches the version running.

The guide is the project's own file, not anyone's input: its few <img> tags (screenshots at a phone's
width) are kept; the page gets the same strict CSP as everything else (no script can run in it)."""

import re
from functools import lru_cache
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markdown_it import MarkdownIt

from tally_gateway.settings import GatewaySettings
from tallykit.app import settings_of
from tallykit.errors import NotFound

router = APIRouter()

GUIDE_FILE = "guide.md"
SCREENSHOTS = "screenshots"


def slug(text: str) -> str:
    """A heading's anchor as GitHub makes it (so the guide's contents links work in both places)."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def render(markdown: str) -> tuple[str, str]:
    """The guide's title (its first heading) and its body as HTML, every heading with its anchor."""
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = parser.parse(markdown)
    title = "Tally"
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            text = tokens[index + 1].content
            token.attrSet("id", slug(text))
            if token.tag == "h1" and title == "Tally":
                title = text
    return title, parser.renderer.render(tokens, parser.options, {})


@lru_cache(maxsize=4)
def _page(path: Path, modified_ns: int) -> str:
    """The page, rendered once per version of the file (`modified_ns` is part of the cache's key)."""
    title, body = render(path.read_text(encoding="utf-8"))
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="stylesheet" href="/styles.css">\n</head>\n<body>\n'
        f'<main class="guide card stack">\n{body}</main>\n</body>\n</html>\n'
    )


@router.get("/guide", include_in_schema=False)
async def guide_without_slash() -> RedirectResponse:
    # Relative links in the guide (screenshots/…) are relative to /guide/.
    return RedirectResponse("/guide/", status_code=308)


@router.get("/guide/", include_in_schema=False)
def guide(request: Request) -> HTMLResponse:  # reads a file: FastAPI runs it in a worker thread
    path: Path = settings_of(request, GatewaySettings).guide_dir / GUIDE_FILE
    try:
        page = _page(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise NotFound("the user guide is not installed here") from None
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})
