from sqlalchemy import Column, Integer, MetaData, String, Table

from tallykit.migrations import run_env

metadata = MetaData()
Table("applied", metadata, Column("id", Integer, primary_key=True), Column("value", String(100)))

run_env(metadata)
