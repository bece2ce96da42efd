#!/usr/bin/env bash
# The LLM brain's fillers (rendered ahead, said at once, once a reply,
# never over the reply), routing by a tool to the larger model, and a
# webhook whose result comes after the call ended. `banter simulate`
# against tests/clients/llm_mock.mjs (helpers in llm_lib.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/llm_lib.sh"

ONE='{"voice":"flite:slt","gap_ms":300,"turns":[{"say":"when are you open"}]}'
HOURS='"hooks":{"opening_hours":{"result":{"hours":"noon to ten"},"delay_ms":2500}}'

# 1. a slow first token: the filler was rendered when the agent was set
#    up, and its audio starts in the tick its timer fires, long before the
#    model's first words
agent 'pass'
mock '{"rules":[{"match":{"last_role":"user"},"times":1,"reply":{"text":"We are open from noon.","first_token_ms":1500,"tool_calls":[{"name":"end_call","arguments":{}}]}}]}'
llmsim "$ONE"
[ "$SIM_RC" = 0 ] || fail "the call did not complete ($SIM_RC)"
check 'len(fill) == 1 and fill[0]["text"] == "One moment." and fill[0]["prerendered"] is True' "the filler was not said once, rendered ahead"
check 'reply["first_audio_ms"] == fill[0]["t_ms"]' "the filler's audio did not start in the tick it was said"
check 'reply["first_audio_ms"] < at("We are open")' "the filler's audio waited for the model's words"
check 'reply.get("filler") is True and said.index("One moment.") < said.index("We are open")' "the turn does not say it had a filler"
pass "filler: rendered ahead, audio at once on a slow first token"

# 2. the answer comes while a (long) filler plays: it waits for the filler
#    to end rather than play over it, so a caller who cuts in during the
#    filler has heard none of the answer, and the next request says so
agent 'a["llm"]["filler"] = {"after_ms": 600, "say": "One moment please, I am just looking into that for you right now."}'
mock '{"rules":[
 {"match":{"last_role":"user"},"times":1,"reply":{"text":"We are open from noon to ten every day of the week.","first_token_ms":900}},
 {"match":{"last_role":"user"},"times":1,"reply":{"text":"Sorry, go ahead.","tool_calls":[{"name":"end_call","arguments":{}}]}}]}'
llmsim '{"voice":"flite:slt","gap_ms":300,"turns":[{"say":"when are you open"},{"say":"stop please","barge_in_after_ms":1200}]}'
[ "$SIM_RC" = 0 ] || fail "the barge-in call did not complete ($SIM_RC)"
check 'len(fill) == 1 and fill[0]["prerendered"] is True' "the agent's own filler was not rendered ahead"
B='[t for t in tr if t["type"] == "barge_in"][0]'
check "at('We are open') < $B[\"t_ms\"]" "the answer had not come when the caller cut in"
check "'One moment' in $B['text'] and 'open' not in $B['text']" "what the caller heard is not the start of the filler"
check '"[the caller interrupted me here]" in msgs(1) and "We are open" not in msgs(1)' "the next request holds words of the answer the caller never heard"
pass "filler: an answer that comes while it plays waits for it"

# 3. at most one filler a reply: a slow first token and then a slow tool
#    get the first filler only
agent 'pass'
mock '{"rules":[
 {"match":{"last_role":"tool"},"times":1,"reply":{"text":"We are open from noon to ten.","tool_calls":[{"name":"end_call","arguments":{}}]}},
 {"match":{"last_role":"user"},"times":1,"reply":{"text":"","first_token_ms":1500,"tool_calls":[{"name":"opening_hours","arguments":{"day":"monday"}}]}}],
 '"$HOURS"'}'
llmsim "$ONE"
[ "$SIM_RC" = 0 ] || fail "the call did not complete ($SIM_RC)"
check 'len(hooks) == 1 and "noon to ten" in said' "the tool's answer was not said"
check 'len(fill) == 1 and fill[0]["text"] == "One moment." and "let me check that" not in said' "more than one filler in one reply"
pass "filler: at most one a reply"

