#!/usr/bin/env bash
# Phone calls per server: sipp (Debian sip-tester) places N concurrent G.722
# calls to one `banter serve` (not PCMU: the embedded recogniser hears
# narrow-band callers badly, docs/sip.md); each caller waits for the
# greeting, says "a table for three please" (flite, streamed from a file as
# RTP by sipp's rtp_stream), hears the reply (TURNS times) and hangs up.
#   embedded (default): agents/restaurant.json, pocketsphinx and espeak, one
#     turn a call;
#   --scripted: bench/sip/scripted.json, the scripted recogniser and the
#     silent voice (docs/agent-file.md), three turns a call: the engine's
#     own ceiling for telephony (loops, SIP/RTP, sessions, flow), no models.
# Arrivals: burst (all N within a second) or stagger (embedded: one call
# every --stagger-s seconds; --scripted: the N spread evenly over
# --spread-s seconds, shorter than a call, so all N are up together).
# Per N and pattern: the 1-minute load average before the run (other work
# on the machine), calls completed, calls with every reply, replies, replies
# to "three", voice-to-voice p50/p95 from the server's per-turn trace (end of
# the caller's speech -> first reply packet sent, on the call's media clock,
# which adds compute time), the most ms a call's loop skipped (its RTP
# summary: the loop behind), server CPU s per call and % of a core per call
# up, sipp's CPU s, the busiest server thread's share of a core and the
# machine's idle share; and per pattern the largest N with every call
# answered (all its replies) and p95 <= 600 ms.
# Usage: bench/sip_load.sh [BANTER] [--scripted] [--ns 1,2,4,6,8]
#          [--stagger-s 2.5] [--spread-s 10] [--turns T]
#          [--patterns burst,stagger] [--threads N] [--warm N]
# --warm N: the server makes N recognisers per loop at start (docs/serve.md)
set -euo pipefail
BANTER=./build/banter
NS=
A=2.5
SPREAD=
TURNS=
PATTERNS=burst,stagger
SERVE_ARGS=
SCRIPTED=
while [ $# -gt 0 ]; do
  case "$1" in
    --scripted) SCRIPTED=1 ;;
    --ns) NS=$2; shift ;;
    --stagger-s) A=$2; shift ;;
    --spread-s) SPREAD=$2; shift ;;
    --turns) TURNS=$2; shift ;;
    --patterns) PATTERNS=$2; shift ;;
    --threads) SERVE_ARGS="$SERVE_ARGS --threads $2"; shift ;;
    --warm) SERVE_ARGS="$SERVE_ARGS --warm $2"; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) BANTER=$1 ;;
  esac
  shift
done
if [ -n "$SCRIPTED" ]; then
  AGENT=bench/sip/scripted.json
  NS=${NS:-10,25,50,100,200,400,600,800}; TURNS=${TURNS:-3}; SPREAD=${SPREAD:-10}
  # greeting 2.6 s (silent:200, 13 words); a turn: 3.2 s of audio, the
  # reply 2.4 s after the speech ends at 1.7 s
  GREET_MS=6000; AFTER_MS=6000
else
  AGENT=agents/restaurant.json
  NS=${NS:-1,2,4,6}; TURNS=${TURNS:-1}
  GREET_MS=8000; AFTER_MS=6000
