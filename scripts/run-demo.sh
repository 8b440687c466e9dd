#!/usr/bin/env bash
# Set up wispbill on the embedded default (SQLite, no other service), load the demo ISP and
# serve it on http://localhost:${PORT:-8000}/ until Ctrl-C. The demo's MikroTik is the RouterOS
# API emulator on 127.0.0.1:${EMULATOR_PORT:-18728}, started here and stopped with the server.
set -euo pipefail
cd "$(dirname "$0")/.."

# WeasyPrint (the PDF invoices and receipts) needs Pango and a font.
if ! dpkg -s libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null
fi

python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e .

.venv/bin/wispbill migrate --verbosity 0
.venv/bin/wispbill routeros-emulator --port "${EMULATOR_PORT:-18728}" --seed-demo &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT
if ! .venv/bin/wispbill demo --emulator-port "${EMULATOR_PORT:-18728}"; then
  echo "Keeping the data already in ${WISPBILL_DATA_DIR:-./var}."
fi
echo "Log in at http://localhost:${PORT:-8000}/ as admin/admin (or staff/staff)."
.venv/bin/wispbill serve --port "${PORT:-8000}"
