#!/usr/bin/env bash
# The LLM brain's latency against a local streaming server with a fixed
# first-token delay and token rate (tests/clients/llm_mock.mjs): where the
# time between the end of the caller's turn and the agent's first audio
# goes, and how much of it is the engine's. Both paths in the same run:
# `banter simulate --realtime` (compute counts) and `banter serve` with a
# WebSocket client (call.mjs), on the same agent and caller.
# Usage: bench/llm.sh [BANTER] [RUNS] [FIRST_TOKEN_MS] [TOKEN_MS]
set -euo pipefail
BANTER=${1:-./build/banter}
RUNS=${2:-2}
FT=${3:-150}
TOK=${4:-20}
TMP=$(mktemp -d)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cat >"$TMP/script.json" <<'EOF'
{"rules": [{"match": {"last_user": "thank"}, "reply": {"text": "You're welcome, goodbye!", "tool_calls": [{"name": "end_call", "arguments": {}}]}}],
 "default": {"text": "Sure, I can help with that. We have a table free at seven, and the kitchen is open until ten."}}
EOF
node tests/clients/llm_mock.mjs --script "$TMP/script.json" --port 0 --first-token-ms "$FT" \
  --token-ms "$TOK" --log "$TMP/req.jsonl" >"$TMP/mock.out" &
mock=$!
HTTP=$(port)
trap 'kill $mock ${srv:-} 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q listening "$TMP/mock.out" 2>/dev/null && break; sleep 0.05; done
MPORT=$(awk '{print $2}' "$TMP/mock.out")
export OPENAI_API_KEY=x OPENAI_BASE_URL="http://127.0.0.1:$MPORT/v1" BANTER_TOOLS_URL="http://127.0.0.1:$MPORT/hooks"
# the example agent without the filler (it would speak before the reply)
python3 -c '
import json; a = json.load(open("agents/assistant.json")); a["llm"]["filler"] = False
del a["llm"]["router"]; print(json.dumps(a))' >"$TMP/agent.json"
cat >"$TMP/caller.json" <<'EOF'
{"voice": "flite:slt", "gap_ms": 400, "turns": [
 {"say": "i would like a table tonight"}, {"say": "for four people"},
 {"say": "do you have anything at seven"}, {"say": "is the kitchen open late"},
 {"say": "can we sit outside"}, {"say": "thank you goodbye"}]}
EOF
"$BANTER" serve --agent "$TMP/agent.json" --port "$HTTP" --no-tls --no-sip --addr 127.0.0.1 \
  --db "$TMP/db" >"$TMP/serve.txt" 2>&1 &
srv=$!
sleep 1
for i in $(seq "$RUNS"); do
  "$BANTER" simulate --realtime --agent "$TMP/agent.json" --caller "$TMP/caller.json" \
    --trace "$TMP/sim$i.jsonl" --json "$TMP/simc$i.json" --db "$TMP/db" --max-s 45 >/dev/null || true
  node tests/clients/call.mjs "ws://127.0.0.1:$HTTP/v1/realtime" "$TMP/caller.json" \
    --json "$TMP/ws$i.json" >/dev/null || true
done
python3 - "$TMP" "$RUNS" "$FT" "$TOK" <<'PY'
import json, sys, glob, re
tmp, runs, ft, tok = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def pct(a, p):
    a = sorted(a); return a[min(len(a) - 1, int(round(p / 100 * (len(a) - 1))))] if a else float("nan")
def turns(path):
    for line in open(path):
        o = json.loads(line)
        if o.get("type") == "turn" and o.get("kind") == "reply" and o.get("first_text_ms") is not None \
           and o.get("audio_out_ms") is not None and not o.get("barge_in"):
            yield o
rows = {}
def add(name, v): rows.setdefault(name, []).append(v)
for i in range(1, runs + 1):
    for t in turns(f"{tmp}/sim{i}.jsonl"):
        add("end of turn -> first token (model + HTTP)", t["first_text_ms"] - t["endpoint_ms"])
        add("first token -> first audio ready (engine: planner + TTS of the 1st sentence)", t["first_audio_ms"] - t["first_text_ms"])
        add("first token -> first audio out (engine)", t["audio_out_ms"] - t["first_text_ms"])
        # the model writes the first sentence token by token (the mock: a
        # word a token); the planner knows it ended at the next token
        first = re.match(r".*?[.!?](\s|$)", t["agent_text"])
        k = len(re.findall(r"\s*\S+", first.group(0))) if first else 1
        add("  of which the engine's: first audio out - (first token + sentence written)",
            t["audio_out_ms"] - t["first_text_ms"] - k * tok)
        add("voice-to-voice, simulate --realtime (engine trace)", t["voice_to_voice_ms"])
    for r in json.load(open(f"{tmp}/simc{i}.json")):
        if r["v2v_client_ms"] is not None: add("voice-to-voice at the simulated caller", r["v2v_client_ms"])
    try:
        for r in json.load(open(f"{tmp}/ws{i}.json"))[1:]:
            if r["v2v_client_ms"] is not None: add("voice-to-voice at the WebSocket client (serve)", r["v2v_client_ms"])
    except (OSError, ValueError):
        pass
print(f"LLM server: first token after {ft} ms, then a token every {tok} ms (local mock)")
print(f"{'':78} {'n':>3} {'p50':>5} {'p95':>5}  (ms)")
for k, v in rows.items():
    print(f"{k:78} {len(v):3} {pct(v,50):5} {pct(v,95):5}")
ttft = rows.get("end of turn -> first token (model + HTTP)", [])
if ttft:
    print(f"engine + HTTP share of the first token: p50 {pct(ttft,50) - ft} ms over the server's {ft} ms")
PY
