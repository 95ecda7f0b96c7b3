from pathlib import Path

from tallykit.contracts.catalogue import render

DOC = Path(__file__).parents[3] / "docs" / "events.md"


def test_event_catalogue_matches_the_registry() -> None:
    assert DOC.read_text() == render(), (
        "regenerate: uv run python -m tallykit.contracts.catalogue docs/events.md"
    )
