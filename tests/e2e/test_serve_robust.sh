#!/usr/bin/env bash
# Bad input of every kind against `banter serve` while another call goes
# on (each gets an error event or a clean close), a client that stops
# reading and one that vanishes, then 20 calls on one server.
source "$(dirname "$0")/lib.sh"
serve --max-send-queue 16
# the sanitizer build runs pocketsphinx several times slower: spread the
# calls so that it still keeps up
case "$BANTER" in *asan*) export BANTER_TEST_STAGGER_MS=2500 ;; esac
node "$CLIENTS/robust.mjs" "$HTTP_PORT" | tee "$TMP/out.txt"
grep -q '^[0-9]* passed, 0 failed$' "$TMP/out.txt" || fail "robustness tests failed"
# every client has closed: their sessions go (a slow build takes a while)
for _ in $(seq 120); do
  sessions=$(curl -s "http://127.0.0.1:$HTTP_PORT/healthz")
  grep -q '"sessions":0' <<<"$sessions" && break
  sleep 0.25
done
grep -q '"sessions":0' <<<"$sessions" || fail "sessions left after every client closed: $sessions"
stop_serve
pass "bad input, stalled clients and 20 calls"
