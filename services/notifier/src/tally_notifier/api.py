"""The in-app feed: a person's notifications in their household, and marking one read."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from tally_notifier import handlers
from tally_notifier.schemas import NotificationPublic, NotificationsPublic
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


@router.get("/notifications")
async def list_notifications(
    request: Request, principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> NotificationsPublic:
    rows, unread = await handlers.list_notifications(request.app.state.db, principal, limit)
    return NotificationsPublic(
        items=[
            NotificationPublic(
                id=r["id"],
                type=r["type"],
                title=r["title"],
                body=r["body"],
                created_at=r["created_at"],
                read=r["read"],
            )
            for r in rows
        ],
        unread=unread,
    )


@router.post("/notifications/{notification_id}/read", status_code=204)
async def mark_read(request: Request, principal: CurrentPrincipal, notification_id: UUID) -> Response:
    await handlers.mark_read(request.app.state.db, principal, notification_id)
    return Response(status_code=204)
