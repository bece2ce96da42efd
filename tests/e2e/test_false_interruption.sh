#!/usr/bin/env bash
# A sound with no words (a cough, a buzz) while the agent talks pauses it
# for a moment; then it resumes the sentence where it paused.
source "$(dirname "$0")/lib.sh"
sox -n -r 16000 -c 1 -b 16 "$TMP/buzz.wav" synth 0.35 sawtooth 140 vol 0.3 fade 0.02 0.35 0.05
cat >"$TMP/caller.json" <<'JSON'
{"voice": "flite:slt", "turns": [
  {"wav": "buzz.wav", "barge_in_after_ms": 1500},
  {"say": "two people"}, {"say": "yes", "if_agent_said": "two, is that right"},
  {"say": "friday"}, {"say": "yes", "if_agent_said": "friday, is that right"},
  {"say": "eight pm"}, {"say": "yes", "if_agent_said": "8 pm, is that right"},
  {"say": "yes"}]}
JSON
sim "$TMP/caller.json"
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
[ -n "$(trace_type paused)" ] || fail "the buzz did not pause the agent (nothing tested)"
[ -n "$(trace_type resumed)" ] || fail "the agent did not resume after the buzz"
[ -z "$(trace_type barge_in)" ] || fail "the buzz stopped the agent"
g=$(trace_type turn | grep '"kind":"greeting"')
[ "$(field "$g" barge_in)" = false ] || fail "the greeting was cut"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "2|Friday|8 pm" ] || fail "booking '$rows'"
pass "false interruption resumed"
