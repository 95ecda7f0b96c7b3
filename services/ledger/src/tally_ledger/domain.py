"""The ledger's aggregates, in plain Python: no I/O, no framework.

An aggregate is rebuilt from its past events (`from_history`). A command method checks the rules,
then emits one event that the same `apply` code applies; the emitted events wait in `pending` until
a handler appends them to the event store at `expected_version` (the version the command saw).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Self
from uuid import UUID, uuid5

from pydantic import TypeAdapter, ValidationError

from tallykit.contracts.ledger import (
    AccountArchived,
    AccountKind,
    AccountOpened,
    AccountRenamed,
    AccountReopened,
    CategorisedBy,
    CategoryArchived,
    CategoryCreated,
    CategoryKind,
    CategoryMerged,
    CategoryRenamed,
    ClearedState,
    EntryKind,
    PayeeMerged,
    Split,
    TransactionAmended,
    TransactionDeleted,
    TransactionKind,
    TransactionRecorded,
    TransactionRestored,
    TransactionState,
    TransferRecorded,
)
from tallykit.events import EventPayload


class DomainError(Exception):
    """A command the ledger refuses."""


class DoesNotExist(DomainError):
    """The aggregate a command refers to has no history (in this household)."""


class RuleViolation(DomainError):
    """The command breaks a rule of the ledger."""


class StaleVersion(DomainError):
    """The caller decided on an older version of the aggregate than the current one."""

    def __init__(self, what: str, expected: int, actual: int) -> None:
        super().__init__(f"{what} is at version {actual}, not {expected}; reload and retry")
        self.expected = expected
        self.actual = actual


@dataclass
class Aggregate:
    label: ClassVar[str] = "aggregate"

    id: UUID
    version: int = 0
    pending: list[EventPayload] = field(default_factory=list, repr=False)

    @classmethod
    def from_history(cls, aggregate_id: UUID, events: Iterable[EventPayload]) -> Self:
        aggregate = cls(aggregate_id)
        for event in events:
            aggregate.apply(event)
        return aggregate

    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def expected_version(self) -> int:
        """The stream version the pending events continue from."""
        return self.version - len(self.pending)

    def apply(self, event: EventPayload) -> None:
        self._apply(event)
        self.version += 1

    def require_exists(self) -> None:
        if not self.exists:
            raise DoesNotExist(f"{self.label} {self.id} does not exist")

    def require_version(self, expected_version: int | None) -> None:
        """Refuse a command decided on another version than the current one (None: no check)."""
        self.require_exists()
        if expected_version is not None and expected_version != self.version:
            raise StaleVersion(f"{self.label} {self.id}", expected_version, self.version)

    def _emit(self, event: EventPayload) -> None:
        self.apply(event)
        self.pending.append(event)

    def _apply(self, event: EventPayload) -> None:
        raise NotImplementedError


@dataclass
class Account(Aggregate):
    label: ClassVar[str] = "account"

    name: str = ""
    kind: AccountKind = AccountKind.checking
    currency: str = ""
    opening_balance_minor: int = 0
    archived: bool = False

    @classmethod
    def open(cls, account_id: UUID, *, name: str, kind: AccountKind, currency: str,
             opening_balance_minor: int = 0) -> "Account":
        account = cls(account_id)
        account._emit(AccountOpened(name=name, kind=kind, currency=currency,
                                    opening_balance_minor=opening_balance_minor))
        return account

    def rename(self, name: str, *, expected_version: int) -> None:
        """Rename, provided the caller saw the current version. The same name changes nothing."""
        self.require_version(expected_version)
        if name != self.name:
            self._emit(AccountRenamed(name=name))

    def archive(self, *, expected_version: int) -> None:
        self.require_version(expected_version)
        if self.archived:
            raise RuleViolation(f"account {self.name!r} is already archived")
        self._emit(AccountArchived())

    def reopen(self, *, expected_version: int) -> None:
        self.require_version(expected_version)
        if not self.archived:
            raise RuleViolation(f"account {self.name!r} is not archived")
        self._emit(AccountReopened())

    def require_open(self) -> None:
        self.require_exists()
        if self.archived:
            raise RuleViolation(f"account {self.name!r} is archived; reopen it first")

    def _apply(self, event: EventPayload) -> None:
        if isinstance(event, AccountOpened):
            if self.exists:
                raise RuleViolation(f"account {self.id} is already open")
            self.name, self.kind, self.currency = event.name, event.kind, event.currency
            self.opening_balance_minor = event.opening_balance_minor
        elif isinstance(event, AccountRenamed):
            self.name = event.name
        elif isinstance(event, AccountArchived | AccountReopened):
            self.archived = isinstance(event, AccountArchived)
        else:
            raise TypeError(f"an account cannot apply {type(event).__name__}")


@dataclass
class Category(Aggregate):
    label: ClassVar[str] = "category"

    name: str = ""
    group: str = ""
    kind: CategoryKind = CategoryKind.expense
    archived: bool = False
    merged_into: UUID | None = None

    @classmethod
    def create(cls, category_id: UUID, *, name: str, group: str, kind: CategoryKind) -> "Category":
        category = cls(category_id)
        category._emit(CategoryCreated(name=name, group=group, kind=kind))
        return category

    def rename(self, *, name: str | None = None, group: str | None = None) -> None:
        """A new name, group or both; the same ones change nothing."""
        self.require_exists()
        name, group = name or self.name, group or self.group
        if (name, group) != (self.name, self.group):
            self._emit(CategoryRenamed(name=name, group=group))

    def archive(self) -> None:
        self.require_exists()
        if self.archived:
            raise RuleViolation(f"category {self.name!r} is already archived")
        self._emit(CategoryArchived())

    def merge_into(self, target: "Category") -> None:
        """Move this category's history to `target` (same kind, still in use) and archive this one."""
        self.require_exists()
        target.require_exists()
        if target.id == self.id:
            raise RuleViolation("a category cannot be merged into itself")
        if self.merged_into is not None:
            raise RuleViolation(f"category {self.name!r} is already merged")
        target.require_usable(target.kind)
        if target.kind != self.kind:
            raise RuleViolation(f"category {self.name!r} is for {self.kind.value}, "
                                f"{target.name!r} for {target.kind.value}")
        self._emit(CategoryMerged(into_category_id=target.id))

    def require_usable(self, kind: CategoryKind | EntryKind) -> None:
        """New entries may use this category: it exists, is not archived and is of their kind."""
        self.require_exists()
        if self.archived:
            raise RuleViolation(f"category {self.name!r} is archived")
        if self.kind.value != kind.value:
            raise RuleViolation(f"category {self.name!r} is for {self.kind.value}, not {kind.value}")

    def _apply(self, event: EventPayload) -> None:
        if isinstance(event, CategoryCreated):
            if self.exists:
                raise RuleViolation(f"category {self.id} already exists")
            self.name, self.group, self.kind = event.name, event.group, event.kind
        elif isinstance(event, CategoryRenamed):
            self.name, self.group = event.name, event.group
        elif isinstance(event, CategoryArchived):
            self.archived = True
        elif isinstance(event, CategoryMerged):
            self.archived, self.merged_into = True, event.into_category_id
        else:
            raise TypeError(f"a category cannot apply {type(event).__name__}")


