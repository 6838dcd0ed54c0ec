#!/usr/bin/env bash
# Debian's PostgreSQL server binaries for the PostgreSQL store tests. The test
# harness (test/helpers/postgres.ts) runs its own throwaway server from them in a
# temporary data directory; the cluster postgresql-common may create and start on
# install is never used by the tests.
set -euo pipefail
have_server() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/postgres" ] &&
      [ -x "$bin/psql" ] && [ -x "$bin/pg_isready" ]; then
      return 0
    fi
  done
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 &&
    command -v postgres >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 &&
    command -v pg_isready >/dev/null 2>&1
}
if have_server; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: PostgreSQL server binaries (initdb, pg_ctl, postgres) are missing and apt-get is not available; install a PostgreSQL server by hand" >&2
  exit 1
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update >&2
$sudo_cmd apt-get install -y --no-install-recommends postgresql >&2
if ! have_server; then
  echo "setup: installed the postgresql package but found no initdb/pg_ctl/postgres under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
