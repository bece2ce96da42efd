#!/usr/bin/env bash
# Slot values that pass as sure when wrong (issue: the first hour): per
# caller voice and noise level, how often the embedded recogniser fills a
# slot with a wrong value at or above min_confidence, and how often it
# rejects a right one.
#   bench/slots.sh [bench_slots options]   (see bench/slots/bench_slots.c)
# Every voice of both TTS providers in clean audio and pink noise at 10 dB:
# about 40 minutes on 2 cores. A quicker look: --voices flite:slt,espeak:en-us+m3
# Phone lines (issue: telephony, narrow-band callers): the same callers
# heard through each codec, in the same run:
#   bench/slots.sh --voices flite:slt,espeak:en-us+m3 --noise clean --codecs none,g722,pcmu
# A confirmation band (issue #16): values heard between min_confidence and X
# are asked back; counted as confirmed-right / confirmed-wrong:
#   bench/slots.sh --voices flite:slt,espeak:en-us+m3 --noise clean --confirm-below 0.6
# Per voice, with and without a band, from one run's dump (docs/agent-file.md):
#   bench/slots.sh --noise clean --dump F; bench/slots/band_table.py F 0.6
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"${JOBS:-2}" --target bench_slots >/dev/null
exec "$BUILD/bench_slots" --jobs "${JOBS:-2}" "$@"
