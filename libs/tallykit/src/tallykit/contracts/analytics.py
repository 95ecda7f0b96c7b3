"""Events published by the analytics service on `analytics.events`."""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from tallykit.contracts import registry
from tallykit.contracts.ledger import SeriesPeriod
from tallykit.events import EventPayload
from tallykit.money import CurrencyCode, MinorUnits


@registry.event("analytics.UnusualSpendingDetected", consumers=("notifier",))
class UnusualSpendingDetected(EventPayload):
    """A transaction (the stream) is far outside its category's usual range; `typical_minor` is the
    usual amount and `reason` says how it was judged. Not repeated for a pattern marked as expected."""

    transaction_id: UUID
    account_id: UUID
    category_id: UUID | None = None
    category_name: str = Field(default="", max_length=100)
    payee: str = Field(default="", max_length=200)
    amount_minor: MinorUnits = Field(gt=0)
    typical_minor: MinorUnits = Field(ge=0)
    currency: CurrencyCode
    booked_on: date
    reason: str = Field(max_length=200)


class SavingsKind(StrEnum):
    above_median = "above_median"  # a category's spending this month far above its own 6-month median
    price_rise = "price_rise"  # a subscription (a recurring payment the ledger found) that costs more now
    duplicate = "duplicate"  # two or more subscriptions to the same payee, all still paid
    fees = "fees"  # fees and interest paid (categories named so)


class SavingsSeries(EventPayload):
    """One subscription among duplicates: its price, how often it is paid, and what that makes a year."""

    name: str = Field(min_length=1, max_length=200)
    amount_minor: MinorUnits = Field(gt=0)
    period: SeriesPeriod
    yearly_minor: MinorUnits = Field(gt=0)


class SavingsOpportunity(EventPayload):
    """One way to save, with the figures behind it. `amount_minor` is what it is about: the month's
    spending (`above_median`, `fees`), the new price (`price_rise`) or what the duplicates cost together a
    year (`duplicate`); `baseline_minor` what it is measured against (the median of `baseline_months`
    months before; the old price) and `change_percent` the difference in per cent of it; `yearly_minor`
    a year of it (at the new price; of the duplicates together; fees and interest of the 12 months up to
    the month's end) and `extra_yearly_minor` what a price rise costs more a year. `query` is the
    transactions search that shows the transactions behind it (`#/transactions?q=`)."""

    kind: SavingsKind
    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode
    amount_minor: MinorUnits = Field(ge=0)
    baseline_minor: MinorUnits | None = Field(default=None, ge=0)
    baseline_months: int | None = Field(default=None, ge=1, le=12)
    change_percent: int | None = None
    period: SeriesPeriod | None = None
    changed_on: date | None = None
    yearly_minor: MinorUnits | None = Field(default=None, ge=0)
    extra_yearly_minor: MinorUnits | None = Field(default=None, ge=0)
    series: tuple[SavingsSeries, ...] = Field(default=(), max_length=20)
    query: str = Field(max_length=1000)


@registry.event("analytics.SavingsOpportunitiesFound", consumers=("notifier",))
class SavingsOpportunitiesFound(EventPayload):
    """The household's savings opportunities of a month that has ended (`month`, YYYY-MM, in its time
    zone), once per household and month, for the monthly digest; empty when there are none."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    opportunities: tuple[SavingsOpportunity, ...] = Field(default=(), max_length=100)
