#!/usr/bin/env bash
# An LLM agent behind `banter serve`: the official openai Realtime client
# sends its instructions and function tools, gets the model's function
# call as Realtime events and continues the response with its output.
# The model is tests/clients/llm_mock.mjs speaking OpenAI's format.
source "$(dirname "$0")/lib.sh"
cat >"$TMP/script.json" <<'JSON'
{"rules": [
  {"match": {"last_role": "tool"}, "reply": {"text": "It is 20 degrees and clear in Paris."}},
  {"match": {"last_user": "weather"}, "reply": {"text": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}}],
 "default": {"text": "Hello."}}
JSON
node $CLIENTS/llm_mock.mjs --script "$TMP/script.json" --port 0 >"$TMP/mock.out" 2>&1 &
MOCK=$!
for _ in $(seq 100); do grep -q listening "$TMP/mock.out" && break; sleep 0.05; done
MPORT=$(awk '/listening/{print $2}' "$TMP/mock.out")
[ -n "$MPORT" ] || fail "the LLM mock did not start"
export OPENAI_API_KEY=x OPENAI_BASE_URL="http://127.0.0.1:$MPORT/v1" \
  BANTER_TOOLS_URL="http://127.0.0.1:$MPORT/hooks"
serve --agent assistant=agents/assistant.json
trap 'kill $SERVE_PID $MOCK 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
node "$CLIENTS/realtime_llm.mjs" "$TLS_PORT" "$MPORT" | tee "$TMP/out.txt"
grep -q '^[0-9]* passed, 0 failed$' "$TMP/out.txt" || fail "the LLM Realtime client test failed"
stop_serve
pass "Realtime client tools through an LLM agent"
