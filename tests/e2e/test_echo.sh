#!/usr/bin/env bash
# A speakerphone: the agent's own voice leaks back into the caller's mic at
# -20 dB. With the echo canceller the agent never interrupts itself; the
# same call without it shows the problem the canceller solves.
source "$(dirname "$0")/lib.sh"
# the booking caller, answering a value the agent asks back: its own voice
# under the caller's words can leave one unsure (ps_conf.c)
cat >"$TMP/caller.json" <<'EOF'
{"voice": "flite:slt", "gap_ms": 300,
 "turns": [{"say": "a table for three please"},
           {"say": "yes", "if_agent_said": "three, is that right"},
           {"say": "tuesday"},
           {"say": "yes", "if_agent_said": "tuesday, is that right"},
           {"say": "seven pm"},
           {"say": "yes", "if_agent_said": "7 pm, is that right"},
           {"say": "yes"}]}
EOF
sim "$TMP/caller.json" --echo-db -20 --echo-delay-ms 80
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
[ -z "$(trace_type barge_in)" ] || fail "the agent interrupted itself (barge-in on its own echo)"
n=$(trace_type backchannel | wc -l)
[ "$n" = 0 ] || fail "the echo was heard as $n backchannels"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "3|Tuesday|7 pm" ] || fail "booking '$rows'"
cp "$TMP/trace.jsonl" "$TMP/aec.jsonl"
sim "$TMP/caller.json" --echo-db -20 --echo-delay-ms 80 --no-aec --max-s 40
bad=$(( $(trace_type paused | wc -l) + $(trace_type barge_in | wc -l) ))
[ "$bad" -gt 0 ] || fail "baseline without AEC did not react to the echo (test proves nothing)"
pass "no self-interruption with AEC ($bad pauses/barge-ins without it)"
