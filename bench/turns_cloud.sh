#!/usr/bin/env bash
# Turn-taking on the right words (issue: cloud speech): the turn benchmark
# with the recogniser replaced by a local server speaking Deepgram's live
# protocol (tests/clients/deepgram_mock.mjs) that answers each corpus item
# with its own words, at a word error rate of 0 % and 10 %, with
# Deepgram-like timing (interims every ~250 ms, finals 300 ms after the
# words, at once on Finalize). Prints premature end of turn and end-of-turn
# delay for the adaptive endpointer, fixed 500/800 ms silence and Flux-style
# recogniser turns; backchannels and interruptions; then the embedded
# recogniser's figures on the same items beside them.
#   bench/turns_cloud.sh [--quick]    (BUILD, SIZE, CORPUS as in bench/vad.sh)
# SIZE=heldout runs the utterances no turn rule was made on (SIZE=extra:
# the second tuning set); bench/corpus/README.md says which is which.
# It runs at wall-clock pace (the server answers in wall time): about
# 12 minutes for the small corpus's clean items; --quick: WER 0 % only.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIZE=${SIZE:-small}
CORPUS=${CORPUS:-$BUILD/corpus-$SIZE}
QUICK=${1:-}
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"${JOBS:-2}" --target gen_corpus bench_turns >/dev/null
if [ ! -f "$CORPUS/corpus.jsonl" ] || [ "$BUILD/gen_corpus" -nt "$CORPUS/corpus.jsonl" ]; then
  "$BUILD/gen_corpus" --size "$SIZE" "$CORPUS"
fi
[ -d tests/clients/node_modules/ws ] || (cd tests/clients && npm ci --silent)
TMP=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM  # the EXIT trap stops the servers then too

# run WER OUT: one mock and one bench; the runs wait on the wall clock, not
# the CPU, so the word error rates run side by side
run() {
  node tests/clients/deepgram_mock.mjs --corpus "$CORPUS" --wer "$1" --port 0 >"$TMP/mock$1.out" 2>"$TMP/mock$1.err" &
  local mpid=$!
  PID="$PID $mpid"
  for _ in $(seq 100); do grep -q listening "$TMP/mock$1.out" 2>/dev/null && break; sleep 0.05; done
  local port; port=$(awk '/^listening/{print $2}' "$TMP/mock$1.out")
  { echo "=== Deepgram protocol, word error rate $(python3 -c "print(round($1*100))") %"
    "$BUILD/bench_turns" "$CORPUS" --conditions clean --only endpoint,interrupt \
      --deepgram "ws://127.0.0.1:$port"; } >"$2" 2>&1
  kill $mpid 2>/dev/null || true
}
run 0 "$TMP/wer0.txt" &
R0=$!
if [ "$QUICK" != --quick ]; then run 0.1 "$TMP/wer10.txt" & R1=$!; fi
wait $R0; cat "$TMP/wer0.txt"
if [ "$QUICK" != --quick ]; then wait $R1; cat "$TMP/wer10.txt"; fi
echo "=== embedded recogniser (pocketsphinx), the same items"
"$BUILD/bench_turns" "$CORPUS" --conditions clean --only endpoint,interrupt
