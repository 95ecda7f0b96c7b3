"""What the notifier decides, in plain Python: no I/O, no framework.

- the notification types, who receives them (the household or one person) and their default channels;
- what each event says (`Message`: subject, sentences, facts, a link);
- quiet hours in a person's time zone, backoff with jitter, the per-user rate window;
- webhook signatures, unsubscribe tokens, and which network addresses may be called.
"""

import base64
import hashlib
import hmac
import ipaddress
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tally_notifier import wording
from tallykit.contracts.analytics import UnusualSpendingDetected
from tallykit.contracts.budget import (
    BudgetExceeded,
    BudgetPaceWarning,
    BudgetThresholdReached,
    GoalBehind,
    GoalReached,
)
from tallykit.contracts.ledger import (
    BillDueSoon,
    RecurringSeriesFound,
    RecurringSeriesPriceChanged,
    RecurringSeriesStopped,
    RecurringTransactionDue,
    TransactionKind,
)
from tallykit.money import Money

BudgetAlertPayload = BudgetThresholdReached | BudgetExceeded


class NotificationType(StrEnum):
    budget_threshold_reached = "budget.threshold_reached"
    budget_exceeded = "budget.exceeded"
    budget_pace_warning = "budget.pace_warning"
    goal_reached = "goal.reached"
    goal_behind = "goal.behind"
    bill_due_soon = "bill.due_soon"
    recurring_due = "recurring.due"
    recurring_finding = "recurring.finding"
    unusual_spending = "spending.unusual"
    new_sign_in = "security.new_sign_in"
    password_changed = "security.password_changed"
    two_factor_changed = "security.two_factor_changed"
    digest_weekly = "digest.weekly"
    digest_monthly = "digest.monthly"
    # Not in the preferences grid: a person asked for these (or they stand for others).
    summary = "summary"
    invitation = "household.invitation"
    account = "account.mail"


class Channel(StrEnum):
    email = "email"
    push = "push"
    in_app = "in_app"
    webhook = "webhook"


# Channels whose sends go through the delivery table (in-app is a row in the feed, stored at once).
DELIVERED_CHANNELS = (Channel.email, Channel.push, Channel.webhook)
# Channels that make a sound or land in an inbox: held in quiet hours, counted against the rate limit.
PERSONAL_CHANNELS = (Channel.email, Channel.push)


class Audience(StrEnum):
    household = "household"  # every member of the tenant
    person = "person"  # only the user the event is about (security)


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # the dead-letter record: permanent failure or attempts used up
    suppressed = "suppressed"  # folded into a summary (rate limit) or into the digest (digest-only)


@dataclass(frozen=True)
class TypeInfo:
    label: str
    audience: Audience
    defaults: frozenset[Channel]
    # Channels a person cannot switch off for this type (a security alert always reaches their inbox).
    locked: frozenset[Channel] = frozenset()


_ALL = frozenset(Channel)
_NO_EMAIL = frozenset({Channel.push, Channel.in_app, Channel.webhook})

TYPES: Mapping[NotificationType, TypeInfo] = {
    NotificationType.budget_threshold_reached: TypeInfo("Budget threshold reached", Audience.household, _ALL),
    NotificationType.budget_exceeded: TypeInfo("Budget exceeded", Audience.household, _ALL),
    NotificationType.budget_pace_warning: TypeInfo(
        "Budget on pace to overspend", Audience.household, _NO_EMAIL
    ),
    NotificationType.goal_reached: TypeInfo("Savings goal reached", Audience.household, _ALL),
    NotificationType.goal_behind: TypeInfo("Savings goal behind", Audience.household, _NO_EMAIL),
    NotificationType.bill_due_soon: TypeInfo("Bill due soon", Audience.household, _ALL),
    NotificationType.recurring_due: TypeInfo(
        "Recurring transaction due", Audience.household, frozenset({Channel.in_app, Channel.webhook})
    ),
    NotificationType.recurring_finding: TypeInfo(
        "Recurring payment found, changed or stopped", Audience.household, _NO_EMAIL
    ),
    NotificationType.unusual_spending: TypeInfo("Unusual spending", Audience.household, _NO_EMAIL),
    NotificationType.new_sign_in: TypeInfo(
        "New sign-in", Audience.person, _ALL, locked=frozenset({Channel.email})
    ),
    NotificationType.password_changed: TypeInfo(
        "Password changed", Audience.person, _ALL, locked=frozenset({Channel.email})
    ),
    NotificationType.two_factor_changed: TypeInfo(
        "Two-factor sign-in changed", Audience.person, _ALL, locked=frozenset({Channel.email})
    ),
    NotificationType.digest_weekly: TypeInfo("Weekly summary", Audience.person, frozenset({Channel.email})),
    NotificationType.digest_monthly: TypeInfo("Monthly summary", Audience.person, frozenset({Channel.email})),
}
CONFIGURABLE = tuple(TYPES)
DIGESTS = (NotificationType.digest_weekly, NotificationType.digest_monthly)


