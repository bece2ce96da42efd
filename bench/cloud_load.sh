#!/usr/bin/env bash
# How many calls on cloud speech one server holds: bench_engine -c (the
# event loops as `banter serve` runs them; each call's recogniser is a
# Deepgram WebSocket streaming every frame, its voice an ElevenLabs
# WebSocket) against local servers speaking those protocols with fixed
# delays (tests/clients/deepgram_mock.mjs, elevenlabs_mock.mjs). The
# servers run on the same 2 cores as banter: their CPU is counted in the
# machine's load, not in banter's CPU per session.
# Usage: bench/cloud_load.sh [BUILD_DIR] [K list] [SECONDS] [STT_MS] [TTS_MS]
#   STT_MS: each recogniser message leaves the server that much later;
#   TTS_MS: the voice's first chunk comes that long after the text.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
KS=${2:-50,100,250,500}
SECS=${3:-10}
STT_MS=${4:-50}
TTS_MS=${5:-100}
[ -x "$BUILD/bench_engine" ] || cmake --build "$BUILD" --target bench_engine >/dev/null
TMP=$(mktemp -d)
echo '["three"]' >"$TMP/script.json"
node tests/clients/deepgram_mock.mjs --script "$TMP/script.json" --loop --port 0 \
  --latency-ms "$STT_MS" >"$TMP/dg.out" 2>"$TMP/dg.err" &
dg=$!
node tests/clients/elevenlabs_mock.mjs --port 0 --first-ms "$TTS_MS" >"$TMP/el.out" 2>"$TMP/el.err" &
el=$!
trap 'kill $dg $el 2>/dev/null || true; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM  # the EXIT trap stops the servers then too
for _ in $(seq 100); do
  grep -q listening "$TMP/dg.out" 2>/dev/null && grep -q listening "$TMP/el.out" 2>/dev/null && break
  sleep 0.05
done
echo "Deepgram server: local mock, messages $STT_MS ms late; ElevenLabs server: local mock, first audio after $TTS_MS ms"
DEEPGRAM_BASE_URL="ws://127.0.0.1:$(awk '{print $2}' "$TMP/dg.out")" \
ELEVENLABS_BASE_URL="ws://127.0.0.1:$(awk '{print $2}' "$TMP/el.out")" \
  "$BUILD/bench_engine" -c -k "$KS" -s "$SECS"
echo "engine's share: end of turn -> final minus $STT_MS ms; first text -> audio out minus $TTS_MS ms (a reply's first frame leaves as its audio comes, as in banter serve)"
