#!/usr/bin/env bash
# Network voices end to end: `banter simulate` with the restaurant agent
# speaking through an OpenAI-compatible /v1/audio/speech server that streams
# PCM (tests/clients/speech_mock.mjs): the call completes, a barge-in cuts
# the voice and the history keeps the words heard, and when the server
# fails (an HTTP error, a stream cut mid-sentence) the embedded voice takes
# over within the reply and the call goes on.
source "$(dirname "$0")/lib.sh"
pyrun_start  # one python for the checks below (lib.sh)
MOCK_PID=""
trap '[ -n "$MOCK_PID" ] && kill $MOCK_PID 2>/dev/null; rm -rf "$TMP"' EXIT

mock() { mock_start ${MOCK:-speech_mock.mjs} --key ${MOCKKEY:-sk-test} "$@"; }
pyrun >"$TMP/agent.json" <<'EOF'
import json
a = json.load(open("agents/restaurant.json"))
a["persona"]["voice"] = "openai:alloy"
a["persona"]["fallback_voice"] = "espeak:en-us+f3"
print(json.dumps(a))
EOF
vsim() {
  rm -f "$TMP/trace.jsonl" "$TMP/db"
  set +e
  OPENAI_API_KEY=sk-test OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" \
  ELEVENLABS_API_KEY=xi-test ELEVENLABS_BASE_URL="ws://127.0.0.1:$PORT" \
    timeout 120 "$BANTER" simulate --agent "$TMP/agent.json" --caller "$1" \
    --trace "$TMP/trace.jsonl" --db "$TMP/db" >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}
