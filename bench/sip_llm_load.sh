#!/usr/bin/env bash
# LLM-driven phone calls per server: the callers of bench/sip_load.sh
# --scripted (sipp, G.722, three turns a call, the N spread over --spread-s
# seconds so that all N are up together) against two `banter serve`s, one
# with the flow brain (bench/sip/scripted.json: the baseline) and one with
# the LLM brain (bench/sip/llm.json: "openai" at the local streaming mock
# tests/clients/llm_mock.mjs, a fixed first-token delay, up to one frame
# more at random (--jitter-ms: otherwise the answers, whole frames of the
# caller's clock after the request, would always meet the same phase of
# the 20 ms frame clock and wait the same for it), and a token rate,
# its replies ending when the flow's do). Both use the
# scripted recogniser and the silent voice: what costs is the engine.
# For each N, the flow row and then the LLM row, back to back (the same
# load from others on the machine). Per row, from the server's per-turn
# trace (docs/trace.md): voice-to-voice p50/p95; end of turn -> the
# brain's first text ("first token": the mock's fixed delay plus the
# request's way there and back); first token -> first agent packet sent
# (text_to_out_wall_ms: on the wall clock, which a late loop cannot hide
# as the media clock does), which includes the model writing the rest of
# the first sentence (token by token) before the voice can have it; and
# first sentence -> first packet (sentence_to_out_wall_ms: the engine's
# own added latency, the voice, the planner, the session and the RTP
# send, including the wait for the next 20 ms frame: 0..20 ms, 10 on
# average, when the loop is on time); the most ms a call's loop skipped;
# server CPU s per call; the busiest server thread's share of a core; the
# mock's share of a core (it shares the 2 cores); the machine's idle
# share. Then the largest N with every call answered (all its replies) and
# the engine's added latency under 20 ms at p95: counting the frame clock,
# and not counting it (p95 - 20 ms, the most the clock adds to a reply).
# Usage: bench/sip_llm_load.sh [BANTER] [--ns 50,100,250,500]
#          [--brains flow,llm] [--first-token-ms 150] [--jitter-ms 20] [--token-ms 20]
#          [--spread-s 10] [--turns 3] [--threads N]
set -euo pipefail
BANTER=./build/banter
NS=50,100,250,500
BRAINS=flow,llm
FT=150
JIT=20
TOK=20
SPREAD=10
TURNS=3
SERVE_ARGS=
while [ $# -gt 0 ]; do
  case "$1" in
    --ns) NS=$2; shift ;;
    --brains) BRAINS=$2; shift ;;
    --first-token-ms) FT=$2; shift ;;
    --jitter-ms) JIT=$2; shift ;;
    --token-ms) TOK=$2; shift ;;
    --spread-s) SPREAD=$2; shift ;;
    --turns) TURNS=$2; shift ;;
    --threads) SERVE_ARGS="--threads $2"; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) BANTER=$1 ;;
  esac
  shift
