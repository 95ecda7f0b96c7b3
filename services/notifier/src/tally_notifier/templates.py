"""Email bodies from Jinja2 templates (`templates/`): HTML autoescaped, plain text alongside."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tally_notifier.domain import BudgetAlert


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


def render_budget_alert(alert: BudgetAlert, *, display_name: str, public_url: str) -> RenderedEmail:
    context = {
        "alert": alert,
        "display_name": display_name,
        "spent": alert.spent.format(),
        "budget": alert.budget.format(),
        "over": alert.over.format(),
        "link": alert.link(public_url),
    }
    env = environment()
    return RenderedEmail(
        subject=alert.title,
        text=env.get_template("budget_alert.txt").render(context),
        html=env.get_template("budget_alert.html").render(context),
    )


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
