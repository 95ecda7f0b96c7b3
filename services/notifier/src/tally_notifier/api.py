"""The notifier's HTTP API: the in-app feed and its live stream, preferences, Web Push subscriptions,
webhooks and their delivery log, and the one-click unsubscribe link of e-mails (no token: the signed
link is the credential)."""

import html
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.engine import RowMapping

from tally_notifier import commands
from tally_notifier.schemas import (
    DeliveriesPublic,
    DeliveryPublic,
    NotificationPublic,
    NotificationsPublic,
    PreferencesPublic,
    PreferencesUpdate,
    PushKeyPublic,
    PushSubscriptionCreate,
    PushSubscriptionPublic,
    ReadAll,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookUpdate,
)
from tally_notifier.settings import NotifierSettings
from tally_notifier.stream import feed_stream
from tallykit.app import db_of, settings_of
from tallykit.errors import InvalidInput
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


# --- the feed -------------------------------------------------------------------------------------


@router.get("/notifications")
async def list_notifications(
    request: Request,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    unread: bool = False,
) -> NotificationsPublic:
    rows, count = await commands.list_notifications(db_of(request), principal, limit, unread)
    return NotificationsPublic(
        items=[
            NotificationPublic(
                id=r["id"],
                type=r["type"],
                title=r["title"],
                body=r["body"],
                created_at=r["created_at"],
                read=r["read"],
                link=r["link"],
            )
            for r in rows
        ],
        unread=count,
    )


@router.post("/notifications/{notification_id}/read", status_code=204)
async def mark_read(request: Request, principal: CurrentPrincipal, notification_id: UUID) -> Response:
    await commands.mark_read(db_of(request), principal, notification_id)
    return Response(status_code=204)


@router.post("/notifications/read-all")
async def mark_all_read(request: Request, principal: CurrentPrincipal) -> ReadAll:
    return ReadAll(marked=await commands.mark_all_read(db_of(request), principal))


@router.get("/stream", response_class=StreamingResponse)
async def stream(
    request: Request,
    principal: CurrentPrincipal,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    """Server-sent events: `notification` (a new or updated feed item, id = its position) and `unread`
    (the count). Send `Last-Event-ID` to resume after a reconnect."""
    cursor = None
    if last_event_id:
        if not last_event_id.isdigit() or len(last_event_id) > 18:  # feed positions are bigints
            raise InvalidInput("Last-Event-ID must be a number this stream sent")
        cursor = int(last_event_id)
    settings = settings_of(request, NotifierSettings)
    body = feed_stream(
        db_of(request),
        request.app.state.listener,
        principal,
        cursor,
        keepalive_s=settings.stream_keepalive_s,
        max_s=settings.stream_max_s,
        is_disconnected=request.is_disconnected,
    )
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )


# --- preferences ----------------------------------------------------------------------------------


@router.get("/preferences")
async def get_preferences(request: Request, principal: CurrentPrincipal) -> PreferencesPublic:
    return await commands.preferences(db_of(request), principal)


@router.patch("/preferences")
async def update_preferences(
    request: Request, principal: CurrentPrincipal, body: PreferencesUpdate
) -> PreferencesPublic:
    return await commands.update_preferences(db_of(request), principal, body)


_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Tally: unsubscribe</title>'
    '</head><body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; '
    'padding: 0 1rem;">{}</body></html>'
)


