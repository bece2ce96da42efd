#!/usr/bin/env bash
# Voice-to-voice latency over a set of caller files, in real time (compute
# time counts). Prints p50/p95 and each stage's share, and the same figures
# on the virtual clock as the baseline (pure pipeline timing, zero compute),
# so the ratio shows what compute adds on this machine.
#   bench/latency.sh [path/to/banter]
set -euo pipefail
BANTER=${1:-./build/banter}
AGENT=${AGENT:-agents/restaurant.json}
CALLERS=${CALLERS:-"callers/booking.json callers/confirm_no.json callers/reprompt.json callers/backchannel.json callers/pause.json"}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "banter latency benchmark: $(nproc) cores, agent $AGENT"
for mode in virtual realtime; do
  traces=()
  for c in $CALLERS; do
    name=$(basename "$c" .json)
    flag=""; [ "$mode" = realtime ] && flag="--realtime"
    "$BANTER" simulate --agent "$AGENT" --caller "$c" --db "$OUT/db" \
      --trace "$OUT/$mode-$name.jsonl" --quiet $flag || echo "  ($name did not end normally)"
    traces+=("$OUT/$mode-$name.jsonl")
  done
  echo "== $mode clock"
  "$BANTER" stats "${traces[@]}"
done
