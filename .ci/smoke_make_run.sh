#!/usr/bin/env bash
# Starts `make run` on SQLite, checks 401 without a token and 200 with the bootstrap token, then stops it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

export SCFM_DATA_DIR
SCFM_DATA_DIR="$(mktemp -d)"
export PORT="${SMOKE_PORT:-8765}"
unset DATABASE_URL CELERY_BROKER_URL
log="$SCFM_DATA_DIR/make-run.log"

setsid make run >"$log" 2>&1 &
pgid=$!
cleanup() { kill -KILL -- "-$pgid" 2>/dev/null || true; }
trap cleanup EXIT

base="http://127.0.0.1:$PORT"
for _ in $(seq 1 90); do
  if curl -s -o /dev/null "$base/api/contacts"; then break; fi
  if ! kill -0 "$pgid" 2>/dev/null; then cat "$log"; echo "make run died"; exit 1; fi
  sleep 1
done

status=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/contacts")
[ "$status" = "401" ] || { cat "$log"; echo "expected 401 without a token, got $status"; exit 1; }

token=$(.venv/bin/python manage.py bootstrap | tail -n 1)
grep -q "$token" "$log" || { cat "$log"; echo "make run did not print the bootstrap token"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/api/contacts")
[ "$status" = "200" ] || { cat "$log"; echo "expected 200 with the token, got $status"; exit 1; }
echo "smoke: 401 without a token, 200 with the bootstrap token"

kill -INT -- "-$pgid"
for _ in $(seq 1 30); do
  if ! pgrep -g "$pgid" >/dev/null 2>&1; then echo "smoke: make run stopped cleanly"; trap - EXIT; exit 0; fi
  sleep 1
done
cat "$log"
echo "make run did not stop within 30 s of Ctrl-C"
exit 1
