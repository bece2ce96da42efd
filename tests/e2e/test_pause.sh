#!/usr/bin/env bash
# A pause inside an utterance ("a table for ... three people") is not the
# end of the turn: the agent waits and hears the whole answer.
source "$(dirname "$0")/lib.sh"
sim callers/pause_long.json
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
first=$(trace_type user | head -1)
text=$(field "$first" text)
case "$text" in *three*) ;; *) fail "first user turn was cut: '$text'";; esac
grep -qi "sorry, could you repeat" "$TMP/out.txt" && fail "the agent reprompted: a pause was taken for an end"
[ "$(trace_type user | wc -l)" = 4 ] || fail "want 4 user turns, got $(trace_type user | wc -l)"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "3|Tuesday|7 pm" ] || fail "booking '$rows', want 3|Tuesday|7 pm"
# the same call with a fixed 500 ms silence cuts the caller off
python3 -c "import json,sys; a=json.load(open('agents/restaurant.json')); a['turn'].update({'end_silence_ms': 500, 'endpointing': 'fixed'}); json.dump(a, open(sys.argv[1], 'w'), indent=1)" "$TMP/fixed.json"
grep -q '"endpointing": "fixed"' "$TMP/fixed.json" || fail "could not make the fixed-silence agent"
set +e
"$BANTER" simulate --agent "$TMP/fixed.json" --caller callers/pause_long.json \
  --trace "$TMP/fixed.jsonl" --db "$TMP/db2" >"$TMP/out2.txt" 2>&1
set -e
first=$(grep '"type":"user"' "$TMP/fixed.jsonl" | head -1)
case "$(field "$first" text)" in *three*) fail "baseline: fixed 500 ms did not cut the pause (test proves nothing)";; esac
pass "pauses inside an utterance are not ends of turns (fixed 500 ms cuts them)"
