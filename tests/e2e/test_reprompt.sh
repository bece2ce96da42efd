#!/usr/bin/env bash
# An off-topic answer gets "sorry, could you repeat that?"; opening hours
# are answered from any node; the booking still completes.
source "$(dirname "$0")/lib.sh"
sim callers/reprompt.json
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
grep -qi "sorry, could you repeat that" "$TMP/out.txt" || fail "no reprompt"
grep -qi "we're open" "$TMP/out.txt" || fail "opening hours not answered"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "3|Tuesday|7 pm" ] || fail "booking '$rows', want 3|Tuesday|7 pm"
pass "reprompt and hours"
