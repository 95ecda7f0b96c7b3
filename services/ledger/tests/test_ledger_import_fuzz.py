"""Fuzzing the statement parsers: whatever bytes a person uploads, a parser either reads rows or refuses
with a StatementError naming what is wrong — never another exception (which the import API would turn
into a 500). Inputs are random bytes and mutations of the real sample statements."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally_ledger.importers import StatementError, StatementFormat, csv_import, detect_format, parse

STATEMENTS = Path(__file__).parent / "statements"
SAMPLES = sorted(p for p in STATEMENTS.iterdir() if p.is_file() and not p.name.startswith("broken"))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_refuse(fmt: StatementFormat, data: bytes) -> None:
    try:
        mapping = csv_import.detect(data).mapping if fmt == StatementFormat.csv else None
        rows = parse(fmt, data, mapping=mapping)
    except StatementError as refused:
        reason = str(refused)
    else:
        assert all(isinstance(row.amount_minor, int) for row in rows)
        return
    assert reason  # a refusal says what is wrong


@st.composite
def mutated_statement(draw: st.DrawFn) -> tuple[StatementFormat, bytes]:
    """A real statement with a few bytes flipped, a slice cut out, or junk inserted."""
    sample = draw(st.sampled_from(SAMPLES))
    data = bytearray(sample.read_bytes())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        how = draw(st.sampled_from(["flip", "cut", "insert"]))
        if how == "flip" and data:
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif how == "cut":
            del data[at : at + draw(st.integers(min_value=1, max_value=200))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
    return detect_format(sample.name, bytes(data)), bytes(data)


@FUZZ
@given(mutated_statement())
def test_a_damaged_statement_is_read_or_refused_with_a_reason(
    statement: tuple[StatementFormat, bytes],
) -> None:
    _read_or_refuse(*statement)


@FUZZ
@given(st.sampled_from(list(StatementFormat)), st.binary(max_size=2_000))
def test_random_bytes_in_any_format_are_read_or_refused(fmt: StatementFormat, data: bytes) -> None:
    _read_or_refuse(fmt, data)
