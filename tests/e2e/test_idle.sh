#!/usr/bin/env bash
# Silence: the agent checks ("are you still there?") then hangs up politely.
source "$(dirname "$0")/lib.sh"
sim callers/idle.json
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC (the hang-up should end the call normally)"
grep -qi "are you still there" "$TMP/out.txt" || fail "no idle check"
n=$(trace_type turn | grep -c '"kind":"idle"')
[ "$n" -ge 2 ] || fail "want an idle check and a hang-up, got $n idle replies"
trace_type ended | grep -q '"reason":"completed"' || fail "the agent did not end the call"
[ "$(sql "select count(*) from bookings" 2>/dev/null || echo 0)" = 0 ] || fail "a booking was made"
pass "idle check then hang-up"
