#!/usr/bin/env bash
# A speakerphone: the agent's own voice leaks back into the caller's mic at
# -20 dB. With the echo canceller the agent never interrupts itself; the
# same call without it shows the problem the canceller solves.
source "$(dirname "$0")/lib.sh"
sim callers/booking.json --echo-db -20 --echo-delay-ms 80
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
[ -z "$(trace_type barge_in)" ] || fail "the agent interrupted itself (barge-in on its own echo)"
n=$(trace_type backchannel | wc -l)
[ "$n" = 0 ] || fail "the echo was heard as $n backchannels"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "3|Tuesday|7 pm" ] || fail "booking '$rows'"
cp "$TMP/trace.jsonl" "$TMP/aec.jsonl"
sim callers/booking.json --echo-db -20 --echo-delay-ms 80 --no-aec --max-s 40
bad=$(( $(trace_type paused | wc -l) + $(trace_type barge_in | wc -l) ))
[ "$bad" -gt 0 ] || fail "baseline without AEC did not react to the echo (test proves nothing)"
pass "no self-interruption with AEC ($bad pauses/barge-ins without it)"
