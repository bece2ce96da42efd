#!/usr/bin/env bash
# Voice fallback chains (persona.fallback_voice as a list): ElevenLabs
# (tests/clients/elevenlabs_mock.mjs) refused hands the call to an
# OpenAI-compatible speech server (tests/clients/speech_mock.mjs); both
# refused, espeak at the end of the chain speaks; a chain that runs out
# leaves the sentences silent with an error and the call goes on; the trace
# names each voice that failed and the one that took over; bad lists are
# refused at load with file:line.
source "$(dirname "$0")/lib.sh"
pyrun_start  # one python for the checks below (lib.sh)
MOCK_PID=""
SPID=""
trap '[ -n "$MOCK_PID" ] && kill $MOCK_PID 2>/dev/null; [ -n "$SPID" ] && kill $SPID 2>/dev/null; rm -rf "$TMP"' EXIT

# speech MOCKARGS...: (re)start the speech server -> SPID, SPORT
speech() {
  [ -n "$SPID" ] && { kill $SPID 2>/dev/null || true; wait $SPID 2>/dev/null || true; }
  rm -f "$TMP/speech.out"
  node "$CLIENTS/speech_mock.mjs" --port 0 "$@" >"$TMP/speech.out" 2>"$TMP/speech.err" &
  SPID=$!
  for _ in $(seq 100); do
    SPORT=$(awk '/^listening/{print $2}' "$TMP/speech.out" 2>/dev/null)
    [ -n "$SPORT" ] && return 0
    sleep 0.05
  done
  cat "$TMP/speech.err" >&2; fail "the speech server did not start"
}
agent() {
  pyrun "$1" >"$TMP/agent.json" <<'EOF'
import json, sys
a = json.load(open("agents/restaurant.json"))
a["persona"]["voice"] = "elevenlabs:21m00Tcm4TlvDq8ikWAM"
a["persona"]["fallback_voice"] = json.loads(sys.argv[1])
print(json.dumps(a, indent=2))
EOF
}
vsim() {
  rm -f "$TMP/trace.jsonl" "$TMP/db"
  set +e
  OPENAI_API_KEY=sk-test OPENAI_BASE_URL="http://127.0.0.1:$SPORT/v1" \
  ELEVENLABS_API_KEY=xi-test ELEVENLABS_BASE_URL="ws://127.0.0.1:$PORT" \
    timeout 120 "$BANTER" simulate --agent "$TMP/agent.json" --caller "$1" \
    --trace "$TMP/trace.jsonl" --db "$TMP/db" >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}
py() {
  curl -s "http://127.0.0.1:$SPORT/log" >"$TMP/slog.json"
  pyrun "$TMP" "$1" <<'EOF'
import json, sys
d = sys.argv[1]
tr = [json.loads(l) for l in open(d + "/trace.jsonl")]
turns = [t for t in tr if t["type"] == "turn"]
errs = [t for t in tr if t["type"] == "error"]
errors = [t.get("text", "") for t in errs]
slog = json.load(open(d + "/slog.json"))
v = eval(sys.argv[2])
print(v if not isinstance(v, bool) else ("yes" if v else "no"))
EOF
}
check() { [ "$(py "$1")" = yes ] || fail "$2 ($1)"; }
booked() {
  [ "$SIM_RC" = 0 ] || fail "$1: the call did not complete ($SIM_RC)"
  [ "$(sql 'select party, day, time from bookings')" = "$2" ] ||
    fail "$1: the booking is not $2: $(sql 'select party, day, time from bookings')"
}
EL='elevenlabs:21m00Tcm4TlvDq8ikWAM'

# 1. ElevenLabs refused: the OpenAI-compatible voice, next in the chain,
#    says every sentence (ElevenLabs' socket is opened at set-up, so its
#    refusal is known by the first sentence or comes back for it)
agent '["openai:alloy", "espeak:en-us+f3"]'
mock_start elevenlabs_mock.mjs --key xi-test --refuse
speech --key sk-test
vsim callers/booking.json
booked "elevenlabs refused" "3|Tuesday|7 pm"
check 'len(errs) == 1 and errs[0]["stage"] == "tts" and errs[0]["failed"] == "'$EL'" and errs[0]["fallback"] == "openai:alloy" and "openai:alloy" in errors[0]' "one switch in the trace: ElevenLabs failed, openai took over"
check 'len(slog) >= 8 and all(r["status"] == 200 and r["body"]["voice"] == "alloy" for r in slog) and "Hello, thanks for calling" in slog[0]["body"]["input"]' "the OpenAI voice said every sentence, the first included"
check 'all(t["first_audio_ms"] is not None for t in turns)' "every turn has audio"
pass "ElevenLabs refused: the next voice of the chain speaks"

