#!/usr/bin/env bash
# Cloud recognisers end to end: `banter simulate` with the restaurant agent
# on Deepgram (a local server speaking Deepgram's live protocol,
# tests/clients/deepgram_mock.mjs, that knows the caller's words), and each
# way the network can fail: refused, the socket closed mid-utterance, no
# final in time. Every call must complete with the right booking, the
# trace must say which provider took over, and no words may be lost.
source "$(dirname "$0")/lib.sh"
pyrun_start  # one python for the checks below (lib.sh)
MOCK_PID=""
trap '[ -n "$MOCK_PID" ] && kill $MOCK_PID 2>/dev/null; rm -rf "$TMP"' EXIT

echo '["a table for three please","tuesday","seven pm","yes"]' >"$TMP/script.json"

# mock [args]: (re)start the Deepgram mock -> $PORT
mock() { mock_start deepgram_mock.mjs --script "$TMP/script.json" --key dg-test "$@"; }
# agent PYTHON: agents/restaurant.json changed by a statement on a
agent() {
  pyrun "$1" >"$TMP/agent.json" <<'EOF'
import json, sys
a = json.load(open("agents/restaurant.json"))
exec(sys.argv[1])
print(json.dumps(a))
EOF
}
# dgsim [args]: the booking caller against the mock
dgsim() {
  rm -f "$TMP/trace.jsonl" "$TMP/db"
  set +e
  DEEPGRAM_API_KEY=${KEY-dg-test} DEEPGRAM_BASE_URL="ws://127.0.0.1:$PORT" \
    timeout 120 "$BANTER" simulate --agent "$TMP/agent.json" --caller callers/booking.json \
    --trace "$TMP/trace.jsonl" --db "$TMP/db" "$@" >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}
# py EXPR over the trace (tr, turns, errors) and the mock's log (log)
py() {
  curl -s "http://127.0.0.1:$PORT/log" >"$TMP/log.json"
  pyrun "$TMP" "$1" <<'EOF'
import json, sys
d = sys.argv[1]
tr = [json.loads(l) for l in open(d + "/trace.jsonl")]
turns = [t for t in tr if t["type"] == "turn" and t["kind"] == "reply"]
heard = [t["user_text"] for t in turns]
errors = [t.get("text", "") for t in tr if t["type"] == "error"]
log = json.load(open(d + "/log.json"))
v = eval(sys.argv[2])
print(v if not isinstance(v, bool) else ("yes" if v else "no"))
EOF
}
check() { [ "$(py "$1")" = yes ] || fail "$2 ($1)"; }
booked() {
  [ "$SIM_RC" = 0 ] || fail "$1: the call did not complete ($SIM_RC)"
  [ "$(sql 'select party, day, time from bookings')" = "3|Tuesday|7 pm" ] ||
    fail "$1: the booking is not 3|Tuesday|7 pm: $(sql 'select party, day, time from bookings')"
}

# 1. a whole call on Deepgram: the caller's words as the server gave them,
#    the key sent, every frame streamed, the stream closed at the end
agent 'a["stt"] = {"provider": "deepgram", "keyterm": ["Bella"], "fallback": ["pocketsphinx"]}'
mock
dgsim
booked "deepgram"
check 'heard == ["a table for three please", "tuesday", "seven pm", "yes"]' "the words are Deepgram's"
check 'not errors' "no errors on a working connection"
check 'len(log) == 1 and log[0]["path"] == "/v1/listen"' "one connection for the call"
check 'log[0]["query"]["encoding"] == "linear16" and log[0]["query"]["sample_rate"] == "16000" and log[0]["query"]["interim_results"] == "true" and log[0]["query"]["keyterm"] == "Bella" and log[0]["query"]["vad_events"] == "true"' "the documented query parameters"
check 'log[0]["audio_bytes"] > 16000 * 2 * 15' "the call's audio streamed (every frame)"
check 'log[0]["closed"] == "CloseStream" and {"type": "CloseStream"} in log[0]["messages"]' "CloseStream at the end"
check 'all(t["stt_final_ms"] - t["endpoint_ms"] <= 300 for t in turns)' "the final comes soon after the end of the turn (Finalize)"
pass "a call on Deepgram"

# 2. a wrong key: refused, pocketsphinx takes over from the start
KEY=wrong dgsim
booked "wrong key"
check 'any("takes over" in e and "pocketsphinx" in e for e in errors)' "the trace says who took over"
check 'any("HTTP 401" in e for e in errors)' "the refusal's status is named"
pass "refused (wrong key): pocketsphinx from the start"

# 3. the socket breaks while the caller speaks: the utterance's audio goes
#    to pocketsphinx and its words are not lost
mock --fail close-mid-utterance
dgsim
booked "closed mid-utterance"
check 'any("utterance" in e and "takes over" in e for e in errors)' "the switch is within the utterance"
check 'heard[0] == "a table for three please"' "the first utterance's words kept ($(py heard))"
pass "socket closed mid-utterance: no words lost"

# 4. no final in time: the same
mock --fail silent
dgsim
booked "silent server"
check 'any("sent nothing within" in e for e in errors)' "the timeout is named"
pass "no final in time: fallback"

