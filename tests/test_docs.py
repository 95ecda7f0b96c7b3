"""The generated documents match the code they describe."""

from pathlib import Path

from tallystack.apidoc import render

DOCS = Path(__file__).parents[1] / "docs"


def test_api_reference_matches_the_services() -> None:
    assert (DOCS / "api.md").read_text() == render(), (
        "regenerate: uv run python -m tallystack.apidoc docs/api.md"
    )