def channel_enabled(
    kind: NotificationType, channel: Channel, overrides: Mapping[tuple[str, str], bool]
) -> bool:
    """A person's choice for (type, channel), else the default. Locked channels are always on."""
    info = TYPES.get(kind)
    if info is None:
        return channel in (Channel.email, Channel.in_app)  # summaries and account mail
    if channel in info.locked:
        return True
    return overrides.get((kind.value, channel.value), channel in info.defaults)


# --- what an event says ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    type: NotificationType
    title: str
    body: str
    facts: tuple[tuple[str, str], ...] = ()
    link_path: str = "/#/notifications"
    link_label: str = "Open Tally"
    # Figures kept for the digest rollup (category spending, bills), never shown as they are.
    rollup: Mapping[str, object] = field(default_factory=dict)

    def link(self, public_url: str) -> str:
        return public_url.rstrip("/") + self.link_path


def month_label(period: str, locale: str | None = None) -> str:
    """ "2025-06" → "June 2025" ("Juni 2025" in German)."""
    return wording.month(period, locale)


def day_label(day: date, locale: str | None = None) -> str:
    return wording.day(day, locale)


def _money(amount: int, currency: str, locale: str | None = None) -> str:
    return wording.money(amount, currency, locale)


@dataclass(frozen=True)
class BudgetAlert:
    """Kept for the budget e-mail template, which names its fields."""

    type: NotificationType
    category_name: str
    period: str
    threshold_percent: int
    spent: Money
    budget: Money
    household: str
    # For weekly, quarterly... budgets: "16 November 2026 - 22 November 2026" (months are named by `period`).
    span: str | None = None
    locale: str = "en"

    @classmethod
    def from_payload(
        cls, payload: BudgetAlertPayload, household: str, locale: str | None = None
    ) -> "BudgetAlert":
        kind = (
            NotificationType.budget_exceeded
            if isinstance(payload, BudgetExceeded)
            else NotificationType.budget_threshold_reached
        )
        return cls(
            type=kind,
            category_name=payload.category_name,
            period=payload.period,
            threshold_percent=payload.threshold_percent,
            spent=Money(amount_minor=payload.spent_minor, currency=payload.currency),
            budget=Money(amount_minor=payload.budget_minor, currency=payload.currency),
            household=household,
            span=(
                wording.words(
                    locale,
                    "span",
                    first=day_label(payload.period_start, locale),
                    last=day_label(payload.period_end, locale),
                )
                if payload.period_kind not in (None, "month") and payload.period_start and payload.period_end
                else None
            ),
            locale=locale or "en",
        )

    def _w(self, key: str, **fields: object) -> str:
        return wording.words(self.locale, key, **fields)

    def fmt(self, amount: Money) -> str:
        """An amount as the recipient's language writes it."""
        return _money(amount.amount_minor, amount.currency, self.locale)

    @property
    def period_label(self) -> str:
        return self.span or month_label(self.period, self.locale)

    @property
    def period_fact(self) -> tuple[str, str]:
        """The last fact: the span, or the month ("2025-06" in English, as always; named otherwise)."""
        if self.span:
            return self._w("fact_period"), self.span
        if wording.language(self.locale) == "en":
            return self._w("fact_month"), self.period
        return self._w("fact_month"), month_label(self.period, self.locale)

    @property
    def exceeded(self) -> bool:
        return self.type is NotificationType.budget_exceeded

    @property
    def over(self) -> Money:
        """How far spending is past the budget (zero when not past it)."""
        return Money(
            amount_minor=max(self.spent.amount_minor - self.budget.amount_minor, 0),
            currency=self.spent.currency,
        )

    @property
    def title(self) -> str:
        if self.exceeded:
            return self._w("budget_exceeded_title", category=self.category_name)
        return self._w("budget_threshold_title", category=self.category_name, percent=self.threshold_percent)

    @property
    def body(self) -> str:
        month = self.period_label
        spent, budget = self.fmt(self.spent), self.fmt(self.budget)
        if self.exceeded:
            over = self._w("budget_over_suffix", over=self.fmt(self.over)) if self.over.amount_minor else ""
            return self._w(
                "budget_exceeded_body",
                spent=spent,
                budget=budget,
                category=self.category_name,
                month=month,
                over=over,
            )
        return self._w(
            "budget_threshold_body",
            spent=spent,
            budget=budget,
            category=self.category_name,
            month=month,
            percent=self.threshold_percent,
        )

    def link(self, public_url: str) -> str:
        return f"{public_url.rstrip('/')}/#/budgets?month={self.period}"

    def message(self) -> Message:
        facts = [
            (self._w("fact_spent"), self.fmt(self.spent)),
            (self._w("fact_budget"), self.fmt(self.budget)),
        ]
        if self.exceeded and self.over.amount_minor:
            facts.append((self._w("fact_over"), self.fmt(self.over)))
        facts.append(self.period_fact)
        return Message(
            type=self.type,
            title=self.title,
            body=self.body,
            facts=tuple(facts),
            link_path=f"/#/budgets?month={self.period}",
            link_label=self._w("link_budgets"),
            rollup={
                "kind": "budget",
                "category": self.category_name,
                "period": self.period,
                "spent_minor": self.spent.amount_minor,
                "budget_minor": self.budget.amount_minor,
                "currency": self.spent.currency,
                "at_risk": True,
            },
        )


