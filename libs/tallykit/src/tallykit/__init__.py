"""Tally's shared kit: the one way every service does settings, logging, database work, events and errors."""
