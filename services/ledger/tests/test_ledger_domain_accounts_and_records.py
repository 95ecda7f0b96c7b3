"""The aggregates' rules, without any I/O."""

from datetime import date
from functools import partial
from uuid import uuid4

import pytest

from tally_ledger.domain import (
    DEFAULT_CATEGORIES,
    Account,
    Category,
    DoesNotExist,
    RuleViolation,
    StaleVersion,
    Transaction,
)
from tallykit.contracts.ledger import (
    AccountKind,
    AccountOpened,
    AccountRenamed,
    CategoryCreated,
    CategoryKind,
    TransactionKind,
    TransactionRecorded,
)

from .ledger_helpers import saved_account

_checking = partial(saved_account, opening_balance_minor=10_000)  # an account as if saved, 100.00 in it

TODAY = date(2025, 3, 14)


def test_opening_an_account_emits_one_event_at_version_one() -> None:
    account = Account.open(uuid4(), name="Cash", kind=AccountKind.cash, currency="JPY",
                           opening_balance_minor=500)
    assert account.pending == [AccountOpened(name="Cash", kind=AccountKind.cash, currency="JPY",
                                             opening_balance_minor=500)]
    assert (account.version, account.expected_version, account.currency) == (1, 0, "JPY")


def test_an_account_is_rebuilt_from_its_history() -> None:
    history = [AccountOpened(name="Old", kind=AccountKind.savings, currency="USD", opening_balance_minor=0),
               AccountRenamed(name="New")]
    account = Account.from_history(uuid4(), history)
    assert (account.name, account.kind, account.currency, account.version) == ("New", "savings", "USD", 2)
    assert account.pending == []


def test_rename_needs_the_current_version() -> None:
    account = _checking()
    with pytest.raises(StaleVersion) as exc:
        account.rename("Joint", expected_version=0)
    assert (exc.value.expected, exc.value.actual) == (0, 1)
    account.rename("Joint", expected_version=1)
    assert account.pending == [AccountRenamed(name="Joint")]
    assert (account.version, account.expected_version) == (2, 1)


def test_renaming_to_the_same_name_changes_nothing() -> None:
    account = _checking()
    account.rename("Checking", expected_version=1)
    assert account.pending == []
    assert account.version == 1


def test_an_account_without_history_does_not_exist() -> None:
    with pytest.raises(DoesNotExist):
        Account(uuid4()).rename("x", expected_version=0)
    with pytest.raises(DoesNotExist):
        Transaction.record(uuid4(), account=Account(uuid4()), kind=TransactionKind.expense, amount_minor=1,
                           booked_on=TODAY)


def test_opening_twice_is_refused() -> None:
    event = AccountOpened(name="A", kind=AccountKind.cash, currency="EUR", opening_balance_minor=0)
    with pytest.raises(RuleViolation):
        Account.from_history(uuid4(), [event, event])


def test_a_transaction_takes_the_accounts_currency() -> None:
    account = _checking(currency="GBP")
    groceries = Category.create(uuid4(), name="Groceries", group="Food", kind=CategoryKind.expense)
    tx = Transaction.record(uuid4(), account=account, kind=TransactionKind.expense, amount_minor=1234,
                            booked_on=TODAY, category=groceries, payee="Market")
    assert tx.pending == [TransactionRecorded(account_id=account.id, kind=TransactionKind.expense,
                                              amount_minor=1234, currency="GBP", category_id=groceries.id,
                                              payee="Market", booked_on=TODAY)]
    assert tx.version == 1


def test_a_transaction_in_another_currency_is_refused() -> None:
    with pytest.raises(RuleViolation, match="keeps EUR"):
        Transaction.record(uuid4(), account=_checking(currency="EUR"), kind=TransactionKind.income,
                           amount_minor=1, booked_on=TODAY, currency="USD")


@pytest.mark.parametrize("amount", [0, -5])
def test_a_transaction_amount_is_positive(amount: int) -> None:
    with pytest.raises(RuleViolation, match="positive"):
        Transaction.record(uuid4(), account=_checking(), kind=TransactionKind.expense, amount_minor=amount,
                           booked_on=TODAY)


def test_a_transactions_category_must_exist_and_match_its_kind() -> None:
    salary = Category.create(uuid4(), name="Salary", group="Income", kind=CategoryKind.income)
    with pytest.raises(RuleViolation, match="for income"):
        Transaction.record(uuid4(), account=_checking(), kind=TransactionKind.expense, amount_minor=1,
                           booked_on=TODAY, category=salary)
    with pytest.raises(DoesNotExist):
        Transaction.record(uuid4(), account=_checking(), kind=TransactionKind.expense, amount_minor=1,
                           booked_on=TODAY, category=Category(uuid4()))


def test_a_category_is_created_once() -> None:
    created = CategoryCreated(name="Rent", group="Home", kind=CategoryKind.expense)
    assert Category.from_history(uuid4(), [created]).name == "Rent"
    with pytest.raises(RuleViolation):
        Category.from_history(uuid4(), [created, created])


def test_default_categories_are_a_sensible_two_level_set() -> None:
    by_name = {c.name: c for c in DEFAULT_CATEGORIES}
    assert len(by_name) == len(DEFAULT_CATEGORIES)
    assert (by_name["Groceries"].group, by_name["Groceries"].kind) == ("Food", CategoryKind.expense)
    for name in ("Rent", "Utilities", "Transport", "Eating out", "Health", "Entertainment", "Shopping"):
        assert by_name[name].kind == CategoryKind.expense
    for name in ("Salary", "Other income"):
        assert by_name[name].kind == CategoryKind.income


def test_default_category_ids_are_stable_per_household_and_differ_between_households() -> None:
    groceries = next(c for c in DEFAULT_CATEGORIES if c.name == "Groceries")
    tenant = uuid4()
    assert groceries.id_for(tenant) == groceries.id_for(tenant)
    assert groceries.id_for(tenant) != groceries.id_for(uuid4())
    assert len({c.id_for(tenant) for c in DEFAULT_CATEGORIES}) == len(DEFAULT_CATEGORIES)
