"""The ledger's tables (SQLAlchemy Core): the read models derived from the event store (rebuildable:
`READ_MODELS`) and what a household keeps that is not derived from events (rules, exchange rates,
attachments). The queries are in `store`; the schema itself is made by the Alembic migrations.

Every row carries `tenant_id`. `NEWEST`, `LIVE` and `SEARCH_TEXT` are the expressions the transactions'
indexes are built on: queries use the same ones so that those indexes answer them.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    and_,
    false,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tally_ledger import totals
from tallykit.tables import uuid_column

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("opening_balance_minor", BigInteger, nullable=False),
    Column("balance_minor", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("archived", Boolean, nullable=False, server_default=false()),
)
Index("accounts_tenant", accounts.c.tenant_id, accounts.c.name)

categories = Table(
    "categories",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    Column("name", String(100), nullable=False),
    Column("group_name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("archived", Boolean, nullable=False, server_default=false()),
    uuid_column("merged_into"),
)
Index("categories_tenant", categories.c.tenant_id, categories.c.kind, categories.c.group_name,
      categories.c.name)

# One row per transaction (a transfer too: `account_id` is where the money left, `counter_account_id`
# where it went). A deleted transaction keeps its row, marked, so that an undo can bring it back as it was.
transactions = Table(
    "transactions",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("account_id", nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    uuid_column("category_id"),
    Column("payee", String(200), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("note", String(1000), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    uuid_column("counter_account_id"),
    Column("tags", ARRAY(String(50)), nullable=False, server_default=text("'{}'")),
    Column("status", String(12), nullable=False, server_default="uncleared"),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("deleted", Boolean, nullable=False, server_default=false()),
    # A transfer between currencies: what arrived in the counter account, in its currency.
    Column("counter_amount_minor", BigInteger),
)
NEWEST = (transactions.c.booked_on.desc(), transactions.c.recorded_at.desc(), transactions.c.id.desc())
LIVE = ~transactions.c.deleted
Index("transactions_newest", transactions.c.tenant_id, *NEWEST, postgresql_where=LIVE)
Index("transactions_account_newest", transactions.c.tenant_id, transactions.c.account_id, *NEWEST,
      postgresql_include=["kind", "amount_minor", "currency"], postgresql_where=LIVE)
Index("transactions_counter_newest", transactions.c.tenant_id, transactions.c.counter_account_id, *NEWEST,
      postgresql_where=and_(LIVE, transactions.c.counter_account_id.is_not(None)))
Index("transactions_category_newest", transactions.c.tenant_id, transactions.c.category_id, *NEWEST,
      postgresql_where=LIVE)
_TAGGED = transactions.c.tags != text("'{}'")  # most transactions have no tags: the index leaves them out
Index("transactions_tags", transactions.c.tags, postgresql_using="gin", postgresql_where=_TAGGED)
SEARCH_TEXT = transactions.c.payee + literal(" ") + transactions.c.note
Index("transactions_text", SEARCH_TEXT, postgresql_using="gin",
      postgresql_ops={"transactions_text": "gin_trgm_ops"})

transaction_splits = Table(
    "transaction_splits",
    metadata,
    uuid_column("transaction_id", primary_key=True),
    Column("position", Integer, primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("category_id", nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("note", String(200), nullable=False),
)
Index("transaction_splits_category", transaction_splits.c.tenant_id, transaction_splits.c.category_id)

# Payees come into being by being used; `usage_count` counts live transactions naming them. A merged
# payee keeps its row (with `merged_into`) so later entries under its name go to the target.
payees = Table(
    "payees",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("key", String(200), primary_key=True),  # the name in lower case
    Column("name", String(200), nullable=False),
    Column("usage_count", Integer, nullable=False),
    Column("merged_into", String(200)),
)
Index("payees_tenant", payees.c.tenant_id, payees.c.usage_count.desc())

# Recurring transactions and bills: one row per schedule, as of its stream (`wake_on`: the first day the
# scheduler has something to do for it; NULL when never again).
recurring = Table(
    "recurring",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    Column("name", String(100), nullable=False),
    uuid_column("account_id", nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("is_bill", Boolean, nullable=False),
    Column("auto_post", Boolean, nullable=False),
    Column("schedule", JSONB, nullable=False),
    Column("cancelled", Boolean, nullable=False),
    Column("next_due_on", Date),
    Column("wake_on", Date),
    Column("version", Integer, nullable=False),
)
Index("recurring_tenant", recurring.c.tenant_id, recurring.c.name)
Index("recurring_wake", recurring.c.wake_on, postgresql_where=recurring.c.wake_on.is_not(None))
Index("recurring_bills", recurring.c.tenant_id, recurring.c.account_id,
      postgresql_where=and_(recurring.c.is_bill, ~recurring.c.cancelled))

# What happened to each occurrence, one row per (schedule, day, what): the unique key that makes each
# due event, reminder, payment and skip happen once, written in the same transaction as its event.
recurring_occurrences = Table(
    "recurring_occurrences",
    metadata,
    uuid_column("schedule_id", primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("what", String(10), primary_key=True),  # due | reminder | paid | skipped
    uuid_column("tenant_id", nullable=False),
    uuid_column("event_id", nullable=False),
    uuid_column("transaction_id"),
)

# Rules are settings the household writes, not derived from events: not a read model, never rebuilt.
rules = Table(
    "rules",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    Column("position", Integer, nullable=False),
    Column("spec", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("rules_tenant", rules.c.tenant_id, rules.c.position)

# Exchange rates the household entered or imported: 1 `base` = `rate` `quote` on a day. Reference data
# the household keeps, not derived from events.
exchange_rates = Table(
    "exchange_rates",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("base", String(3), primary_key=True),
    Column("quote", String(3), primary_key=True),
    Column("on", Date, primary_key=True),
    Column("rate", Numeric(24, 12), nullable=False),
    Column("source", String(10), nullable=False),  # manual | csv
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# What the ledger knows of each household from auth: its base currency (for totals and net worth).
households = Table(
    "ledger_households",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("base_currency", String(3), nullable=False),
)

# Receipts and documents on transactions (the files are in the attachment storage, under ids only).
attachments = Table(
    "attachments",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("transaction_id", nullable=False),
    Column("filename", String(120), nullable=False),
    Column("content_type", String(50), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
)
Index("attachments_transaction", attachments.c.tenant_id, attachments.c.transaction_id)

# Tables added later that hold a household's rows (erasure deletes them too).
EXTRA_TENANT_TABLES: tuple[Table, ...] = (attachments, totals.transaction_sums,
                                          totals.transaction_sum_changes)

READ_MODELS = (transaction_splits, transactions, payees, categories, accounts, recurring,
               recurring_occurrences, totals.transaction_sums, totals.transaction_sum_changes)
