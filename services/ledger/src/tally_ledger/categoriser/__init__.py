"""The learned categoriser (issue #18): plain Python modules free of the service's frameworks.

`text` cleans what banks write, `features` turns a transaction into hashed features, `model` trains a
household's categoriser and suggests categories with it. The service's side (tables, the training
worker, the cache, the import preview) is `tally_ledger.categorising`; see docs/categorisation.md.
"""
