#!/usr/bin/env bash
# The confirmation band of the default agent (agents/restaurant.json,
# flow.confirm_below 0.6) through a whole session: an answer heard at or
# above min_confidence but below the band is asked back; "yes" takes it
# and the booking completes; "no" asks the question again and the new
# answer is taken. The caller answers a confirmation with a turn that
# waits for it (if_agent_said, docs/caller-file.md).
source "$(dirname "$0")/lib.sh"

# agent text and user text lines of the trace, in order: "A: ..." / "U: ..."
said() {
  python3 - "$TMP/trace.jsonl" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") == "agent":
        print("A: " + e["text"])
    elif e.get("type") == "user":
        print("U: %s (%.2f)" % (e["text"], e.get("confidence", 0)))
EOF
}
# expect_seq FILE LINE...: the lines appear in FILE in this order (others
# may come between)
expect_seq() {
  python3 - "$@" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
i = 0
for want in sys.argv[2:]:
    while i < len(lines) and lines[i] != want:
        i += 1
    if i == len(lines):
        sys.exit("not in order: %r" % want)
    i += 1
EOF
}

# 1. The embedded recogniser as shipped: flite's slt says "eight pm", heard
# at 0.50 (inside the band, 0.4 to 0.6). The agent asks it back, the
# caller's "yes" takes it; the turns that wait for other confirmations
# are skipped.
cat >"$TMP/yes.json" <<'EOF'
{"voice": "flite:slt", "gap_ms": 300,
 "turns": [
   {"say": "two people"},
   {"say": "yes", "if_agent_said": "two, is that right"},
   {"say": "friday"},
   {"say": "yes", "if_agent_said": "Friday, is that right"},
   {"say": "eight pm"},
   {"say": "yes", "if_agent_said": "8 pm, is that right"},
   {"say": "yes"}
 ]}
EOF
sim "$TMP/yes.json"
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
said >"$TMP/said.txt"
grep -qx 'U: eight pm (0\.[45][0-9])' "$TMP/said.txt" \
  || fail "\"eight pm\" was not heard inside the band (0.40-0.59): $(grep '^U: ' "$TMP/said.txt" | tr '\n' ' ')"
expect_seq "$TMP/said.txt" "A: And at what time?" "A: 8 pm, is that right?" \
  "U: yes (1.00)" "A: A table for two on Friday at 8 pm, is that right?" \
  "A: Great, your table is booked." "A: Your booking number is 1." \
  || { cat "$TMP/said.txt" >&2; fail "the confirmation did not go question, 8 pm asked back, yes, booking"; }
[ "$(grep -c 'is that right?' "$TMP/said.txt")" = 2 ] \
  || { cat "$TMP/said.txt" >&2; fail "want two questions back: 8 pm and the booking"; }
grep -q 'caller: (skips "yes": the agent did not say "friday is that right")' "$TMP/out.txt" \
  || fail "the caller did not skip the turn that waits for a Friday confirmation"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "2|Friday|8 pm" ] || fail "bookings are '$rows', want 2|Friday|8 pm"
pass "an answer in the band is asked back; yes takes it; the booking completes"

# 2. "no": the scripted recogniser hears every answer at 0.5, inside the
# band, so each is asked back. At the time question the caller says no to
# "7 pm, is that right?", is asked the time again, and "nine pm" is the
# time booked (asked back too, then yes).
python3 - "$TMP/agent.json" <<'EOF'
import json, sys
a = json.load(open("agents/restaurant.json"))
assert a["flow"]["confirm_below"] > 0.5 > a["flow"]["min_confidence"]
a["persona"]["voice"] = "silent:"
a["stt"] = {"provider": "script", "confidence": 0.5, "delay_ms": 200,
            "words": ["three", "yes", "tuesday", "yes", "seven pm", "no",
                      "nine pm", "yes", "yes", "yes"]}
json.dump(a, open(sys.argv[1], "w"), indent=1)
EOF
cat >"$TMP/no.json" <<'EOF'
{"voice": "flite:slt", "gap_ms": 300,
 "turns": [
   {"say": "three"},
   {"say": "yes", "if_agent_said": "three, is that right"},
   {"say": "tuesday"},
   {"say": "yes", "if_agent_said": "Tuesday, is that right"},
   {"say": "seven pm"},
   {"say": "no", "if_agent_said": "7 pm, is that right"},
   {"say": "nine pm", "if_agent_said": "And at what time"},
   {"say": "yes", "if_agent_said": "9 pm, is that right"},
   {"say": "yes", "if_agent_said": "A table for three on Tuesday at 9 pm"},
   {"say": "yes", "if_agent_said": "yes, is that right"}
 ]}
EOF
rm -f "$TMP/db"
set +e
"$BANTER" simulate --agent "$TMP/agent.json" --caller "$TMP/no.json" \
  --trace "$TMP/trace.jsonl" --db "$TMP/db" >"$TMP/out.txt" 2>&1
SIM_RC=$?
set -e
[ "$SIM_RC" = 0 ] || fail "simulate (no) exited $SIM_RC"
said >"$TMP/said.txt"
expect_seq "$TMP/said.txt" "A: And at what time?" "U: seven pm (0.50)" \
  "A: 7 pm, is that right?" "U: no (0.50)" "A: And at what time?" \
  "U: nine pm (0.50)" "A: 9 pm, is that right?" "U: yes (0.50)" \
  "A: A table for three on Tuesday at 9 pm, is that right?" \
  || { cat "$TMP/said.txt" >&2; fail "no did not ask the time again, or nine pm was not taken"; }
grep -q "skips" "$TMP/out.txt" && fail "a caller turn was skipped: every answer should be asked back"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "3|Tuesday|9 pm" ] || fail "bookings are '$rows', want 3|Tuesday|9 pm"
pass "no asks the question again; the new answer is taken"

# 3. A caller file's if_agent_said must hold words
printf '{"turns": [{"say": "yes", "if_agent_said": "?!"}]}' >"$TMP/bad.json"
set +e
"$BANTER" simulate --agent agents/restaurant.json --caller "$TMP/bad.json" >"$TMP/out.txt" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "a caller file with an empty if_agent_said: exit $rc"
grep -qE 'bad.json:1:[0-9]+:.*turns\[0\]\.if_agent_said' "$TMP/out.txt" \
  || fail "the error does not name turns[0].if_agent_said: $(cat "$TMP/out.txt")"
pass "an if_agent_said without words is refused, naming the field"
