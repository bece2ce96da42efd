#!/usr/bin/env bash
# A flow agent's memory across calls ("flow.memory": true): at the end of a
# call the flow writes an extractive summary (the slots it gathered, the
# tools it ran) under the caller's id; a later call from the same caller
# to an LLM agent using the same store has it in the model's context. A
# flow that hands off to its LLM section writes one record per call,
# covering the hand-off too: the model's summary of the whole call when
# the llm section asks for one (the default), else extractive. The model
# is tests/clients/llm_mock.mjs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/llm_lib.sh"
BOOKING=$(cat callers/booking.json)

# 1. a booking by the flow, with memory on: one record, the slots and the
#    tool's result in it
pyrun >"$TMP/agent.json" <<'EOF'
import json
a = json.load(open("agents/restaurant.json"))
a["flow"]["memory"] = True
print(json.dumps(a))
EOF
mock '{"rules":[],"default":{"text":"Hello."}}'
llmsim "$BOOKING" --caller-id +15557001
[ "$SIM_RC" = 0 ] || fail "flow memory: the booking call did not complete ($SIM_RC): $(tail -5 "$TMP/out.txt")"
[ "$(sql 'select party, day, time from bookings')" = "3|Tuesday|7 pm" ] || fail "flow memory: no booking: $(sql 'select * from bookings' 2>&1)"
[ "$(sql "select count(*) from memory where caller = '+15557001'")" = 1 ] || fail "flow memory: not one record for the call: $(sql 'select * from memory')"
SUMMARY=$(sql "select summary from memory where caller = '+15557001'")
[ "$SUMMARY" = "the caller gave party 3, day Tuesday, time 7 pm, confirmed yes; booking.save done: booking_id 1" ] ||
  fail "flow memory: the summary does not say what was gathered and booked: $SUMMARY"
[ ! -s "$TMP/req.jsonl" ] || fail "flow memory: the flow asked a model for its summary"

# 2. the same caller then calls an LLM agent on the same store: the
#    flow's summary is in the model's system prompt
agent ''
mock '{"rules":[{"match":{"last_role":"user"},"times":1,"reply":{"text":"Goodbye.","tool_calls":[{"name":"end_call","arguments":{}}]}}],"default":{"text":"Hello."}}'
KEEPDB=1 llmsim '{"voice":"flite:slt","gap_ms":300,"turns":[{"say":"do i have a booking"}]}' --caller-id +15557001
[ "$SIM_RC" = 0 ] || fail "flow memory: the LLM call did not complete ($SIM_RC)"
check '"earlier calls" in reqs[0]["body"]["messages"][0]["content"] and "'"$SUMMARY"'" in reqs[0]["body"]["messages"][0]["content"]' \
  "flow memory: the LLM agent's first request lacks the flow's summary"

# 3. memory off (the default): a flow writes nothing
pyrun >"$TMP/agent.json" <<'EOF'
import json
print(json.dumps(json.load(open("agents/restaurant.json"))))
EOF
KEEPDB=1 llmsim "$BOOKING" --caller-id +15557002
[ "$SIM_RC" = 0 ] || fail "flow memory: the call without memory did not complete ($SIM_RC)"
[ "$(sql "select count(*) from memory where caller = '+15557002'")" = 0 ] || fail "flow memory: a flow without flow.memory wrote a record: $(sql 'select * from memory')"

# 4. a flow that hands a question to its LLM (which remembers by default,
#    llm.memory, with the model's summary): one record for the call,
#    written by the model from the whole call (the flow's slots and tool,
#    what was asked and answered during the hand-off); the LLM reads the
#    caller's memory
HANDOFF=$(pyrun <<'EOF'
import json
a = json.load(open("agents/restaurant.json"))
a["flow"]["memory"] = True
a["flow"]["intents"].append({"name": "menu", "phrases": ["what is on the menu"],
                             "keywords": ["menu"], "say": "Good question.", "next": "menu_llm"})
a["flow"]["nodes"]["menu_llm"] = {"llm": {"instructions": "Answer questions about the menu.",
                                          "return_to": "day"}}
a["llm"] = {"provider": "openai", "model": "gpt-4o-mini", "system": "You are Bella."}
a["flow"]["min_confidence"] = 0
print(json.dumps(a))
EOF
)
printf '%s' "$HANDOFF" >"$TMP/agent.json"
NOTE="Booked a table for 3 on Tuesday at 7 pm after asking about the menu."
handoff_mock() {  # $1: the summary request's reply
  mock '{"rules":[
 {"match":{"system":"keep notes"},"reply":'"$1"'},
 {"match":{"last_role":"user"},"times":1,"reply":{"text":"We have fresh pasta and pizza. Shall we go on with your booking?"}},
 {"match":{"last_role":"user"},"times":1,"reply":{"text":"Sure.","tool_calls":[{"name":"return_to_flow","arguments":{}}]}}]}'
}
HANDOFF_CALL='{"voice":"flite:slt","gap_ms":300,"turns":[{"say":"three"},{"say":"what is on the menu"},{"say":"yes please"},{"say":"tuesday"},{"say":"seven pm"},{"say":"yes"}]}'
handoff_mock '{"text":"'"$NOTE"'"}'
sqlite3 "$TMP/db" "insert into memory (caller, at, summary) values ('+15557003', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'Earlier: the caller asked about gluten-free pasta.')"
KEEPDB=1 llmsim "$HANDOFF_CALL" --caller-id +15557003
[ "$SIM_RC" = 0 ] || fail "flow memory: the hand-off call did not complete ($SIM_RC)"
check '"gluten-free pasta" in reqs[0]["body"]["messages"][0]["content"]' "flow memory: the hand-off LLM did not read the caller's memory"
check 'len(reqs) == 3 and sum("keep notes" in msgs(i) for i in range(len(reqs))) == 1 and "keep notes" in msgs(2)' "flow memory: not the two hand-off turns and then one summary request"
check '"Transcript of the call" in msgs(2) and "We have fresh pasta and pizza" in msgs(2) and "menu" in msgs(2) and "Recorded during the call: the caller gave party 3, day Tuesday, time 7 pm" in msgs(2) and "booking.save done: booking_id" in msgs(2)' \
  "flow memory: the summary request does not cover the whole call (the flow's slots and tool, the hand-off)"
