# Shared helpers for the end-to-end tests: they drive the real `banter`
# program and check what it wrote (trace, SQLite, recording).
set -euo pipefail
BANTER=${1:?usage: test_x.sh PATH/TO/banter}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$TMP/out.txt" ] && cat "$TMP/out.txt" >&2; exit 1; }
pass() { echo "PASS: $*"; }

# sim CALLER [extra args] -> $TMP/out.txt, $TMP/trace.jsonl, $TMP/call.wav, $TMP/db
sim() {
  local caller=$1; shift
  set +e
  "$BANTER" simulate --agent agents/restaurant.json --caller "$caller" \
    --trace "$TMP/trace.jsonl" --out "$TMP/call.wav" --db "$TMP/db" "$@" \
    >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}
# lines of the trace of one type
trace_type() { grep "\"type\":\"$1\"" "$TMP/trace.jsonl" || true; }
# a JSON field of a compact JSON line (strings and numbers, first match)
field() { sed -n "s/.*\"$2\":\(\"[^\"]*\"\|true\|false\|null\|-\?[0-9][0-9.]*\).*/\1/p" <<<"$1" | head -1 | tr -d '"'; }
sql() { sqlite3 "$TMP/db" "$1"; }
