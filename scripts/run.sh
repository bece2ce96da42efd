#!/usr/bin/env bash
# make run: start `banter serve` with the default agent, place one
# simulated call against its own WebSocket endpoint, print that call, and
# keep serving until Ctrl-C. SERVE_ARGS: more options for `banter serve`
# (the tests give it free ports for SIP and a database of their own).
set -euo pipefail
BANTER=${1:-./build/banter}
PORT=${PORT:-8080}
TLS_PORT=${TLS_PORT:-8443}
# shellcheck disable=SC2086  # SERVE_ARGS: words, as on a command line
"$BANTER" serve --agent agents/restaurant.json --port "$PORT" --tls-port "$TLS_PORT" \
  ${SERVE_ARGS:-} &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' INT TERM
for _ in $(seq 150); do
  curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo
echo "== a simulated caller (callers/booking.json) calls ws://127.0.0.1:$PORT/v1/realtime"
"$BANTER" call "ws://127.0.0.1:$PORT/v1/realtime" --caller callers/booking.json || true
echo
echo "banter serve keeps serving: open http://localhost:$PORT/ in a browser. Ctrl-C stops it."
wait $pid
