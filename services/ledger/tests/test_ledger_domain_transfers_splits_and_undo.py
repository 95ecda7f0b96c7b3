"""Rules of archiving, categories, payees, transfers, splits, edits, deletes and undo — no I/O."""

from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from tally_ledger.domain import (
    Account,
    Category,
    DoesNotExist,
    Payee,
    Refs,
    RuleViolation,
    StaleVersion,
    Transaction,
    differences,
)
from tallykit.contracts.ledger import (
    CategoryKind,
    CategoryMerged,
    ClearedState,
    EntryKind,
    Split,
    TransactionAmended,
    TransactionDeleted,
    TransactionKind,
    TransactionRestored,
    TransferRecorded,
)

from .ledger_helpers import as_saved, saved_account, saved_category

DAY = date(2026, 1, 31)


def _refs(*aggregates: Account | Category) -> Refs:
    return Refs({a.id: a for a in aggregates if isinstance(a, Account)},
                {c.id: c for c in aggregates if isinstance(c, Category)})


def _expense(account: Account, amount: int = 1_000, **kw: Any) -> Transaction:
    return as_saved(Transaction.record(uuid4(), account=account, kind=TransactionKind.expense,
                                     amount_minor=amount, booked_on=DAY, **kw))


# --- accounts ----------------------------------------------------------------------------------------

def test_archive_and_reopen_an_account_at_the_seen_version() -> None:
    account = saved_account()
    with pytest.raises(StaleVersion):
        account.archive(expected_version=2)
    account.archive(expected_version=1)
    with pytest.raises(RuleViolation, match="already archived"):
        account.archive(expected_version=2)
    with pytest.raises(RuleViolation, match="archived"):
        _expense(account)
    account.reopen(expected_version=2)
    with pytest.raises(RuleViolation, match="not archived"):
        account.reopen(expected_version=3)
    assert [type(e).__name__ for e in account.pending] == ["AccountArchived", "AccountReopened"]
    assert not account.archived


# --- categories and payees ---------------------------------------------------------------------------

def test_rename_moves_a_category_between_groups_and_same_names_change_nothing() -> None:
    category = saved_category("Food", "Group")
    category.rename(name="Food", group="Group")
    assert category.pending == []
    category.rename(group="Home")
    assert (category.name, category.group, category.version) == ("Food", "Home", 2)


def test_merge_needs_another_open_category_of_the_same_kind_and_archives_the_source() -> None:
    cafe, eating_out = saved_category("Cafe", "Group"), saved_category("Eating out", "Group")
    salary = saved_category("Salary", "Group", CategoryKind.income)
    with pytest.raises(RuleViolation, match="itself"):
        cafe.merge_into(cafe)
    with pytest.raises(RuleViolation, match="for income"):
        cafe.merge_into(salary)
    with pytest.raises(DoesNotExist):
        cafe.merge_into(Category(uuid4()))
    cafe.merge_into(eating_out)
    assert cafe.pending == [CategoryMerged(into_category_id=eating_out.id)]
    assert cafe.archived
    assert cafe.merged_into == eating_out.id
    with pytest.raises(RuleViolation, match="already merged"):
        cafe.merge_into(eating_out)
    with pytest.raises(RuleViolation, match="archived"):
        eating_out.merge_into(cafe)


def test_an_archived_category_takes_no_new_transactions() -> None:
    old = saved_category("Old", "Group")
    old.archive()
    with pytest.raises(RuleViolation, match="archived"):
        _expense(saved_account(), category=old)


def test_a_payee_merges_into_another_name_once() -> None:
    payee = Payee(uuid4())
    with pytest.raises(RuleViolation, match="itself"):
        payee.merge_into("Shop", " shop ")
    payee.merge_into("Shop", "Corner shop")
    with pytest.raises(RuleViolation, match="already merged"):
        payee.merge_into("Shop", "Market")


# --- transfers ---------------------------------------------------------------------------------------

def test_a_transfer_is_one_event_naming_both_accounts() -> None:
    checking, savings = saved_account(), saved_account("Savings")
    transfer = Transaction.transfer(uuid4(), source=checking, target=savings, amount_minor=5_000,
                                    booked_on=DAY, note="monthly")
    assert transfer.pending == [TransferRecorded(from_account_id=checking.id, to_account_id=savings.id,
                                                 amount_minor=5_000, currency="EUR", booked_on=DAY,
                                                 note="monthly")]
    state = transfer.current
    assert (state.kind, state.account_id, state.counter_account_id, state.category_id) == (
        EntryKind.transfer, checking.id, savings.id, None)


