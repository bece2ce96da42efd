#!/usr/bin/env bash
# Calls per server with the embedded models: N concurrent simulated callers
# (greeting, then TURNS turns of callers/booking.json, said with flite)
# against one `banter serve`, started A seconds apart and all at once; and,
# in the same run, the baseline: N `banter simulate --realtime` processes
# launched the same way. Prints voice-to-voice p50/p95 per N and pattern,
# memory and CPU per call, and the largest N whose p95 <= 600 ms.
# Usage: bench/serve_load.sh [BANTER] [--full] [--ns 2,4,8] [--stagger-s 2.5]
#                            [--turns 3] [--patterns stagger,burst]
#                            [--no-baseline] [--threads N (of the server)]
#                            [--warm N (recognisers the server makes per loop
#                             before the calls come, and keeps: --warm/--pool)]
# Default: N = 4,8 (about 4 minutes); --full: N = 2,4,6,8,12,16 (~12 min).
set -euo pipefail
BANTER=./build/banter
NS=4,8
A=2.5
TURNS=3
PATTERNS=stagger,burst
BASELINE=1
SERVE_ARGS=
WARM=
while [ $# -gt 0 ]; do
  case "$1" in
    --full) NS=2,4,6,8,12,16 ;;
    --ns) NS=$2; shift ;;
    --stagger-s) A=$2; shift ;;
    --turns) TURNS=$2; shift ;;
    --patterns) PATTERNS=$2; shift ;;
    --no-baseline) BASELINE= ;;
    --threads) SERVE_ARGS="$SERVE_ARGS --threads $2"; shift ;;
    --warm) WARM=$2; SERVE_ARGS="$SERVE_ARGS --warm $2 --pool $2"; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) BANTER=$1 ;;
  esac
  shift
done
[ -x "$BANTER" ] || { echo "no $BANTER: build first (make build)" >&2; exit 1; }
TMP=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  # BT_LOAD_KEEP=DIR keeps the phases' JSON (each turn's server trace) and logs
  [ -n "${BT_LOAD_KEEP:-}" ] && mkdir -p "$BT_LOAD_KEEP" && cp -r "$TMP"/*.json "$TMP"/serve.txt "$BT_LOAD_KEEP"/ 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
# the same caller for both: the first TURNS turns of booking.json
python3 -c "import json,sys; c=json.load(open('callers/booking.json')); c['turns']=c['turns'][:int(sys.argv[1])]; json.dump(c,open(sys.argv[2],'w'))" \
  "$TURNS" "$TMP/caller.json"

start_server() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -f "$TMP/db"
  "$BANTER" serve --agent agents/restaurant.json --port "$PORT" --no-tls --no-sip --addr 127.0.0.1 \
    --db "$TMP/db" $SERVE_ARGS >"$TMP/serve.txt" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    h=$(curl -sf "http://127.0.0.1:$PORT/healthz" 2>/dev/null) || { sleep 0.1; continue; }
    # with --warm, the calls come once every loop has its recognisers
    [ -z "$WARM" ] && return 0
    python3 -c 'import json,sys; h=json.loads(sys.argv[1]); sys.exit(0 if h["recognisers"]["idle"] >= int(sys.argv[2]) * h["loops"] else 1)' \
      "$h" "$WARM" && return 0
    sleep 0.1
  done
  echo "banter serve did not start:" >&2; cat "$TMP/serve.txt" >&2; exit 1
}
stop_server() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
for n in ${NS//,/ }; do
  for pat in ${PATTERNS//,/ }; do
    # a fresh server per phase, so its idle RSS is the base of that phase
    start_server
    echo "serve    N=$n $pat ..." >&2
    node bench/serve_load.mjs serve "ws://127.0.0.1:$PORT/v1/realtime" --pid "$pid" --n "$n" \
      --pattern "$pat" --stagger-s "$A" --caller "$TMP/caller.json" --turns "$TURNS" \
      --json "$TMP/serve-$n-$pat.json"
    stop_server
    [ -n "$BASELINE" ] || continue
    echo "simulate N=$n $pat ..." >&2
    mkdir -p "$TMP/sim-$n-$pat"
    node bench/serve_load.mjs simulate "$BANTER" --n "$n" --pattern "$pat" --stagger-s "$A" \
      --agent agents/restaurant.json --caller "$TMP/caller.json" --db "$TMP/simdb" \
      --trace-dir "$TMP/sim-$n-$pat" --json "$TMP/sim-$n-$pat.json"
  done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo
shopt -s nullglob
node bench/serve_load.mjs report "$TMP"/serve-*.json "$TMP"/sim-*.json
