"""Response models of the notifier's HTTP API."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class NotificationPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID
    type: str
    title: str
    body: str
    created_at: datetime
    read: bool


class NotificationsPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[NotificationPublic]
    unread: int
