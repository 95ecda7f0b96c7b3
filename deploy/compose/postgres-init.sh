#!/usr/bin/env bash
# Runs once, when the PostgreSQL container initialises an empty data volume: one role and one database
# per service, each role owning only its own database. Passwords come from the .env file.
set -euo pipefail

for service in auth ledger budget analytics notifier; do
  var="TALLY_${service^^}_DB_PASSWORD"
  password="${!var:?$var must be set in .env}"
  psql --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       --set role="tally_${service}" --set password="${password}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
