"""Email bodies from Jinja2 templates (`templates/`): HTML autoescaped, plain text alongside.

Every notification e-mail shares one layout (`_layout.*`: a 560 px table that mail clients render
alike, the call to action as a button, a footer with the per-type unsubscribe link and the settings
link); budget alerts, invitations and digests have their own content blocks, every other type uses
`notification.*` (title, sentence, facts).

The templates hold no sentences: every word (greeting, footer, buttons, labels) comes from
`wording`, in the recipient's language, and `<html lang>` names it."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tally_notifier import wording
from tally_notifier.domain import TYPES, BudgetAlert, Message, NotificationType, type_label
from tally_notifier.wording import expires, html, language, words


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
    locale: str | None = None,
) -> dict[str, Any]:
    """What the shared layout needs, its fixed sentences in the recipient's language."""
    label = type_label(kind.value, locale) if kind in TYPES else words(locale, "these")
    household = wording.household(household, locale)
    return {
        "lang": language(locale),
        "greeting": words(locale, "greeting", name=display_name),
        "footer_html": words(locale, "footer_html", household=household),
        "footer_text": words(locale, "footer_text", household=household),
        "unsubscribe_label": words(locale, "unsubscribe", label=label),
        "settings_label": words(locale, "settings"),
        "display_name": display_name,
        "household": household,
        "link": link,
        "link_label": link_label,
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": public_url.rstrip("/") + "/#/preferences",
    }


def _width(facts: Sequence[tuple[str, str]]) -> int:
    return max((len(label) + 1 for label, _ in facts), default=0)


def render_message(
    message: Message,
    *,
    display_name: str,
    household: str,
    public_url: str,
    unsubscribe_url: str | None,
    alert: BudgetAlert | None = None,
    locale: str | None = None,
) -> RenderedEmail:
    """Any notification type as an e-mail; `message` (and `alert`) already speak the recipient's language,
    `locale` gives the layout's words."""
    if alert is not None:
        locale = alert.locale
    context = _layout(
        display_name=display_name,
        household=household,
        public_url=public_url,
        link=message.link(public_url),
        link_label=message.link_label,
        kind=message.type,
        unsubscribe_url=unsubscribe_url,
        locale=locale,
    )
    if alert is not None:
        facts = alert.message().facts
        fields: dict[str, Any] = {
            "category": alert.category_name,
            "household": wording.household(alert.household, locale),
            "percent": alert.threshold_percent,
        }
        lead = "budget_used_up" if alert.exceeded else "budget_used"
        context |= {
            "alert": alert,
            "facts": facts,
            "width": _width(facts),
            "lead_text": words(locale, lead, **fields),
            "lead_html": html(locale, f"{lead}_html", **fields),
        }
        return _render("budget_alert", message.title, context)
    return _render(
        "notification", message.title, context | {"message": message, "width": _width(message.facts)}
    )


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
    *,
    household: str,
    invited_by: str,
    role: str,
    link: str,
    expires_at: datetime,
    locale: str | None = None,
) -> RenderedEmail:
    by = invited_by or words(locale, "someone")
    role_label = words(locale, f"role_{role}") if role in ROLE_LABELS else role
    fields = {"by": by, "household": household, "role": role_label}
    context = {
        "lang": language(locale),
        "greeting": words(locale, "greeting_anonymous"),
        "household": household,
        "invited_by": by,
        "role_label": role_label,
        "link": link,
        "link_label": words(locale, "invitation_accept"),
        "unsubscribe_url": None,
        "expires": expires(expires_at, locale),
        "body_text": words(locale, "invitation_body", **fields),
        "body_html": html(locale, "invitation_body_html", **fields),
        "expiry": words(locale, "invitation_expiry", expires=expires(expires_at, locale), by=by),
        "footer_html": words(locale, "invitation_footer_html", by=by),
        "footer_text": words(locale, "invitation_footer_text", by=by),
    }
    return _render("invitation", words(locale, "invitation_subject", by=by, household=household), context)


@dataclass(frozen=True)
class DigestSection:
    heading: str
    rows: Sequence[tuple[str, str]]
    empty: str = "Nothing to report."
    # Per row, where it leads in the app (an absolute URL) or None; empty: no row leads anywhere.
    links: Sequence[str | None] = ()
    link_label: str = ""


@dataclass(frozen=True)
class Digest:
    kind: NotificationType
    title: str
    intro: str
    sections: Sequence[DigestSection] = field(default_factory=tuple)
    locale: str = "en"


def render_digest(
    digest: Digest, *, display_name: str, household: str, public_url: str, unsubscribe_url: str | None
) -> RenderedEmail:
    context = _layout(
        display_name=display_name,
        household=household,
        public_url=public_url,
        link=public_url.rstrip("/") + "/#/",
        link_label=words(digest.locale, "open_tally"),
        kind=digest.kind,
        unsubscribe_url=unsubscribe_url,
        locale=digest.locale,
    )
    return _render("digest", digest.title, context | {"digest": digest})


ACCOUNT_EMAILS = {
    "verify_email": "verify",
    "password_reset": "reset",
}


def render_account_email(
    template: str,
    *,
    display_name: str,
    email: str,
    link: str,
    expires_at: datetime,
    locale: str | None = None,
) -> RenderedEmail:
    """A mail auth asked for (`verify_email`, `password_reset`): a greeting, a single-use link, its expiry."""
    prefix = ACCOUNT_EMAILS[template]
    when = expires(expires_at, locale)
    subject = words(locale, f"{prefix}_subject")
    context = {
        "lang": language(locale),
        "greeting": words(locale, "greeting", name=display_name),
        "title": words(locale, "verify_title") if prefix == "verify" else subject,
        "display_name": display_name,
        "email": email,
        "link": link,
        "expires": when,
        "intro_html": html(locale, f"{prefix}_intro_html", email=email),
        "intro_text": words(locale, f"{prefix}_intro_text", email=email),
        "button": words(locale, f"{prefix}_button"),
        "expiry": words(locale, f"{prefix}_expiry", expires=when),
    }
    env = environment()
    return RenderedEmail(
        subject=subject,
        text=env.get_template(f"{template}.txt").render(context),
        html=env.get_template(f"{template}.html").render(context),
    )
