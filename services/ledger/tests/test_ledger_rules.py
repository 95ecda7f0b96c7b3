"""Rules in plain Python: conditions, all/any, ordering (a later rule sees what an earlier one did),
categories only of the right kind and only filled in on entry, regular expressions checked."""

from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from tally_ledger.domain import Category
from tally_ledger.rules import Rule, RuleBook, RuleSpec
from tallykit.contracts.ledger import CategoryKind, EntryKind, TransactionState

ACCOUNT = uuid4()
SHOPPING = Category.create(uuid4(), name="Shopping", group="Leisure", kind=CategoryKind.expense)
SALARY = Category.create(uuid4(), name="Salary", group="Income", kind=CategoryKind.income)


def state(**kw: Any) -> TransactionState:
    values: dict[str, Any] = {
        "account_id": ACCOUNT,
        "kind": EntryKind.expense,
        "amount_minor": 2_500,
        "currency": "EUR",
        "booked_on": date(2026, 3, 1),
        "payee": "AMZN MKTP DE*2K4",
        "note": "card 1234",
    }
    return TransactionState.model_validate(values | kw)


def spec(conditions: list[dict[str, Any]], actions: dict[str, Any], match: str = "all") -> RuleSpec:
    return RuleSpec.model_validate(
        {"name": "r", "match": match, "conditions": conditions, "actions": actions}
    )


def book(*specs: RuleSpec) -> RuleBook:
    return RuleBook(
        [Rule(uuid4(), n, s) for n, s in enumerate(specs)], {SHOPPING.id: SHOPPING, SALARY.id: SALARY}
    )


def test_ordered_rules_see_what_earlier_ones_did() -> None:
    clean = spec([{"field": "payee", "op": "regex", "value": r"^amzn\b"}], {"payee": "Amazon"})
    categorise = spec(
        [{"field": "payee", "op": "equals", "value": "amazon"}],
        {"category_id": str(SHOPPING.id), "tags": ["online"]},
    )
    after, matched = book(clean, categorise).apply(state())
    assert (after.payee, after.category_id, after.tags) == ("Amazon", SHOPPING.id, ("online",))
    assert len(matched) == 2
    # The other way round the second rule does not see "Amazon" yet.
    after, matched = book(categorise, clean).apply(state())
    assert (after.payee, after.category_id) == ("Amazon", None)


def test_all_and_any_amount_date_account_kind() -> None:
    conditions = [
        {"field": "amount", "min_minor": 1_000, "max_minor": 3_000},
        {"field": "date", "from_date": "2026-02-01", "to_date": "2026-03-31"},
        {"field": "account", "account_id": str(ACCOUNT)},
        {"field": "kind", "kind": "expense"},
    ]
    rule = spec(conditions, {"note": "checked"})
    assert book(rule).apply(state())[0].note == "checked"
    for miss in (
        {"amount_minor": 3_001},
        {"booked_on": date(2026, 4, 1)},
        {"account_id": uuid4()},
        {"kind": EntryKind.income},
    ):
        assert book(rule).apply(state(**miss))[0].note == "card 1234"
    either = spec(
        [
            {"field": "description", "op": "contains", "value": "CARD"},
            {"field": "amount", "min_minor": 999_999},
        ],
        {"tags": ["card"]},
        match="any",
    )
    assert book(either).apply(state())[0].tags == ("card",)


def test_category_only_of_the_right_kind_not_on_transfers_or_splits_and_filled_in_on_entry() -> None:
    rule = spec([{"field": "payee", "op": "contains", "value": "amzn"}], {"category_id": str(SHOPPING.id)})
    assert book(rule).apply(state(kind=EntryKind.income))[0].category_id is None
    assert book(rule).apply(state(kind=EntryKind.transfer, counter_account_id=uuid4()))[0].category_id is None
    chosen = state(category_id=SALARY.id)
    assert book(rule).apply(chosen)[0].category_id == SALARY.id  # on entry the person's choice stays
    assert book(rule).apply(chosen, fill_only=False)[0].category_id == SHOPPING.id  # applied on demand
    SHOPPING.archive()
    try:
        assert book(rule).apply(state())[0].category_id is None
    finally:
        SHOPPING.archived = False


@pytest.mark.parametrize(
    "body",
    [
        {"conditions": [{"field": "payee", "op": "regex", "value": "(a|aa)+$"}], "actions": {"note": "x"}},
        {"conditions": [{"field": "payee", "op": "regex", "value": "("}], "actions": {"note": "x"}},
        {"conditions": [{"field": "payee", "op": "regex", "value": "a" * 201}], "actions": {"note": "x"}},
        {"conditions": [{"field": "amount"}], "actions": {"note": "x"}},
        {"conditions": [{"field": "amount", "min_minor": 5, "max_minor": 1}], "actions": {"note": "x"}},
        {"conditions": [{"field": "payee", "op": "contains", "value": "x"}], "actions": {}},
        {"conditions": [], "actions": {"note": "x"}},
        {"conditions": [{"field": "colour", "op": "contains", "value": "x"}], "actions": {"note": "x"}},
    ],
)
def test_bad_rules_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RuleSpec.model_validate({"name": "bad", **body})