# 4b. a broken server sends junk before every message (not JSON, arrays,
#     binary frames, wrong types, words with out-of-range numbers): it is
#     skipped, the words are Deepgram's and nothing falls back
mock --junk
dgsim
booked "junk"
check 'heard == ["a table for three please", "tuesday", "seven pm", "yes"]' "the words despite the junk ($(py heard))"
check 'not errors' "junk is not a failure"
pass "junk between Deepgram's messages is skipped"

# 5. Flux: the recogniser's own turn events end the turns (with junk
#    between them, Nova's Results among it: a Flux socket takes none)
agent 'a["stt"] = {"provider": "deepgram", "model": "flux-general-en", "eager_eot_threshold": 0.5, "fallback": ["pocketsphinx"]}; a["turn"]["endpointing"] = "recogniser"'
mock --junk
dgsim
booked "flux"
check 'log[0]["path"] == "/v2/listen" and log[0]["query"]["model"] == "flux-general-en"' "Flux's endpoint"
check 'heard == ["a table for three please", "tuesday", "seven pm", "yes"]' "Flux's words"
pass "Deepgram Flux ends the turns"

# 5b. Flux's eager mode: a reply starts on EagerEndOfTurn with its audio
#     held; at a pause in the caller's words TurnResumed drops it (nothing
#     was heard), and the whole turn is answered once
echo '["a table for [pause] three people","tuesday","seven pm","yes"]' >"$TMP/script.json"
mock
rm -f "$TMP/trace.jsonl" "$TMP/db"
set +e
DEEPGRAM_API_KEY=dg-test DEEPGRAM_BASE_URL="ws://127.0.0.1:$PORT" timeout 120 "$BANTER" simulate \
  --agent "$TMP/agent.json" --caller callers/pause_long.json --trace "$TMP/trace.jsonl" \
  --db "$TMP/db" >"$TMP/out.txt" 2>&1
SIM_RC=$?
set -e
booked "flux eager"
check 'any(t["type"] == "barge_in" and t.get("reason") == "turn_resumed" and not t.get("text") for t in tr)' "the eager reply at the pause was dropped unheard"
check 'heard == ["a table for", "a table for three people", "tuesday", "seven pm", "yes"]' "one answer for the whole turn"
check 'not [t for t in turns if t["user_text"] == "a table for" and t.get("first_audio_ms") is not None and t.get("audio_out_ms")]' "no audio of the dropped reply left"
pass "Flux eager end of turn: started early, dropped on TurnResumed"
echo '["a table for three please","tuesday","seven pm","yes"]' >"$TMP/script.json"

# 6. checked at load: no key for the cloud, a bad field, an unknown fallback
agent 'a["stt"] = {"provider": "deepgram"}'
set +e
env -u DEEPGRAM_API_KEY -u DEEPGRAM_BASE_URL "$BANTER" simulate --agent "$TMP/agent.json" \
  --caller callers/booking.json >"$TMP/out.txt" 2>&1
rc=$?
set -e
[ $rc != 0 ] && grep -q DEEPGRAM_API_KEY "$TMP/out.txt" || fail "a missing key is not reported at load"
agent 'a["stt"] = {"provider": "deepgram", "endpointing_ms": "fast"}'
set +e
DEEPGRAM_API_KEY=x "$BANTER" simulate --agent "$TMP/agent.json" --caller callers/booking.json >"$TMP/out.txt" 2>&1
rc=$?
set -e
[ $rc != 0 ] && grep -q 'stt.endpointing_ms' "$TMP/out.txt" || fail "a bad endpointing_ms is not reported"
agent 'a["stt"] = {"provider": "deepgram", "fallback": ["sphinxx"]}'
set +e
DEEPGRAM_API_KEY=x "$BANTER" simulate --agent "$TMP/agent.json" --caller callers/booking.json >"$TMP/out.txt" 2>&1
rc=$?
set -e
[ $rc != 0 ] && grep -q 'sphinxx' "$TMP/out.txt" || fail "an unknown fallback is not reported"
pass "agent-file checks for cloud recognisers"

# 7. an OpenAI-compatible transcription server (whisper): the partials from
#    pocketsphinx while the caller speaks, the final from the server
# wmock [args]: the transcription endpoint of speech_mock.mjs -> $PORT
wmock() { mock_start speech_mock.mjs --script "$TMP/script.json" --key sk-test "$@"; }
wsim() {
  rm -f "$TMP/trace.jsonl" "$TMP/db"
  set +e
  OPENAI_API_KEY=sk-test OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" \
    timeout 120 "$BANTER" simulate --agent "$TMP/agent.json" --caller callers/booking.json \
    --trace "$TMP/trace.jsonl" --db "$TMP/db" >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}
agent 'a["stt"] = {"provider": "whisper", "model": "whisper-large-v3", "fallback": ["pocketsphinx"]}'
wmock
wsim
booked "whisper"
check 'heard == ["a table for three please", "tuesday", "seven pm", "yes"]' "the finals are the server's"
check 'len(log) == 4 and all(r["wav"] and r["fields"]["model"] == "whisper-large-v3" and r["file_bytes"] > 16000 for r in log)' "one WAV upload per utterance"
pass "a call on an OpenAI-compatible transcription server"

# 8. the server fails: pocketsphinx takes the utterance
wmock --transcribe-fail
wsim
booked "whisper failing"
check 'any("takes over" in e and "transcription" in e for e in errors)' "the failure and the fallback are reported"
pass "transcription server fails: fallback"
