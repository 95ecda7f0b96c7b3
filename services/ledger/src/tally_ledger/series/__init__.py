"""Recurring payments and subscriptions found in a household's history (issue #18), in plain Python.

`detect` finds the series (same payee, a weekly, monthly, quarterly or yearly rhythm, a stable amount),
their price changes and whether they stopped; `proposal` is the aggregate that remembers what the
household was told about a series and what it decided (dismissed, or accepted as a schedule). The
service's side (the worker, its tables, the routes) is `tally_ledger.series_finding` and
`tally_ledger.series_api`; see docs/recurring.md.
"""
