#!/usr/bin/env bash
# Real Realtime clients against `banter serve`: the ws package over ws://
# and the official openai package over wss://, voice and text, barge-in and
# truncate, manual turns, protocol errors, API keys. Then a clean SIGTERM.
source "$(dirname "$0")/lib.sh"
# a second agent, picked with ?model=second
sed -e "s/\"name\": \"Bella's Trattoria\"/\"name\": \"Second Line\"/" \
    -e "s/thanks for calling Bella's Trattoria/this is the second line/" \
    agents/restaurant.json >"$TMP/second.json"
grep -q 'Second Line' "$TMP/second.json" || fail "could not make the second agent"
serve --api-key test-key --agent "$TMP/second.json"
node "$CLIENTS/realtime.mjs" "$HTTP_PORT" "$TLS_PORT" | tee "$TMP/out.txt"
grep -q '^[0-9]* passed, 0 failed$' "$TMP/out.txt" || fail "Realtime client tests failed"
rows=$(sqlite3 "$TMP/db" "select party, day, time from bookings")
[ "$rows" = "3|Tuesday|7 pm" ] || fail "the typed booking's row is '$rows', want 3|Tuesday|7 pm"
stop_serve
pass "Realtime clients"