def pace_message(p: BudgetPaceWarning, locale: str | None = None) -> Message:
    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    projected = _money(p.projected_minor, p.currency, locale)
    budget = _money(p.budget_minor, p.currency, locale)
    return Message(
        type=NotificationType.budget_pace_warning,
        title=w("pace_title", category=p.category_name),
        body=w(
            "pace_body",
            category=p.category_name,
            projected=projected,
            end=day_label(p.period_end, locale),
            budget=budget,
        ),
        facts=(
            (w("fact_spent_so_far"), _money(p.spent_minor, p.currency, locale)),
            (w("fact_projected"), projected),
            (w("fact_budget"), budget),
        ),
        link_path="/#/budgets",
        link_label=w("link_budgets"),
        rollup={
            "kind": "budget",
            "category": p.category_name,
            "period": p.period_start.strftime("%Y-%m"),
            "spent_minor": p.spent_minor,
            "budget_minor": p.budget_minor,
            "currency": p.currency,
            "at_risk": True,
        },
    )


def goal_message(p: GoalReached | GoalBehind, locale: str | None = None) -> Message:
    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    saved, target = _money(p.saved_minor, p.currency, locale), _money(p.target_minor, p.currency, locale)
    debt = p.kind == "debt"  # saved is what was paid off, the target the debt when the goal was set
    facts: list[tuple[str, str]] = [
        (w("fact_paid_off" if debt else "fact_saved"), saved),
        (w("fact_debt" if debt else "fact_target"), target),
    ]
    if p.target_date:
        facts.append((w("fact_by"), day_label(p.target_date, locale)))
    if isinstance(p, GoalReached):
        return Message(
            type=NotificationType.goal_reached,
            title=w("debt_paid_title" if debt else "goal_reached_title", name=p.name),
            body=w(
                "debt_paid_body" if debt else "goal_reached_body", saved=saved, name=p.name, target=target
            ),
            facts=tuple(facts),
            link_path="/#/goals",
            link_label=w("link_goals"),
        )
    needed = _money(p.needed_per_month_minor, p.currency, locale)
    facts.append((w("fact_needed"), needed))
    return Message(
        type=NotificationType.goal_behind,
        title=w("debt_behind_title" if debt else "goal_behind_title", name=p.name),
        body=w(
            "debt_behind_body" if debt else "goal_behind_body",
            name=p.name,
            saved=saved,
            target=target,
            needed=needed,
        ),
        facts=tuple(facts),
        link_path="/#/goals",
        link_label=w("link_goals"),
    )


def bill_message(p: BillDueSoon, locale: str | None = None) -> Message:
    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    amount = _money(p.amount_minor, p.currency, locale)
    when = (
        w("today")
        if p.days_ahead == 0
        else w("tomorrow")
        if p.days_ahead == 1
        else w("in_days", days=p.days_ahead)
    )
    due = day_label(p.due_on, locale)
    return Message(
        type=NotificationType.bill_due_soon,
        title=w("bill_title", name=p.name, when=when),
        body=w("bill_body", name=p.name, amount=amount, payee=", " + p.payee if p.payee else "", day=due),
        facts=((w("fact_amount"), amount), (w("fact_due"), due)),
        link_path="/#/recurring",
        link_label=w("link_bills"),
        rollup={
            "kind": "bill",
            "name": p.name,
            "due_on": p.due_on.isoformat(),
            "amount_minor": p.amount_minor,
            "currency": p.currency,
        },
    )


