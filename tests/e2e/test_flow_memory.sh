#!/usr/bin/env bash
# A flow agent's memory across calls ("flow.memory": true): at the end of a
# call the flow writes an extractive summary (the slots it gathered, the
# tools it ran) under the caller's id; a later call from the same caller
# to an LLM agent using the same store has it in the model's context. A
# flow that hands off to its LLM section writes one record per call (the
# LLM's own summary is not written). The model is tests/clients/llm_mock.mjs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/llm_lib.sh"
BOOKING=$(cat callers/booking.json)

# 1. a booking by the flow, with memory on: one record, the slots and the
#    tool's result in it
python3 - >"$TMP/agent.json" <<'EOF'
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
python3 - >"$TMP/agent.json" <<'EOF'
import json
print(json.dumps(json.load(open("agents/restaurant.json"))))
EOF
KEEPDB=1 llmsim "$BOOKING" --caller-id +15557002
[ "$SIM_RC" = 0 ] || fail "flow memory: the call without memory did not complete ($SIM_RC)"
[ "$(sql "select count(*) from memory where caller = '+15557002'")" = 0 ] || fail "flow memory: a flow without flow.memory wrote a record: $(sql 'select * from memory')"

# 4. a flow that hands a question to its LLM (which remembers by default,
#    llm.memory): still one record for the call, the flow's, and no
#    summary request to the model; the LLM reads the caller's memory
python3 - >"$TMP/agent.json" <<'EOF'
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
mock '{"rules":[
 {"match":{"last_role":"user"},"times":1,"reply":{"text":"We have fresh pasta and pizza. Shall we go on with your booking?"}},
 {"match":{"last_role":"user"},"times":1,"reply":{"text":"Sure.","tool_calls":[{"name":"return_to_flow","arguments":{}}]}}]}'
sqlite3 "$TMP/db" "insert into memory (caller, at, summary) values ('+15557003', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'Earlier: the caller asked about gluten-free pasta.')"
KEEPDB=1 llmsim '{"voice":"flite:slt","gap_ms":300,"turns":[{"say":"three"},{"say":"what is on the menu"},{"say":"yes please"},{"say":"tuesday"},{"say":"seven pm"},{"say":"yes"}]}' --caller-id +15557003
[ "$SIM_RC" = 0 ] || fail "flow memory: the hand-off call did not complete ($SIM_RC)"
check 'len(reqs) == 2' "flow memory: not exactly the two hand-off turns went to the model (a summary request?)"
check '"gluten-free pasta" in reqs[0]["body"]["messages"][0]["content"]' "flow memory: the hand-off LLM did not read the caller's memory"
[ "$(sql "select count(*) from memory where caller = '+15557003'")" = 2 ] || fail "flow memory: the hand-off call did not leave exactly one record: $(sql 'select * from memory')"
sql "select summary from memory where caller = '+15557003' order by id desc limit 1" | grep -q '^the caller gave party 3, day Tuesday, time 7 pm, confirmed yes; booking.save done: booking_id' ||
  fail "flow memory: the hand-off call's record is not the flow's: $(sql 'select * from memory')"
pass "a flow with memory leaves one extractive summary per call; an LLM agent recalls it"
