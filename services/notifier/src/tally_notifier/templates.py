"""Email bodies from Jinja2 templates (`templates/`): HTML autoescaped, plain text alongside.

Every notification e-mail shares one layout (`_layout.*`: a 560 px table that mail clients render
alike, the call to action as a button, a footer with the per-type unsubscribe link and the settings
link); budget alerts, invitations and digests have their own content blocks, every other type uses
`notification.*` (title, sentence, facts)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tally_notifier.domain import TYPES, BudgetAlert, Message, NotificationType


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("tally_notifier", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _render(template: str, subject: str, context: dict[str, Any]) -> RenderedEmail:
    env = environment()
    context = {"subject": subject, "lang": "en", **context}
    return RenderedEmail(
        subject=subject,
        text=env.get_template(f"{template}.txt").render(context),
        html=env.get_template(f"{template}.html").render(context),
    )


def _layout(
    *,
    display_name: str,
    household: str,
    public_url: str,
    link: str,
    link_label: str,
    kind: NotificationType,
    unsubscribe_url: str | None,
) -> dict[str, Any]:
    info = TYPES.get(kind)
    return {
        "display_name": display_name,
        "household": household,
        "link": link,
        "link_label": link_label,
        "unsubscribe_url": unsubscribe_url,
        "type_label": (info.label if info else "these").lower(),
        "preferences_url": public_url.rstrip("/") + "/#/preferences",
    }


def render_message(
    message: Message,
    *,
    display_name: str,
    household: str,
    public_url: str,
    unsubscribe_url: str | None,
    alert: BudgetAlert | None = None,
) -> RenderedEmail:
    """Any notification type as an e-mail."""
    context = _layout(
        display_name=display_name,
        household=household,
        public_url=public_url,
        link=message.link(public_url),
        link_label=message.link_label,
        kind=message.type,
        unsubscribe_url=unsubscribe_url,
    )
    if alert is not None:
        context |= {
            "alert": alert,
            "spent": alert.spent.format(),
            "budget": alert.budget.format(),
            "over": alert.over.format(),
        }
        return _render("budget_alert", message.title, context)
    width = max((len(label) + 1 for label, _ in message.facts), default=0)
    return _render("notification", message.title, context | {"message": message, "width": width})


def render_budget_alert(
    alert: BudgetAlert, *, display_name: str, public_url: str, unsubscribe_url: str | None = None
) -> RenderedEmail:
    return render_message(
        alert.message(),
        display_name=display_name,
        household=alert.household,
        public_url=public_url,
        unsubscribe_url=unsubscribe_url,
        alert=alert,
    )


ROLE_LABELS = {"owner": "an owner", "member": "a member", "viewer": "a viewer (read only)"}


def render_invitation(
    *, household: str, invited_by: str, role: str, link: str, expires_at: datetime
) -> RenderedEmail:
    context = {
        "display_name": "there",
        "household": household,
        "invited_by": invited_by or "Someone",
        "role_label": ROLE_LABELS.get(role, role),
        "link": link,
        "link_label": "Accept the invitation",
        "unsubscribe_url": None,
        "expires": expires_at.strftime("%d %B %Y at %H:%M UTC"),
    }
    return _render("invitation", f"{invited_by or 'Someone'} invited you to {household} on Tally", context)


@dataclass(frozen=True)
class DigestSection:
    heading: str
    rows: Sequence[tuple[str, str]]
    empty: str = "Nothing to report."


@dataclass(frozen=True)
class Digest:
    kind: NotificationType
    title: str
    intro: str
    sections: Sequence[DigestSection] = field(default_factory=tuple)


def render_digest(
    digest: Digest, *, display_name: str, household: str, public_url: str, unsubscribe_url: str | None
) -> RenderedEmail:
    context = _layout(
        display_name=display_name,
        household=household,
        public_url=public_url,
        link=public_url.rstrip("/") + "/#/",
        link_label="Open Tally",
        kind=digest.kind,
        unsubscribe_url=unsubscribe_url,
    )
    return _render("digest", digest.title, context | {"digest": digest})


ACCOUNT_EMAILS = {
    "verify_email": "Confirm your email address for Tally",
    "password_reset": "Reset your Tally password",
}


def render_account_email(
    template: str, *, display_name: str, email: str, link: str, expires_at: datetime
) -> RenderedEmail:
    """A mail auth asked for (`verify_email`, `password_reset`): a greeting, a single-use link, its expiry."""
    context = {
        "display_name": display_name,
        "email": email,
        "link": link,
        "expires": expires_at.strftime("%d %B %Y at %H:%M UTC"),
    }
    env = environment()
    return RenderedEmail(
        subject=ACCOUNT_EMAILS[template],
        text=env.get_template(f"{template}.txt").render(context),
        html=env.get_template(f"{template}.html").render(context),
    )