# 4. the tool filler after the model's own words: said once, after them
mock '{"rules":[
 {"match":{"last_role":"tool"},"times":1,"reply":{"text":"We are open from noon to ten.","tool_calls":[{"name":"end_call","arguments":{}}]}},
 {"match":{"last_role":"user"},"times":1,"reply":{"text":"Let me check.","tool_calls":[{"name":"opening_hours","arguments":{"day":"monday"}}]}}],
 '"$HOURS"'}'
llmsim "$ONE"
[ "$SIM_RC" = 0 ] || fail "the call did not complete ($SIM_RC)"
check 'len(fill) == 1 and fill[0]["text"] == "One moment, let me check that." and fill[0]["prerendered"] is True' "no tool filler, or not rendered ahead"
check 'at("Let me check.") <= fill[0]["t_ms"] < at("We are open") and said.index("Let me check.") < said.index("One moment") < said.index("We are open")' "the tool filler is not between the model's words and its answer"
pass "tool filler: after the model's words, rendered ahead"

# 5. routing by a tool: the fast model calls a tool of llm.router.tools;
#    the request with its result goes to the larger model, after the
#    router's filler; the trace names the larger model
agent 'a["llm"]["router"]["tools"] = ["opening_hours"]'
mock '{"rules":[
 {"match":{"model":"gpt-4o","last_role":"tool"},"times":1,"reply":{"text":"We are open from noon to ten.","tool_calls":[{"name":"end_call","arguments":{}}]}},
 {"match":{"model":"gpt-4o-mini","last_role":"user"},"times":1,"reply":{"text":"","tool_calls":[{"name":"opening_hours","arguments":{"day":"monday"}}]}}],
 "default":{"text":"Wrong model."},
 "hooks":{"opening_hours":{"result":{"hours":"noon to ten"}}}}'
llmsim "$ONE"
[ "$SIM_RC" = 0 ] || fail "the routed call did not complete ($SIM_RC)"
check 'len(reqs) == 2 and reqs[0]["body"]["model"] == "gpt-4o-mini" and reqs[1]["body"]["model"] == "gpt-4o"' "the turn did not go on with the larger model"
check '"noon to ten" in msgs(1) and "tool_call_id" in msgs(1)' "the larger model did not get the tool's result"
check 'reply["model"] == "openai:gpt-4o"' "the trace does not name the larger model"
check '"Wrong model" not in said and "We are open from noon to ten." in said' "the larger model's answer was not said"
check 'len(fill) == 1 and fill[0]["text"] == "Let me think about that." and fill[0]["prerendered"] is True' "no router filler, or not rendered ahead"
pass "routing by a tool to the larger model"

# without the tool, the same agent stays on the fast model
mock '{"rules":[{"match":{"model":"gpt-4o-mini","last_role":"user"},"times":1,"reply":{"text":"Hello there.","tool_calls":[{"name":"end_call","arguments":{}}]}}],"default":{"text":"Wrong model."}}'
llmsim "$ONE"
check 'len(reqs) == 1 and reply["model"] == "openai:gpt-4o-mini"' "a turn without the tool left the fast model"
pass "routing by a tool: other turns stay on the fast model"

# the agent-file check: a router tool that is not one of the agent's, or
# one that ends the reply, is refused with its file:line
for bad in '["nope"]' '["end_call"]'; do
  agent "a['llm']['router']['tools'] = $bad"
  python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1])), indent=1))" "$TMP/agent.json" >"$TMP/bad.json"
  set +e; OPENAI_API_KEY=sk-test BANTER_TOOLS_URL=http://127.0.0.1:1/hooks "$BANTER" check "$TMP/bad.json" >"$TMP/out.txt" 2>&1; rc=$?; set -e
  [ $rc != 0 ] || fail "banter check took llm.router.tools $bad"
  grep -q "bad.json:[0-9]*:.*llm.router.tools.0" "$TMP/out.txt" || fail "no file:line and path for llm.router.tools $bad: $(cat "$TMP/out.txt")"
done
pass "check: llm.router.tools names the agent's tools, not end_call"

