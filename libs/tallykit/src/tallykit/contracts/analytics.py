"""Events published by the analytics service on `analytics.events`."""

from datetime import date
from uuid import UUID

from pydantic import Field

from tallykit.contracts import registry
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
