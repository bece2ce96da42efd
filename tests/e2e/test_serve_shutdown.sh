#!/usr/bin/env bash
# SIGTERM with a call in progress: the server stops accepting, the caller
# hears a goodbye, the connection closes, and the server exits 0.
source "$(dirname "$0")/lib.sh"
serve
node "$CLIENTS/shutdown.mjs" "$HTTP_PORT" >"$TMP/out.txt" 2>&1 &
client=$!
for _ in $(seq 600); do grep -q READY "$TMP/out.txt" && break; sleep 0.1; done
grep -q READY "$TMP/out.txt" || fail "the call did not start"
kill -TERM $SERVE_PID
# no new calls while it says goodbye
sleep 0.3
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/healthz" || true)
[ "$code" != 200 ] || fail "still accepting connections after SIGTERM"
wait $client || true
cat "$TMP/out.txt"
grep -q '^1 passed, 0 failed$' "$TMP/out.txt" || fail "no goodbye before the close"
rc=0
wait $SERVE_PID || rc=$?
[ $rc = 0 ] || { cat "$TMP/serve.txt" >&2; fail "banter serve exited $rc"; }
grep -q 'banter serve: stopped' "$TMP/serve.txt" || fail "no clean stop"
pass "graceful shutdown"
