"""Events published by the auth service on `auth.events`."""

from uuid import UUID

from pydantic import EmailStr, Field

from tallykit.contracts import registry
from tallykit.events import EventPayload
from tallykit.money import CurrencyCode


@registry.event("auth.UserRegistered", consumers=("notifier",))
class UserRegistered(EventPayload):
    """A person signed up. The envelope's tenant is the household created for them."""

    user_id: UUID
    email: EmailStr
    display_name: str = Field(max_length=100)


@registry.event("auth.TenantCreated", consumers=("ledger", "notifier"))
class TenantCreated(EventPayload):
    """A household (tenant) was created; its owner is its first member."""

    name: str = Field(min_length=1, max_length=100)
    owner_user_id: UUID
    base_currency: CurrencyCode
