#!/bin/sh
# Creates Temporal's two PostgreSQL databases, `temporal` and `temporal_visibility`, and brings
# their schemas to the version of the admin-tools image running this: the `temporal-schema`
# service of docker-compose.yml, which the server waits for. Safe to run again (each `up` does):
# an existing database is kept, setup-schema leaves a versioned schema alone, and update-schema
# applies only the versions a database lacks (a newer image upgrades it).
# temporal-sql-tool reads the connection from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD.
set -eu
: "${SQL_HOST:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"
schemas=/etc/temporal/schema/postgresql/v12

tries=0
until nc -z "$SQL_HOST" "${SQL_PORT:-5432}"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "PostgreSQL at $SQL_HOST:${SQL_PORT:-5432} does not answer" >&2
    exit 1
  fi
  sleep 2
done

setup() { # <database> <schema folder>
  temporal-sql-tool --db "$1" create
  temporal-sql-tool --db "$1" setup-schema -v 0.0
  temporal-sql-tool --db "$1" update-schema -d "$schemas/$2/versioned"
}
setup temporal temporal
setup temporal_visibility visibility
echo "Temporal's databases are ready"
