"""`record_statement`, the bulk path of a statement import, against `Transaction.record`: the same
events for the same rows, the same refusals, and the failing row named — no I/O."""

from collections.abc import Callable
from datetime import date
from uuid import uuid4

import pytest

from tally_ledger.domain import (
    Account,
    Category,
    DoesNotExist,
    EntryViolation,
    RuleViolation,
    StatementEntry,
    Transaction,
    record_statement,
)
from tallykit.contracts.ledger import CategoryKind, ClearedState, TransactionKind

from .ledger_helpers import saved_account, saved_category

DAY = date(2024, 2, 29)


def _one_by_one(account: Account, entry: StatementEntry) -> Transaction:
    return Transaction.record(uuid4(), account=account, kind=entry.kind, amount_minor=entry.amount_minor,
                              booked_on=entry.booked_on, payee=entry.payee, note=entry.note,
                              category=entry.category, tags=entry.tags, status=ClearedState.cleared)


def test_the_bulk_path_emits_what_recording_one_by_one_emits() -> None:
    account, groceries = saved_account(), saved_category()
    entries = [
        StatementEntry(TransactionKind.expense, 1_250, DAY, "REWE Markt", "Ref 0001"),
        StatementEntry(TransactionKind.income, 350_000, date(2024, 3, 1), "Employer AG", ""),
        StatementEntry(TransactionKind.expense, 99, DAY, "Café Nero", "", groceries, ("Trip", " coffee ")),
    ]
    payloads = record_statement(account, entries)
    assert payloads == [_one_by_one(account, entry).pending[0] for entry in entries]
    assert payloads[2].tags == ("trip", "coffee")  # the tag rules applied, as for one transaction
    assert {p.currency for p in payloads} == {"EUR"}


@pytest.mark.parametrize(("bad", "refused"), [
    (StatementEntry(TransactionKind.expense, 0, DAY, "Zero"), "amount_minor"),
    (StatementEntry(TransactionKind.expense, 100, DAY, "P" * 201), "payee"),
    (StatementEntry(TransactionKind.expense, 100, DAY, "Long note", "n" * 1001), "note"),
    (StatementEntry(TransactionKind.expense, 100, DAY, "Tagged", "", None, ("two words",)), "tags"),
])
def test_a_row_that_breaks_a_rule_is_named_and_nothing_is_recorded(bad: StatementEntry, refused: str) -> None:
    account = saved_account()
    good = StatementEntry(TransactionKind.expense, 100, DAY, "Fine")
    with pytest.raises(EntryViolation, match=refused) as caught:
        record_statement(account, [good, good, bad, good])
    assert caught.value.index == 2
    with pytest.raises(RuleViolation):  # one by one refuses the same row
        _one_by_one(account, bad)


@pytest.mark.parametrize(("make", "refused"), [
    (lambda: saved_category(kind=CategoryKind.income), "is for income"),
    (lambda: _archived(saved_category()), "archived"),
    (lambda: Category(uuid4()), "does not exist"),
])
def test_a_category_the_row_may_not_use_is_refused_like_one_by_one(make: Callable[[], Category],
                                                                   refused: str) -> None:
    account = saved_account()
    category = make()
    entry = StatementEntry(TransactionKind.expense, 100, DAY, "Shop", "", category)
    with pytest.raises(EntryViolation, match=refused) as caught:
        record_statement(account, [StatementEntry(TransactionKind.expense, 1, DAY), entry])
    assert caught.value.index == 1
    with pytest.raises((RuleViolation, DoesNotExist), match=refused):
        _one_by_one(account, entry)


def test_an_archived_or_missing_account_takes_no_statement() -> None:
    entry = StatementEntry(TransactionKind.expense, 100, DAY, "Shop")
    archived = saved_account()
    archived.archive(expected_version=1)
    with pytest.raises(RuleViolation, match="archived"):
        record_statement(archived, [entry])
    with pytest.raises(DoesNotExist):
        record_statement(Account(uuid4()), [entry])


def _archived(category: Category) -> Category:
    category.archive()
    category.pending.clear()
    return category