def payee_id(tenant_id: UUID, name: str) -> UUID:
    """A payee is known by its name, whatever its case: the same id for the same name in a household."""
    return uuid5(tenant_id, f"payee:{name.strip().lower()}")


@dataclass
class Payee(Aggregate):
    """A payee has a stream only once something happens to it other than being used (a merge)."""

    label: ClassVar[str] = "payee"

    merged_into: str | None = None

    def merge_into(self, name: str, into_name: str) -> None:
        if name.strip().lower() == into_name.strip().lower():
            raise RuleViolation("a payee cannot be merged into itself")
        if self.merged_into is not None:
            raise RuleViolation(f"payee {name!r} is already merged into {self.merged_into!r}")
        self._emit(PayeeMerged(name=name, into_name=into_name))

    @property
    def exists(self) -> bool:
        return True  # every name may be a payee

    def _apply(self, event: EventPayload) -> None:
        if not isinstance(event, PayeeMerged):
            raise TypeError(f"a payee cannot apply {type(event).__name__}")
        self.merged_into = event.into_name


@dataclass(frozen=True)
class Refs:
    """The accounts and categories a transaction's state refers to, loaded by the caller."""

    accounts: Mapping[UUID, Account] = field(default_factory=dict)
    categories: Mapping[UUID, Category] = field(default_factory=dict)

    def account(self, account_id: UUID) -> Account:
        account = self.accounts.get(account_id)
        if account is None or not account.exists:
            raise DoesNotExist(f"account {account_id} does not exist")
        return account

    def category(self, category_id: UUID) -> Category:
        category = self.categories.get(category_id)
        if category is None or not category.exists:
            raise DoesNotExist(f"category {category_id} does not exist")
        return category


