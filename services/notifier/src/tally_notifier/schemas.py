"""Request and response models of the notifier's HTTP API (`extra="forbid"` on everything that comes in)."""

import base64
import re
from datetime import datetime, time
from typing import Annotated
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from tally_notifier.domain import CONFIGURABLE, Channel, NotificationType


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotificationPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID
    type: str
    title: str
    body: str
    created_at: datetime
    read: bool
    link: str = ""  # where in the app it leads, e.g. "/#/budgets?month=2026-11"


class NotificationsPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[NotificationPublic]
    unread: int


class ReadAll(BaseModel):
    marked: int


# --- preferences ----------------------------------------------------------------------------------

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class QuietHours(_In):
    """Local times in the person's time zone (their profile's); `start` == `end` is not allowed."""

    start: str = Field(examples=["22:00"])
    end: str = Field(examples=["07:00"])

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("use HH:MM, 00:00 to 23:59")
        return value

    def times(self) -> tuple[time, time]:
        return time.fromisoformat(self.start), time.fromisoformat(self.end)


ChannelChoices = dict[Channel, bool]


class TypePreference(BaseModel):
    type: NotificationType
    label: str
    channels: ChannelChoices
    locked: list[Channel]


class PreferencesPublic(BaseModel):
    types: list[TypePreference]
    quiet_hours: QuietHours | None
    digest_only: bool
    time_zone: str


class PreferencesUpdate(_In):
    """Any subset: `channels` maps a type to the channels to change; others keep their value."""

    channels: dict[NotificationType, dict[Channel, bool]] = Field(default_factory=dict)
    quiet_hours: QuietHours | None = None
    clear_quiet_hours: bool = False
    digest_only: bool | None = None

    @field_validator("channels")
    @classmethod
    def _configurable(
        cls, value: dict[NotificationType, dict[Channel, bool]]
    ) -> dict[NotificationType, dict[Channel, bool]]:
        for kind in value:
            if kind not in CONFIGURABLE:
                raise ValueError(f"{kind.value} cannot be configured")
        return value


# --- Web Push -------------------------------------------------------------------------------------

_B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))


class PushKeys(_In):
    p256dh: Annotated[str, Field(min_length=80, max_length=200, pattern=_B64URL)]
    auth: Annotated[str, Field(min_length=16, max_length=100, pattern=_B64URL)]

    @field_validator("p256dh")
    @classmethod
    def _point(cls, value: str) -> str:
        """The browser's P-256 public key: refused now rather than failing every push later."""
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(value))
        except ValueError:
            raise ValueError("not a P-256 public key") from None
        return value

    @field_validator("auth")
    @classmethod
    def _secret(cls, value: str) -> str:
        try:
            decoded = _unb64(value)
        except ValueError:
            decoded = b""
        if len(decoded) != 16:
            raise ValueError("the auth secret must be 16 bytes")
        return value


class PushSubscriptionCreate(_In):
    """What the browser's `PushSubscription.toJSON()` gives (`expirationTime` is accepted and ignored)."""

    endpoint: AnyHttpUrl
    keys: PushKeys
    expirationTime: int | None = None  # the browser's own field name


class PushSubscriptionPublic(BaseModel):
    id: UUID
    endpoint_host: str
    user_agent: str
    created_at: datetime
    last_success_at: datetime | None


class PushKeyPublic(BaseModel):
    public_key: str


# --- webhooks -------------------------------------------------------------------------------------


def _webhook_types(value: list[NotificationType]) -> list[NotificationType]:
    for kind in value:
        if kind not in CONFIGURABLE:
            raise ValueError(f"{kind.value} cannot be sent to a webhook")
    return sorted(set(value))


class WebhookCreate(_In):
    url: AnyHttpUrl
    event_types: list[NotificationType] = Field(min_length=1, max_length=20)
    description: str = Field(default="", max_length=200)

    @field_validator("event_types")
    @classmethod
    def _configurable(cls, value: list[NotificationType]) -> list[NotificationType]:
        return _webhook_types(value)

    @field_validator("url")
    @classmethod
    def _length(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(value)) > 2000:
            raise ValueError("the URL is longer than 2000 characters")
        return value


class WebhookUpdate(_In):
    event_types: list[NotificationType] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=200)
    enabled: bool | None = None

    @field_validator("event_types")
    @classmethod
    def _configurable(cls, value: list[NotificationType] | None) -> list[NotificationType] | None:
        return None if value is None else _webhook_types(value)


class WebhookPublic(BaseModel):
    id: UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    consecutive_failures: int
    disabled_reason: str | None
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """The signing secret is shown this once."""

    secret: str


class DeliveryPublic(BaseModel):
    id: UUID
    event_id: UUID
    type: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime


class DeliveriesPublic(BaseModel):
    items: list[DeliveryPublic]
