#!/usr/bin/env bash
# An LLM agent behind `banter serve`: the official openai Realtime client
# sends its instructions and function tools, gets the model's function
# call as Realtime events and continues the response with its output.
# Memory across calls: a call simulated with --caller-id leaves a summary
# written by the model; a Realtime client naming the same caller (by
# ?caller_id=, percent-encoded, or session.update's metadata.user_id) gets
# it in the model's system prompt; the server's own calls leave theirs,
# and a stopping server waits for the summaries still being written.
# The model is tests/clients/llm_mock.mjs speaking OpenAI's format.
source "$(dirname "$0")/lib.sh"
CALLER=+15551234567
NOTE="Remembered: the caller prefers the window table."
cat >"$TMP/script.json" <<JSON
{"rules": [
  {"match": {"system": "keep notes"}, "reply": {"text": "$NOTE", "first_token_ms": 1500}},
  {"match": {"last_role": "tool"}, "reply": {"text": "It is 20 degrees and clear in Paris."}},
  {"match": {"last_user": "weather"}, "reply": {"text": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}},
  {"match": {"last_user": "slow question"}, "reply": {"text": "Let me think. Yes.", "first_token_ms": 1500}},
  {"match": {"last_user": "hello from|next question"}, "reply": {"text": "Hello."}},
  {"match": {"last_role": "user"}, "times": 1, "reply": {"text": "Goodbye.", "tool_calls": [{"name": "end_call", "arguments": {}}]}}],
 "default": {"text": "Hello."}}
JSON
node $CLIENTS/llm_mock.mjs --script "$TMP/script.json" --port 0 >"$TMP/mock.out" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q listening "$TMP/mock.out" && break; sleep 0.05; done
MPORT=$(awk '/listening/{print $2}' "$TMP/mock.out")
[ -n "$MPORT" ] || fail "the LLM mock did not start"
export OPENAI_API_KEY=x OPENAI_BASE_URL="http://127.0.0.1:$MPORT/v1" \
  BANTER_TOOLS_URL="http://127.0.0.1:$MPORT/hooks"

# an earlier call of the caller, by phone (simulated): the model's summary
# (slow to come: simulate waits for it after the call)
printf '%s' '{"voice":"flite:slt","gap_ms":300,"turns":[{"say":"a table by the window please"}]}' >"$TMP/caller.json"
"$BANTER" simulate --agent agents/assistant.json --caller "$TMP/caller.json" \
  --db "$TMP/db" --caller-id "$CALLER" >"$TMP/out.txt" 2>&1 || fail "the first call did not complete"
[ "$(sql "select summary from memory where caller = '$CALLER'")" = "$NOTE" ] || fail "simulate did not store the model's summary: $(sql 'select * from memory')"

serve --agent assistant=agents/assistant.json
trap 'kill $SERVE_PID $MOCK 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
node "$CLIENTS/realtime_llm.mjs" "$TLS_PORT" "$MPORT" "$CALLER" "$NOTE" | tee "$TMP/out.txt"
grep -q '^6 passed, 0 failed$' "$TMP/out.txt" || fail "the LLM Realtime client test failed"
# at once: the last sessions' summaries (1.5 s each) are still on their way
stop_serve
# the three sessions that named the caller each left the model's summary
[ "$(sql "select count(*) from memory where caller = '$CALLER' and summary = '$NOTE'")" = 4 ] ||
  fail "the server's calls did not all leave the model's summary: $(sql 'select * from memory'; grep memory "$TMP/serve.txt")"
! grep -q 'memory: the summary' "$TMP/serve.txt" || fail "a summary failed: $(grep memory "$TMP/serve.txt")"

# The caller's memory is read on the worker pool from the session's set-up;
# with the store locked (a writer holds it) the read is not back within
# llm.memory.wait_ms: the first response goes without it (and the log says
# so), the next one has it once the lock is gone.
python3 - "$TMP/agent_wait.json" <<'PY'
import json, sys
a = json.load(open("agents/assistant.json"))
a.setdefault("llm", {})["memory"] = {"wait_ms": 500, "summary": "extractive"}
json.dump(a, open(sys.argv[1], "w"))
PY
python3 - "$TMP/db" "$TMP/unlock" "$TMP/locked" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.02)
db.execute("COMMIT")
PY
LOCKER=$!
for _ in $(seq 100); do [ -e "$TMP/locked" ] && break; sleep 0.05; done
[ -e "$TMP/locked" ] || fail "the store could not be locked"
serve --agent assistant="$TMP/agent_wait.json"
trap 'kill $SERVE_PID $MOCK $LOCKER 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
MEMORY_UNLOCK="$TMP/unlock" node "$CLIENTS/realtime_llm.mjs" "$TLS_PORT" "$MPORT" "$CALLER" "$NOTE" | tee "$TMP/out.txt"
grep -q '^1 passed, 0 failed$' "$TMP/out.txt" || fail "the slow memory read test failed: $(grep memory "$TMP/serve.txt")"
wait $LOCKER || fail "the lock holder failed"
stop_serve
grep -q "memory: $CALLER's earlier calls were not read within 500 ms (llm.memory.wait_ms); answering without them" "$TMP/serve.txt" ||
  fail "no log line saying the first response went without the caller's memory: $(grep memory "$TMP/serve.txt")"
pass "Realtime client tools through an LLM agent; memory by ?caller_id= and session metadata, read off the loop"
