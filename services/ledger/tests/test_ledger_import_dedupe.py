"""Duplicate detection as a pure function: properties over generated statements (hypothesis)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tally_ledger.batches import DUPLICATE_WINDOW_DAYS, Known, new_rows, payee_key
from tally_ledger.importers import StatementRow

START = date(2025, 1, 1)

rows_strategy = st.lists(
    st.builds(
        lambda day, amount, payee, bank_id: StatementRow("line", START + timedelta(days=day), amount, payee,
                                                         bank_id=bank_id),
        st.integers(0, 20), st.sampled_from([-450, -1299, 250_000]),
        st.sampled_from(["Café Nero", "CAFE NERO", "Tesco", "Globex Ltd"]),
        st.none() | st.sampled_from(["tx1", "tx2", "tx3", "tx4"]),
    ),
    max_size=30,
)


def imported(rows: Sequence[StatementRow]) -> Known:
    """What the ledger knows after recording `rows` (as `load_known` reads it back)."""
    fingerprints: dict[tuple[int, str], list[tuple[date, bool]]] = defaultdict(list)
    for row in rows:
        fingerprints[(row.amount_minor, payee_key(row))].append((row.booked_on, row.bank_id is not None))
    return Known({r.bank_id for r in rows if r.bank_id}, fingerprints)


def nothing_known() -> Known:
    return Known(set(), defaultdict(list))


@given(rows_strategy)
def test_importing_the_same_rows_again_adds_nothing(rows: list[StatementRow]) -> None:
    first = new_rows(rows, nothing_known())
    assert new_rows(rows, imported(first)) == []


@given(rows_strategy)
def test_a_first_import_keeps_every_row_except_repeated_bank_ids(rows: list[StatementRow]) -> None:
    kept = new_rows(rows, nothing_known())
    ids = [r.bank_id for r in rows if r.bank_id]
    assert len(kept) == sum(r.bank_id is None for r in rows) + len(set(ids))


@given(rows_strategy, st.integers(-DUPLICATE_WINDOW_DAYS, DUPLICATE_WINDOW_DAYS))
def test_the_same_payments_booked_a_few_days_apart_without_ids_are_duplicates(rows: list[StatementRow],
                                                                              shift: int) -> None:
    without_ids = [StatementRow(r.where, r.booked_on, r.amount_minor, r.payee) for r in rows]
    moved = [StatementRow(r.where, r.booked_on + timedelta(days=shift), r.amount_minor, r.payee.upper())
             for r in without_ids]
    assert new_rows(moved, imported(new_rows(without_ids, nothing_known()))) == []


def test_two_equal_payments_with_different_bank_ids_are_both_kept() -> None:
    first = [StatementRow("line 1", START, -450, "Café Nero", bank_id="tx1")]
    later = [StatementRow("line 1", START + timedelta(days=1), -450, "Café Nero", bank_id="tx2")]
    assert new_rows(later, imported(first)) == later


def test_an_ofx_statement_after_the_same_csv_adds_nothing() -> None:
    csv = [StatementRow("line 2", START, -450, "Café Nero"), StatementRow("line 3", START, -450, "Café Nero")]
    ofx = [StatementRow("STMTTRN 1", START, -450, "CAFE NERO", bank_id="a"),
           StatementRow("STMTTRN 2", START + timedelta(days=1), -450, "Cafe Nero", bank_id="b"),
           StatementRow("STMTTRN 3", START + timedelta(days=9), -450, "Café Nero", bank_id="c")]
    assert new_rows(ofx, imported(csv)) == ofx[2:]
