"""Spending per day (any period can be summed), categories' groups and merges, accounts and their
balances, household settings, budgets for categories or groups with periods, amount versions and
rollover, alert states that re-arm, and savings goals.

The old per-month spending moves to the first day of its month (month totals stay exact; older
spending cannot be split into weeks), the old fired alerts become fired alert states and log rows.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("categories", sa.Column("group", sa.String(100), nullable=False, server_default=""))
    op.add_column("categories", sa.Column("archived", sa.Boolean, nullable=False, server_default="false"))
    # The category stream's version whose name and group are stored: a late rename never undoes a newer.
    op.add_column("categories", sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "category_merges",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("into_category_id", UUID(as_uuid=True), nullable=False),
    )
    op.create_table(
        "flows",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("outflow_minor", sa.BigInteger, nullable=False),
        sa.Column("inflow_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("flows_tenant_day", "flows", ["tenant_id", "day"])
    op.execute(
        "INSERT INTO flows (tenant_id, category_id, day, currency, outflow_minor, inflow_minor) "
        "SELECT tenant_id, category_id, to_date(month || '-01', 'YYYY-MM-DD'), currency, spent_minor, 0 "
        "FROM spending"
    )
    op.drop_table("spending")
    op.create_table(
        "accounts",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("opening_balance_minor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "account_flows",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("account_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "households",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("base_currency", sa.String(3), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("week_start", sa.String(10), nullable=False),
    )

    op.drop_constraint("budgets_one_per_category", "budgets", type_="unique")
    op.alter_column("budgets", "category_id", nullable=True)
    op.add_column("budgets", sa.Column("group_name", sa.String(100)))
    op.add_column("budgets", sa.Column("period_kind", sa.String(10), nullable=False, server_default="month"))
    op.add_column("budgets", sa.Column("start_day", sa.Integer, nullable=False, server_default="1"))
    op.add_column("budgets", sa.Column("anchor", sa.Date))
    op.add_column("budgets", sa.Column("week_start", sa.String(10), nullable=False, server_default="monday"))
    op.add_column(
        "budgets", sa.Column("thresholds", ARRAY(sa.Integer), nullable=False, server_default="{80,100}")
    )
    op.add_column("budgets", sa.Column("pace_alerts", sa.Boolean, nullable=False, server_default="true"))
    op.create_check_constraint(
        "budgets_one_target", "budgets", "(category_id IS NULL) <> (group_name IS NULL)"
    )
    op.create_index(
        "budgets_one_per_category",
        "budgets",
        ["tenant_id", "category_id"],
        unique=True,
        postgresql_where=sa.text("category_id IS NOT NULL"),
    )
    op.create_index(
        "budgets_one_per_group",
        "budgets",
        ["tenant_id", "group_name"],
        unique=True,
        postgresql_where=sa.text("group_name IS NOT NULL"),
    )
    op.create_table(
        "budget_amounts",
        sa.Column("budget_id", UUID(as_uuid=True), sa.ForeignKey("budgets.id"), primary_key=True),
        sa.Column("effective_from", sa.Date, primary_key=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("rollover", sa.Boolean, nullable=False),
    )
    # Until now a budget's one amount held for every month: keep it so from far back.
    op.execute(
        "INSERT INTO budget_amounts (budget_id, effective_from, amount_minor, rollover) "
        "SELECT id, DATE '1900-01-01', amount_minor, false FROM budgets"
    )
    op.create_table(
        "alert_states",
        sa.Column("budget_id", UUID(as_uuid=True), sa.ForeignKey("budgets.id"), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("threshold", sa.Integer, primary_key=True),  # 0: the pace warning
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("fired", sa.Boolean, nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("budget_id", UUID(as_uuid=True), sa.ForeignKey("budgets.id"), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("spent_minor", sa.BigInteger, nullable=False),
        sa.Column("budget_minor", sa.BigInteger, nullable=False),
        sa.Column("event_id", UUID(as_uuid=True)),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("alerts_tenant", "alerts", ["tenant_id", "id"])
    op.execute(
        "INSERT INTO alert_states (budget_id, period_start, threshold, tenant_id, fired) "
        "SELECT budget_id, to_date(month || '-01', 'YYYY-MM-DD'), threshold, tenant_id, true FROM budget_alerts"
    )
    op.execute(
        "INSERT INTO alerts (tenant_id, budget_id, period_start, period_end, type, threshold, spent_minor, "
        "budget_minor, fired_at) "
        "SELECT tenant_id, budget_id, to_date(month || '-01', 'YYYY-MM-DD'), "
        "(to_date(month || '-01', 'YYYY-MM-DD') + interval '1 month' - interval '1 day')::date, "
        "CASE WHEN threshold >= 100 THEN 'budget.BudgetExceeded' ELSE 'budget.BudgetThresholdReached' END, "
        "threshold, spent_minor, budget_minor, fired_at FROM budget_alerts ORDER BY fired_at"
    )
    op.drop_table("budget_alerts")

    op.create_table(
        "goals",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("target_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("target_date", sa.Date),
        sa.Column("account_id", UUID(as_uuid=True)),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("reached", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("behind_month", sa.String(7)),  # the month GoalBehind last fired in
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("goals_tenant", "goals", ["tenant_id", "name"])
    op.create_table(
        "goal_contributions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "goal_id", UUID(as_uuid=True), sa.ForeignKey("goals.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("goal_contributions_goal", "goal_contributions", ["goal_id", "day"])
