"""Statement imports: batches (with the uploaded file until it is imported), the rows each batch
recorded (for duplicate detection and undo), and column mappings saved per bank."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", UUID(as_uuid=True), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("content", sa.LargeBinary),
        sa.Column("mapping", JSONB),
        sa.Column("rows_total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_new", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_duplicate", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_skipped", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.String(1000)),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
    )
    op.create_index("import_batches_tenant", "import_batches", ["tenant_id", sa.text("created_at DESC")])
    op.create_table(
        "import_rows",
        sa.Column("transaction_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("batch_id", UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", UUID(as_uuid=True), nullable=False),
        sa.Column("bank_id", sa.String(100)),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("payee_key", sa.String(200), nullable=False),
    )
    op.create_index("import_rows_batch", "import_rows", ["batch_id"])
    op.create_index("import_rows_fingerprint", "import_rows",
                    ["tenant_id", "account_id", "amount_minor", "booked_on"])
    op.create_index("import_rows_bank_id", "import_rows", ["tenant_id", "account_id", "bank_id"],
                    postgresql_where=sa.text("bank_id IS NOT NULL"))
    op.create_table(
        "import_mappings",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("mapping", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("import_mappings")
    op.drop_table("import_rows")
    op.drop_table("import_batches")
