"""Renders the event catalogue (`docs/events.md`) from the registry: `python -m tallykit.contracts.catalogue`.

A test compares the file with this output, so the document cannot drift from the code.
"""

import sys
from pathlib import Path
from typing import Any

from tallykit.contracts import registry
from tallykit.events import Envelope

HEADER = """# Event catalogue

Generated from `tallykit.contracts.registry` by
`uv run python -m tallykit.contracts.catalogue docs/events.md`;
`libs/tallykit/tests/test_catalogue.py` fails when this file and the code disagree.

Every event travels in the same envelope (see [architecture](architecture.md#events)) on the topic
`<producer>.events`, keyed by tenant id. Money is an integer amount of minor units plus an ISO 4217 code.

## Envelope

| field | type |
|---|---|
"""


def _type_name(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type_name(s) for s in schema["anyOf"])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = str(schema.get("type", "object"))
    extra = schema.get("format")
    return f"{kind} ({extra})" if extra else kind


def _fields_table(model_schema: dict[str, Any]) -> list[str]:
    required = set(model_schema.get("required", []))
    lines = ["| field | type | required |", "|---|---|---|"]
    for name, schema in model_schema.get("properties", {}).items():
        lines.append(f"| `{name}` | {_type_name(schema)} | {'yes' if name in required else 'no'} |")
    return lines


def render() -> str:
    lines = [HEADER.rstrip("\n")]
    for name, schema in Envelope.model_json_schema()["properties"].items():
        lines.append(f"| `{name}` | {_type_name(schema)} |")
    lines.append("")
    for spec in registry.specs():
        lines += [
            f"## `{spec.type_name}` (v{spec.version})",
            "",
            spec.description,
            "",
            f"- producer: `{spec.producer}` on `{spec.producer}.events`",
            f"- consumers: {', '.join(f'`{c}`' for c in spec.consumers) or 'none yet'}",
            "",
            *_fields_table(spec.model.model_json_schema()),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(render()) if len(sys.argv) > 1 else print(render())
