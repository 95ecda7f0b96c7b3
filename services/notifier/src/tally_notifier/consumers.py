"""Incoming events → what they cause: people and households (people.py) and mail a person asked for
(direct_mail.py) from `auth.events`; security alerts from it too, and household alerts from
`budget.events`, `ledger.events` and `analytics.events` (reactions.py)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import direct_mail, people, reactions
from tally_notifier.settings import NotifierSettings
from tallykit.consumer import EventConsumer, Handler
from tallykit.contracts import registry
from tallykit.db import Database
from tallykit.events import Envelope

TOPICS = ("auth.events", "budget.events", "ledger.events", "analytics.events")

HOUSEHOLD_ALERTS = (
    "budget.BudgetThresholdReached",
    "budget.BudgetExceeded",
    "budget.BudgetPaceWarning",
    "budget.GoalReached",
    "budget.GoalBehind",
    "ledger.BillDueSoon",
    "ledger.RecurringTransactionDue",
    "ledger.RecurringSeriesFound",
    "ledger.RecurringSeriesPriceChanged",
    "ledger.RecurringSeriesStopped",
    "analytics.UnusualSpendingDetected",
)
SECURITY_EVENTS = (
    "auth.LoginSucceeded",
    "auth.PasswordChanged",
    "auth.TwoFactorEnabled",
    "auth.TwoFactorDisabled",
)


def build_consumer(db: Database, settings: NotifierSettings) -> EventConsumer:
    def with_settings(handler: Any) -> Handler:
        async def handle(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
            await handler(session, envelope, payload, settings)

        return handle

    table: dict[str, Handler] = {
        "auth.UserRegistered": with_settings(people.record_recipient),
        "auth.TenantCreated": people.record_household,
        "auth.EmailVerificationRequested": with_settings(direct_mail.send_account_email),
        "auth.PasswordResetRequested": with_settings(direct_mail.send_account_email),
        "auth.MemberInvited": with_settings(direct_mail.send_invitation),
        "auth.MemberJoined": with_settings(people.record_recipient),
        "auth.MemberRoleChanged": people.member_role_changed,
        "auth.MemberLeft": people.member_left,
        "auth.ProfileUpdated": people.profile_updated,
        "auth.UserDeleted": people.user_deleted,
        "analytics.SavingsOpportunitiesFound": reactions.record_savings,
    }
    table |= {name: with_settings(reactions.household_alert) for name in HOUSEHOLD_ALERTS}
    table |= {name: with_settings(reactions.security_alert) for name in SECURITY_EVENTS}
    return EventConsumer(db=db, settings=settings, registry=registry, topics=TOPICS, handlers=table)
