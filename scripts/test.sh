#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine and run the whole suite: lint, then every
# test on SQLite and on PostgreSQL. Browser tests drive Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Caddy in front of `wispbill serve` (tests/integration/test_server_install.py), and
# systemd-analyze to verify the shipped units.
if [ ! -x /usr/bin/caddy ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null
fi
if ! command -v systemd-analyze >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
fi
# libfaketime: the processes a test starts live at the test's instant (tests/clock.py).
if [ ! -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
fi
# FreeRADIUS for the RADIUS routers (tests/radius/), with its PostgreSQL driver.
if [ ! -x /usr/sbin/freeradius ] || ! dpkg -s freeradius-postgresql >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    freeradius freeradius-utils freeradius-postgresql >/dev/null
fi

# WeasyPrint (the PDF invoices and receipts) needs Pango and a font.
if ! dpkg -s libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null
fi

python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e ".[test]"

data_dir=$(mktemp -d)
postgresql_pass=""
trap 'if [ -n "$postgresql_pass" ]; then kill "$postgresql_pass" 2>/dev/null || true; fi; rm -rf "$data_dir"' EXIT
mkdir "$data_dir/sqlite" "$data_dir/postgresql" "$data_dir/mypy"

.venv/bin/ruff check src tests
.venv/bin/ruff format --check src tests
.venv/bin/lint-imports --no-cache
# Types (pyproject.toml, [tool.mypy]): django-stubs' plugin sets Django up, and the task
# queue it loads opens its database in the data dir: a throwaway one, not ./var.
WISPBILL_DATA_DIR="$data_dir/mypy" .venv/bin/mypy

# Each test runs at an instant drawn from one seed per run, the same for both passes (see
# tests/clock.py): WISPBILL_TEST_SEED=N replays a run that failed.
export WISPBILL_TEST_SEED="${WISPBILL_TEST_SEED:-$(( (RANDOM << 15 | RANDOM) % 999999 + 1 ))}"
echo "Test instants from seed $WISPBILL_TEST_SEED (WISPBILL_TEST_SEED=$WISPBILL_TEST_SEED replays them)"

# The two passes run side by side (the machine has two cores): PostgreSQL's output is kept and
# printed after SQLite's. Each has its own data dir; their Redis databases differ.
DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}" \
  WISPBILL_DATA_DIR="$data_dir/postgresql" \
  .venv/bin/pytest -p no:cacheprovider "$@" >"$data_dir/postgresql.log" 2>&1 &
postgresql_pass=$!

echo "== SQLite =="
sqlite_status=0
WISPBILL_DATA_DIR="$data_dir/sqlite" .venv/bin/pytest -p no:cacheprovider "$@" || sqlite_status=$?
postgresql_status=0
wait "$postgresql_pass" || postgresql_status=$?
echo "== PostgreSQL =="
cat "$data_dir/postgresql.log"
if [ "$sqlite_status" -ne 0 ] || [ "$postgresql_status" -ne 0 ]; then
  echo "FAILED: SQLite pass exit $sqlite_status, PostgreSQL pass exit $postgresql_status"
  exit 1
fi