def recurring_message(p: RecurringTransactionDue, locale: str | None = None) -> Message:
    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    amount = _money(p.amount_minor, p.currency, locale)
    posted = p.transaction_id is not None
    when = day_label(p.due_on, locale)
    return Message(
        type=NotificationType.recurring_due,
        title=w("recurring_posted_title" if posted else "recurring_due_title", name=p.name),
        body=w(
            "recurring_posted_body" if posted else "recurring_due_body", name=p.name, amount=amount, day=when
        ),
        facts=((w("fact_amount"), amount), (w("fact_date"), when)),
        link_path=f"/#/transaction?id={p.transaction_id}" if posted else "/#/recurring",
        link_label=w("link_recurring"),
    )


SeriesFinding = RecurringSeriesFound | RecurringSeriesPriceChanged | RecurringSeriesStopped


def series_message(p: SeriesFinding, locale: str | None = None) -> Message:
    """What the ledger found in the history: a new recurring payment or income, a new price, a stop."""

    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    every = w(f"every_{p.period.value}")
    link_label = w("link_proposals")  # the recurring screen shows what was found
    if isinstance(p, RecurringSeriesFound):
        amount = _money(p.amount_minor, p.currency, locale)
        before = ""
        if p.previous_amount_minor is not None and p.price_changed_on is not None:
            before = w("series_found_price", old=_money(p.previous_amount_minor, p.currency, locale),
                       day=day_label(p.price_changed_on, locale))
        income = p.kind == TransactionKind.income
        return Message(
            type=NotificationType.recurring_finding,
            title=w("series_found_income_title" if income else "series_found_title", name=p.name),
            body=w("series_found_body", name=p.name, amount=amount, every=every, count=p.occurrences,
                   first=day_label(p.first_on, locale), next=day_label(p.next_on, locale)) + before,
            facts=((w("fact_amount"), f"{amount} {every}"), (w("fact_payments"), str(p.occurrences)),
                   (w("fact_next"), day_label(p.next_on, locale))),
            link_path="/#/recurring",
            link_label=link_label,
        )
    if isinstance(p, RecurringSeriesPriceChanged):
        old = _money(p.old_amount_minor, p.currency, locale)
        new = _money(p.new_amount_minor, p.currency, locale)
        return Message(
            type=NotificationType.recurring_finding,
            title=w("series_price_title", name=p.name, old=old, new=new,
                    month=month_label(p.changed_on.strftime("%Y-%m"), locale)),
            body=w("series_price_body", name=p.name, old=old, new=new, every=every,
                   day=day_label(p.changed_on, locale)),
            facts=((w("fact_before"), old), (w("fact_now"), new),
                   (w("fact_date"), day_label(p.changed_on, locale))),
            link_path="/#/recurring",
            link_label=link_label,
        )
    amount = _money(p.amount_minor, p.currency, locale)
    return Message(
        type=NotificationType.recurring_finding,
        title=w("series_stopped_title", name=p.name),
        body=w("series_stopped_body", name=p.name, amount=amount, every=every, missed=p.missed,
               day=day_label(p.last_on, locale)),
        facts=((w("fact_amount"), f"{amount} {every}"), (w("fact_last"), day_label(p.last_on, locale))),
        link_path="/#/recurring",
        link_label=link_label,
    )


def unusual_message(p: UnusualSpendingDetected, locale: str | None = None) -> Message:
    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    amount, typical = _money(p.amount_minor, p.currency, locale), _money(p.typical_minor, p.currency, locale)
    where = p.payee or p.category_name or w("a_transaction")
    booked = day_label(p.booked_on, locale)
    return Message(
        type=NotificationType.unusual_spending,
        title=w("unusual_title", amount=amount, where=where),
        # `reason` is analytics' own sentence, in English.
        body=w("unusual_body", amount=amount, day=booked, typical=typical, reason=p.reason).strip(),
        facts=((w("fact_amount"), amount), (w("fact_usually"), typical), (w("fact_date"), booked)),
        link_path=f"/#/transaction?id={p.transaction_id}",
        link_label=w("link_transaction"),
        rollup={"kind": "unusual", "amount_minor": p.amount_minor, "currency": p.currency},
    )


