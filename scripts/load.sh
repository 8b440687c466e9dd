#!/usr/bin/env bash
# Load test, loopback only: 20 simulated staff (1-3 s between clicks) for 60 s on `wispbill
# serve` with 100,000 clients (SQLite by default; set DATABASE_URL for PostgreSQL), while a daily
# run bills every client. Prints requests/s, p50/p95/p99 and errors.
#   bash scripts/load.sh                 # SQLite, in /tmp/wispbill-load
#   CLIENTS=10000 bash scripts/load.sh   # a smaller ISP
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-100000}
USERS=${USERS:-20}
SECONDS_=${DURATION:-60}
PORT=${PORT:-8765}
export WISPBILL_DATA_DIR=${WISPBILL_DATA_DIR:-/tmp/wispbill-load}
export WISPBILL_NOTICE_PORT=${WISPBILL_NOTICE_PORT:-8766}
export WISPBILL_ALLOWED_HOSTS=127.0.0.1,localhost
mkdir -p "$WISPBILL_DATA_DIR"

python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e ".[load]"

echo "== building an ISP of $CLIENTS clients (kept between runs) =="
.venv/bin/wispbill migrate --verbosity 0
API_KEY=$(.venv/bin/wispbill shell --no-imports -c "
from django.contrib.auth.models import User
from wispbill.clients.models import Client
from wispbill.devtools.benchmarks import common
from wispbill.devtools.benchmarks.daily import forget_runs
from wispbill.staff.services import api_key_create
from wispbill.core.clock import today
from wispbill.core.models import CompanySettings
# As built: every client active (an earlier run, or a scheduler, may have cut them).
if Client.objects.count() != $CLIENTS or Client.objects.exclude(state='active').exists():
    common.wipe()
    common.build($CLIENTS, max(1, $CLIENTS // 100))
forget_runs()
# The one run going on is the script's: the server's scheduler must not start today's own.
CompanySettings.objects.update(last_daily_run=today())
user, _ = User.objects.get_or_create(username='load', defaults={'is_staff': True, 'is_superuser': True})
user.set_password('load-test-pass'); user.save()
# Staff at work are logged in already: one session each, made here, so the 60 s measure the
# pages (a login costs 0.5 s of CPU on purpose, PBKDF2; the script times one apart).
from django.test import Client as Browser
sessions = []
for _ in range($USERS):
    browser = Browser()
    browser.force_login(user, backend='django.contrib.auth.backends.ModelBackend')
    sessions.append(browser.cookies['sessionid'].value)
print(api_key_create(user=user)[1] + ' ' + ','.join(sessions))
" | tail -n 1)
SESSIONS=${API_KEY#* }
API_KEY=${API_KEY%% *}
FIRST_ID=$(.venv/bin/wispbill shell --no-imports -c "
from wispbill.clients.models import Client
print(Client.objects.order_by('id').values_list('id', flat=True).first())" | tail -n 1)

.venv/bin/wispbill serve --host 127.0.0.1 --port "$PORT" --notice-port "$WISPBILL_NOTICE_PORT" \
  > "$WISPBILL_DATA_DIR/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/login/" && break
  sleep 1
done
# A server that has been up a while: each worker has read its templates once.
for _ in $(seq 6); do
  for path in /clients/ "/clients/?q=cliente" "/clients/$FIRST_ID/"; do
    curl -fs -o /dev/null -b "sessionid=${SESSIONS%%,*}" "http://127.0.0.1:$PORT$path" || true
  done
done

echo "== a daily run over every client, while $USERS people work for ${SECONDS_}s =="
.venv/bin/wispbill run-periodic-tasks --date 2026-08-25 --force --json > "$WISPBILL_DATA_DIR/run.json" &
RUN=$!
LOAD_API_KEY=$API_KEY LOAD_SESSIONS=$SESSIONS LOAD_CLIENTS=$CLIENTS LOAD_FIRST_ID=$FIRST_ID .venv/bin/locust \
  -f scripts/locustfile.py --headless --users "$USERS" --spawn-rate "$USERS" \
  --run-time "${SECONDS_}s" --host "http://127.0.0.1:$PORT" --only-summary \
  --csv "$WISPBILL_DATA_DIR/load" > "$WISPBILL_DATA_DIR/locust.log" 2>&1 || true
wait $RUN || true

LOGIN_MS=$(.venv/bin/python - "$PORT" <<'PY'
import re, sys, time, urllib.parse, urllib.request
from http.cookiejar import CookieJar
base = f"http://127.0.0.1:{sys.argv[1]}/login/"
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', opener.open(base).read().decode())
body = urllib.parse.urlencode(
    {"username": "load", "password": "load-test-pass", "csrfmiddlewaretoken": token.group(1)}
).encode()
started = time.perf_counter()
opener.open(urllib.request.Request(base, body, headers={"Referer": base}))
print((time.perf_counter() - started) * 1000)
PY
)
.venv/bin/python - "$WISPBILL_DATA_DIR/load_stats.csv" "$WISPBILL_DATA_DIR/run.json" "$LOGIN_MS" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
total = next(r for r in rows if r["Name"] == "Aggregated")
print(f"{'request':28} {'count':>6} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
for r in rows:
    print(f"{r['Name'][:28]:28} {r['Request Count']:>6} {r['Failure Count']:>5} "
          f"{r['50%']:>7} {r['95%']:>7} {r['99%']:>7}")
print(f"requests/s {float(total['Requests/s']):.1f}; errors {total['Failure Count']}")
run = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
login_ms = float(sys.argv[3])
print(f"one login (PBKDF2), timed apart: {login_ms:.0f} ms")
print(f"daily run meanwhile: {run['invoices_created']} invoices in {run['seconds']} s")
PY