py() {
  curl -s "http://127.0.0.1:$PORT/log" >"$TMP/log.json"
  pyrun "$TMP" "$1" <<'EOF'
import json, sys
d = sys.argv[1]
tr = [json.loads(l) for l in open(d + "/trace.jsonl")]
turns = [t for t in tr if t["type"] == "turn"]
errors = [t.get("text", "") for t in tr if t["type"] == "error"]
log = json.load(open(d + "/log.json"))
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

# 1. a call in the network voice: every sentence one streamed request
mock
vsim callers/booking.json
booked "openai voice" "3|Tuesday|7 pm"
check 'not errors' "no errors"
check 'all(r["body"]["response_format"] == "pcm" and r["body"]["voice"] == "alloy" and r["status"] == 200 for r in log)' "pcm requests for the voice"
check 'len(log) >= 8 and "Hello, thanks for calling" in log[0]["body"]["input"]' "one request per sentence, in order"
check 'all(t["first_audio_ms"] is not None for t in turns)' "every turn has audio"
pass "a call in a streamed network voice"

# 2. a barge-in cuts the voice; the history keeps what was heard
vsim callers/barge_in.json
[ "$SIM_RC" = 0 ] || fail "barge-in: the call did not complete ($SIM_RC)"
check 'any(t["barge_in"] and 0 < len(t["heard_text"]) < len(t["agent_text"]) and t["agent_text"].startswith(t["heard_text"].rstrip(".,")[:10]) for t in turns)' "the heard words are a prefix of the reply"
pass "barge-in over a network voice keeps the heard words"

# 3. the server fails from its third sentence: the embedded voice says it
mock --fail-from 3
vsim callers/booking.json
booked "HTTP 500" "3|Tuesday|7 pm"
check 'any("fallback voice" in e and "500" in e for e in errors)' "the trace says the voice failed and who took over"
check 'sum(1 for r in log if r["status"] == 500) == 1' "no more requests to a failed voice in this call"
pass "voice fails with HTTP 500: fallback within the reply"

# 4. the stream is cut mid-sentence: the same
mock --cut-from 3
vsim callers/booking.json
booked "cut" "3|Tuesday|7 pm"
check 'any("fallback voice" in e for e in errors)' "the cut is reported"
pass "voice cut mid-sentence: fallback"

# 5. no key for the cloud voice: said at load
set +e
env -u OPENAI_API_KEY -u OPENAI_BASE_URL -u OPENAI_SPEECH_BASE_URL "$BANTER" simulate \
  --agent "$TMP/agent.json" --caller callers/booking.json >"$TMP/out.txt" 2>&1
rc=$?
set -e
[ $rc != 0 ] && grep -q OPENAI_API_KEY "$TMP/out.txt" || fail "a missing key for the voice is not reported at load"
pass "a cloud voice without a key is refused at load"

# ElevenLabs' multi-context WebSocket: one context per sentence, alignment
# as word timings, a barge-in closes the context in flight
pyrun >"$TMP/agent.json" <<'EOF'
import json
a = json.load(open("agents/restaurant.json"))
a["persona"]["voice"] = "elevenlabs:21m00Tcm4TlvDq8ikWAM"
print(json.dumps(a))
EOF
export MOCK=elevenlabs_mock.mjs MOCKKEY=xi-test

# 6. a call: one socket, a context per sentence, each finished
mock
vsim callers/booking.json
booked "elevenlabs" "3|Tuesday|7 pm"
check 'not errors' "no errors"
check 'len(log) == 1 and log[0]["query"]["output_format"] == "pcm_16000" and log[0]["query"]["sync_alignment"] == "true"' "one socket, PCM at 16 kHz with alignment"
check 'len(log[0]["contexts"]) >= 8 and all(c["final"] for c in log[0]["contexts"].values())' "every sentence a finished context"
check 'log[0]["close_socket"]' "close_socket at the end"
pass "a call on ElevenLabs"

# 7. barge-in at real-time pace: the context in flight is closed, the words
#    heard come from the alignment
mock --pace-ms 200
vsim callers/barge_in.json
[ "$SIM_RC" = 0 ] || fail "elevenlabs barge-in: the call did not complete ($SIM_RC)"
check 'any(c["closed"] and not c["final"] for c in log[0]["contexts"].values())' "the context in flight was closed"
check 'any(t["barge_in"] and 0 < len(t["heard_text"]) < len(t["agent_text"]) and t["agent_text"].startswith(t["heard_text"]) for t in turns)' "the heard words are the start of the reply"
pass "barge-in closes the ElevenLabs context; heard words from its alignment"

# 8. the socket fails at the third sentence: the fallback voice goes on
mock --fail-from 3
vsim callers/booking.json
booked "elevenlabs socket closed" "3|Tuesday|7 pm"
check 'any("fallback voice" in e and "ElevenLabs" in e for e in errors)' "the failure is reported"
pass "ElevenLabs socket closed mid-call: fallback"

# 9. refused (a wrong key): the fallback voice from the first sentence
mock --refuse
vsim callers/booking.json
booked "elevenlabs refused" "3|Tuesday|7 pm"
check 'any("fallback voice" in e for e in errors)' "the refusal is reported"
check 'any("HTTP 401" in e for e in errors)' "the refusal's status is named"
pass "ElevenLabs refused: fallback"

# 10. a broken server: from the second sentence on, junk between the chunks
#     (not JSON, an array, a binary frame, wrong types, a context nobody
#     opened) and alignment times out of range; in the fifth, audio that is
#     not base64. The junk is skipped and those sentences play whole; the
#     fifth goes to the fallback voice, and so does the rest of the call.
mock --junk-from 2 --bad-audio-at 5
vsim callers/booking.json
booked "elevenlabs junk" "3|Tuesday|7 pm"
check 'all(c["final"] for c in log[0]["contexts"].values() if 2 <= c["nth"] < 5)' "sentences with junk between their chunks finished"
check 'sum(1 for e in errors if "ElevenLabs" in e) == 1 and any("not base64" in e and "fallback voice" in e for e in errors)' "the bad audio is reported once, with the voice that took over"
check 'all(t["first_audio_ms"] is not None for t in turns)' "every turn has audio"
pass "ElevenLabs sends junk and bad audio: skipped, then fallback"
