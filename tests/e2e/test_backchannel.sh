#!/usr/bin/env bash
# "mhm" while the agent talks does not stop it.
source "$(dirname "$0")/lib.sh"
sim callers/backchannel.json
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
[ "$(trace_type backchannel | wc -l)" -ge 2 ] || fail "the backchannels were not seen"
[ -z "$(trace_type barge_in)" ] || fail "the backchannel stopped the agent"
g=$(trace_type turn | grep '"kind":"greeting"')
[ "$(field "$g" barge_in)" = false ] || fail "greeting was interrupted"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "2|Saturday|6 pm" ] || fail "booking '$rows', want 2|Saturday|6 pm"
pass "backchannel ignored"
