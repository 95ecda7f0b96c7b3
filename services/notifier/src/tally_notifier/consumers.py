"""Incoming events → handlers: people, households and account mail (verification, password reset) from
`auth.events`, alerts from `budget.events`."""

from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import handlers
from tally_notifier.domain import BudgetAlertPayload
from tally_notifier.settings import NotifierSettings
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import EmailVerificationRequested, PasswordResetRequested, UserRegistered
from tallykit.db import Database
from tallykit.events import Envelope

TOPICS = ("auth.events", "budget.events")


def build_consumer(db: Database, settings: NotifierSettings) -> EventConsumer:
    async def on_user_registered(session: AsyncSession, envelope: Envelope, payload: UserRegistered) -> None:
        await handlers.record_recipient(session, envelope, payload, settings)

    async def on_budget_alert(session: AsyncSession, envelope: Envelope, payload: BudgetAlertPayload) -> None:
        await handlers.raise_budget_alert(session, envelope, payload, settings)

    async def on_account_email(
        session: AsyncSession,
        envelope: Envelope,
        payload: EmailVerificationRequested | PasswordResetRequested,
    ) -> None:
        await handlers.send_account_email(session, envelope, payload, settings)

    return EventConsumer(
        db=db,
        settings=settings,
        registry=registry,
        topics=TOPICS,
        handlers={
            "auth.UserRegistered": on_user_registered,
            "auth.TenantCreated": handlers.record_household,
            "auth.EmailVerificationRequested": on_account_email,
            "auth.PasswordResetRequested": on_account_email,
            "budget.BudgetThresholdReached": on_budget_alert,
            "budget.BudgetExceeded": on_budget_alert,
        },
    )