# 2. both refused (a wrong OpenAI key): espeak, last in the chain, speaks;
#    two switches, each naming who failed and who took over
speech --key sk-other
vsim callers/booking.json
booked "both refused" "3|Tuesday|7 pm"
check 'len(errs) == 2 and [(e["failed"], e["fallback"]) for e in errs] == [("'$EL'", "openai:alloy"), ("openai:alloy", "espeak:en-us+f3")]' "the trace: elevenlabs -> openai -> espeak"
check '"401" in errors[1]' "the second switch says why (401)"
check 'len(slog) == 1 and slog[0]["status"] == 401' "one request to the refused voice, none after"
check 'all(t["first_audio_ms"] is not None for t in turns)' "every turn has audio (espeak)"
pass "ElevenLabs and OpenAI refused: espeak speaks"

# 3. ElevenLabs' socket closed at the third sentence: openai takes that
#    sentence, whole, and the rest of the call
mock_start elevenlabs_mock.mjs --key xi-test --fail-from 3
speech --key sk-test
vsim callers/booking.json
booked "elevenlabs closed mid-call" "3|Tuesday|7 pm"
check 'len(errs) == 1 and errs[0]["fallback"] == "openai:alloy" and "ElevenLabs" in errors[0]' "one switch, to openai"
check 'len(slog) >= 3 and all(r["status"] == 200 for r in slog) and "Hello, thanks for calling" not in slog[0]["body"]["input"]' "openai said the rest, not the start"
pass "ElevenLabs closed mid-call: the next voice takes the sentence and the rest"

# 4. a chain that runs out: every sentence silent with an error, the
#    session survives and the call completes
agent '["openai:alloy"]'
mock_start elevenlabs_mock.mjs --key xi-test --refuse
speech --key sk-other
vsim callers/booking.json
[ "$SIM_RC" = 0 ] || fail "all voices failed: the call did not complete ($SIM_RC)"
check 'errs[0]["fallback"] == "openai:alloy" and all(e["fallback"] is None and "no fallback voice is left" in e["text"] for e in errs[1:]) and len(errs) >= 3' "each sentence said failed, none left"
check 'all(t["first_audio_ms"] is None for t in turns) and len(turns) >= 3' "silence, turn after turn"
pass "every voice of the chain fails: silence with an error, the call goes on"

# 5. bad lists refused at load with the file, line and field
bad() {
  agent "$1"
  set +e
  OPENAI_API_KEY=sk-test ELEVENLABS_API_KEY=xi-test "$BANTER" simulate \
    --agent "$TMP/agent.json" --caller callers/booking.json >"$TMP/out.txt" 2>&1
  rc=$?
  set -e
  [ $rc != 0 ] || fail "$1 was accepted"
  line=$(grep -n '"fallback_voice"' "$TMP/agent.json" | cut -d: -f1)
  grep -qE "agent.json:($line|$((line + 1))|$((line + 2))|$((line + 3))|$((line + 4))|$((line + 5))):[0-9]+: .*$2" "$TMP/out.txt" ||
    fail "$1: not refused with file:line and \"$2\": $(cat "$TMP/out.txt")"
}
bad '[]' 'persona.fallback_voice" must be a voice or a list of 1 to 4'
bad '["openai:alloy", "flite:slt", "espeak:en-us", "openai:echo", "espeak:en"]' 'list of 1 to 4 voices.*5 entries'
bad '["openai:alloy", "nope:x"]' 'persona.fallback_voice\[1\]" is "nope:x" but there is no speech synthesiser'
bad '["openai:alloy", 7]' 'persona.fallback_voice\[1\]" must be a voice name'
bad '["alloy"]' 'must be "provider:voice"'
bad '{"voice": "espeak:en"}' 'must be a voice or a list'
pass "bad fallback lists are refused at load"
