"""The analytics service's tables.

`flows` (income/expense per tenant x currency x day x account x category x payee), `tag_flows` and
`balance_moves` are sums of signed deltas, so reports read them and never scan transactions. Names
(categories, accounts, payee merges) live in their own tables and are applied when a report is read:
a rename or a merge changes one row, not history. `journal` keeps every event the read model was built
from, so it can be rebuilt (after a change of rules) and checked against itself.
"""


from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.dialects.postgresql import JSONB

from tallykit import forgetting
from tallykit.tables import uuid_column

metadata = MetaData()



categories = Table(
    "categories",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("id", primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("group_name", String(100), nullable=False, server_default=""),
    uuid_column("merged_into", nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
)

accounts = Table(
    "accounts",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("id", primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
)

flows = Table(
    "flows",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("day", Date, primary_key=True),
    uuid_column("account_id", primary_key=True),
    uuid_column("category_id", primary_key=True),
    Column("payee", String(200), primary_key=True),
    Column("income_minor", BigInteger, nullable=False),
    Column("expense_minor", BigInteger, nullable=False),
    Column("entries", Integer, nullable=False),
)

tag_flows = Table(
    "tag_flows",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("tag", String(50), primary_key=True),
    uuid_column("category_id", primary_key=True),
    Column("income_minor", BigInteger, nullable=False),
    Column("expense_minor", BigInteger, nullable=False),
)

balance_moves = Table(
    "balance_moves",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("day", Date, primary_key=True),
    uuid_column("account_id", primary_key=True),
    Column("delta_minor", BigInteger, nullable=False),
)

payee_merges = Table(
    "payee_merges",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("name_key", String(200), primary_key=True),
    Column("into_name", String(200), nullable=False),
)

households = Table(
    "households",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("base_currency", String(3), nullable=True),
    Column("time_zone", String(64), nullable=True),
    # Bumped by every event of the tenant: cached forecasts of an older generation are stale.
    Column("generation", BigInteger, nullable=False, server_default="0"),
)

journal = Table(
    "journal",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("event_id", primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("envelope", JSONB, nullable=False),
)

schedules = Table(
    "schedules",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("id", primary_key=True),
    Column("version", Integer, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("cancelled", Boolean, nullable=False, server_default="false"),
)

budgets = Table(
    "budgets",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("category_id", primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
)

unusual = Table(
    "unusual",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("transaction_id", primary_key=True),
    uuid_column("account_id", nullable=False),
    uuid_column("category_id", nullable=False),
    Column("payee", String(200), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("typical_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
)

expected_patterns = Table(
    "expected_patterns",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("category_id", primary_key=True),
    Column("payee_key", String(200), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The recurring series the ledger found, merged from its events so that any order of them (a rebuild
# applies the journal in event-id order) gives the same row: the price of the latest date wins, the
# dates only grow, a dismissal stays.
series = Table(
    "series",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("id", primary_key=True),
    Column("name", String(100), nullable=True),
    Column("payee", String(200), nullable=True),
    Column("kind", String(10), nullable=True),
    Column("period", String(10), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("amount_minor", BigInteger, nullable=True),
    Column("previous_minor", BigInteger, nullable=True),
    Column("price_on", Date, nullable=True),
    Column("first_on", Date, nullable=True),
    Column("last_paid_on", Date, nullable=True),
    Column("stopped_after", Date, nullable=True),
    Column("dismissed", Boolean, nullable=False, server_default="false"),
)

# The months whose savings opportunities were published (once per household and month).
savings_months = Table(
    "savings_months",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

forgotten_households = forgetting.forgotten_households_table(metadata)

TENANT_TABLES = (
    categories,
    accounts,
    flows,
    tag_flows,
    balance_moves,
    payee_merges,
    schedules,
    budgets,
    series,
)