def referenced_ids(state: TransactionState) -> tuple[set[UUID], set[UUID]]:
    """(account ids, category ids) a state names: what a caller must load into `Refs`."""
    accounts = {state.account_id} | ({state.counter_account_id} if state.counter_account_id else set())
    categories = {s.category_id for s in state.splits}
    if state.category_id is not None:
        categories.add(state.category_id)
    return accounts, categories


def check_state(state: TransactionState, refs: Refs, before: TransactionState | None = None) -> None:
    """The rules every state of a transaction keeps. What `before` already had (an account, a category)
    stays allowed even if archived since; what is newly chosen must be open."""
    account = refs.account(state.account_id)
    if before is None or before.account_id != state.account_id:
        account.require_open()
    if state.currency != account.currency:
        raise RuleViolation(f"account {account.id} keeps {account.currency}, not {state.currency}")
    if state.kind == EntryKind.transfer:
        if state.counter_account_id is None:
            raise RuleViolation("a transfer needs the account the money goes to")
        counter = refs.account(state.counter_account_id)
        if before is None or before.counter_account_id != state.counter_account_id:
            counter.require_open()
        if counter.id == account.id:
            raise RuleViolation("a transfer needs two different accounts")
        if counter.currency != account.currency:
            # Both amounts are kept: what left in the source's currency, what arrived in the target's.
            if state.counter_amount_minor is None:
                raise RuleViolation(f"a transfer from {account.currency} to {counter.currency} needs the "
                                    "amount that arrived (counter_amount_minor)")
            if state.counter_currency != counter.currency:
                raise RuleViolation(f"account {counter.id} keeps {counter.currency}, "
                                    f"not {state.counter_currency}")
        elif state.counter_amount_minor is not None or state.counter_currency is not None:
            raise RuleViolation("a transfer between accounts of one currency has one amount")
        if state.category_id is not None or state.splits:
            raise RuleViolation("a transfer has no category: it is neither income nor spending")
        return
    if state.counter_account_id is not None or state.counter_amount_minor is not None:
        raise RuleViolation("only a transfer has a counter account")
    old_categories = set(referenced_ids(before)[1]) if before is not None else set()
    if state.splits:
        if state.category_id is not None:
            raise RuleViolation("a split transaction takes its categories from its parts, not category_id")
        if len(state.splits) < 2:
            raise RuleViolation("a split needs at least two parts")
        total = sum(s.amount_minor for s in state.splits)
        if total != state.amount_minor:
            raise RuleViolation(f"the parts sum to {total}, not to the amount {state.amount_minor}")
    for category_id in referenced_ids(state)[1]:
        category = refs.category(category_id)
        if category_id in old_categories and category.kind.value == state.kind.value:
            continue
        category.require_usable(state.kind)


_LOCKED_WHEN_RECONCILED = ("account_id", "counter_account_id", "amount_minor", "currency", "booked_on",
                           "kind", "counter_amount_minor")


class ReconciledLocked(RuleViolation):
    """A change to what a reconciliation agreed with the bank, asked for without saying it is meant."""


def _check_reconciled(before: TransactionState, after: TransactionState | None, *, confirmed: bool) -> None:
    # Reconciling agreed these fields with the bank's statement: changing them by accident would silently
    # break that agreement, so it takes a confirmation (the change is then recorded like any other).
    if before.status != ClearedState.reconciled or confirmed:
        return
    if after is None:
        raise ReconciledLocked("a reconciled transaction cannot be deleted without confirm_reconciled; "
                               "it was agreed with a bank statement")
    changed = [f for f in _LOCKED_WHEN_RECONCILED if getattr(before, f) != getattr(after, f)]
    if changed:
        raise ReconciledLocked(f"a reconciled transaction keeps its {', '.join(changed)} unless the change "
                               "is confirmed (confirm_reconciled); it was agreed with a bank statement")