@router.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(token: Annotated[str, Query(max_length=300)]) -> HTMLResponse:
    """A link scanner opening the link changes nothing: the page asks to confirm (a form, no script)."""
    form = (
        "<h1>Unsubscribe</h1><p>Stop these e-mails? You can switch them on again in Tally's notification "
        'settings.</p><form method="post">'
        f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(_PAGE.format(form))


@router.post("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe(
    request: Request,
    token: Annotated[str | None, Query(max_length=300)] = None,
    form_token: Annotated[str | None, Form(alias="token", max_length=300)] = None,
) -> HTMLResponse:
    """RFC 8058 one-click (`List-Unsubscribe=One-Click` posted to the link) or the confirmation form."""
    given = form_token or token
    if not given:
        raise InvalidInput("the unsubscribe link has no token")
    label = await commands.unsubscribe(db_of(request), settings_of(request, NotifierSettings), given)
    return HTMLResponse(
        _PAGE.format(
            f"<h1>Unsubscribed</h1><p>You will get no more {html.escape(label.lower())} e-mails.</p>"
        )
    )


# --- Web Push -------------------------------------------------------------------------------------


def _subscription(row: RowMapping) -> PushSubscriptionPublic:
    from urllib.parse import urlsplit

    return PushSubscriptionPublic(
        id=row["id"],
        endpoint_host=urlsplit(row["endpoint"]).hostname or "",
        user_agent=row["user_agent"],
        created_at=row["created_at"],
        last_success_at=row["last_success_at"],
    )


@router.get("/push/key")
async def push_key(request: Request, principal: CurrentPrincipal) -> PushKeyPublic:
    """The VAPID public key to pass to `pushManager.subscribe({applicationServerKey})`."""
    settings = settings_of(request, NotifierSettings)
    return PushKeyPublic(public_key=await commands.push_key(db_of(request), settings))


@router.post("/push/subscriptions", status_code=201)
async def subscribe_push(
    request: Request, principal: CurrentPrincipal, body: PushSubscriptionCreate
) -> PushSubscriptionPublic:
    row = await commands.subscribe_push(
        db_of(request),
        settings_of(request, NotifierSettings),
        principal,
        body,
        request.headers.get("user-agent", ""),
    )
    return _subscription(row)


@router.get("/push/subscriptions")
async def push_subscriptions(request: Request, principal: CurrentPrincipal) -> list[PushSubscriptionPublic]:
    return [_subscription(r) for r in await commands.push_subscriptions(db_of(request), principal)]


@router.delete("/push/subscriptions/{subscription_id}", status_code=204)
async def unsubscribe_push(request: Request, principal: CurrentPrincipal, subscription_id: UUID) -> Response:
    await commands.unsubscribe_push(db_of(request), principal, subscription_id)
    return Response(status_code=204)


# --- webhooks -------------------------------------------------------------------------------------


def _webhook(row: RowMapping) -> WebhookPublic:
    return WebhookPublic(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        event_types=list(row["event_types"]),
        enabled=row["enabled"],
        consecutive_failures=row["consecutive_failures"],
        disabled_reason=row["disabled_reason"],
        created_at=row["created_at"],
    )


@router.post("/webhooks", status_code=201)
async def create_webhook(
    request: Request, principal: CurrentPrincipal, body: WebhookCreate
) -> WebhookCreated:
    settings = settings_of(request, NotifierSettings)
    row = await commands.create_webhook(db_of(request), settings, principal, body)
    return WebhookCreated(**_webhook(row).model_dump(), secret=row["secret"])


@router.get("/webhooks")
async def list_webhooks(request: Request, principal: CurrentPrincipal) -> list[WebhookPublic]:
    return [_webhook(r) for r in await commands.webhooks(db_of(request), principal)]


@router.get("/webhooks/{webhook_id}")
async def get_webhook(request: Request, principal: CurrentPrincipal, webhook_id: UUID) -> WebhookPublic:
    return _webhook(await commands.webhook(db_of(request), principal, webhook_id))


@router.patch("/webhooks/{webhook_id}")
async def update_webhook(
    request: Request, principal: CurrentPrincipal, webhook_id: UUID, body: WebhookUpdate
) -> WebhookPublic:
    return _webhook(await commands.update_webhook(db_of(request), principal, webhook_id, body))


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(request: Request, principal: CurrentPrincipal, webhook_id: UUID) -> Response:
    await commands.delete_webhook(db_of(request), principal, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries")
async def webhook_deliveries(
    request: Request,
    principal: CurrentPrincipal,
    webhook_id: UUID,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveriesPublic:
    rows = await commands.webhook_deliveries(db_of(request), principal, webhook_id, limit)
    return DeliveriesPublic(
        items=[
            DeliveryPublic(
                id=r["id"],
                event_id=r["event_id"],
                type=r["type"],
                status=r["status"],
                attempts=r["attempts"],
                last_error=r["last_error"],
                created_at=r["created_at"],
                sent_at=r["sent_at"],
                next_attempt_at=r["next_attempt_at"],
            )
            for r in rows
        ]
    )
