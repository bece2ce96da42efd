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
#   NICE=N: run the servers at that niceness, so that banter's loops come
#   first on the shared cores (their own delays then grow instead: the
#   stage figures include them; the loops' lateness is banter's own).
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
trap 'kill $(cat "$TMP/pids" 2>/dev/null) 2>/dev/null || true; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM  # the EXIT trap stops the servers then too
. bench/lib.sh
dgp=$(mock_start dg deepgram_mock.mjs --script "$TMP/script.json" --loop --latency-ms "$STT_MS")
elp=$(mock_start el elevenlabs_mock.mjs --first-ms "$TTS_MS")
echo "Deepgram server: local mock, messages $STT_MS ms late; ElevenLabs server: local mock, first audio after $TTS_MS ms"
lag() {  # the two servers' event loops: how late they ran (?reset: from now)
  python3 - "$dgp" "$elp" "${1:-}" <<'PY'
import json, sys, urllib.request
out = []
for name, port in (("Deepgram", sys.argv[1]), ("ElevenLabs", sys.argv[2])):
    s = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats{sys.argv[3]}"))["loop_lag_ms"]
    out.append(f"{name} p50 {s['p50']} p95 {s['p95']} p99 {s['p99']} ms")
if not sys.argv[3]:
    print("the servers' own event loops ran late (the whole run; their delays are in the stage figures):")
    print("  " + "; ".join(out))
PY
}
lag '?reset'
DEEPGRAM_BASE_URL="ws://127.0.0.1:$dgp" ELEVENLABS_BASE_URL="ws://127.0.0.1:$elp" \
  "$BUILD/bench_engine" -c -k "$KS" -s "$SECS"
lag
echo "engine's share: end of turn -> final minus $STT_MS ms; first text -> audio out minus $TTS_MS ms (a reply's first frame leaves as its audio comes, as in banter serve)"