[ "$(sql "select count(*) from memory where caller = '+15557003'")" = 2 ] || fail "flow memory: the hand-off call did not leave exactly one record: $(sql 'select * from memory')"
[ "$(sql "select summary from memory where caller = '+15557003' order by id desc limit 1")" = "$NOTE" ] ||
  fail "flow memory: the hand-off call's record is not the model's summary: $(sql 'select * from memory')"

# 5. the summary request fails: the flow's extractive record, with what
#    was asked and answered during the hand-off after the slots and tools
HANDOFF_EX='^the caller gave party 3, day Tuesday, time 7 pm, confirmed yes; booking.save done: booking_id [0-9]*; the caller asked "[^"]*"; the agent answered "We have fresh pasta and pizza. Shall we go on with your booking?"; the caller asked "[^"]*"; the agent answered "Sure."$'
handoff_mock '{"error":{"status":500,"message":"notes down"}}'
KEEPDB=1 llmsim "$HANDOFF_CALL" --caller-id +15557004
[ "$SIM_RC" = 0 ] || fail "flow memory: the hand-off call with a failed summary did not complete ($SIM_RC)"
grep -q 'memory: the summary of +15557004.s call .* failed (HTTP 500' "$TMP/out.txt" || fail "flow memory: no log line saying the summary failed: $(grep memory "$TMP/out.txt")"
[ "$(sql "select count(*) from memory where caller = '+15557004'")" = 1 ] || fail "flow memory: not one record: $(sql 'select * from memory')"
sql "select summary from memory where caller = '+15557004'" | grep -q "$HANDOFF_EX" ||
  fail "flow memory: the fallback record lacks the flow's slots or the hand-off: $(sql "select summary from memory where caller = '+15557004'")"

# 6. the agent's llm section asks for the extractive summary: no request,
#    the same record
pyrun "$HANDOFF" >"$TMP/agent.json" <<'EOF'
import json, sys
a = json.loads(sys.argv[1])
a["llm"]["memory"] = {"summary": "extractive"}
print(json.dumps(a))
EOF
handoff_mock '{"text":"not asked"}'
KEEPDB=1 llmsim "$HANDOFF_CALL" --caller-id +15557005
[ "$SIM_RC" = 0 ] || fail "flow memory: the extractive hand-off call did not complete ($SIM_RC)"
check 'len(reqs) == 2' "flow memory: a summary request although llm.memory.summary is extractive"
sql "select summary from memory where caller = '+15557005'" | grep -q "$HANDOFF_EX" ||
  fail "flow memory: the extractive record lacks the flow's slots or the hand-off: $(sql 'select * from memory')"
[ "$(sql "select count(*) from memory where caller = '+15557005'")" = 1 ] || fail "flow memory: not one record: $(sql 'select * from memory')"
pass "a flow with memory leaves one summary per call, the hand-off in it; an LLM agent recalls it"

# 7. a tool of the hand-off still running when the call ends: its result,
#    when it comes, goes into the flow's record of the call
pyrun "$HANDOFF" >"$TMP/agent.json" <<'EOF'
import json, sys
a = json.loads(sys.argv[1])
a["llm"]["memory"] = {"summary": "extractive"}
a["llm"]["tools"] = [{"name": "opening_hours", "description": "The opening hours for a day.",
                      "parameters": {"type": "object", "properties": {"day": {"type": "string"}}},
                      "webhook": {"url": "${BANTER_TOOLS_URL}/opening_hours", "timeout_ms": 20000, "retries": 0}}]
print(json.dumps(a))
EOF
mock '{"rules":[{"match":{"last_role":"user"},"times":1,"reply":{"text":"","tool_calls":[{"name":"opening_hours","arguments":{"day":"sunday"}}]}}],
 "hooks":{"opening_hours":{"result":{"hours":"noon to nine on sundays"},"delay_ms":8000}}}'
KEEPDB=1 llmsim '{"voice":"flite:slt","gap_ms":300,"turns":[{"say":"three"},{"say":"what is on the menu"}]}' --caller-id +15557006 --max-s 16
[ "$SIM_RC" = 1 ] || fail "flow memory: the call was meant to end (--max-s) before the hand-off's webhook answered ($SIM_RC)"
grep -q "opening_hours .* ended after the call" "$TMP/out.txt" || fail "flow memory: the hand-off's late result is not in the log"
[ "$(sql "select count(*) from memory where caller = '+15557006'")" = 1 ] || fail "flow memory: not one record: $(sql 'select * from memory')"
sql "select summary from memory where caller = '+15557006'" | grep -q '^the caller gave party 3; the caller asked "[^"]*"; opening_hours {"day":"sunday"} gave {"hours":"noon to nine on sundays"} (after the call ended)$' ||
  fail "flow memory: the hand-off's late result is not in the flow's record: $(sql "select summary from memory where caller = '+15557006'")"
pass "a flow's record waits for a tool of its hand-off that outlived the call"
