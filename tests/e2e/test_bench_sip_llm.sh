#!/usr/bin/env bash
# bench/sip_llm_load.sh at its smallest: two sipp calls of one turn each
# against the flow server and the LLM server (the local mock). Every call
# completes with its reply on both; the LLM rows' figures come from the
# new wall-clock trace fields and obey what the model imposes: no first
# token before the mock's first-token delay, and the first token reaches
# the wire no sooner than the model has written the first sentence
# ("Great, a table for three.": 7 tokens, 6 gaps of --token-ms). In
# `banter simulate` (a virtual clock) the wall-clock fields are absent.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 0; }

sim callers/booking.json
[ "$SIM_RC" = 0 ] || fail "simulate failed"
[ -n "$(trace_type turn)" ] || fail "simulate wrote no turn"
! grep -q '_to_out_wall_ms' "$TMP/trace.jsonl" || fail "simulate wrote wall-clock fields"
pass "simulate's trace has no wall-clock fields"

bench/sip_llm_load.sh "$BANTER" --ns 2 --turns 1 --spread-s 1 --first-token-ms 150 \
  --token-ms 20 >"$TMP/out.txt" 2>&1 || fail "the benchmark failed"
cat "$TMP/out.txt"
row() { awk -v b="$1" '$1 == b && $2 == 2' "$TMP/out.txt"; }
for b in flow llm; do
  r=$(row $b)
  [ -n "$r" ] || fail "no $b row"
  read -r _ _ _ calls all_in v2v tok tout sout _ <<<"$r"
  [ "$calls" = 2 ] && [ "$all_in" = 2 ] || fail "$b: calls $calls, with their reply $all_in (want 2, 2)"
  for p in "$v2v" "$tok" "$tout" "$sout"; do
    [[ $p =~ ^[0-9]+/[0-9]+$ ]] || fail "$b: a figure is missing ($p): the trace lacks a field"
  done
  if [ $b = llm ]; then
    [ "${tok%/*}" -ge 150 ] || fail "llm: a first token ${tok%/*} ms after the end of turn, before the model's 150 ms"
    [ "${tout%/*}" -ge 120 ] || fail "llm: first token -> first packet ${tout%/*} ms, less than the model took to write the sentence"
    [ "${tout%/*}" -ge "${sout%/*}" ] || fail "llm: the first sentence went out before the first token ($tout, $sout)"
  fi
done
grep -q '^llm: largest N' "$TMP/out.txt" || fail "no verdict for the LLM"
pass "bench/sip_llm_load.sh: flow and LLM calls answered, the LLM's latency split from the trace"
