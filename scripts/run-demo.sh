#!/usr/bin/env bash
# Set up wispbill on the embedded default (SQLite, no other service), load the demo ISP and
# serve it on http://localhost:${PORT:-8000}/ until Ctrl-C. The demo's MikroTik is the RouterOS
# API emulator on 127.0.0.1:${EMULATOR_PORT:-18728}, started here and stopped with the server,
# and so is its PAC, a stand-in on 127.0.0.1:${PAC_PORT:-18729}.
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
pac=""
trap 'kill "$emulator" $pac 2>/dev/null || true' EXIT
# The demo stamps its CFDIs at a stand-in for the PAC on loopback (test stamps, not valid
# before the SAT), unless a PAC is configured in the environment.
if [ -z "${WISPBILL_PAC:-}" ]; then
  .venv/bin/wispbill pac-stand-in --port "${PAC_PORT:-18729}" &
  pac=$!
  export WISPBILL_PAC=swsapien WISPBILL_PAC_USER=bench WISPBILL_PAC_PASSWORD=bench-secret
  export WISPBILL_PAC_URL="http://127.0.0.1:${PAC_PORT:-18729}"
fi
if ! .venv/bin/wispbill demo --emulator-port "${EMULATOR_PORT:-18728}"; then
  echo "Keeping the data already in ${WISPBILL_DATA_DIR:-./var}."
fi
echo "Log in at http://localhost:${PORT:-8000}/ as admin/admin (or staff/staff)."
.venv/bin/wispbill serve --port "${PORT:-8000}"