SECURITY_TITLES = {
    NotificationType.new_sign_in: "security_new_sign_in",
    NotificationType.password_changed: "security_password_changed",
    NotificationType.two_factor_changed: "security_two_factor_changed",
}


def security_message(
    kind: NotificationType, *, device: str | None, ip: str | None, detail: str, locale: str | None = None
) -> Message:
    """`detail` is the first sentence, already in the person's language (`wording` "detail_*" keys)."""

    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    facts = tuple(
        (w(label), value) for label, value in (("fact_device", device), ("fact_address", ip)) if value
    )
    return Message(
        type=kind,
        title=w(SECURITY_TITLES[kind]),
        body=w("security_body", detail=detail),
        facts=facts,
        link_path="/#/security",
        link_label=w("link_security"),
    )


def type_label(kind: str, locale: str | None = None) -> str:
    """A type's name as a sentence uses it: "budget exceeded" in English, "Budget überschritten" in German."""
    english = next((info.label.lower() for t, info in TYPES.items() if t.value == kind), kind)
    return wording.type_label(kind, locale, english)


def summary_message(count: int, counts: Mapping[str, int], locale: str | None = None) -> Message:
    """What stands for the notifications a burst held back (rate limit)."""

    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    parts = ", ".join(
        w("summary_part", count=wording.number(n, locale), label=type_label(t, locale))
        for t, n in sorted(counts.items(), key=lambda kv: -kv[1])
    )
    total = wording.number(count, locale)
    return Message(
        type=NotificationType.summary,
        title=w("summary_title", count=total),
        body=w("summary_body", count=total, parts=parts),
        link_path="/#/notifications",
        link_label=w("link_notifications"),
    )


# --- time: quiet hours, backoff, windows ----------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight, e.g. 22:00-07:00


def quiet_until(
    now: datetime, time_zone: str | None, start: time | None, end: time | None
) -> datetime | None:
    """When quiet hours end (UTC), if `now` falls inside them in the person's zone; else None."""
    if start is None or end is None:
        return None
    tz = zone(time_zone)
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time().replace(tzinfo=None), start, end):
        return None
    ends = datetime.combine(local.date(), end, tzinfo=tz)
    if ends <= local:
        ends = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return ends.astimezone(UTC)


def retry_delay_s(attempts: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter after the n-th failed attempt: a random point in the upper half of
    base·2ⁿ⁻¹ (capped), so that many failed sends do not all come back at the same moment."""
    ceiling = min(base_s * 2 ** max(attempts - 1, 0), cap_s)
    return (rng or random).uniform(ceiling / 2, ceiling)


def backoff_delay_s(attempts: int, base_s: float, cap_s: float) -> float:
    """The ceiling of `retry_delay_s` (no jitter)."""
    return float(min(base_s * 2 ** max(attempts - 1, 0), cap_s))


def window_start(now: datetime, window_s: int) -> datetime:
    """The fixed rate-limit window `now` falls in."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_s, tz=UTC)


# --- signatures and tokens ------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed too, so a receiver
    that rejects old timestamps cannot be fed a replay."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_webhook_signature(secret: str, header: str, body: bytes, now: int, tolerance_s: int = 300) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(webhook_signature(secret, timestamp, body), header)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Unsubscribe:
    tenant_id: UUID
    user_id: UUID
    type: NotificationType


def unsubscribe_token(key: bytes, what: Unsubscribe) -> str:
    """A link that switches one type's e-mail off for one person, signed so it cannot be forged for
    another person or type. It does not expire: an old e-mail's link should still work."""
    payload = what.tenant_id.bytes + what.user_id.bytes + what.type.value.encode()
    mac = hmac.new(key, b"unsubscribe:" + payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(mac)}"


def read_unsubscribe_token(key: bytes, token: str) -> Unsubscribe | None:
    try:
        encoded, signature = token.split(".", 1)
        payload, mac = _unb64(encoded), _unb64(signature)
    except ValueError:
        return None
    expected = hmac.new(key, b"unsubscribe:" + payload, hashlib.sha256).digest()[:16]
    if len(payload) < 33 or not hmac.compare_digest(mac, expected):
        return None
    try:
        kind = NotificationType(payload[32:].decode())
    except (UnicodeDecodeError, ValueError):
        return None
    return Unsubscribe(UUID(bytes=payload[:16]), UUID(bytes=payload[16:32]), kind)


def address_allowed(address: str, allow_private: bool) -> bool:
    """Only public unicast addresses, unless the operator allows private ones (a LAN home server)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return False
    return allow_private or ip.is_global