done
# as bench/sip_load.sh --scripted: greeting 2.6 s, a turn 3.2 s of audio
# and the reply 2.4 s after its speech ends
GREET_MS=6000; AFTER_MS=6000
CALL_S=$(( (GREET_MS + TURNS * AFTER_MS) / 1000 ))
cd "$(dirname "$0")/.."
[ -x "$BANTER" ] || { echo "no $BANTER: build first (make build)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "sipp is not installed (Debian sip-tester)" >&2; exit 1; }
command -v node >/dev/null || { echo "node is not installed (the LLM mock needs it)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

BUILD=$(dirname "$BANTER")
. bench/sip/caller.sh
. bench/lib.sh
sip_caller "$BUILD" "$TMP" "$TURNS" "$GREET_MS" "$AFTER_MS"

# the model: streamed token by token, the flow's first sentence and two
# words fewer than its question (0.4 s of the silent voice), as the LLM's
# reply starts ~0.4 s later (no number expected: a longer end-of-turn
# wait, and the first token), so that a reply ends when the flow's does
# and leaves the caller's next turn as much room (a loop behind by more
# than that room turns the next turn into a barge-in)
cat >"$TMP/script.json" <<'JSON'
{"rules": [], "default": {"text": "Great, a table for three. How many will there be?"}}
JSON
node tests/clients/llm_mock.mjs --script "$TMP/script.json" --port 0 --first-token-ms "$FT" \
  --first-token-jitter-ms "$JIT" --token-ms "$TOK" >"$TMP/mock.out" 2>&1 &
MOCK=$!
PIDS+=("$MOCK")
for _ in $(seq 100); do grep -q listening "$TMP/mock.out" 2>/dev/null && break; sleep 0.05; done
MPORT=$(awk '/listening/{print $2}' "$TMP/mock.out")
[ -n "$MPORT" ] || { cat "$TMP/mock.out" >&2; exit 1; }

declare -A SIP SPID
IFS=, read -ra brains <<<"$BRAINS"
for b in "${brains[@]}"; do
  case $b in
    flow) agent=bench/sip/scripted.json ;;
    llm) agent=bench/sip/llm.json ;;
    *) echo "unknown brain $b (flow, llm)" >&2; exit 2 ;;
  esac
  SIP[$b]=$(port)
  OPENAI_API_KEY=x OPENAI_BASE_URL="http://127.0.0.1:$MPORT/v1" \
    "$BANTER" serve --agent "$agent" --port "$(port)" --no-tls --sip-port "${SIP[$b]}" \
    --no-sip-tls --addr 127.0.0.1 --db "$TMP/db-$b" --max-sessions 2000 $SERVE_ARGS \
    >"$TMP/serve-$b.txt" 2>&1 &
  SPID[$b]=$!
  PIDS+=("${SPID[$b]}")
  serve_listening "$TMP/serve-$b.txt"
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
threads() { for t in /proc/"$1"/task/*; do echo "${t##*/} $(awk '{print $14 + $15}' "$t/stat")"; done; }
machine() { awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
hz=$(getconf CLK_TCK)

echo "model: local mock, first token after $FT ms (+0..$JIT), a token every $TOK ms; $TURNS turns a call of about $CALL_S s;"
echo "the N calls spread over $SPREAD s; $(nproc) cores"
printf '%-5s %4s %5s %5s %6s %9s %9s %11s %11s %6s %7s %6s %6s %5s\n' brain N load1 calls all_in \
  v2v_50/95 tok_50/95 t-out_50/95 s-out_50/95 skip cpu_s/c thread mock idle
declare -A best
for b in "${brains[@]}"; do best[$b]="0 0"; done
IFS=, read -ra ns <<<"$NS"
for n in "${ns[@]}"; do
  for b in "${brains[@]}"; do
    spid=${SPID[$b]}
    from=$(($(wc -l <"$TMP/serve-$b.txt") + 1))
    load1=$(cut -d' ' -f1 /proc/loadavg)
    c0=$(ticks "$spid"); k0=$(ticks "$MOCK"); threads "$spid" >"$TMP/t0"; m0=$(machine)
    w0=$(date +%s.%N)
    set +e
    sipp "127.0.0.1:${SIP[$b]}" -sf "$TMP/load.xml" -s agent -m "$n" -l "$n" \
      -r "$n" -rp "$((SPREAD * 1000))" -i 127.0.0.1 -p "$(port)" -mp "$(port)" \
      -timeout "$((CALL_S * 3 + 60))s" -nostdin -trace_stat -stf "$TMP/stat.csv" \
      >"$TMP/sipp.out" 2>&1
    rc=$?
    set -e
    sleep 1
    c1=$(ticks "$spid"); k1=$(ticks "$MOCK"); threads "$spid" >"$TMP/t1"; m1=$(machine)
    w1=$(date +%s.%N)
    busy=$(awk -v w0="$w0" -v w1="$w1" -v hz="$hz" 'BEGIN{w=w1-w0} NR==FNR{a[$1]=$2; next}
      {d=$2-a[$1]; if (d>m) m=d} END{printf "%.0f", 100*m/hz/w}' "$TMP/t0" "$TMP/t1")
    mock=$(awk -v d="$((k1 - k0))" -v w0="$w0" -v w1="$w1" -v hz="$hz" \
      'BEGIN{printf "%.0f", 100*d/hz/(w1-w0)}')
    idle=$(echo "$m0 $m1" | awk '{printf "%.0f", 100*($3-$1)/($4-$2)}')
    tail -n +"$from" "$TMP/serve-$b.txt" >"$TMP/run.txt"
    python3 - "$TMP/run.txt" "$TMP/sipp.out" "$b" "$n" "$load1" "$((c1 - c0))" "$hz" \
      "$TURNS" "$busy" "$mock" "$idle" "$rc" >"$TMP/row" <<'EOF'
import json, re, sys
path, sipp_out, brain, n, load1, ticks, hz, turns, busy, mock, idle, rc = sys.argv[1:]
n, turns = int(n), int(turns)
# the loops write to one stdout: a line may be cut by another's, so each
# finding is searched for anywhere (as bench/sip_load.sh does)
text = open(path).read()
okc = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", open(sipp_out).read())
done = int(okc[-1]) if okc else 0
skip = max([int(s) for s in re.findall(r"jitter buffer \d+, (\d+) ms skipped", text)] or [0])
v2v, tok, out, sen, per = [], [], [], [], {}
for cid, js in re.findall(r"(sip-\d+): trace (\{.*)", text):
    try:
        t = json.loads(js)
    except ValueError:
        continue
    if t.get("kind") != "reply":
        continue
    per[cid] = per.get(cid, 0) + 1
    g = lambda k: t.get(k)
    if g("voice_to_voice_ms") is not None:
        v2v.append(g("voice_to_voice_ms"))
    if g("endpoint_ms") is not None and g("first_text_ms") is not None:
        tok.append(g("first_text_ms") - g("endpoint_ms"))
    if g("text_to_out_wall_ms") is not None:
        out.append(g("text_to_out_wall_ms"))
    if g("sentence_to_out_wall_ms") is not None:
        sen.append(g("sentence_to_out_wall_ms"))
def pc(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else -1
pair = lambda v: "%d/%d" % (pc(v, 0.5), pc(v, 0.95))
all_in = sum(1 for c in per.values() if c >= turns)
cpu = int(ticks) / int(hz) / max(1, n)
print("%-5s %4d %5s %5d %6d %9s %9s %11s %11s %6d %7.3f %5s%% %4s%% %4s%%%s" % (
      brain, n, load1, done, all_in, pair(v2v), pair(tok), pair(out), pair(sen), skip,
      cpu, busy, mock, idle, "" if rc == "0" else "  (sipp exit %s)" % rc))
answered = done == n and all_in == n
p95 = pc(sen, 0.95)
print("%d %d" % (answered and 0 <= p95 < 20, answered and 0 <= p95 < 40))
EOF
    head -1 "$TMP/row"
    read -r with without < <(tail -1 "$TMP/row")
    read -r bw bwo <<<"${best[$b]}"
    [ "$with" = 1 ] && [ "$n" -gt "$bw" ] && bw=$n
    [ "$without" = 1 ] && [ "$n" -gt "$bwo" ] && bwo=$n
    best[$b]="$bw $bwo"
  done
done
echo "load1: 1-minute load average before the run; calls: completed (sipp's count); all_in: calls"
echo "with all $TURNS replies; v2v: voice-to-voice ms; tok: end of turn -> first text (token) ms;"
echo "t-out: first token -> first agent packet sent; s-out: first sentence -> first packet (the"
echo "engine's added latency), wall clock ms, the 20 ms frame clock included;"
echo "skip: the most ms a call's loop skipped; cpu_s/c: server CPU s per call;"
echo "thread: the busiest server thread; mock: the LLM mock's CPU; idle: the machine's idle share"
for b in "${brains[@]}"; do
  read -r bw bwo <<<"${best[$b]}"
  echo "$b: largest N with every call answered and first sentence -> first packet p95 < 20 ms:" \
    "$bw counting the frame clock, $bwo not counting it (p95 - 20 ms)"
done
