#!/usr/bin/env bash
# Recordings with consent: the notice plays first (uninterruptible); a
# caller who stays silent (implied consent) or says yes is recorded as a
# stereo WAV with the trace beside it, from the end of the notice on; one
# who says no, or presses the decline digit on the phone, is not (no file,
# not even the folder) and hears the "declined" line before the greeting;
# with "consent": "explicit" silence is not consent. The server deletes
# recordings older than retention_days. Over the WebSocket and SIP too.
source "$(dirname "$0")/lib.sh"

# agent MODE FILE: the restaurant agent recording into $TMP/rec
agent() {
  python3 - "$1" "$TMP/rec" >"$2" <<'EOF'
import json, sys
a = json.load(open("agents/restaurant.json"))
a["recording"] = {"notice": "This call is recorded. Say no, or press nine, "
                  "if you would rather it was not.",
                  "consent": sys.argv[1], "decline_digit": "9",
                  "dir": sys.argv[2], "retention_days": 30}
print(json.dumps(a, indent=1))
EOF
}
# caller FIRST FILE: answers the notice with FIRST (a JSON turn), then books
caller() {
  cat >"$2" <<EOF
{"voice": "flite:slt", "gap_ms": 300, "turns": [$1,
 {"say": "a table for three please"}, {"say": "tuesday"},
 {"say": "seven pm"}, {"say": "yes"}]}
EOF
}
run() {  # run AGENT CALLER
  rm -rf "$TMP/rec" "$TMP/db"
  set +e
  "$BANTER" simulate --agent "$1" --caller "$2" --trace "$TMP/trace.jsonl" \
    --db "$TMP/db" >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
  [ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
  [ "$(sql 'select count(*) from bookings')" = 1 ] || fail "the booking did not go through after the notice"
}
# wav_check WAV [START_MS]: stereo, 16 kHz, caller speech on the left, the
# agent on the right, and the notice not in it: the right side is silent
# for START_MS (the answer window; over the WebSocket the client's own
# timing decides when the caller speaks, so 0 there)
wav_check() {
  python3 - "$1" "${2:-1500}" <<'EOF' || fail "the recording is not what was said"
import array, sys, wave
w = wave.open(sys.argv[1])
assert w.getnchannels() == 2 and w.getframerate() == 16000, "format"
a = array.array("h", w.readframes(w.getnframes()))
left, right = a[0::2], a[1::2]
rms = lambda x: (sum(v * v for v in x) / max(1, len(x))) ** 0.5
n, quiet = len(left), int(sys.argv[2]) * 16
print("recording: %.1f s, caller rms %.0f, agent rms %.0f, agent in the first %s ms %.0f"
      % (n / 16000, rms(left), rms(right), sys.argv[2], rms(right[:quiet])))
assert n > 16000 * 10, "too short"
assert rms(left) > 300, "no caller audio on the left"
assert rms(right) > 300, "no agent audio on the right"
assert rms(right[:quiet]) == 0, "the notice (or agent audio) at the start"
EOF
}

agent implied "$TMP/implied.json"
agent explicit "$TMP/explicit.json"

# 1. implied consent: the caller says nothing after the notice
caller '{"silence_ms": 3000}' "$TMP/silent.json"
run "$TMP/implied.json" "$TMP/silent.json"
trace_type recording | grep -q '"consent":"given","answer":"silence"' || fail "no consent event"
wavs=("$TMP"/rec/*.wav)
[ ${#wavs[@]} = 1 ] && [ -f "${wavs[0]}" ] || fail "want one WAV in the recordings folder"
wav_check "${wavs[0]}"
tr="${wavs[0]%.wav}.trace.jsonl"
[ -f "$tr" ] || fail "no trace beside the WAV"
grep -q '"type":"recording"' "$tr" && grep -q '"type":"ended"' "$tr" \
  || fail "the trace beside the WAV is not the call's whole trace"
trace_type reply | head -1 | grep -q '"kind":"notice"' || fail "the notice was not the first thing said"
pass "implied consent: recorded from the end of the notice, trace beside it"

# 2. the caller says no: nothing written, the agent says so and goes on
caller '{"say": "no thank you"}' "$TMP/no.json"
run "$TMP/implied.json" "$TMP/no.json"
trace_type recording | grep -q '"consent":"declined","answer":"words"' || fail "no declined event"
[ ! -e "$TMP/rec" ] || fail "a declined call left files: $(ls -R "$TMP/rec")"
grep -q 'agent:  All right, this call will not be recorded.' "$TMP/out.txt" || fail "no declined line"
pass "declined by voice: nothing written"

# 3. explicit consent: silence is not consent, yes is
run "$TMP/explicit.json" "$TMP/silent.json"
trace_type recording | grep -q '"consent":"not_given","answer":"silence"' || fail "silence taken as consent"
[ ! -e "$TMP/rec" ] || fail "recorded without a yes"
caller '{"say": "yes that is fine"}' "$TMP/yes.json"
run "$TMP/explicit.json" "$TMP/yes.json"
trace_type recording | grep -q '"consent":"given","answer":"words"' || fail "yes not taken as consent"
ls "$TMP"/rec/*.wav >/dev/null || fail "no WAV after a yes"
pass "explicit consent: silence not recorded, yes recorded"

# 4. the agent file's section is checked where it is read
bad() {  # bad PYTHON-EDIT WANT
  python3 - "$TMP/implied.json" "$1" >"$TMP/bad.json" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1])); exec(sys.argv[2]); print(json.dumps(a, indent=1))
EOF
  set +e; "$BANTER" check "$TMP/bad.json" >"$TMP/out.txt" 2>&1; local rc=$?; set -e
  [ $rc = 1 ] || fail "banter check passed a bad recording section ($1)"
  grep -q -- "$2" "$TMP/out.txt" || fail "want \"$2\" for ($1)"
}
bad 'a["recording"]["consent"] = "maybe"' 'bad.json:[0-9]*:[0-9]*: "recording.consent" must be "implied"'
bad 'a["recording"]["retention_day"] = 3' 'unknown field "recording.retention_day"'
bad 'a["recording"]["decline_digit"] = "99"' 'one key of the phone.s keypad'
bad 'del a["recording"]["notice"]' '"recording.notice" is missing'
bad 'a["recording"]["answer_ms"] = 0' '"recording.answer_ms" must be an integer from 500 to 15000 (got 0)'
pass "bad recording sections are refused at load"

# 5. the server purges old recordings, over the WebSocket a call is recorded
rm -rf "$TMP/rec"; mkdir -p "$TMP/rec"
for f in 20260101-101010-old.wav 20260101-101010-old.trace.jsonl; do
  touch -d '40 days ago' "$TMP/rec/$f"
done
touch -d '40 days ago' "$TMP/rec/mine.wav"       # not banter's: kept
touch "$TMP/rec/20261201-101010-new.wav"         # recent: kept
serve --no-tls --no-sip --agent "$TMP/implied.json"
grep -q "recordings: deleted 2 files older than 30 days in $TMP/rec" "$TMP/serve.txt" \
  || { cat "$TMP/serve.txt" >&2; fail "no purge at start"; }
[ ! -e "$TMP/rec/20260101-101010-old.wav" ] && [ -e "$TMP/rec/mine.wav" ] \
  && [ -e "$TMP/rec/20261201-101010-new.wav" ] || fail "the purge deleted the wrong files"
pass "retention: old recordings deleted at start, others kept"
"$BANTER" call "ws://127.0.0.1:$HTTP_PORT/v1/realtime?model=implied" --caller "$TMP/silent.json" \
  >"$TMP/call.txt" 2>&1 || { cat "$TMP/call.txt" >&2; fail "banter call failed"; }
stop_serve
n=$(ls "$TMP"/rec/*.wav | grep -vc -e mine.wav -e 20261201-101010-new.wav || true)
[ "$n" = 1 ] || fail "want the WebSocket call's recording, got $n new WAVs"
wav_check "$(ls "$TMP"/rec/*.wav | grep -v -e mine.wav -e 20261201-101010-new.wav)" 0
pass "a WebSocket call is recorded"

# 6. a phone caller presses 9 during the notice: not recorded
if command -v sipp >/dev/null; then
  rm -rf "$TMP/rec"
  sed -e 's/dtmf_2833_3/dtmf_2833_9/' -e 's/pause milliseconds="7000"/pause milliseconds="2000"/' \
    tests/sip/dtmf.xml >"$TMP/dtmf9.xml"
  serve --no-tls --agent "$TMP/implied.json"
  sipp "127.0.0.1:$SIP_PORT" -sf "$TMP/dtmf9.xml" -s implied -m 1 -i 127.0.0.1 \
    -p "$(free_port)" -mp "$(free_port)" -timeout 30s -timeout_error -nostdin \
    >"$TMP/sipp.out" 2>&1 || { cat "$TMP/serve.txt" >&2; fail "sipp DTMF call failed"; }
  stop_serve
  grep -q 'recording {"consent":"declined","answer":"digit"' "$TMP/serve.txt" \
    || { cat "$TMP/serve.txt" >&2; fail "the key 9 did not decline the recording"; }
  [ ! -e "$TMP/rec" ] || fail "a declined phone call left files"
  pass "a phone caller declines with the key 9"
fi