def _identity(state: TransactionState) -> TransactionState:
    return state


@dataclass(frozen=True)
class Change:
    """One change in a transaction's history: what it was before (None: created) and after (None: deleted)."""

    version: int
    before: TransactionState | None
    after: TransactionState | None
    undoes: int | None


@dataclass
class Transaction(Aggregate):
    label: ClassVar[str] = "transaction"

    state: TransactionState | None = None
    deleted: bool = False
    history: list[Change] = field(default_factory=list, repr=False)
    # Maps a stored state to today's names for it (a merged category → its target, a merged payee → its
    # target). The caller sets it after loading; states the aggregate emits go through it.
    canonical: Callable[[TransactionState], TransactionState] = field(default=_identity, repr=False,
                                                                       compare=False)

    # Read-only views of the current state, for callers of the expense/income API.
    @property
    def account_id(self) -> UUID | None:
        return self.state.account_id if self.state else None

    @property
    def amount_minor(self) -> int:
        return self.state.amount_minor if self.state else 0

    @property
    def current(self) -> TransactionState:
        if self.state is None:
            raise DoesNotExist(f"transaction {self.id} does not exist")
        return self.canonical(self.state)

    @classmethod
    def record(
        cls,
        transaction_id: UUID,
        *,
        account: Account,
        kind: TransactionKind,
        amount_minor: int,
        booked_on: date,
        currency: str | None = None,
        category: Category | None = None,
        payee: str = "",
        note: str = "",
        splits: Sequence[Split] = (),
        split_categories: Iterable[Category] = (),
        tags: Sequence[str] = (),
        status: ClearedState = ClearedState.uncleared,
    ) -> "Transaction":
        """Money out of (expense) or into (income) an account, in the account's currency, on one
        category or split across several."""
        account.require_exists()
        if amount_minor <= 0:
            raise RuleViolation("amount_minor must be positive; the kind says which way the money went")
        if category is not None:
            category.require_exists()
        state = _state(account_id=account.id, kind=kind.value, amount_minor=amount_minor,
                       currency=currency or account.currency, booked_on=booked_on,
                       category_id=category.id if category else None, payee=payee, note=note,
                       splits=tuple(splits), tags=tuple(tags), status=status)
        categories = {c.id: c for c in split_categories} | ({category.id: category} if category else {})
        check_state(state, Refs({account.id: account}, categories))
        transaction = cls(transaction_id)
        transaction._emit(TransactionRecorded(
            account_id=account.id, kind=kind, amount_minor=amount_minor, currency=state.currency,
            category_id=state.category_id, payee=payee, booked_on=booked_on, note=note,
            splits=state.splits, tags=state.tags, status=status,
        ))
        return transaction

    @classmethod
    def transfer(cls, transaction_id: UUID, *, source: Account, target: Account, amount_minor: int,
                 booked_on: date, payee: str = "", note: str = "", tags: Sequence[str] = (),
                 status: ClearedState = ClearedState.uncleared,
                 counter_amount_minor: int | None = None) -> "Transaction":
        """Money from one of the household's accounts to another: one event, both sides. Between
        currencies, `counter_amount_minor` is what arrived, in the target's currency."""
        source.require_exists()
        target.require_exists()
        if amount_minor <= 0:
            raise RuleViolation("amount_minor must be positive")
        state = _state(account_id=source.id, counter_account_id=target.id, kind=EntryKind.transfer,
                       amount_minor=amount_minor, currency=source.currency, booked_on=booked_on,
                       payee=payee, note=note, tags=tuple(tags), status=status,
                       counter_amount_minor=counter_amount_minor,
                       counter_currency=target.currency if counter_amount_minor is not None else None)
        check_state(state, Refs({source.id: source, target.id: target}))
        transaction = cls(transaction_id)
        transaction._emit(TransferRecorded(
            from_account_id=source.id, to_account_id=target.id, amount_minor=amount_minor,
            currency=source.currency, booked_on=booked_on, payee=payee, note=note, tags=state.tags,
            status=status, counter_amount_minor=state.counter_amount_minor,
            counter_currency=state.counter_currency,
        ))
        return transaction

    def amend(self, changes: Mapping[str, Any], refs: Refs, *, expected_version: int | None,
              categorised_by: CategorisedBy | None = None, confirm_reconciled: bool = False) -> None:
        """Change any of the state's fields. Moving to another account takes that account's currency
        unless one is given. A transfer stays a transfer and an expense or income never becomes one.
        `categorised_by`: who chose the category, said by a bulk categorisation only.
        `confirm_reconciled`: the person confirmed changing a reconciled transaction's money or date."""
        self.require_version(expected_version)
        self._require_not_deleted()
        before = self.current
        values = before.model_dump() | dict(changes)
        if "account_id" in changes and "currency" not in changes:
            values["currency"] = refs.account(values["account_id"]).currency
        if values.get("counter_amount_minor") is not None and values.get("counter_account_id") is not None:
            values["counter_currency"] = refs.account(values["counter_account_id"]).currency
        elif values.get("counter_amount_minor") is None:
            values["counter_currency"] = None
        if changes.get("splits"):
            values["category_id"] = changes.get("category_id")
        elif changes.get("category_id") is not None:
            values["splits"] = ()
        after = _state(**values)
        if (after.kind == EntryKind.transfer) != (before.kind == EntryKind.transfer):
            raise RuleViolation("a transfer stays a transfer; delete it and record an expense or income")
        if after == before:
            return
        _check_reconciled(before, after, confirmed=confirm_reconciled)
        check_state(after, refs, before)
        self._emit(TransactionAmended(before=before, after=after, categorised_by=categorised_by))

    def delete(self, *, expected_version: int | None, confirm_reconciled: bool = False) -> None:
        self.require_version(expected_version)
        self._require_not_deleted()
        before = self.current
        _check_reconciled(before, None, confirmed=confirm_reconciled)
        self._emit(TransactionDeleted(before=before))

    def undo_target(self) -> Change:
        """The change an undo reverts: the latest one that is neither an undo nor undone already."""
        self.require_exists()
        undone = {c.undoes for c in self.history if c.undoes is not None}
        for change in reversed(self.history):
            if change.undoes is None and change.version not in undone:
                return change
        raise RuleViolation(f"transaction {self.id} has no change left to undo")

    def undo(self, refs: Refs, *, expected_version: int | None) -> None:
        """Revert the last change: a new event that brings back the state before it (history stays)."""
        self.require_version(expected_version)
        target = self.undo_target()
        restored = self.canonical(target.before) if target.before is not None else None
        if self.deleted:
            if restored is None:  # only a deletion leaves a transaction deleted, and it has a `before`
                raise RuleViolation(f"transaction {self.id} cannot be restored")
            check_state(restored, refs, restored)
            self._emit(TransactionRestored(after=restored, undoes=target.version))
            return
        current = self.current
        if restored is None:
            _check_reconciled(current, None, confirmed=False)
            self._emit(TransactionDeleted(before=current, undoes=target.version))
            return
        _check_reconciled(current, restored, confirmed=False)
        check_state(restored, refs, current)
        self._emit(TransactionAmended(before=current, after=restored, undoes=target.version))

    def _require_not_deleted(self) -> None:
        if self.deleted:
            raise DoesNotExist(f"transaction {self.id} was deleted")

    def _apply(self, event: EventPayload) -> None:
        version = self.version + 1
        if isinstance(event, TransactionRecorded | TransferRecorded):
            if self.exists:
                raise RuleViolation(f"transaction {self.id} is already recorded")
            self.state = state_of(event)
            self.history.append(Change(version, None, self.state, None))
        elif isinstance(event, TransactionAmended):
            self.state = event.after
            self.history.append(Change(version, event.before, event.after, event.undoes))
        elif isinstance(event, TransactionDeleted):
            self.deleted = True
            self.history.append(Change(version, event.before, None, event.undoes))
        elif isinstance(event, TransactionRestored):
            self.state, self.deleted = event.after, False
            self.history.append(Change(version, None, event.after, event.undoes))
        else:
            raise TypeError(f"a transaction cannot apply {type(event).__name__}")


