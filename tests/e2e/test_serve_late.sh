#!/usr/bin/env bash
# `banter serve` stopping (SIGTERM) while a call's webhook tool still runs:
# the server waits for it, bounded by what the tool's own timeout and
# retries allow, and its result reaches the log and the caller's memory
# record, written then as the model's summary with the late result in the
# call's transcript; past the bound the record is written without it. The
# model and the webhook are tests/clients/llm_mock.mjs; the client is
# tests/clients/late_stop.mjs (a Realtime text session).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/llm_lib.sh"
NOTE="The caller asked about Sundays; we open noon to nine."

# late_call CALLER HOOK: a call whose model calls opening_hours (the mock's
# hook HOOK); the server is told to stop once the webhook has been called
late_call() {
  mock '{"rules":[{"match":{"system":"keep notes"},"reply":{"text":"'"$NOTE"'"}},
 {"match":{"last_user":"sunday"},"times":1,"reply":{"text":"","tool_calls":[{"name":"opening_hours","arguments":{"day":"sunday"}}]}}],
 "default":{"text":"Hello."}, "hooks":{"opening_hours":'"$2"'}}'
  export OPENAI_API_KEY=sk-test OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" \
    BANTER_TOOLS_URL="http://127.0.0.1:$PORT/hooks"
  serve --agent assistant="$TMP/agent.json"
  trap 'kill $SERVE_PID $MOCK_PID 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
  node "$CLIENTS/late_stop.mjs" "$HTTP_PORT" "$PORT" "$1" >"$TMP/client.txt" 2>&1 &
  local client=$! _
  for _ in $(seq 1200); do
    grep -q '^READY' "$TMP/client.txt" && break
    kill -0 $client 2>/dev/null || break
    sleep 0.05
  done
  grep -q '^READY' "$TMP/client.txt" || fail "the model did not call the webhook: $(cat "$TMP/client.txt")"
  stop_serve
  wait $client || fail "the client failed: $(cat "$TMP/client.txt")"
  grep -q '^1 passed, 0 failed$' "$TMP/client.txt" || fail "the client failed: $(cat "$TMP/client.txt")"
  ! grep -q "Sanitizer" "$TMP/serve.txt" || fail "the server's stop touched freed memory or leaked: $(cat "$TMP/serve.txt")"
}

# 1. the webhook answers 4 s after it was called; the server stops
#    meanwhile and waits for it
agent 'a["llm"]["tools"][1]["webhook"].update(timeout_ms=20000, retries=0)'
late_call +15558888 '{"result":{"hours":"noon to nine on sundays"},"delay_ms":4000}'
grep -q 'the tool opening_hours (call [^)]*) ended after the call: {"hours":"noon to nine on sundays"}; kept in the caller.s memory' "$TMP/serve.txt" ||
  fail "the late result is not in the server's log: $(cat "$TMP/serve.txt")"
pyrun "$TMP/req.jsonl" <<'EOF' || fail "no summary request with the late result in the call's transcript: $(tail -3 "$TMP/req.jsonl")"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
s = [r for r in log if r["path"] == "/v1/chat/completions" and "keep notes" in json.dumps(r["body"]["messages"])]
assert len(s) == 1, len(s)
m = json.dumps(s[0]["body"]["messages"])
assert 'Result of opening_hours: {\\"hours\\":\\"noon to nine on sundays\\"} (after the call ended)' in m, m
EOF
[ "$(sql "select summary from memory where caller = '+15558888'")" = "$NOTE" ] ||
  fail "the caller's record is not the model's summary: $(sql 'select * from memory'; grep memory "$TMP/serve.txt")"
pass "a server stopping waits for a call's late tool: its result in the log and the caller's memory"

# 2. a webhook that would run past its bound (timeout_ms 1000, one retry;
#    its first answer says to come back in 60 s): the server waits no
#    longer than the bound, then writes the record without the result
#    (extractive here) and the log says the result is lost
agent 'a["llm"]["tools"][1]["webhook"].update(timeout_ms=1000, retries=1); a["llm"]["memory"] = {"summary": "extractive"}'
late_call +15558889 '{"result":{"hours":"noon to nine on sundays"},"fail_times":1,"retry_after_s":60}'
grep -q 'the tool opening_hours (call [^)]*) had not ended when the program stopped; its result is lost' "$TMP/serve.txt" ||
  fail "the server's log does not say the late tool was cut off: $(cat "$TMP/serve.txt")"
sql "select summary from memory where caller = '+15558889'" | grep -qF 'opening_hours {"day":"sunday"} gave no result before the program stopped' ||
  fail "the caller's record does not say the tool gave no result: $(sql 'select * from memory')"
pass "a server stopping waits for a late tool no longer than its timeout and retries allow"