@pytest.mark.parametrize(("target", "message"), [
    ("same", "two different accounts"), ("usd", "needs the amount that arrived"), ("archived", "archived"),
    ("missing", "does not exist"),
])
def test_a_transfer_needs_another_open_account_and_between_currencies_both_amounts(target: str,
                                                                                    message: str) -> None:
    checking = saved_account()
    other = {"same": checking, "usd": saved_account("US", "USD"), "missing": Account(uuid4())}.get(target)
    if other is None:
        other = saved_account("Old")
        other.archive(expected_version=1)
    with pytest.raises((RuleViolation, DoesNotExist), match=message):
        Transaction.transfer(uuid4(), source=checking, target=other, amount_minor=1, booked_on=DAY)


def test_a_transfer_between_currencies_keeps_both_amounts() -> None:
    checking, dollars, savings = saved_account(), saved_account("US", "USD"), saved_account("Savings")
    transfer = Transaction.transfer(uuid4(), source=checking, target=dollars, amount_minor=10_000,
                                    booked_on=DAY, counter_amount_minor=10_850)
    event = transfer.pending[0]
    assert isinstance(event, TransferRecorded)
    assert (event.amount_minor, event.currency, event.counter_amount_minor, event.counter_currency) == (
        10_000, "EUR", 10_850, "USD")
    saved = as_saved(transfer)
    with pytest.raises(RuleViolation, match="one currency has one amount"):
        saved.amend({"counter_account_id": savings.id}, _refs(checking, dollars, savings), expected_version=1)
    with pytest.raises(RuleViolation, match="one currency has one amount"):
        Transaction.transfer(uuid4(), source=checking, target=savings, amount_minor=1, booked_on=DAY,
                             counter_amount_minor=1)


def test_a_transfer_stays_a_transfer_and_never_gets_a_category() -> None:
    checking, savings, food = saved_account(), saved_account("Savings"), saved_category("Food", "Group")
    transfer = as_saved(Transaction.transfer(uuid4(), source=checking, target=savings, amount_minor=5,
                                           booked_on=DAY))
    refs = _refs(checking, savings, food)
    with pytest.raises(RuleViolation, match="stays a transfer"):
        transfer.amend({"kind": EntryKind.expense, "counter_account_id": None}, refs, expected_version=1)
    with pytest.raises(RuleViolation, match="no category"):
        transfer.amend({"category_id": food.id}, refs, expected_version=1)
    transfer.amend({"amount_minor": 7}, refs, expected_version=1)
    assert transfer.current.amount_minor == 7


# --- splits ------------------------------------------------------------------------------------------

def test_split_parts_must_sum_to_the_total_and_use_open_categories_of_the_kind() -> None:
    account, food, home = saved_account(), saved_category("Food", "Group"), saved_category("Home", "Group")
    salary = saved_category("Salary", "Group", CategoryKind.income)

    def split(*parts: tuple[Category, int], total: int = 1_000) -> Transaction:
        return Transaction.record(uuid4(), account=account, kind=TransactionKind.expense, amount_minor=total,
                                  booked_on=DAY,
                                  splits=[Split(category_id=c.id, amount_minor=a) for c, a in parts],
                                  split_categories=[c for c, _ in parts])

    recorded = split((food, 600), (home, 400))
    assert [s.amount_minor for s in recorded.current.splits] == [600, 400]
    with pytest.raises(RuleViolation, match="sum to 900, not to the amount 1000"):
        split((food, 600), (home, 300))
    with pytest.raises(RuleViolation, match="at least two"):
        split((food, 1_000))
    with pytest.raises(RuleViolation, match="for income"):
        split((food, 600), (salary, 400))
    with pytest.raises(RuleViolation, match="not category_id"):
        Transaction.record(uuid4(), account=account, kind=TransactionKind.expense, amount_minor=2,
                           booked_on=DAY, category=food, split_categories=[food, home],
                           splits=[Split(category_id=food.id, amount_minor=1),
                                   Split(category_id=home.id, amount_minor=1)])


def test_amending_to_splits_drops_the_category_and_setting_a_category_drops_the_splits() -> None:
    account, food, home = saved_account(), saved_category("Food", "Group"), saved_category("Home", "Group")
    tx = _expense(account, category=food)
    parts = (Split(category_id=food.id, amount_minor=700), Split(category_id=home.id, amount_minor=300))
    refs = _refs(account, food, home)
    tx.amend({"splits": parts}, refs, expected_version=1)
    assert (tx.current.category_id, tx.current.splits) == (None, parts)
    with pytest.raises(RuleViolation, match="sum to 1000, not to the amount 1100"):
        tx.amend({"amount_minor": 1_100}, refs, expected_version=2)
    tx.amend({"category_id": home.id}, refs, expected_version=2)
    assert (tx.current.category_id, tx.current.splits) == (home.id, ())


# --- amend, delete, undo -----------------------------------------------------------------------------