@dataclass(frozen=True)
class StatementEntry:
    """One row of a bank statement to record in the statement's account: an expense or an income."""

    kind: TransactionKind
    amount_minor: int
    booked_on: date
    payee: str = ""
    note: str = ""
    category: Category | None = None
    tags: tuple[str, ...] = ()
    splits: tuple[Split, ...] = ()  # parts on their categories (then `category` is None)
    split_categories: tuple[Category, ...] = ()


class EntryViolation(RuleViolation):
    """A statement entry breaks a rule; `index` says which."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


_RECORDED_MANY = TypeAdapter(list[TransactionRecorded])


def record_statement(account: Account, entries: Sequence[StatementEntry],
                     status: ClearedState = ClearedState.cleared) -> list[TransactionRecorded]:
    """What `Transaction.record` emits for each entry, under the same rules, checked in one pass: a
    statement of a hundred thousand rows costs one validation of them all rather than an aggregate, a
    state and an event built and checked one by one. The caller gives each payload its own new stream."""
    account.require_open()
    try:
        payloads = _RECORDED_MANY.validate_python([
            {"account_id": account.id, "kind": e.kind, "amount_minor": e.amount_minor,
             "currency": account.currency, "category_id": e.category.id if e.category else None,
             "payee": e.payee, "booked_on": e.booked_on, "note": e.note, "tags": e.tags, "status": status,
             "splits": e.splits}
            for e in entries])
    except ValidationError as exc:
        error = exc.errors()[0]
        index, where = error["loc"][0], ".".join(map(str, error["loc"][1:]))
        raise EntryViolation(int(index), f"{where}: {error['msg']}") from exc
    for index, (entry, payload) in enumerate(zip(entries, payloads, strict=True)):
        if entry.category is not None or entry.splits:  # rare in a statement: rules, or the file's own
            chosen = (entry.category,) if entry.category is not None else entry.split_categories
            try:
                for category in chosen:
                    category.require_exists()
                refs = Refs({account.id: account}, {c.id: c for c in chosen})
                check_state(state_of(payload), refs)
            except DomainError as exc:
                raise EntryViolation(index, str(exc)) from exc
    return payloads


def _state(**values: Any) -> TransactionState:
    try:
        return TransactionState.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RuleViolation(problems) from exc


def state_of(event: TransactionRecorded | TransferRecorded) -> TransactionState:
    """The state a transaction's first event gives it."""
    if isinstance(event, TransferRecorded):
        return TransactionState(
            account_id=event.from_account_id, counter_account_id=event.to_account_id, kind=EntryKind.transfer,
            amount_minor=event.amount_minor, currency=event.currency, booked_on=event.booked_on,
            payee=event.payee, note=event.note, tags=event.tags, status=event.status,
            counter_amount_minor=event.counter_amount_minor, counter_currency=event.counter_currency)
    return TransactionState(
        account_id=event.account_id, kind=EntryKind(event.kind.value), amount_minor=event.amount_minor,
        currency=event.currency, booked_on=event.booked_on, category_id=event.category_id, payee=event.payee,
        note=event.note, splits=event.splits, tags=event.tags, status=event.status)


