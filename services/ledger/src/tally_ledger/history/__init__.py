"""Whole household histories brought over from other apps: a reader per source app gives a neutral
`History` (model.py), which write.py records in the ledger as one undoable migration."""