# 6. a webhook slower than the call: the call ends while it runs; the
#    trace says it was pending, and its result, when it comes, goes to the
#    log and into the caller's memory record, written then: the model's
#    summary (llm.memory.summary "model", the default), its request
#    holding the late result in the call's transcript
agent 'a["llm"]["tools"][1]["webhook"].update(timeout_ms=15000, retries=0)'
LATE_NOTE="The caller asked about Sundays; we open noon to nine."
late_script() {  # $1: the summary request's reply
  mock '{"rules":[{"match":{"system":"keep notes"},"reply":'"$1"'},
  {"match":{"last_role":"user"},"times":1,"reply":{"text":"","tool_calls":[{"name":"opening_hours","arguments":{"day":"sunday"}}]}}],
 "hooks":{"opening_hours":{"result":{"hours":"noon to nine on sundays"},"delay_ms":5000}}}'
}
late_script '{"text":"'"$LATE_NOTE"'"}'
llmsim "$ONE" --max-s 8 --caller-id +15557777
[ "$SIM_RC" = 1 ] || fail "the call was meant to end (--max-s) before the webhook answered ($SIM_RC)"
! grep -q "Sanitizer" "$TMP/out.txt" || fail "the late result touched freed memory or leaked"
check 'len(hooks) == 1' "the webhook was not called once"
check 'any(t["type"] == "tool" and t.get("pending") and t["text"] == "opening_hours" for t in tr)' "the trace does not say the tool was still running"
check '[t["type"] for t in tr].index("ended") < [i for i, t in enumerate(tr) if t["type"] == "tool"][0]' "the pending tool was reported before the call ended"
grep -q "opening_hours .* ended after the call" "$TMP/out.txt" || fail "the late result is not in the log"
check 'sum("keep notes" in msgs(i) for i in range(len(reqs))) == 1 and "keep notes" in msgs(-1)' "not one summary request, after the call"
check '"Caller: " in msgs(-1) and "Agent ran opening_hours" in msgs(-1) and "Result of opening_hours: {\\\"hours\\\":\\\"noon to nine on sundays\\\"} (after the call ended)" in msgs(-1)' "the summary request's transcript lacks the late result"
[ "$(sql 'select summary from memory where caller = "+15557777"')" = "$LATE_NOTE" ] || fail "the model's summary is not the caller's record: $(sql 'select * from memory' 2>&1)"
# and the next call from the caller knows it
mock '{"rules":[{"match":{"system":"keep notes"},"reply":{"text":"Second call."}},{"match":{"last_role":"user"},"times":1,"reply":{"text":"Hello again.","tool_calls":[{"name":"end_call","arguments":{}}]}}]}'
KEEPDB=1 llmsim "$ONE" --caller-id +15557777
check '"'"$LATE_NOTE"'" in reqs[0]["body"]["messages"][0]["content"]' "the next call does not recall the late result"
pass "a webhook result after the call ended: trace, log, the model's summary with it"

# the summary request fails: the extractive record, the late result in it,
# and the log says why
late_script '{"error":{"status":500,"message":"notes down"}}'
llmsim "$ONE" --max-s 8 --caller-id +15557778
[ "$SIM_RC" = 1 ] || fail "the call was meant to end before the webhook answered ($SIM_RC)"
grep -q 'memory: the summary of +15557778.s call by openai model "gpt-4o-mini" failed (HTTP 500: [a-z_: ]*notes down); stored the extractive summary' "$TMP/out.txt" ||
  fail "no log line saying the late record's summary failed: $(grep memory "$TMP/out.txt")"
sql 'select summary from memory where caller = "+15557778"' | grep -qF 'gave {"hours":"noon to nine on sundays"} (after the call ended)' ||
  fail "the late result is not in the extractive fallback: $(sql 'select * from memory' 2>&1)"
# "summary": "extractive": no request; the late result in the record
agent 'a["llm"]["tools"][1]["webhook"].update(timeout_ms=15000, retries=0); a["llm"]["memory"] = {"summary": "extractive"}'
late_script '{"text":"not asked"}'
llmsim "$ONE" --max-s 8 --caller-id +15557779
check 'not any("keep notes" in msgs(i) for i in range(len(reqs)))' "a summary request although the agent says extractive"
sql 'select summary from memory where caller = "+15557779"' | grep -qF 'gave {"hours":"noon to nine on sundays"} (after the call ended)' ||
  fail "the late result is not in the extractive record: $(sql 'select * from memory' 2>&1)"
pass "a late result's record: the extractive one when the summary fails or is not asked for"
