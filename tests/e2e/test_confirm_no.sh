#!/usr/bin/env bash
# "no" at the confirmation re-asks, and only the confirmed booking is saved.
source "$(dirname "$0")/lib.sh"
sim callers/confirm_no.json
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
grep -q "is that right?" "$TMP/out.txt" || fail "no confirmation"
n=$(grep -c "How many people" "$TMP/out.txt")
[ "$n" -ge 2 ] || fail "the party size was not asked again after no"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "3|Tuesday|7 pm" ] || fail "bookings are '$rows', want only 3|Tuesday|7 pm"
pass "no re-asks; one booking"
