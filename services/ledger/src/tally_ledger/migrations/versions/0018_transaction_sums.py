"""Totals of a search without reading every transaction: `transaction_sums` holds count and amount per
household, day, account, counter account, kind, status, currency and tag set (some ten thousand rows for
a million transactions). Triggers on `transactions` append what each statement changes to
`transaction_sum_changes` (append only: a writer takes no lock another writer waits for, whatever the
order of its statements), in the writer's transaction; the ledger's compactor folds those changes into
`transaction_sums` every few seconds (tally_ledger.totals). A reader adds both.

And an index of the tagged transactions, newest first, with their tags and kind: a tag filter's page
walks it instead of sorting every match (the planner underestimates tag matches, since `tags <> '{}'`
and `tags && ...` are not independent). The account index carries kind, amount and currency: the totals
of an account's transactions by date and amount read the index alone."""

from alembic import op

revision = "0018"
down_revision = "0017"

DIMENSIONS = "tenant_id, booked_on, account_id, counter_account_id, kind, status, currency, tags"


def upgrade() -> None:
    columns = """
        tenant_id uuid NOT NULL,
        booked_on date NOT NULL,
        account_id uuid NOT NULL,
        counter_account_id uuid,
        kind varchar(20) NOT NULL,
        status varchar(12) NOT NULL,
        currency varchar(3) NOT NULL,
        tags varchar(50)[] NOT NULL,
        entries bigint NOT NULL,
        amount_minor bigint NOT NULL"""
    op.execute(f"CREATE TABLE transaction_sums ({columns})")
    op.execute(f"CREATE UNIQUE INDEX transaction_sums_key ON transaction_sums ({DIMENSIONS}) NULLS NOT DISTINCT")
    op.execute(f"CREATE TABLE transaction_sum_changes ({columns})")
    op.execute("CREATE INDEX transaction_sum_changes_tenant ON transaction_sum_changes (tenant_id)")
    op.execute(f"""
        CREATE FUNCTION transaction_sums_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO transaction_sum_changes ({DIMENSIONS}, entries, amount_minor)
                SELECT {DIMENSIONS}, count(*), sum(amount_minor)
                FROM new_rows WHERE NOT deleted GROUP BY {DIMENSIONS};
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO transaction_sum_changes ({DIMENSIONS}, entries, amount_minor)
                SELECT {DIMENSIONS}, -count(*), -sum(amount_minor)
                FROM old_rows WHERE NOT deleted GROUP BY {DIMENSIONS};
            ELSE
                INSERT INTO transaction_sum_changes ({DIMENSIONS}, entries, amount_minor)
                SELECT {DIMENSIONS}, sum(n), sum(amount)
                FROM (SELECT {DIMENSIONS}, 1 AS n, amount_minor AS amount FROM new_rows WHERE NOT deleted
                      UNION ALL
                      SELECT {DIMENSIONS}, -1, -amount_minor FROM old_rows WHERE NOT deleted) AS changed
                GROUP BY {DIMENSIONS}
                HAVING sum(n) <> 0 OR sum(amount) <> 0;
            END IF;
            RETURN NULL;
        END $$""")  # noqa: S608 - column names of this module
    for event, tables in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                          ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
        op.execute(f"CREATE TRIGGER transaction_sums_{event.lower()} AFTER {event} ON transactions"
                   f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION transaction_sums_change()")
    op.execute(f"""
        INSERT INTO transaction_sums ({DIMENSIONS}, entries, amount_minor)
        SELECT {DIMENSIONS}, count(*), sum(amount_minor) FROM transactions WHERE NOT deleted
        GROUP BY {DIMENSIONS}""")  # noqa: S608 - column names of this module
    op.execute("CREATE INDEX transactions_tagged_newest ON transactions"
               " (tenant_id, booked_on DESC, recorded_at DESC, id DESC) INCLUDE (tags, kind)"
               " WHERE tags <> '{}' AND NOT deleted")
    _account_index(include=" INCLUDE (kind, amount_minor, currency)")


def _account_index(include: str) -> None:
    op.execute("DROP INDEX transactions_account_newest")
    op.execute("CREATE INDEX transactions_account_newest ON transactions"
               " (tenant_id, account_id, booked_on DESC, recorded_at DESC, id DESC)"
               f"{include} WHERE NOT deleted")


def downgrade() -> None:
    _account_index(include="")
    op.execute("DROP INDEX transactions_tagged_newest")
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER transaction_sums_{event} ON transactions")
    op.execute("DROP FUNCTION transaction_sums_change()")
    op.execute("DROP TABLE transaction_sum_changes")
    op.execute("DROP TABLE transaction_sums")
