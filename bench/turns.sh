#!/usr/bin/env bash
# Turn-taking benchmark (issue: turn-taking and interruptions): premature
# end-of-turn and end-of-turn delay for adaptive endpointing beside fixed
# 500/800 ms silence, backchannels vs interruptions, speakerphone echo.
#   bench/turns.sh [--all]        (BUILD, SIZE, CORPUS as in bench/vad.sh;
#   SIZE=heldout: utterances no turn rule was made on, bench/corpus/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIZE=${SIZE:-small}
CORPUS=${CORPUS:-$BUILD/corpus-$SIZE}
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"${JOBS:-2}" --target gen_corpus bench_turns >/dev/null
if [ ! -f "$CORPUS/corpus.jsonl" ] || [ "$BUILD/gen_corpus" -nt "$CORPUS/corpus.jsonl" ]; then
  "$BUILD/gen_corpus" --size "$SIZE" "$CORPUS"
fi
"$BUILD/bench_turns" "$CORPUS" "$@"
