"""Runs Tally on one machine without Docker, for `make up` and for the tests."""
