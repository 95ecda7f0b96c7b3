"""Exports: transactions as CSV or XLSX for a filter, and the household's whole event history as JSON
(which `restore` imports back into an empty household, to the same balances)."""
