#!/usr/bin/env bash
# Realtime sidebands on a phone call: sipp calls `banter serve` and presses
# 1 2 # (RFC 4733) while Node clients (ws:// and wss://) attach to the
# call by the call_id that --call-webhook posted (realtime.call.incoming)
# and the log has (/v1/realtime?call_id=, OpenAI's sideband): each digit
# arrives as
# input_audio_buffer.dtmf_event_received in order, the digits' user item
# and the agent's response events follow, a typed item and response.create
# steer the call, the caller's spoken turn arrives with its transcript and
# response.cancel stops the agent's answer to it, what a sideband
# cannot do gets an error, one sideband leaving does not end the call, the
# call's end closes the others with a last event; an unknown or ended
# call_id, or a missing key, is refused.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian sip-tester; scripts/install-deps.sh)"

HOOK_PORT=$(free_port)
serve --api-key sidekey --call-webhook "http://127.0.0.1:$HOOK_PORT/calls"
grep -q 'call_id rtc_' "$TMP/serve.txt" && fail "a call_id before any call"
node "$CLIENTS/sideband.mjs" "$HTTP_PORT" "$TMP/serve.txt" sidekey "$HOOK_PORT" "$TLS_PORT" >"$TMP/node.txt" 2>&1 &
NODE_PID=$!
rc=0
# the caller's words, then a minute of silence as a phone sends it (a line
# with no RTP at all can stall a call whose loop fell behind), and the
# scenario that says them
sox tests/data/stt_sevenpm_rms.wav -r 8000 "$TMP/sevenpm8.wav"
python3 tests/sip/wav2pcap.py "$TMP/sevenpm8.wav" "$TMP/sevenpm.pcap" 60000
sed "s|@SPEECH_PCAP@|$TMP/sevenpm.pcap|" tests/sip/sideband.xml >"$TMP/sideband.xml"
sipp "127.0.0.1:$SIP_PORT" -sf "$TMP/sideband.xml" -s agent -m 1 \
  -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -timeout 180s -timeout_error \
  -nostdin -trace_err -error_file "$TMP/sipp.err" >"$TMP/sipp.out" 2>&1 || rc=$?
nrc=0
wait $NODE_PID || nrc=$?
cat "$TMP/node.txt"
if [ $rc != 0 ] || [ $nrc != 0 ]; then
  cat "$TMP/sipp.err" "$TMP/serve.txt" >&2 2>/dev/null || true
  fail "sipp ($rc) or the sideband clients ($nrc) failed"
fi
grep -Eq 'sip-1: call_id rtc_[0-9a-f]{32} ' "$TMP/serve.txt" || fail "no call_id log line"
grep -q 'dtmf "12" (#) -> user turn' "$TMP/serve.txt" || fail "the digits 12# did not become a user turn"
grep -q 'agent: "And at what time?"' "$TMP/serve.txt" \
  || fail "the sideband's typed answer did not reach the call's agent"
grep -q 'the agent ended the call' "$TMP/serve.txt" || fail "the call did not last until the agent hung up"
curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" | grep -q '"sessions":0,"sip_calls":0' \
  || fail "/healthz after the call: $(curl -s "http://127.0.0.1:$HTTP_PORT/healthz")"
stop_serve
pass "sidebands on a SIP call"
