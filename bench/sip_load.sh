#!/usr/bin/env bash
# Phone calls per server with the embedded models: sipp (Debian sip-tester)
# places N concurrent G.722 calls to one `banter serve` (not PCMU: the
# embedded recogniser hears narrow-band callers badly, docs/sip.md); each
# caller waits for
# the greeting, says "a table for three please" (flite, streamed from a file
# as RTP by sipp's rtp_stream), hears the reply and hangs up. Per N and
# arrival pattern (all within a second, or one every STAGGER seconds):
# calls completed, replies, answers heard right ("three"), voice-to-voice
# p50/p95 from the server's per-turn trace (end of the caller's speech ->
# first reply packet sent, on the call's media clock, which adds compute
# time), server CPU per call; and the largest N whose p95 stays <= 600 ms.
# Usage: bench/sip_load.sh [BANTER] [--ns 1,2,4,6,8] [--stagger-s 2.5]
#                          [--patterns burst,stagger] [--threads N]
set -euo pipefail
BANTER=./build/banter
NS=1,2,4,6
A=2.5
PATTERNS=burst,stagger
SERVE_ARGS=
while [ $# -gt 0 ]; do
  case "$1" in
    --ns) NS=$2; shift ;;
    --stagger-s) A=$2; shift ;;
    --patterns) PATTERNS=$2; shift ;;
    --threads) SERVE_ARGS="$SERVE_ARGS --threads $2"; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) BANTER=$1 ;;
  esac
  shift
done
cd "$(dirname "$0")/.."
[ -x "$BANTER" ] || { echo "no $BANTER: build first (make build)" >&2; exit 1; }
command -v sipp >/dev/null || { echo "sipp is not installed (Debian sip-tester)" >&2; exit 1; }
TMP=$(mktemp -d)
SERVE_PID=
trap '[ -n "$SERVE_PID" ] && kill $SERVE_PID 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# the caller's words as G.722 (banter's encoder, bench/sip/g722enc.c), 0.2 s
# of silence before and 1.5 s after (the line is silent while the agent
# decides)
BUILD=$(dirname "$BANTER")
[ -x "$BUILD/g722enc" ] || cmake --build "$BUILD" --target g722enc >/dev/null
flite -voice slt -t "a table for three please" -o "$TMP/words.wav"
sox "$TMP/words.wav" -r 16000 -c 1 "$TMP/say.wav" pad 0.2 1.5
"$BUILD/g722enc" "$TMP/say.wav" "$TMP/say.g722"
sed -e "s|@AUDIO@|$TMP/say.g722|" -e 's|@GREET_MS@|8000|' -e 's|@AFTER_MS@|6000|' \
  bench/sip/load.xml >"$TMP/load.xml"

HTTP=$(port); SIP=$(port)
"$BANTER" serve --agent agents/restaurant.json --port "$HTTP" --no-tls \
  --sip-port "$SIP" --addr 127.0.0.1 --db "$TMP/db" --max-sessions 200 \
  $SERVE_ARGS >"$TMP/serve.txt" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do grep -q 'Realtime API' "$TMP/serve.txt" 2>/dev/null && break; sleep 0.1; done
grep -q 'Realtime API' "$TMP/serve.txt" || { cat "$TMP/serve.txt" >&2; exit 1; }
cpu() { awk '{print $14 + $15}' "/proc/$SERVE_PID/stat"; }
hz=$(getconf CLK_TCK)

printf '%-8s %3s %6s %7s %6s %8s %8s %10s\n' pattern N calls replies right p50_ms p95_ms cpu_s/call
best=0
IFS=, read -ra ns <<<"$NS"
IFS=, read -ra pats <<<"$PATTERNS"
for pat in "${pats[@]}"; do
  for n in "${ns[@]}"; do
    from=$(($(wc -l <"$TMP/serve.txt") + 1))
    c0=$(cpu)
    if [ "$pat" = burst ]; then rate=(-r "$n" -rp 1000); else rate=(-r 1 -rp "$(python3 -c "print(int($A*1000))")"); fi
    set +e
    sipp "127.0.0.1:$SIP" -sf "$TMP/load.xml" -s agent -m "$n" -l "$n" "${rate[@]}" \
      -i 127.0.0.1 -p "$(port)" -mp "$(port)" -timeout 120s -nostdin \
      -trace_stat -stf "$TMP/stat.csv" >"$TMP/sipp.out" 2>&1
    rc=$?
    set -e
    sleep 1
    c1=$(cpu)
    ok=$(grep -c 'the caller hung up (BYE)' <(tail -n +"$from" "$TMP/serve.txt") || true)
    tail -n +"$from" "$TMP/serve.txt" | sed -n 's/^sip-[0-9]*: trace //p' >"$TMP/turns.jsonl"
    python3 - "$TMP/turns.jsonl" "$n" "$pat" "$ok" "$(( (c1 - c0) ))" "$hz" "$rc" >"$TMP/row" <<'EOF'
import json, sys
path, n, pat, ok, ticks, hz, rc = sys.argv[1:]
v, right, replies = [], 0, 0
for line in open(path):
    t = json.loads(line)
    if t.get("kind") != "reply":
        continue
    replies += 1
    if "three" in (t.get("user_text") or ""):
        right += 1
    if t.get("voice_to_voice_ms") is not None:
        v.append(t["voice_to_voice_ms"])
v.sort()
pc = lambda p: v[min(len(v) - 1, int(p * len(v)))] if v else -1
cpu = int(ticks) / int(hz) / max(1, int(n))
print("%-8s %3s %6s %7d %6d %8d %8d %10.2f%s" % (pat, n, ok, replies, right,
      pc(0.5), pc(0.95), cpu, "" if rc == "0" else "   (sipp exit %s)" % rc))
EOF
    cat "$TMP/row"
    p95=$(python3 - "$TMP/turns.jsonl" <<'EOF'
import json, sys
v = sorted(t["voice_to_voice_ms"] for t in map(json.loads, open(sys.argv[1]))
           if t.get("kind") == "reply" and t.get("voice_to_voice_ms") is not None)
print(v[min(len(v) - 1, int(0.95 * len(v)))] if v else 99999)
EOF
)
    replies=$(grep -c '"kind":"reply"' "$TMP/turns.jsonl" || true)
    if [ "$p95" -le 600 ] && [ "$replies" -ge "$n" ] && [ "$n" -gt "$best" ]; then best=$n; fi
  done
done
echo "largest N with every call answered and voice-to-voice p95 <= 600 ms: $best"
