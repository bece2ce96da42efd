#!/usr/bin/env bash
# Voice-to-voice on each cloud provider at fixed server delays (issue: cloud
# speech): `banter simulate`, the booking caller (4 turns), the restaurant
# agent with its recogniser and voice swapped, against local servers that
# speak each provider's protocol (tests/clients/*_mock.mjs) with the delays
# below. Prints, per configuration, voice-to-voice at the caller (last
# speech sample -> first agent audio) p50/p95 and the mean of the per-turn
# stages from the trace: end of turn -> recogniser's final, first text ->
# first audio. The embedded stack is the baseline in the same run.
#   bench/cloud_latency.sh [BUILD_DIR]
#   STT_MS (50): Deepgram's messages this late; TTS_MS (150): the voices'
#   first audio this long after the text; WHISPER_MS (300): a
#   transcription's answer this long after the upload.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
STT_MS=${STT_MS:-50}
TTS_MS=${TTS_MS:-150}
WHISPER_MS=${WHISPER_MS:-300}
TMP=$(mktemp -d)
trap 'kill $(cat "$TMP/pids" 2>/dev/null) 2>/dev/null || true; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM  # the EXIT trap stops the servers then too
echo '["a table for three please","tuesday","seven pm","yes"]' >"$TMP/script.json"
. bench/lib.sh
run() {  # run LABEL STT_JSON VOICE [ENDPOINTING]
  python3 - "$2" "$3" "${4:-adaptive}" >"$TMP/agent.json" <<'PY'
import json, sys
a = json.load(open("agents/restaurant.json"))
a["stt"] = json.loads(sys.argv[1])
a["persona"]["voice"] = sys.argv[2]
a.setdefault("turn", {})["endpointing"] = sys.argv[3]
print(json.dumps(a))
PY
  # fresh servers per run: the scripts start from the first turn
  local dg sp el
  kill $(cat "$TMP/pids" 2>/dev/null) 2>/dev/null || true; rm -f "$TMP/pids"
  dg=$(mock_start dg deepgram_mock.mjs --script "$TMP/script.json" --latency-ms "$STT_MS")
  sp=$(mock_start sp speech_mock.mjs --script "$TMP/script.json" --first-ms "$TTS_MS" --transcribe-ms "$WHISPER_MS")
  el=$(mock_start el elevenlabs_mock.mjs --first-ms "$TTS_MS")
  DEEPGRAM_API_KEY=x DEEPGRAM_BASE_URL="ws://127.0.0.1:$dg" OPENAI_API_KEY=x \
  OPENAI_BASE_URL="http://127.0.0.1:$sp/v1" ELEVENLABS_API_KEY=x ELEVENLABS_BASE_URL="ws://127.0.0.1:$el" \
    "$BUILD/banter" simulate --agent "$TMP/agent.json" --caller callers/booking.json \
    --trace "$TMP/trace.jsonl" --db "$TMP/db" >"$TMP/out.txt" 2>&1 || { cat "$TMP/out.txt"; return 1; }
  python3 - "$1" "$TMP/trace.jsonl" <<'PY'
import json, sys
tr = [json.loads(l) for l in open(sys.argv[2])]
t = [x for x in tr if x["type"] == "turn" and x["kind"] == "reply" and x.get("voice_to_voice_ms") is not None]
v = sorted(x["voice_to_voice_ms"] for x in t)
stt = [x["stt_final_ms"] - x["endpoint_ms"] for x in t]
tts = [x["first_audio_ms"] - x["first_text_ms"] for x in t]
errs = sum(1 for x in tr if x["type"] == "error")
p = lambda q: v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))] if v else -1
print(f"{sys.argv[1]:<36} {len(v):3d}  {p(0.5):5d} {p(0.95):5d}   {sum(stt)/max(1,len(stt)):6.0f}   {sum(tts)/max(1,len(tts)):6.0f}   {errs}")
PY
}
echo "server delays: Deepgram messages +$STT_MS ms, voices' first audio +$TTS_MS ms, transcription +$WHISPER_MS ms"
echo "configuration                        turns  v2v p50   p95   final-eot  audio-text  errors (ms)"
run "pocketsphinx + espeak (embedded)" '{"provider": "pocketsphinx"}' "espeak:en-us+f3"
run "deepgram + espeak" '{"provider": "deepgram"}' "espeak:en-us+f3"
run "deepgram flux (its turns) + espeak" '{"provider": "deepgram", "model": "flux-general-en"}' "espeak:en-us+f3" recogniser
run "whisper + espeak" '{"provider": "whisper"}' "espeak:en-us+f3"
run "pocketsphinx + openai speech" '{"provider": "pocketsphinx"}' "openai:alloy"
run "pocketsphinx + elevenlabs" '{"provider": "pocketsphinx"}' "elevenlabs:benchvoice"
run "deepgram + elevenlabs" '{"provider": "deepgram"}' "elevenlabs:benchvoice"
