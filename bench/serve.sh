#!/usr/bin/env bash
# Voice-to-voice at the client over the Realtime WebSocket against the
# same caller through `banter simulate --realtime`, in the same run.
# Usage: bench/serve.sh [BANTER] [RUNS]   (prints p50/p95 and the difference)
#   CLOUD=1: the agent hears through a local Deepgram server and speaks
#   through a local ElevenLabs one (tests/clients/*_mock.mjs: scripted
#   words, fixed delays STT_MS, TTS_MS), both paths on the same servers.
#   The words and their timing then come from the audio's energy, not
#   from a recogniser's search, so the two paths end their turns alike and
#   the difference is the transport's own, to a few milliseconds.
#   KEEP=1: keep the run's files (the traces, the audio sent) and say where.
set -euo pipefail
BANTER=${1:-./build/banter}
RUNS=${2:-5}
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AGENT=agents/restaurant.json
trap 'kill $(cat "$TMP/pids" 2>/dev/null) 2>/dev/null || true; if [ -n "${KEEP:-}" ]; then echo "kept: $TMP"; else rm -rf "$TMP"; fi' EXIT
. "$(dirname "$0")/lib.sh"
if [ "${CLOUD:-0}" = 1 ]; then
  python3 -c 'import json,sys; print(json.dumps([t["say"] for t in json.load(open(sys.argv[1]))["turns"]]))' \
    callers/booking.json >"$TMP/script.json"
  dg=$(mock_start dg deepgram_mock.mjs --script "$TMP/script.json" --latency-ms "${STT_MS:-50}")
  el=$(mock_start el elevenlabs_mock.mjs --first-ms "${TTS_MS:-100}")
  export DEEPGRAM_API_KEY=x DEEPGRAM_BASE_URL="ws://127.0.0.1:$dg" ELEVENLABS_API_KEY=x \
    ELEVENLABS_BASE_URL="ws://127.0.0.1:$el"
  python3 - >"$TMP/agent.json" <<'PY'
import json
a = json.load(open("agents/restaurant.json"))
a["stt"] = {"provider": "deepgram"}
a["persona"]["voice"] = "elevenlabs:benchvoice"
print(json.dumps(a))
PY
  AGENT=$TMP/agent.json
  echo "Deepgram and ElevenLabs servers on this machine: messages +${STT_MS:-50} ms, first audio +${TTS_MS:-100} ms"
fi
"$BANTER" serve --agent "$AGENT" --port "$PORT" --no-tls --no-sip --addr 127.0.0.1 --db "$TMP/db" >"$TMP/serve.txt" 2>&1 &
echo $! >>"$TMP/pids"
serve_listening "$TMP/serve.txt"
for i in $(seq "$RUNS"); do
  # the simulated caller says exactly what the WebSocket client sent; in
  # 20 ms chunks, as the simulator's frames (100 ms chunks reach the
  # server up to 100 ms ahead of their time and hid ~50 ms of the
  # transport's own delay)
  node tests/clients/call.mjs "ws://127.0.0.1:$PORT/v1/realtime" callers/booking.json --chunk-ms 20 --json "$TMP/ws$i.json" \
    --dump "$TMP/sent$i" >/dev/null
  "$BANTER" simulate --realtime --agent "$AGENT" --caller "$TMP/sent$i/caller.json" \
    --trace "$TMP/sim$i.jsonl" --json "$TMP/simc$i.json" --db "$TMP/db" >/dev/null
done
python3 - "$TMP" "$RUNS" <<'PY'
import json, sys, statistics
tmp, runs = sys.argv[1], int(sys.argv[2])
ws_c, ws_s, sim, sim_c = [], [], [], []
pairs = []  # (ws row, sim trace turn, sim caller row): the same audio on both paths
for i in range(1, runs + 1):
    ws = json.load(open(f"{tmp}/ws{i}.json"))[1:]
    sc = json.load(open(f"{tmp}/simc{i}.json"))
    st = [o for o in map(json.loads, open(f"{tmp}/sim{i}.jsonl"))
          if o.get("type") == "turn" and o.get("kind") == "reply"]
    for r in ws:
        if r["v2v_client_ms"] is not None: ws_c.append(r["v2v_client_ms"])
        if r["v2v_server_ms"] is not None: ws_s.append(r["v2v_server_ms"])
    for r in sc:
        if r["v2v_client_ms"] is not None: sim_c.append(r["v2v_client_ms"])
    for o in st:
        if o.get("voice_to_voice_ms") is not None: sim.append(o["voice_to_voice_ms"])
    if len(ws) == len(sc) == len(st):
        pairs += [p for p in zip(ws, st, sc) if p[0]["v2v_client_ms"] is not None and p[2]["v2v_client_ms"] is not None]
def pct(a, p):
    a = sorted(a); return a[min(len(a) - 1, int(round(p / 100 * (len(a) - 1))))] if a else float("nan")
print(f"{'':36} {'n':>4} {'p50':>6} {'p95':>6}  (ms)")
for name, a in (("simulate --realtime, engine trace", sim), ("simulate --realtime, at the caller", sim_c),
                ("serve, server trace", ws_s), ("serve, at the WebSocket client", ws_c)):
    print(f"{name:36} {len(a):4} {pct(a,50):6} {pct(a,95):6}")
print(f"transport adds: p50 {pct(ws_c,50) - pct(sim_c,50)} ms, p95 {pct(ws_c,95) - pct(sim_c,95)} ms "
      "(at the WebSocket client minus at the simulated caller: both from the last speech sample; target <= 10 at p95)")
# turn by turn: the same caller audio through both paths, and where the
# difference arises (the traces' stages; the server's on its media clock)
stages = (("speech end -> end of turn", "user_speech_end_ms", "endpoint_ms"),
          ("end of turn -> final", "endpoint_ms", "stt_final_ms"),
          ("final -> first text", "stt_final_ms", "first_text_ms"),
          ("first text -> first audio", "first_text_ms", "first_audio_ms"),
          ("first audio -> sent", "first_audio_ms", "audio_out_ms"))
if pairs:
    d = [w["v2v_client_ms"] - c["v2v_client_ms"] for w, _, c in pairs]
    print(f"turn by turn ({len(pairs)} pairs), serve minus simulate: mean {statistics.mean(d):.1f}, "
          f"p50 {pct(d,50)}, p95 {pct(d,95)}, min {min(d)}, max {max(d)} ms")
    for name, a, b in stages:
        x = [(w["trace"][b] - w["trace"][a]) - (t[b] - t[a]) for w, t, _ in pairs
             if w.get("trace") and None not in (w["trace"].get(a), w["trace"].get(b), t.get(a), t.get(b))]
        if x:
            print(f"  {name:28} mean {statistics.mean(x):6.1f}  p95 {pct(x,95):5}  (trace, serve minus simulate)")
    x = [(w["v2v_client_ms"] - w["trace"]["voice_to_voice_ms"]) - (c["v2v_client_ms"] - t["voice_to_voice_ms"])
         for w, t, c in pairs if w.get("trace") and w["trace"].get("voice_to_voice_ms") is not None
         and t.get("voice_to_voice_ms") is not None]
    if x:
        print(f"  {'outside the traces':28} mean {statistics.mean(x):6.1f}  p95 {pct(x,95):5}  "
              "(at the client minus traced, serve minus simulate: the wire both ways, resampling, clocks)")
PY
