"""Daily rollups (flows per account x category x payee, tags, balance moves), names, household settings,
the journal a rebuild replays, schedules and budgets for forecasts, irregular spending. The monthly totals
of 0001 are replaced by the daily flows (a report sums days), so they are dropped."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"


def _tenant() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True)


def upgrade() -> None:
    op.drop_table("monthly_totals")
    op.add_column("categories", sa.Column("group_name", sa.String(100), nullable=False, server_default=""))
    op.add_column("categories", sa.Column("merged_into", UUID(as_uuid=True), nullable=True))
    op.add_column("categories", sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "accounts",
        _tenant(),
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    # Primary keys lead with tenant, currency and day: a period's report is one index range.
    op.create_table(
        "flows",
        _tenant(),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("account_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("payee", sa.String(200), primary_key=True),
        sa.Column("income_minor", sa.BigInteger, nullable=False),
        sa.Column("expense_minor", sa.BigInteger, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
    )
    op.create_index("flows_by_category", "flows", ["tenant_id", "currency", "category_id", "day"])
    op.create_table(
        "tag_flows",
        _tenant(),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("tag", sa.String(50), primary_key=True),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("income_minor", sa.BigInteger, nullable=False),
        sa.Column("expense_minor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "balance_moves",
        _tenant(),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("account_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("delta_minor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "payee_merges",
        _tenant(),
        sa.Column("name_key", sa.String(200), primary_key=True),
        sa.Column("into_name", sa.String(200), nullable=False),
    )
    op.create_table(
        "households",
        _tenant(),
        sa.Column("base_currency", sa.String(3), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "journal",
        _tenant(),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
    )
    op.create_table(
        "schedules",
        _tenant(),
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False, server_default="false"),
    )
    op.create_table(
        "budgets",
        _tenant(),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "unusual",
        _tenant(),
        sa.Column("transaction_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("account_id", UUID(as_uuid=True), nullable=False),
        sa.Column("category_id", UUID(as_uuid=True), nullable=False),
        sa.Column("payee", sa.String(200), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("typical_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "expected_patterns",
        _tenant(),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("payee_key", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
