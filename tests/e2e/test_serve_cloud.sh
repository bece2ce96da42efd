#!/usr/bin/env bash
# Cloud speech through `banter serve`: a Realtime client talks to an agent
# that hears through a Deepgram server and speaks through an ElevenLabs one
# (tests/clients/deepgram_mock.mjs, elevenlabs_mock.mjs), on the server's
# event loops: a voice turn with Deepgram's words and the network voice's
# audio, and a barge-in that cancels the reply and closes the voice's
# context; a caller who sends no audio for 10 s is a silent line that the
# engine streams to Deepgram as audio (so no KeepAlive is needed; the server
# closes a socket idle for 10 s, as Deepgram does) and is heard after. Then
# a clean SIGTERM.
source "$(dirname "$0")/lib.sh"
echo '["a table for three please","a table for three please","a table for three please"]' >"$TMP/script.json"
start_mock() {  # start_mock NAME SCRIPT ARGS... -> prints the port
  node "$CLIENTS/$2" --port 0 "${@:3}" >"$TMP/$1.out" 2>"$TMP/$1.err" &
  echo $! >>"$TMP/pids"  # (a subshell: the caller's variables are out of reach)
  for _ in $(seq 100); do
    p=$(awk '/^listening/{print $2}' "$TMP/$1.out" 2>/dev/null)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.05
  done
  cat "$TMP/$1.err" >&2; return 1
}
DG=$(start_mock dg deepgram_mock.mjs --script "$TMP/script.json" --key dg-test --idle-close-ms 10000) || fail "no Deepgram mock"
EL=$(start_mock el elevenlabs_mock.mjs --key xi-test --pace-ms 200) || fail "no ElevenLabs mock"
python3 - >"$TMP/agent.json" <<'EOF'
import json
a = json.load(open("agents/restaurant.json"))
a["stt"] = {"provider": "deepgram", "fallback": ["pocketsphinx"]}
a["persona"]["voice"] = "elevenlabs:21m00Tcm4TlvDq8ikWAM"
print(json.dumps(a))
EOF
HTTP_PORT=$(free_port); TLS_PORT=$(free_port); SIP_PORT=$(free_port)
DEEPGRAM_API_KEY=dg-test DEEPGRAM_BASE_URL="ws://127.0.0.1:$DG" \
ELEVENLABS_API_KEY=xi-test ELEVENLABS_BASE_URL="ws://127.0.0.1:$EL" \
  "$BANTER" serve --agent "$TMP/agent.json" --port "$HTTP_PORT" --tls-port "$TLS_PORT" \
  --sip-port "$SIP_PORT" --no-sip-tls --addr 127.0.0.1 --db "$TMP/db" --web "$PWD/web" >"$TMP/serve.txt" 2>&1 &
SERVE_PID=$!
trap 'kill $SERVE_PID $(cat "$TMP/pids") 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 600); do
  grep -q 'Realtime API' "$TMP/serve.txt" 2>/dev/null && break
  kill -0 $SERVE_PID 2>/dev/null || { cat "$TMP/serve.txt" >&2; fail "banter serve did not start"; }
  sleep 0.1
done
node "$CLIENTS/realtime_cloud.mjs" "$HTTP_PORT" | tee "$TMP/out.txt"
grep -q '^[0-9]* passed, 0 failed$' "$TMP/out.txt" || { cat "$TMP/serve.txt" >&2; fail "Realtime client over cloud speech"; }
curl -s "http://127.0.0.1:$EL/log" >"$TMP/el.json"
curl -s "http://127.0.0.1:$DG/log" >"$TMP/dg.json"
python3 - "$TMP" <<'EOF' || fail "what the servers saw"
import json, sys
d = sys.argv[1]
el = json.load(open(d + "/el.json")); dg = json.load(open(d + "/dg.json"))
assert len(dg) == 3 and all(c["audio_bytes"] > 0 for c in dg), dg
# the silent caller: the engine streams the call's silence as audio (a
# Realtime client that sends nothing is a silent line, a frame every
# 20 ms), as Deepgram's endpointing and timestamps need: no 4 s without
# audio, so no KeepAlive, and the server (closing a socket idle for 10 s,
# as Deepgram does) kept it open through the 10 s
c = dg[2]
gap = max([g[1] - g[0] for g in c["audio_gaps"]], default=0)
assert gap < 4000, ("audio stopped in the silence", c["audio_gaps"])
assert not c["keepalive_ms"], ("KeepAlive while audio flowed", c["keepalive_ms"])
assert all(cc["closed"] != "idle" for cc in dg), [cc["closed"] for cc in dg]
print("silent caller: longest gap in the audio to Deepgram %d ms" % gap)
assert any(c["closed"] and not c["final"] for s in el for c in s["contexts"].values()), "no context closed at the barge-in"
EOF
grep -q "error" "$TMP/serve.txt" && grep -i "fallback\|takes over" "$TMP/serve.txt" && fail "a provider failed"
stop_serve
pass "Realtime clients over Deepgram and ElevenLabs"
