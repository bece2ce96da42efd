# Helpers for the LLM brain's end-to-end tests (sourced after lib.sh):
# `banter simulate` with agents/assistant.json against a local server that
# speaks OpenAI's and Anthropic's streaming wire formats
# (tests/clients/llm_mock.mjs), and checks over its request log and the
# trace.
MOCK_PID=""
trap '[ -n "$MOCK_PID" ] && kill $MOCK_PID 2>/dev/null; rm -rf "$TMP"' EXIT
# the checks below are many: one python for them all (lib.sh)
pyrun_start

# mock SCRIPT_JSON [args]: (re)start the mock with this script -> $PORT
mock() {
  printf '%s' "$1" >"$TMP/script.json"; shift
  rm -f "$TMP/req.jsonl"
  mock_start llm_mock.mjs --script "$TMP/script.json" --log "$TMP/req.jsonl" --key sk-test "$@"
}
# agent PYTHON_STATEMENT: agents/assistant.json changed by it (on a)
agent() {
  pyrun "$1" >"$TMP/agent.json" <<'PY'
import json, sys
a = json.load(open("agents/assistant.json"))
exec(sys.argv[1])
print(json.dumps(a))
PY
}
# llmsim CALLER_JSON [args]: simulate the agent against the mock
llmsim() {
  printf '%s' "$1" >"$TMP/caller.json"; shift
  rm -f "$TMP/trace.jsonl"
  [ -n "${KEEPDB:-}" ] || rm -f "$TMP/db"
  set +e
  OPENAI_API_KEY=sk-test ANTHROPIC_API_KEY=sk-test \
  OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" \
  BANTER_TOOLS_URL="http://127.0.0.1:$PORT/hooks" \
    "$BANTER" simulate --agent "$TMP/agent.json" --caller "$TMP/caller.json" \
    --trace "$TMP/trace.jsonl" --db "$TMP/db" "$@" >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}
# py EXPR: a python expression over the request log (reqs: the model
# requests in order, hooks: the webhook calls) and the trace (tr; turns,
# reply: the first answer to the caller, ag: the sentences said, said)
py() {
  pyrun "$TMP" "$1" <<'PY'
import json, sys
d = sys.argv[1]
log = [json.loads(l) for l in open(d + "/req.jsonl")]
reqs = [r for r in log if r["path"] in ("/v1/chat/completions", "/v1/messages")]
hooks = [r for r in log if r["path"].startswith("/hooks/")]
tr = [json.loads(l) for l in open(d + "/trace.jsonl")]
turns = [t for t in tr if t["type"] == "turn"]
reply = ([t for t in turns if t.get("kind") == "reply"] + [None])[0]
ag = [t for t in tr if t["type"] == "agent"]
fill = [a for a in ag if a.get("filler")]
said = " ".join(t.get("agent_text", "") for t in turns)
def msgs(i): return json.dumps(reqs[i]["body"]["messages"])
def at(text): return [a for a in ag if text in a.get("text", "")][0]["t_ms"]
v = eval(sys.argv[2])
print(v if not isinstance(v, bool) else ("yes" if v else "no"))
PY
}
check() { [ "$(py "$1")" = yes ] || fail "$2 ($1)"; }
