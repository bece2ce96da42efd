#!/usr/bin/env bash
# Voice-to-voice at the client over the Realtime WebSocket against the
# same caller through `banter simulate --realtime`, in the same run.
# Usage: bench/serve.sh [BANTER] [RUNS]   (prints p50/p95 and the difference)
set -euo pipefail
BANTER=${1:-./build/banter}
RUNS=${2:-5}
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BANTER" serve --agent agents/restaurant.json --port "$PORT" --no-tls --no-sip --addr 127.0.0.1 --db "$TMP/db" >"$TMP/serve.txt" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/lib.sh"
serve_listening "$TMP/serve.txt"
for i in $(seq "$RUNS"); do
  # the simulated caller says exactly what the WebSocket client sent; in
  # 20 ms chunks, as the simulator's frames (100 ms chunks reach the
  # server up to 100 ms ahead of their time and hid ~50 ms of the
  # transport's own delay)
  node tests/clients/call.mjs "ws://127.0.0.1:$PORT/v1/realtime" callers/booking.json --chunk-ms 20 --json "$TMP/ws$i.json" \
    --dump "$TMP/sent$i" >/dev/null
  "$BANTER" simulate --realtime --agent agents/restaurant.json --caller "$TMP/sent$i/caller.json" \
    --trace "$TMP/sim$i.jsonl" --json "$TMP/simc$i.json" --db "$TMP/db" >/dev/null
done
python3 - "$TMP" "$RUNS" <<'PY'
import json, sys, statistics
tmp, runs = sys.argv[1], int(sys.argv[2])
ws_c, ws_s, sim, sim_c = [], [], [], []
for i in range(1, runs + 1):
    for r in json.load(open(f"{tmp}/ws{i}.json"))[1:]:
        if r["v2v_client_ms"] is not None: ws_c.append(r["v2v_client_ms"])
        if r["v2v_server_ms"] is not None: ws_s.append(r["v2v_server_ms"])
    for r in json.load(open(f"{tmp}/simc{i}.json")):
        if r["v2v_client_ms"] is not None: sim_c.append(r["v2v_client_ms"])
    for line in open(f"{tmp}/sim{i}.jsonl"):
        o = json.loads(line)
        if o.get("type") == "turn" and o.get("kind") == "reply" and o.get("voice_to_voice_ms") is not None:
            sim.append(o["voice_to_voice_ms"])
def pct(a, p):
    a = sorted(a); return a[min(len(a) - 1, int(round(p / 100 * (len(a) - 1))))] if a else float("nan")
print(f"{'':36} {'n':>4} {'p50':>6} {'p95':>6}  (ms)")
for name, a in (("simulate --realtime, engine trace", sim), ("simulate --realtime, at the caller", sim_c),
                ("serve, server trace", ws_s), ("serve, at the WebSocket client", ws_c)):
    print(f"{name:36} {len(a):4} {pct(a,50):6} {pct(a,95):6}")
print(f"transport adds: p50 {pct(ws_c,50) - pct(sim_c,50)} ms, p95 {pct(ws_c,95) - pct(sim_c,95)} ms "
      "(at the WebSocket client minus at the simulated caller: both from the last speech sample; target <= 10 at p95)")
PY
