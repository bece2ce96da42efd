#!/usr/bin/env bash
# How many LLM-driven sessions one server holds: bench_engine -l (scripted
# recogniser, silent voice, the event loops as `banter serve` runs them)
# against a local streaming LLM server with a fixed first-token delay.
# The engine's added latency per reply is first token -> first audio out
# (the reply is one token, and the stream ends 1 ms after it; audio leaves
# on a 20 ms frame, so up to 20 ms of it is the frame clock).
# Usage: bench/llm_load.sh [BUILD_DIR] [K list] [SECONDS] [FIRST_TOKEN_MS]
set -euo pipefail
BUILD=${1:-build}
KS=${2:-50,100,250,500}
SECS=${3:-10}
FT=${4:-150}
TMP=$(mktemp -d)
cat >"$TMP/script.json" <<'JSON'
{"rules": [], "default": {"text": "Sure."}}
JSON
node tests/clients/llm_mock.mjs --script "$TMP/script.json" --port 0 --first-token-ms "$FT" \
  --token-ms 1 >"$TMP/mock.out" &
mock=$!
trap 'kill $mock 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q listening "$TMP/mock.out" 2>/dev/null && break; sleep 0.05; done
MPORT=$(awk '{print $2}' "$TMP/mock.out")
echo "LLM server: local mock, first token after $FT ms, one-word replies"
OPENAI_API_KEY=x OPENAI_BASE_URL="http://127.0.0.1:$MPORT/v1" "$BUILD/bench_engine" -l -k "$KS" -s "$SECS"
