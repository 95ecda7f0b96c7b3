"""Archiving, transfers, splits, tags, cleared state, edits and deletes, payees; search indexes."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0002"
down_revision = "0001"

_NEWEST = [sa.text("booked_on DESC"), sa.text("recorded_at DESC"), sa.text("id DESC")]
_LIVE = sa.text("NOT deleted")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column("accounts", sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("categories", sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("categories", sa.Column("merged_into", UUID(as_uuid=True)))
    op.add_column("transactions", sa.Column("counter_account_id", UUID(as_uuid=True)))
    op.add_column("transactions", sa.Column("tags", ARRAY(sa.String(50)), nullable=False,
                                            server_default=sa.text("'{}'")))
    op.add_column("transactions", sa.Column("status", sa.String(12), nullable=False,
                                            server_default="uncleared"))
    op.add_column("transactions", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("transactions", sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()))

    op.drop_index("transactions_tenant_newest", table_name="transactions")
    op.drop_index("transactions_account_newest", table_name="transactions")
    op.create_index("transactions_newest", "transactions", ["tenant_id", *_NEWEST], postgresql_where=_LIVE)
    op.create_index("transactions_account_newest", "transactions", ["tenant_id", "account_id", *_NEWEST],
                    postgresql_where=_LIVE)
    op.create_index("transactions_counter_newest", "transactions",
                    ["tenant_id", "counter_account_id", *_NEWEST],
                    postgresql_where=sa.text("NOT deleted AND counter_account_id IS NOT NULL"))
    op.create_index("transactions_category_newest", "transactions", ["tenant_id", "category_id", *_NEWEST],
                    postgresql_where=_LIVE)
    op.create_index("transactions_tags", "transactions", ["tags"], postgresql_using="gin")
    op.execute("CREATE INDEX transactions_text ON transactions "
               "USING gin ((payee || ' ' || note) gin_trgm_ops)")

    op.create_table(
        "transaction_splits",
        sa.Column("transaction_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("category_id", UUID(as_uuid=True), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
    )
    op.create_index("transaction_splits_category", "transaction_splits", ["tenant_id", "category_id"])
    op.create_table(
        "payees",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("usage_count", sa.Integer, nullable=False),
        sa.Column("merged_into", sa.String(200)),
    )
    op.create_index("payees_tenant", "payees", ["tenant_id", sa.text("usage_count DESC")])
    # Payees of the transactions recorded before this migration.
    op.execute("""
        INSERT INTO payees (tenant_id, key, name, usage_count)
        SELECT tenant_id, lower(payee), min(payee), count(*) FROM transactions WHERE payee <> ''
        GROUP BY tenant_id, lower(payee)
    """)
