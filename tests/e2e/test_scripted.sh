#!/usr/bin/env bash
# The test and benchmark providers: the scripted recogniser ("script")
# hears the agent file's words, one entry per utterance, whatever the
# caller says, and drives the restaurant flow to a booking; the silent
# voice ("silent") gives each word its time (persona.rate_wpm, or "silent:MS")
# as silence, with word timings, so the reply's length and the words heard
# before a barge-in follow from them. Bad settings are refused at load with
# file:line and what to do.
source "$(dirname "$0")/lib.sh"

# the restaurant agent with the two providers; $1: voice, $2: words (JSON)
agent() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
a = json.load(open("agents/restaurant.json"))
a["persona"]["voice"] = sys.argv[1]
a["stt"] = {"provider": "script", "words": json.loads(sys.argv[2]), "delay_ms": 200}
json.dump(a, open(sys.argv[3], "w"), indent=1)
EOF
}
run() {  # run AGENT CALLER
  set +e
  "$BANTER" simulate --agent "$1" --caller "$2" --trace "$TMP/trace.jsonl" \
    --out "$TMP/call.wav" --db "$TMP/db" >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}

# 1. the caller says other words than the script's: the script's are heard
cat >"$TMP/caller.json" <<'EOF'
{"voice": "flite:slt", "gap_ms": 300,
 "turns": [{"say": "two people"}, {"say": "saturday"}, {"say": "six pm"}, {"say": "yes"}]}
EOF
agent "silent:" '["Four people!", "friday", "eight pm", "yes"]' "$TMP/agent.json"
run "$TMP/agent.json" "$TMP/caller.json"
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "4|Friday|8 pm" ] || fail "booking row is '$rows', want 4|Friday|8 pm (the script's words)"
for w in "four people" friday "eight pm" yes; do
  grep -qF "agent heard: \"$w\" (confidence 0.95)" "$TMP/out.txt" || fail "the agent did not hear \"$w\""
done
# each heard utterance showed as a partial first (delay_ms of speech)
n=$(trace_type partial | wc -l)
[ "$n" = 4 ] || fail "$n partial transcripts, want 4"
# the greeting and the first question: 13 words at 160 words a minute
# (375 ms each), as silence
first=$(trace_type agent_done | head -1)
[ "$(field "$first" audio_ms)" = 4875 ] || fail "greeting lasted $(field "$first" audio_ms) ms, want 13 x 375"
peak=$(sox "$TMP/call.wav" -n remix 2 stat 2>&1 | awk '/Maximum amplitude/{print $3}')
len=$(sox --i -D "$TMP/call.wav")
awk -v p="$peak" -v l="$len" 'BEGIN{exit !(p == 0 && l > 15)}' \
  || fail "the agent's channel is not silence over the call (peak $peak, $len s)"

# 2. a barge-in at 1.5 s into "silent:250" speech: the caller heard the
# words that had ended, audio_ms / 250 of them
agent "silent:250" '["wait stop", "four people", "friday", "eight pm", "yes"]' "$TMP/agent_b.json"
rm -f "$TMP/db"
run "$TMP/agent_b.json" callers/barge_in.json
[ "$SIM_RC" = 0 ] || fail "simulate (barge-in) exited $SIM_RC"
b=$(trace_type barge_in | head -1)
[ -n "$b" ] || fail "no barge-in over the silent voice"
ms=$(field "$b" audio_ms)
heard=$(field "$b" text)
[ "$(wc -w <<<"$heard")" = $((ms / 250)) ] || fail "heard '$heard' at $ms ms, want $((ms / 250)) words of 250 ms"
[ "$(sql "select party, day, time from bookings")" = "4|Friday|8 pm" ] || fail "no booking after the barge-in"

# 3. bad settings: refused when the agent loads, with file:line and why
bad() {  # bad PYTHON-EDIT WANT
  python3 - "$1" "$TMP/agent.json" "$TMP/bad.json" <<'EOF'
import json, sys
a = json.load(open(sys.argv[2]))
exec(sys.argv[1])
json.dump(a, open(sys.argv[3], "w"), indent=1)
EOF
  set +e
  "$BANTER" check "$TMP/bad.json" >"$TMP/check.txt" 2>&1
  local rc=$?
  set -e
  [ $rc = 1 ] || fail "banter check took a bad agent ($1): rc $rc"
  grep -qE "^$TMP/bad.json:[0-9]+:[0-9]+: .*$2" "$TMP/check.txt" \
    || fail "($1) message: $(cat "$TMP/check.txt"), want file:line: ...$2"
}
bad 'del a["stt"]["words"]' '"script" needs "words"'
bad 'a["stt"]["words"] = []' '"stt.words" must list 1 to 32'
bad 'a["stt"]["words"] = ["yes", 3]' '"stt.words\[1\]" must be a string'
bad 'a["stt"]["words"] = "?!"' 'holds no word'
bad 'a["stt"]["delay_ms"] = -1' '"stt.delay_ms" must be a whole number'
bad 'a["stt"]["confidence"] = 2' '"stt.confidence" must be a number from 0 to 1'
bad 'a["stt"]["word"] = "x"' 'unknown field "stt.word"'
bad 'a["persona"]["voice"] = "silent:fast"' 'after "silent:" comes the milliseconds'
bad 'a["persona"]["voice"] = "silent:0"' 'after "silent:" comes the milliseconds'
"$BANTER" check "$TMP/agent.json" >/dev/null || fail "banter check refused the good agent"
pass "script + silent drive the restaurant flow (booking 4|Friday|8 pm), timed silence, barge-in cut at $ms ms to '$heard', bad settings refused"
