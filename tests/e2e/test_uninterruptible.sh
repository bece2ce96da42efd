#!/usr/bin/env bash
# A segment marked uninterruptible (a recording notice) plays through while
# the caller talks over it; the caller's words are kept and answered after.
source "$(dirname "$0")/lib.sh"
python_free_sed='s/"say": "Hello, thanks for calling Bella'"'"'s Trattoria.",/"say": "Hello, thanks for calling Bella'"'"'s Trattoria. This call may be recorded for quality and training purposes.", "uninterruptible": true,/'
sed "$python_free_sed" agents/restaurant.json >"$TMP/notice.json"
grep -q '"uninterruptible": true' "$TMP/notice.json" || fail "could not make the notice agent"
cat >"$TMP/caller.json" <<'JSON'
{"voice": "flite:slt", "turns": [
  {"say": "a table for two please", "barge_in_after_ms": 2500},
  {"say": "tuesday"}, {"say": "seven pm"}, {"say": "yes"}]}
JSON
set +e
"$BANTER" simulate --agent "$TMP/notice.json" --caller "$TMP/caller.json" \
  --trace "$TMP/trace.jsonl" --db "$TMP/db" >"$TMP/out.txt" 2>&1
SIM_RC=$?
set -e
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
kept=$(trace_type kept | head -1)
[ -n "$kept" ] || fail "the words said over the notice were not kept"
[ -z "$(trace_type paused | head -1)" ] || {
  # a pause may only come after the notice has played
  p=$(field "$(trace_type paused | head -1)" t_ms); k=$(field "$kept" t_ms)
  [ "$p" -gt "$k" ] || fail "the agent paused during the uninterruptible notice"; }
# the notice was heard in full: the cut line of the greeting holds all of it
grep -q '"role":"assistant","text":"[^"]*training purposes.' <(trace_type ended) \
  || fail "the notice was not played to its end"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "2|Tuesday|7 pm" ] || fail "booking '$rows', want 2|Tuesday|7 pm (the kept words answer the party question)"
pass "uninterruptible notice played through; words kept and answered"
