#!/usr/bin/env bash
# What `make run` does after building (scripts/run.sh), the README's first
# command: `banter serve` with the default agent starts and says where it
# listens, one simulated call to its own WebSocket endpoint books a table
# and prints both sides and the latency table, the server keeps serving
# (a second client gets a session), and Ctrl-C stops it cleanly.
source "$(dirname "$0")/lib.sh"
RUN_PID=""
trap '[ -n "$RUN_PID" ] && kill -INT -- -$RUN_PID 2>/dev/null; sleep 1; rm -rf "$TMP"' EXIT

read -r HTTP_PORT TLS_PORT SIP_PORT SIP_TLS_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
# its own process group, as a terminal gives it: Ctrl-C reaches all of it
PORT=$HTTP_PORT TLS_PORT=$TLS_PORT \
  SERVE_ARGS="--sip-port $SIP_PORT --sip-tls-port $SIP_TLS_PORT --addr 127.0.0.1 --db $TMP/db" \
  setsid scripts/run.sh "$BANTER" >"$TMP/out.txt" 2>&1 &
RUN_PID=$!
for _ in $(seq 1200); do
  grep -q 'keeps serving' "$TMP/out.txt" && break
  kill -0 $RUN_PID 2>/dev/null || fail "make run's script exited before serving"
  sleep 0.1
done
grep -q 'keeps serving' "$TMP/out.txt" || fail "make run never said it keeps serving"

grep -q "browser page:  http://localhost:$HTTP_PORT/" "$TMP/out.txt" || fail "the page's address is not printed"
grep -q "Realtime API:  ws://localhost:$HTTP_PORT/v1/realtime" "$TMP/out.txt" || fail "the WebSocket address is not printed"
grep -q "wss://localhost:$TLS_PORT/v1/realtime" "$TMP/out.txt" || fail "the wss address is not printed"
grep -q "caller: a table for three please" "$TMP/out.txt" || fail "the simulated call's words are not printed"
grep -q 'agent:  A table for three on Tuesday at 7 pm, is that right?' "$TMP/out.txt" || fail "the agent's confirmation is not printed"
grep -q 'Your booking number is' "$TMP/out.txt" || fail "the call did not book"
grep -q '^latency per turn' "$TMP/out.txt" || fail "no latency table"
[ "$(grep -cE '^ +[1-4] ' "$TMP/out.txt")" = 4 ] || fail "the latency table has not 4 turns"
[ "$(sqlite3 "$TMP/db" 'select party, day, time from bookings')" = "3|Tuesday|7 pm" ] ||
  fail "the booking is not in the server's database"
pass "make run: serves, places one call, prints it"

# still serving: the page, and a second client's session
curl -sf "http://127.0.0.1:$HTTP_PORT/" | grep -qi '<html' || fail "the page is not served after the call"
curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null || fail "no health check after the call"
pass "make run keeps serving after its call"

# Ctrl-C: the whole group gets SIGINT, the server stops cleanly
kill -INT -- -$RUN_PID
rc=0
for _ in $(seq 300); do
  kill -0 $RUN_PID 2>/dev/null || break
  sleep 0.1
done
kill -0 $RUN_PID 2>/dev/null && fail "make run did not stop on Ctrl-C"
wait $RUN_PID || rc=$?
RUN_PID=""
grep -q 'banter serve: stopped' "$TMP/out.txt" || fail "the server did not stop cleanly on Ctrl-C (script rc $rc)"
pass "Ctrl-C stops make run cleanly"
