"""The budget service's tables.

Read models from the ledger (rebuildable from its events):
- `categories`, `category_merges`: names, groups and kinds of each tenant's categories; merges resolved
  when reading (domain.members), so a merge moves spending whenever it arrives.
- `flows`: outflow and inflow per (tenant, category, day, currency): any period is a sum of days.
- `accounts`, `account_flows`: opening balances (and kinds) and signed movements per day, for goals linked to
  an account.
From auth: `households` (base currency, time zone, first day of the week).

Owned here:
- `budgets` (one per category or per group) with `budget_amounts` (amount and rollover from a period on;
  `import_id`: the history import that wrote the version, none once set by hand); `version` is the
  budget's event stream position.
- `imported_months`: what histories imported from other apps budgeted per category and month, with the
  import that brought each month (imported.py turns them into amount versions).
- `budget_settings`: what "available to budget" counts as income (domain.IncomeBasis).
- `alert_states`: per (budget, period start, threshold) whether it has fired and not re-armed since
  (threshold 0 is the pace warning); `alerts`: every alert fired, in order.
- `goals`, `goal_contributions`.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

from tallykit import forgetting
from tallykit.tables import uuid_column

metadata = MetaData()
forgotten_households = forgetting.forgotten_households_table(metadata)

categories = Table(
    "categories",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("id", primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("group", String(100), nullable=False, server_default=""),
    Column("archived", Boolean, nullable=False, server_default="false"),
    Column("version", Integer, nullable=False, server_default="0"),
)

category_merges = Table(
    "category_merges",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("category_id", primary_key=True),
    uuid_column("into_category_id", nullable=False),
)

flows = Table(
    "flows",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("category_id", primary_key=True),
    Column("day", Date, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("outflow_minor", BigInteger, nullable=False),
    Column("inflow_minor", BigInteger, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("id", primary_key=True),
    Column("name", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("opening_balance_minor", BigInteger, nullable=False),
    Column("kind", String(20)),  # the ledger's AccountKind; none for accounts seen before migration 0008
)

account_flows = Table(
    "account_flows",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("account_id", primary_key=True),
    Column("day", Date, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
)

households = Table(
    "households",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("base_currency", String(3), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("week_start", String(10), nullable=False),
)

budget_settings = Table(
    "budget_settings",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("income_basis", String(20), nullable=False),
)

budgets = Table(
    "budgets",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("category_id"),
    Column("group_name", String(100)),
    Column("amount_minor", BigInteger, nullable=False),  # the latest version's, for a quick look
    Column("currency", String(3), nullable=False),
    Column("period_kind", String(10), nullable=False),
    Column("start_day", Integer, nullable=False),
    Column("anchor", Date),
    Column("week_start", String(10), nullable=False),
    Column("thresholds", ARRAY(Integer), nullable=False),
    Column("pace_alerts", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

budget_amounts = Table(
    "budget_amounts",
    metadata,
    uuid_column("budget_id", ForeignKey("budgets.id"), primary_key=True),
    Column("effective_from", Date, primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("rollover", Boolean, nullable=False),
    uuid_column("import_id"),
)

imported_months = Table(
    "imported_months",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("category_id", primary_key=True),
    Column("month", Date, primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("rollover", Boolean, nullable=False),
    uuid_column("import_id", nullable=False),
)

alert_states = Table(
    "alert_states",
    metadata,
    uuid_column("budget_id", ForeignKey("budgets.id"), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("threshold", Integer, primary_key=True),
    uuid_column("tenant_id", nullable=False),
    Column("fired", Boolean, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("budget_id", ForeignKey("budgets.id"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("type", String(50), nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("spent_minor", BigInteger, nullable=False),
    Column("budget_minor", BigInteger, nullable=False),
    uuid_column("event_id"),
    Column("fired_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

goals = Table(
    "goals",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    Column("name", String(100), nullable=False),
    Column("target_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("target_date", Date),
    uuid_column("account_id"),
    Column("start_date", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("reached", Boolean, nullable=False, server_default="false"),
    Column("behind_month", String(7)),
    Column("kind", String(10), nullable=False, server_default="savings"),  # goals.GoalKind
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

goal_contributions = Table(
    "goal_contributions",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("goal_id", ForeignKey("goals.id", ondelete="CASCADE"), nullable=False),
    uuid_column("tenant_id", nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("day", Date, nullable=False),
    Column("note", String(200), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