def differences(before: TransactionState | None, after: TransactionState | None) -> dict[str, list[Any]]:
    """Field → [old, new] for what a change altered (JSON-ready values)."""
    old = before.model_dump(mode="json") if before else {}
    new = after.model_dump(mode="json") if after else {}
    return {k: [old.get(k), new.get(k)] for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)}


@dataclass(frozen=True)
class DefaultCategory:
    kind: CategoryKind
    group: str
    name: str

    def id_for(self, tenant_id: UUID) -> UUID:
        """The same id for the same household every time, so creating the defaults twice cannot duplicate."""
        return uuid5(tenant_id, f"default-category:{self.kind.value}:{self.group}:{self.name}")


_E, _I = CategoryKind.expense, CategoryKind.income
DEFAULT_CATEGORIES: tuple[DefaultCategory, ...] = tuple(
    DefaultCategory(kind, group, name)
    for kind, group, names in [
        (_E, "Food", ("Groceries", "Eating out")),
        (_E, "Home", ("Rent", "Utilities", "Internet & phone")),
        (_E, "Transport", ("Transport", "Fuel")),
        (_E, "Health", ("Health", "Insurance")),
        (_E, "Leisure", ("Entertainment", "Shopping", "Travel")),
        (_E, "Other", ("Gifts", "Other expenses")),
        (_I, "Income", ("Salary", "Interest", "Other income")),
    ]
    for name in names
)