def test_amend_carries_the_full_state_before_and_after() -> None:
    account, savings = saved_account(), saved_account("Savings", "USD")
    tx = _expense(account, payee="Shop")
    tx.amend({"account_id": savings.id, "note": "moved", "tags": ("trip",)}, _refs(account, savings),
             expected_version=1)
    event = tx.pending[0]
    assert isinstance(event, TransactionAmended)
    assert event.before.account_id == account.id
    assert event.after.account_id == savings.id
    assert (event.after.currency, event.after.payee, event.after.tags) == ("USD", "Shop", ("trip",))
    assert differences(event.before, event.after) == {
        "account_id": [str(account.id), str(savings.id)], "currency": ["EUR", "USD"], "note": ["", "moved"],
        "tags": [[], ["trip"]]}


def test_amend_needs_the_current_version_and_a_change() -> None:
    account = saved_account()
    tx = _expense(account)
    with pytest.raises(StaleVersion):
        tx.amend({"note": "x"}, _refs(account), expected_version=2)
    tx.amend({"amount_minor": 1_000}, _refs(account), expected_version=1)
    assert tx.pending == []
    assert tx.version == 1
    with pytest.raises(RuleViolation, match="amount_minor"):
        tx.amend({"amount_minor": 0}, _refs(account), expected_version=1)


def test_a_reconciled_transaction_keeps_its_amount_and_cannot_be_deleted() -> None:
    account = saved_account()
    tx = _expense(account, status=ClearedState.reconciled)
    with pytest.raises(RuleViolation, match="keeps its amount_minor"):
        tx.amend({"amount_minor": 5}, _refs(account), expected_version=1)
    with pytest.raises(RuleViolation, match="cannot be deleted"):
        tx.delete(expected_version=1)
    tx.amend({"note": "checked"}, _refs(account), expected_version=1)
    tx.amend({"status": ClearedState.cleared}, _refs(account), expected_version=2)
    tx.delete(expected_version=3)
    assert tx.deleted


def test_delete_then_edit_is_refused_and_undo_brings_it_back() -> None:
    account = saved_account()
    tx = _expense(account)
    tx.delete(expected_version=1)
    assert isinstance(tx.pending[-1], TransactionDeleted)
    assert tx.deleted
    with pytest.raises(DoesNotExist, match="deleted"):
        tx.amend({"note": "x"}, _refs(account), expected_version=2)
    tx.undo(_refs(account), expected_version=2)
    restored = tx.pending[-1]
    assert isinstance(restored, TransactionRestored)
    assert restored.undoes == 2
    assert not tx.deleted
    assert tx.current.amount_minor == 1_000


def test_undo_walks_back_one_change_at_a_time_down_to_deleting_the_entry() -> None:
    account = saved_account()
    tx = _expense(account)
    refs = _refs(account)
    tx.amend({"amount_minor": 2_000}, refs, expected_version=1)
    tx.amend({"note": "late"}, refs, expected_version=2)
    tx.undo(refs, expected_version=3)  # the note goes
    assert (tx.current.amount_minor, tx.current.note) == (2_000, "")
    tx.amend({"payee": "Shop"}, refs, expected_version=4)
    tx.undo(refs, expected_version=5)  # the payee goes
    tx.undo(refs, expected_version=6)  # the amount goes back (the note's change is undone already)
    assert (tx.current.amount_minor, tx.current.payee, tx.current.note) == (1_000, "", "")
    tx.undo(refs, expected_version=7)  # the entry itself goes
    assert tx.deleted
    with pytest.raises(RuleViolation, match="no change left"):
        tx.undo(refs, expected_version=8)
    assert [getattr(e, "undoes", None) for e in tx.pending] == [None, None, 3, None, 5, 2, 1]


def test_undo_restores_a_merged_category_as_its_target() -> None:
    account = saved_account()
    cafe, eating_out = saved_category("Cafe", "Group"), saved_category("Eating out", "Group")
    tx = _expense(account, category=cafe)
    tx.amend({"category_id": None}, _refs(account, cafe), expected_version=1)
    cafe.merge_into(eating_out)
    cafe.pending.clear()
    tx.canonical = lambda s: (s.model_copy(update={"category_id": eating_out.id})
                              if s.category_id == cafe.id else s)
    tx.undo(_refs(account, eating_out), expected_version=2)
    assert tx.current.category_id == eating_out.id


def test_a_transaction_from_history_knows_its_state_and_changes() -> None:
    account = saved_account()
    tx = Transaction.record(uuid4(), account=account, kind=TransactionKind.expense, amount_minor=1_000,
                            booked_on=DAY)
    tx.amend({"note": "a"}, _refs(account), expected_version=1)
    tx.delete(expected_version=2)
    again = Transaction.from_history(tx.id, tx.pending)
    assert (again.version, again.deleted, again.current.note) == (3, True, "a")
    assert [(c.before is None, c.after is None) for c in again.history] == [
        (True, False), (False, False), (False, True)]
