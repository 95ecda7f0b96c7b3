"""Rules: conditions on a transaction (payee or description contains / equals / matches a regular
expression, amount range, account, date range, kind), all of them or any → actions (set the category,
the payee, the note; add tags). Plain Python, no I/O.

Rules run in their order, each on the result of the ones before it, so a first rule can clean up a
payee ("AMZN MKTP DE*2K4" → "Amazon") and a later one categorise by the clean name.

User-written regular expressions run on the `regex` module with a time limit per match: a pattern
that backtracks catastrophically is refused when saved (it is tried on probe texts) and, should one
slip through, a match that runs out of time counts as no match instead of stalling the ledger.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal
from uuid import UUID

import regex
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tally_ledger.domain import Category
from tallykit.contracts.ledger import EntryKind, Tag, TransactionState

MAX_PATTERN = 200
MATCH_TIMEOUT_S = 0.05
_PROBES = (
    "a" * 40 + "!",
    "0" * 40 + "x",
    "ab" * 30 + "!",
    " " * 40 + "x",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u00e9",
)


class RuleError(ValueError):
    """A rule that cannot be saved (e.g. a regular expression that does not compile or runs away)."""


Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextCondition(_Model):
    """Case-insensitive; `description` is the note (where imports keep the bank's text)."""

    field: Literal["payee", "description"]
    op: Literal["contains", "equals", "regex"]
    value: Text

    @model_validator(mode="after")
    def _compiles(self) -> "TextCondition":
        if self.op == "regex":
            compile_pattern(self.value)
        return self


class AmountCondition(_Model):
    field: Literal["amount"]
    min_minor: int | None = Field(default=None, ge=0, le=10**15)
    max_minor: int | None = Field(default=None, ge=0, le=10**15)

    @model_validator(mode="after")
    def _a_range(self) -> "AmountCondition":
        if self.min_minor is None and self.max_minor is None:
            raise ValueError("an amount condition needs min_minor, max_minor or both")
        if self.min_minor is not None and self.max_minor is not None and self.min_minor > self.max_minor:
            raise ValueError("min_minor is above max_minor")
        return self


class AccountCondition(_Model):
    field: Literal["account"]
    account_id: UUID


class DateCondition(_Model):
    field: Literal["date"]
    from_date: date | None = None
    to_date: date | None = None

    @model_validator(mode="after")
    def _a_range(self) -> "DateCondition":
        if self.from_date is None and self.to_date is None:
            raise ValueError("a date condition needs from_date, to_date or both")
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise ValueError("from_date is after to_date")
        return self


class KindCondition(_Model):
    field: Literal["kind"]
    kind: Literal["expense", "income"]


Condition = Annotated[
    TextCondition | AmountCondition | AccountCondition | DateCondition | KindCondition,
    Field(discriminator="field"),
]


class Actions(_Model):
    category_id: UUID | None = None
    payee: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = (
        None
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    tags: Annotated[tuple[Tag, ...], Field(max_length=20)] = ()

    @model_validator(mode="after")
    def _something(self) -> "Actions":
        if self.category_id is None and self.payee is None and self.note is None and not self.tags:
            raise ValueError("a rule must do something: set a category, payee or note, or add tags")
        return self


class RuleSpec(_Model):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    match: Literal["all", "any"] = "all"
    conditions: Annotated[tuple[Condition, ...], Field(min_length=1, max_length=20)]
    actions: Actions
    enabled: bool = True


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Any:
    """Compile a user's pattern (case-insensitive), refusing long ones and ones that run away on probes.
    Kept: each write reads the household's rules afresh, and the probes cost more than the match."""
    if len(pattern) > MAX_PATTERN:
        raise RuleError(f"a regular expression of at most {MAX_PATTERN} characters")
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE | regex.V0)
    except regex.error as exc:
        raise RuleError(f"the regular expression does not compile: {exc}") from exc
    # Runaway backtracking shows on a long run of a character the pattern repeats, then a mismatch.
    own = [ch * 40 + "\x00" for ch in dict.fromkeys(c for c in pattern if c.isalnum())][:12]
    for probe in (*_PROBES, *own):
        try:
            compiled.search(probe, timeout=MATCH_TIMEOUT_S)
        except TimeoutError as exc:
            raise RuleError("the regular expression takes too long to match (nested repetition?)") from exc
    return compiled


@dataclass(frozen=True)
class Rule:
    id: UUID
    position: int
    spec: RuleSpec


def _text_matches(condition: TextCondition, text: str, compiled: Any) -> bool:
    if condition.op == "contains":
        return condition.value.casefold() in text.casefold()
    if condition.op == "equals":
        return condition.value.strip().casefold() == text.strip().casefold()
    try:
        return compiled.search(text, timeout=MATCH_TIMEOUT_S) is not None
    except TimeoutError:
        return False


class RuleBook:
    """The household's rules in order, with the categories their actions name (to check they may be used)."""

    def __init__(self, rules: Sequence[Rule], categories: Mapping[UUID, Category]) -> None:
        self.rules = sorted((r for r in rules if r.spec.enabled), key=lambda r: (r.position, str(r.id)))
        self.categories = categories
        self._patterns: dict[str, Any] = {}

    def _pattern(self, pattern: str) -> Any:
        if pattern not in self._patterns:
            try:
                self._patterns[pattern] = compile_pattern(pattern)
            except RuleError:
                self._patterns[pattern] = None
        return self._patterns[pattern]

    def matches(self, spec: RuleSpec, state: TransactionState) -> bool:
        results = (self._condition(c, state) for c in spec.conditions)
        return all(results) if spec.match == "all" else any(results)

    def _condition(self, condition: Any, state: TransactionState) -> bool:
        if isinstance(condition, TextCondition):
            compiled = self._pattern(condition.value) if condition.op == "regex" else None
            if condition.op == "regex" and compiled is None:
                return False
            return _text_matches(
                condition, state.payee if condition.field == "payee" else state.note, compiled
            )
        if isinstance(condition, AmountCondition):
            return (condition.min_minor is None or state.amount_minor >= condition.min_minor) and (
                condition.max_minor is None or state.amount_minor <= condition.max_minor
            )
        if isinstance(condition, AccountCondition):
            return condition.account_id in (state.account_id, state.counter_account_id)
        if isinstance(condition, DateCondition):
            return (condition.from_date is None or state.booked_on >= condition.from_date) and (
                condition.to_date is None or state.booked_on <= condition.to_date
            )
        if isinstance(condition, KindCondition):
            return state.kind.value == condition.kind
        raise TypeError(f"unknown condition {condition!r}")

    def act(self, spec: RuleSpec, state: TransactionState, *, fill_only: bool) -> TransactionState:
        """The state after a rule's actions. A category is set only on an expense or income that is not
        split, only to a usable category of its kind, and (`fill_only`, on entry and import) only when
        the transaction has none: what the person chose stays."""
        actions, changes = spec.actions, dict[str, Any]()
        if actions.payee is not None:
            changes["payee"] = actions.payee
        if actions.note is not None:
            changes["note"] = actions.note
        if actions.tags:
            changes["tags"] = tuple(dict.fromkeys((*state.tags, *actions.tags)))
        if (
            actions.category_id is not None
            and state.kind != EntryKind.transfer
            and not state.splits
            and not (fill_only and state.category_id is not None)
        ):
            category = self.categories.get(actions.category_id)
            if (
                category is not None
                and category.exists
                and not category.archived
                and category.kind.value == state.kind.value
            ):
                changes["category_id"] = category.id
        return state.model_copy(update=changes) if changes else state

    def apply(
        self, state: TransactionState, *, fill_only: bool = True, only: RuleSpec | None = None
    ) -> tuple[TransactionState, list[UUID]]:
        """Run the rules (or just `only`) in order; returns the new state and the ids of rules that
        matched."""
        matched: list[UUID] = []
        specs = [(None, only)] if only is not None else [(r.id, r.spec) for r in self.rules]
        for rule_id, spec in specs:
            if self.matches(spec, state):
                state = self.act(spec, state, fill_only=fill_only)
                if rule_id is not None:
                    matched.append(rule_id)
        return state, matched


def category_ids(rules: Sequence[Rule | RuleSpec]) -> set[UUID]:
    ids = set()
    for rule in rules:
        spec = rule.spec if isinstance(rule, Rule) else rule
        if spec.actions.category_id is not None:
            ids.add(spec.actions.category_id)
    return ids
