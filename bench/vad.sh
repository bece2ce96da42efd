#!/usr/bin/env bash
# VAD quality benchmark: our VAD ("energy") against WebRTC VAD and Silero
# VAD on the generated turn-taking corpus (bench/corpus/README.md). Prints
# frame-level F1 (precision/recall), speech-onset delay and CPU per hour of
# audio for each noise condition. Not part of `make test`: it needs npm.
#   bench/vad.sh
# Environment: BUILD (cmake build folder, default build), SIZE (small|full|
# extra|heldout: bench/corpus/README.md),
# CORPUS (corpus folder, default $BUILD/corpus-$SIZE), OUT (results folder).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIZE=${SIZE:-small}
CORPUS=${CORPUS:-$BUILD/corpus-$SIZE}
OUT=${OUT:-$BUILD/vad-bench}

command -v node >/dev/null || { echo "vad.sh: node is needed for the peer VADs (apt-get install nodejs npm)" >&2; exit 1; }

[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# CPU figures from a debug or sanitizer build would be meaningless.
if grep -q '^BT_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" ||
   ! grep -Eq '^CMAKE_BUILD_TYPE:STRING=(Release|RelWithDebInfo)$' "$BUILD/CMakeCache.txt"; then
  echo "vad.sh: $BUILD is not an optimised build without sanitizers; use BUILD=another-folder" >&2
  exit 1
fi
cmake --build "$BUILD" -j"${JOBS:-1}" --target gen_corpus vad_eval >/dev/null

# (Re)generate when missing or older than the generator (3 s small, 10 s full).
if [ ! -f "$CORPUS/corpus.jsonl" ] || [ "$BUILD/gen_corpus" -nt "$CORPUS/corpus.jsonl" ]; then
  "$BUILD/gen_corpus" --size "$SIZE" "$CORPUS"
fi

if [ ! -f bench/vad/node_modules/.package-lock.json ] ||
   [ bench/vad/package-lock.json -nt bench/vad/node_modules/.package-lock.json ]; then
  echo "vad.sh: installing the peer VADs into bench/vad/node_modules"
  # onnxruntime-node would fetch GPU libraries from outside the registry;
  # its CPU runtime ships inside the package.
  (cd bench/vad && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null)
fi

mkdir -p "$OUT"
"$BUILD/vad_eval" "$CORPUS" "$OUT/ours.jsonl" >/dev/null
node bench/vad/peers.mjs "$CORPUS" "$OUT/peers.jsonl" >/dev/null
node bench/vad/score.mjs "$CORPUS" "$OUT/ours.jsonl" "$OUT/peers.jsonl" | tee "$OUT/table.txt"
echo "(per-frame decisions in $OUT; the table also in $OUT/table.txt)"