fi
CALL_S=$(( (GREET_MS + TURNS * AFTER_MS) / 1000 ))
cd "$(dirname "$0")/.."
[ -x "$BANTER" ] || { echo "no $BANTER: build first (make build)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "sipp is not installed (Debian sip-tester)" >&2; exit 1; }
# sipp and the server hold a few sockets per call
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
TMP=$(mktemp -d)
SERVE_PID=
trap '[ -n "$SERVE_PID" ] && kill $SERVE_PID 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

BUILD=$(dirname "$BANTER")
. bench/sip/caller.sh
. bench/lib.sh
sip_caller "$BUILD" "$TMP" "$TURNS" "$GREET_MS" "$AFTER_MS"

HTTP=$(port); SIP=$(port)
"$BANTER" serve --agent "$AGENT" --port "$HTTP" --no-tls \
  --sip-port "$SIP" --no-sip-tls --addr 127.0.0.1 --db "$TMP/db" --max-sessions 2000 \
  $SERVE_ARGS >"$TMP/serve.txt" 2>&1 &
SERVE_PID=$!
serve_listening "$TMP/serve.txt"
cpu() { awk '{print $14 + $15}' "/proc/$SERVE_PID/stat"; }
# per thread (tid ticks), and the machine's idle and total ticks
threads() { for t in /proc/"$SERVE_PID"/task/*; do echo "${t##*/} $(awk '{print $14 + $15}' "$t/stat")"; done; }
machine() { awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
hz=$(getconf CLK_TCK)

echo "agent $AGENT; $TURNS turn(s) a call of about $CALL_S s; $(nproc) cores"
printf '%-8s %4s %5s %5s %6s %7s %6s %6s %6s %7s %9s %9s %7s %6s %6s\n' pattern N load1 calls \
  all_in replies right p50_ms p95_ms skip_ms cpu_s/call %core/call sipp_s thread idle
declare -A best
IFS=, read -ra ns <<<"$NS"
IFS=, read -ra pats <<<"$PATTERNS"
for pat in "${pats[@]}"; do
  best[$pat]=0
  for n in "${ns[@]}"; do
    from=$(($(wc -l <"$TMP/serve.txt") + 1))
    load1=$(cut -d' ' -f1 /proc/loadavg)
    c0=$(cpu); threads >"$TMP/t0"; m0=$(machine); w0=$(date +%s.%N)
    if [ "$pat" = burst ]; then rate=(-r "$n" -rp 1000)
    elif [ -n "$SCRIPTED" ] || [ -n "$SPREAD" ]; then rate=(-r "$n" -rp "$(python3 -c "print(int(${SPREAD:-10}*1000))")")
    else rate=(-r 1 -rp "$(python3 -c "print(int($A*1000))")"); fi
    set +e
    # sipp's own CPU (user, system s) by bash's time
    sp=$(port); mp=$(port)
    { TIMEFORMAT='%U %S'; time sipp "127.0.0.1:$SIP" -sf "$TMP/load.xml" -s agent \
      -m "$n" -l "$n" "${rate[@]}" -i 127.0.0.1 -p "$sp" -mp "$mp" \
      -timeout "$((CALL_S * 3 + 60))s" -nostdin -trace_stat -stf "$TMP/stat.csv" \
      >"$TMP/sipp.out" 2>&1; } 2>"$TMP/sipp.time"
    rc=$?
    set -e
    sleep 1
    c1=$(cpu); threads >"$TMP/t1"; m1=$(machine); w1=$(date +%s.%N)
    # the busiest server thread (an event loop, as it turns out) over the
    # run's wall time, and how idle the machine was (every process)
    busy=$(awk -v w0="$w0" -v w1="$w1" -v hz="$hz" 'BEGIN{w=w1-w0} NR==FNR{a[$1]=$2; next}
      {d=$2-a[$1]; if (d>m) m=d} END{printf "%.0f", 100*m/hz/w}' "$TMP/t0" "$TMP/t1")
    idle=$(echo "$m0 $m1" | awk '{printf "%.0f", 100*($3-$1)/($4-$2)}')
    sipp_s=$(awk 'NF==2{printf "%.1f", $1 + $2}' "$TMP/sipp.time" 2>/dev/null || echo -1)
    tail -n +"$from" "$TMP/serve.txt" >"$TMP/run.txt"
    python3 - "$TMP/run.txt" "$n" "$pat" "$(( c1 - c0 ))" "$hz" "$rc" "$TURNS" \
      "$CALL_S" "$load1" "$sipp_s" "$busy" "$idle" "$TMP/sipp.out" >"$TMP/row" <<'EOF'
import json, re, sys
path, n, pat, ticks, hz, rc, turns, call_s, load1, sipp_s, busy, idle, sipp_out = sys.argv[1:]
n, turns = int(n), int(turns)
v, right, replies, per, bye, skip = [], 0, 0, {}, 0, 0
# the loops write to one stdout: a line may be cut by another's, so
# each finding is searched for anywhere
text = open(path).read()
bye = len(set(re.findall(r"(sip-\d+): the caller hung up \(BYE\)", text)))
# the caller's view: sipp's cumulative count of successful calls
okc = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", open(sipp_out).read())
done = int(okc[-1]) if okc else 0
for s in re.findall(r"jitter buffer \d+, (\d+) ms skipped", text):
    skip = max(skip, int(s))
for cid, js in re.findall(r"(sip-\d+): trace (\{.*)", text):
    try:
        t = json.loads(js)
    except ValueError:
        continue
    if t.get("kind") != "reply":
        continue
    replies += 1
    per[cid] = per.get(cid, 0) + 1
    if "three" in (t.get("user_text") or ""):
        right += 1
    if t.get("voice_to_voice_ms") is not None:
        v.append(t["voice_to_voice_ms"])
v.sort()
pc = lambda p: v[min(len(v) - 1, int(p * len(v)))] if v else 99999
all_in = sum(1 for c in per.values() if c >= turns)
cpu = int(ticks) / int(hz) / max(1, n)
# (the server's BYE lines are not counted in: one may be cut by another
# loop's line)
ok = done == n and all_in == n and pc(0.95) <= 600
print("%-8s %4d %5s %5d %6d %7d %6d %6d %6d %7d %9.2f %8.2f%% %7s %5s%% %5s%%%s" % (
      pat, n, load1, done, all_in, replies, right, pc(0.5) if v else -1,
      pc(0.95) if v else -1, skip, cpu, 100 * cpu / int(call_s), sipp_s,
      busy, idle,
      "" if rc == "0" else "   (sipp exit %s)" % rc))
print("OK" if ok else "NO")
EOF
    head -1 "$TMP/row"
    if [ "$(tail -1 "$TMP/row")" = OK ] && [ "$n" -gt "${best[$pat]}" ]; then best[$pat]=$n; fi
  done
done
echo "load1: 1-minute load average before the run; calls: completed (sipp's count);"
echo "all_in: calls with all $TURNS replies; skip_ms: the most a call's loop skipped;"
echo "%core/call: server CPU per call over a call's ~$CALL_S s; sipp_s: sipp's own CPU s;"
echo "thread: the busiest server thread's CPU over the run's wall time; idle: the machine's"
for pat in "${pats[@]}"; do
  echo "$pat: largest N with every call answered and voice-to-voice p95 <= 600 ms: ${best[$pat]}"
done
