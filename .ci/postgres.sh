#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the store tests (Debian's `postgresql` package).
#
#   eval "$(.ci/postgres.sh start)"   # initdb into /tmp, start on 127.0.0.1:$LAB_PG_PORT, create lab_test;
#                                     # prints `export LAB_TEST_POSTGRES_URL=postgresql+psycopg://...`
#   .ci/postgres.sh stop              # stop the server and delete its directory
#
# Run as root, the server runs as the `postgres` user; run as anyone else, as that user. The cluster uses the
# C locale (byte order, as SQLite sorts) and password authentication over TCP on loopback only.
set -euo pipefail
port=${LAB_PG_PORT:-54329}
dir=/tmp/lab-postgres-$port
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL server found (apt-get install -y postgresql)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then as_server() { runuser -u postgres -- "$@"; }; else as_server() { "$@"; }; fi

case "${1:-}" in
start)
  if [ -e "$dir" ]; then as_server "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$dir"; fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  echo lab > "$dir/password" && chmod 600 "$dir/password"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/password"
  as_server "$bin/initdb" -D "$dir/data" -U lab --pwfile="$dir/password" --auth-local=trust \
    --auth-host=scram-sha-256 --no-locale -E UTF8 >"$dir/initdb.log"
  as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off" start >/dev/null
  PGPASSWORD=lab "$bin/createdb" -h 127.0.0.1 -p "$port" -U lab lab_test
  echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
  echo "export LAB_TEST_POSTGRES_URL=postgresql+psycopg://lab:lab@127.0.0.1:$port/lab_test"
  ;;
stop)
  if [ -e "$dir/data" ]; then as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true; fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2
  ;;
esac
