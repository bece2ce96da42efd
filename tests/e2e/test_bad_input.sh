#!/usr/bin/env bash
# Bad input gets a clear message and a non-zero exit, never a crash.
source "$(dirname "$0")/lib.sh"
expect_err() { # expect_err PATTERN -- ARGS...
  local pat=$1; shift; set +e
  "$BANTER" "$@" >"$TMP/out.txt" 2>&1; local rc=$?; set -e
  [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "'$*' exited $rc"
  grep -qE "$pat" "$TMP/out.txt" || fail "'$*': message lacks /$pat/: $(cat "$TMP/out.txt")"
}
printf '{"name": "x",\n  "persona": {"voice": "espeak:en-us" \n}\n' >"$TMP/bad.json"
expect_err "bad.json:[0-9]+:[0-9]+: not valid JSON" simulate --agent "$TMP/bad.json" --caller callers/booking.json
printf '{"name": "x",\n "persona": {"voice": "espeak:en-us", "rate_wpm": "fast"},\n "flow": {}}\n' >"$TMP/schema.json"
expect_err 'schema.json:2:[0-9]+:.*persona.rate_wpm' simulate --agent "$TMP/schema.json" --caller callers/booking.json
sed 's/"espeak:en-us+f3"/"nosuch:voice"/' agents/restaurant.json >"$TMP/prov.json"
expect_err 'nosuch' simulate --agent "$TMP/prov.json" --caller callers/booking.json
expect_err 'no such (agent )?file|cannot open' simulate --agent "$TMP/none.json" --caller callers/booking.json
printf '{"turns": [{"wav": "missing.wav"}]}' >"$TMP/c1.json"
expect_err 'c1.json:1:[0-9]+:.*turns\[0\].wav.*missing.wav' simulate --agent agents/restaurant.json --caller "$TMP/c1.json"
printf 'not a wav' >"$TMP/junk.wav"; printf '{"turns": [{"wav": "junk.wav"}]}' >"$TMP/c2.json"
expect_err 'junk.wav' simulate --agent agents/restaurant.json --caller "$TMP/c2.json"
printf '{"voice": "flite:nobody", "turns": []}' >"$TMP/c3.json"
expect_err 'nobody' simulate --agent agents/restaurant.json --caller "$TMP/c3.json"
printf '{"turns": [{"sing": "la"}]}' >"$TMP/c4.json"
expect_err 'turns\[0\]' simulate --agent agents/restaurant.json --caller "$TMP/c4.json"
# caller files: a typo, a bad number, an empty or doubled turn are errors
# that name the field, never a silently different call
printf '{"turns": [{"say": "hi", "barge_in_afer_ms": 300}]}' >"$TMP/c5.json"
expect_err 'c5.json:1:[0-9]+:.*turns\[0\].barge_in_afer_ms.*unknown key' simulate --agent agents/restaurant.json --caller "$TMP/c5.json"
printf '{"turns": [{"say": "hi", "gap_ms": -1}]}' >"$TMP/c6.json"
expect_err 'turns\[0\].gap_ms.*0 to 60000' simulate --agent agents/restaurant.json --caller "$TMP/c6.json"
printf '{"turns": [{"say": "mhm", "backchannel": "yes"}]}' >"$TMP/c7.json"
expect_err 'turns\[0\].backchannel.*true or false' simulate --agent agents/restaurant.json --caller "$TMP/c7.json"
printf '{"turns": [{"say": ""}]}' >"$TMP/c8.json"
expect_err 'turns\[0\].say.*empty' simulate --agent agents/restaurant.json --caller "$TMP/c8.json"
printf '{"turns": [{"say": "hi", "wav": "junk.wav"}]}' >"$TMP/c9.json"
expect_err 'turns\[0\].*both "say" and "wav"' simulate --agent agents/restaurant.json --caller "$TMP/c9.json"
printf '{"voice": "flite:slt", "turnz": []}' >"$TMP/c10.json"
expect_err 'c10.json:1:[0-9]+:.*turnz.*unknown key' simulate --agent agents/restaurant.json --caller "$TMP/c10.json"
printf 'RIFF\x26\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x02\x00\x00\x00\x00\x00' >"$TMP/one.wav"
printf '{"turns": [{"wav": "one.wav"}]}' >"$TMP/c11.json"
expect_err 'turns\[0\].wav.*1 sample' simulate --agent agents/restaurant.json --caller "$TMP/c11.json"
expect_err 'is a directory' simulate --agent agents/restaurant.json --caller "$TMP"
mkfifo "$TMP/fifo"
expect_err 'not a regular file' simulate --agent agents/restaurant.json --caller "$TMP/fifo"
# the command line: help and version everywhere, numbers checked
"$BANTER" help | grep -q "usage: banter COMMAND" || fail "banter help"
"$BANTER" --version | grep -qE "^banter [0-9]+\.[0-9]+" || fail "banter --version"
"$BANTER" stats --help | grep -q "usage: banter stats" || fail "banter stats --help"
"$BANTER" check --help | grep -q "usage: banter check" || fail "banter check --help"
for v in abc 1.5 -5; do
  expect_err "max-s takes a whole number" simulate --agent agents/restaurant.json --caller callers/booking.json --max-s "$v"
done
expect_err "echo-db takes a level" simulate --agent agents/restaurant.json --caller callers/booking.json --echo-db xyz
# a call cut by --max-s while the agent speaks is a timeout, not a barge-in,
# and a turn with no reply shows "-" in the latency table
printf '{"turns": [{"say": "a table for three please"}, {"silence_ms": 20000}]}' >"$TMP/c12.json"
set +e; "$BANTER" simulate --agent agents/restaurant.json --caller "$TMP/c12.json" --max-s 9 --db "$TMP/db" >"$TMP/out.txt" 2>&1; set -e
grep -q "call ended (timeout)" "$TMP/out.txt" || fail "no timeout: $(cat "$TMP/out.txt")"
grep -q "barge-ins: 0" "$TMP/out.txt" || fail "the timeout counted as a barge-in: $(cat "$TMP/out.txt")"
grep -q "cut by the call's end" "$TMP/out.txt" || fail "the cut reply is not marked: $(cat "$TMP/out.txt")"
# agent files: what would fail a session is found at load, naming the field
agent_mod() { # agent_mod NAME PYTHON-STATEMENT-ON-a
  python3 -c "import json,sys; a=json.load(open('agents/restaurant.json')); $2; json.dump(a, open(sys.argv[1], 'w'), indent=1)" "$TMP/$1.json"
}
agent_mod waits "a['turn'].update({'min_wait_ms': 3000, 'max_wait_ms': 1000})"
expect_err 'waits.json:[0-9]+:[0-9]+: "turn.max_wait_ms" \(1000\) is below "turn.min_wait_ms"' simulate --agent "$TMP/waits.json" --caller callers/booking.json
agent_mod dup "a['flow']['intents'].append(dict(a['flow']['intents'][0]))"
expect_err 'dup.json:[0-9]+:[0-9]+: two intents are named "hours"' simulate --agent "$TMP/dup.json" --caller callers/booking.json
agent_mod digits "a['flow']['intents'][0]['phrases'].append('open at 7')"
expect_err 'digits.json:[0-9]+:[0-9]+: "flow.intents\[0\].phrases\[4\]" has a digit' simulate --agent "$TMP/digits.json" --caller callers/booking.json
# a word the recogniser's dictionary lacks, in a phrase it listens for
agent_mod unknown_word "a['flow']['intents'][0]['phrases'].append('do you serve banoffeezz pie')"
expect_err 'unknown_word.json:[0-9]+:[0-9]+: "flow.intents\[0\].phrases\[4\]": the word .banoffeezz. in phrase "do you serve banoffeezz pie" is not in the pronunciation dictionary' simulate --agent "$TMP/unknown_word.json" --caller callers/booking.json
# banter check: the same checks without a call, every file reported
"$BANTER" check agents/restaurant.json --caller callers/booking.json > "$TMP/out.txt" 2>&1 || fail "banter check refused good files: $(cat "$TMP/out.txt")"
grep -q "agents/restaurant.json: ok (agent)" "$TMP/out.txt" || fail "banter check: $(cat "$TMP/out.txt")"
grep -q "callers/booking.json: ok (caller)" "$TMP/out.txt" || fail "banter check: $(cat "$TMP/out.txt")"
expect_err 'unknown_word.json:[0-9]+:[0-9]+: "flow.intents\[0\].phrases\[4\]": the word .banoffeezz.' check "$TMP/unknown_word.json" agents/restaurant.json
grep -q "agents/restaurant.json: ok" "$TMP/out.txt" || fail "banter check stopped at the first bad file: $(cat "$TMP/out.txt")"
# ... a keyword is only matched in what is heard: no dictionary needed
agent_mod kw_word "a['flow']['intents'][0]['keywords'].append('banoffeezz')"
"$BANTER" simulate --agent "$TMP/kw_word.json" --caller callers/booking.json --max-s 1 > "$TMP/out.txt" 2>&1 || true
grep -q "call ended" "$TMP/out.txt" || fail "a keyword outside the dictionary was refused: $(cat "$TMP/out.txt")"
agent_mod unint "a['flow']['nodes']['greet'].update({'uninterruptible': 'yes'})"
expect_err 'unint.json:[0-9]+:[0-9]+: "flow.nodes.greet.uninterruptible" must be true or false \(got "yes"\)' simulate --agent "$TMP/unint.json" --caller callers/booking.json
agent_mod nonodes "a['flow'].update({'nodes': {}})"
expect_err 'got 0 nodes' simulate --agent "$TMP/nonodes.json" --caller callers/booking.json
agent_mod long "a['flow']['nodes']['greet']['say'] = 'hello there. ' * 100"
expect_err 'long.json:[0-9]+:[0-9]+: "flow.nodes.greet.say" is 1300 bytes; a text is at most 1023' simulate --agent "$TMP/long.json" --caller callers/booking.json
agent_mod many "[a['flow']['nodes'].update({f'q{i}': {'ask': 'How many?', 'expect': {'type': 'number', 'slot': f's{i}'}, 'next': 'goodbye'}}) for i in range(300)]"
expect_err 'many.json:[0-9]+:[0-9]+: "flow.nodes" has 304 questions' simulate --agent "$TMP/many.json" --caller callers/booking.json
# a key with a dot or a bracket is quoted in the path, and the position is
# the key's own (not its parent's)
line_of() { grep -n -F "$2" "$TMP/$1.json" | head -1 | cut -d: -f1; }
agent_mod dotkey "a['flow']['nodes']['greet']['a.b'] = 1"
expect_err "dotkey.json:$(line_of dotkey '"a.b"'):[0-9]+: unknown field \"flow.nodes.greet\[\"a.b\"\]\"" simulate --agent "$TMP/dotkey.json" --caller callers/booking.json
agent_mod brkkey "a['flow']['nodes']['x[0]'] = {'say': 'Hi.', 'next': 'goodbye'}"
expect_err "brkkey.json:$(line_of brkkey '"x[0]"'):[0-9]+: node name \"x\[0\]\" must be made of letters" simulate --agent "$TMP/brkkey.json" --caller callers/booking.json
agent_mod turnkey "a['turn']['idle.ms'] = 7000"
expect_err "turnkey.json:$(line_of turnkey '"idle.ms"'):[0-9]+: unknown field \"turn\[\"idle.ms\"\]\"" simulate --agent "$TMP/turnkey.json" --caller callers/booking.json
# a long value is cut in the message; what to do still fits
agent_mod longnext "a['flow']['nodes']['greet']['next'] = 'x' * 3000"
expect_err 'goes to node "x{40}\.\.\.", which does not exist; .*fix the name or add the node to "flow.nodes"$' simulate --agent "$TMP/longnext.json" --caller callers/booking.json
agent_mod longkey "a['flow']['nodes']['greet']['k' * 3000] = 1"
expect_err "longkey.json:$(line_of longkey '"kkk'):[0-9]+: unknown field \"flow.nodes.greet\[\"k{64}\"\.\.\.\]\".*check the spelling$" simulate --agent "$TMP/longkey.json" --caller callers/booking.json
# nodes as a list says what it got and how nodes are written
agent_mod nodelist "a['flow']['nodes'] = list(a['flow']['nodes'].values())"
expect_err 'nodelist.json:[0-9]+:[0-9]+: "flow.nodes" must be an object of 1 to 1000 nodes.*\(got a list of 8 entries\); a node is named by its key' simulate --agent "$TMP/nodelist.json" --caller callers/booking.json
# a number answer's range starts at 1
for m in 0 -2; do
  agent_mod min "a['flow']['nodes']['party']['expect']['min'] = $m"
  expect_err "min.json:$(line_of min '"min"'):[0-9]+: \"flow.nodes.party.expect.min\" is $m, but the range of a number answer must start at 1 \(0 is never a party\); set it to 1 or more" simulate --agent "$TMP/min.json" --caller callers/booking.json
done
agent_mod minhigh "a['flow']['nodes']['party']['expect'].update({'min': 200}); del a['flow']['nodes']['party']['expect']['max']"
expect_err 'minhigh.json:[0-9]+:[0-9]+: "flow.nodes.party.expect.min" is 200, above the default "max" \(100\), so no answer would do; add "max"' simulate --agent "$TMP/minhigh.json" --caller callers/booking.json
# {placeholders} that could not render are found at load, in the text
agent_mod typo "a['flow']['nodes']['confirm']['ask'] = 'A table for {partee} on {day}?'"
expect_err 'typo.json:[0-9]+:[0-9]+: "flow.nodes.confirm.ask" uses \{partee\}, but no node fills a slot or saves a result of that name \(known names: party, day, time, confirmed, booking\); did you mean \{party\}\?$' simulate --agent "$TMP/typo.json" --caller callers/booking.json
agent_mod slotpath "a['flow']['nodes']['confirm']['ask'] = 'A table for {party.size} on {day}?'"
expect_err 'slotpath.json:[0-9]+:[0-9]+: "flow.nodes.confirm.ask" uses \{party.size\}, but party is a slot \(number\), a single value with no parts; write \{party\}$' simulate --agent "$TMP/slotpath.json" --caller callers/booking.json
agent_mod unclosed "a['flow']['nodes']['confirm']['ask'] = 'A table for {party on {day}?'"
expect_err 'unclosed.json:[0-9]+:[0-9]+: "flow.nodes.confirm.ask" has a "\{" that is not closed \(at "A table for \{party on \{day\}\?"\); write \{name\} to say a slot, or \{\{ for a brace$' simulate --agent "$TMP/unclosed.json" --caller callers/booking.json
agent_mod unopened "a['flow']['nodes']['greet']['say'] = 'Hello, party} of one'"
expect_err 'unopened.json:[0-9]+:[0-9]+: "flow.nodes.greet.say" has a "\}" that no "\{" opens \(at "Hello, party\} of one"\); .*or \}\} for a brace$' simulate --agent "$TMP/unopened.json" --caller callers/booking.json
agent_mod spaced "a['flow']['nodes']['confirm']['ask'] = 'A table for { party }?'"
expect_err 'spaced.json:[0-9]+:[0-9]+: "flow.nodes.confirm.ask" has \{ party \}, which is not a name: .*; write \{party\}$' simulate --agent "$TMP/spaced.json" --caller callers/booking.json
agent_mod emptyname "a['flow']['intents'][0]['say'] = 'We open at {}.'"
expect_err 'emptyname.json:[0-9]+:[0-9]+: "flow.intents\[0\].say" has an empty \{\}; put a name in it' simulate --agent "$TMP/emptyname.json" --caller callers/booking.json
# a broken save_as or action is reported where it is, not as an unknown
# {booking} in another text
agent_mod nosave "del a['flow']['nodes']['book']['action']['save_as']"
expect_err 'nosave.json:[0-9]+:[0-9]+: "flow.nodes.book.say" uses \{booking\}, .*add "save_as": "booking" to its action$' simulate --agent "$TMP/nosave.json" --caller callers/booking.json
agent_mod saveas "a['flow']['nodes']['book']['action']['save_as'] = 'my booking'"
expect_err "saveas.json:$(line_of saveas '"save_as"'):[0-9]+: \"flow.nodes.book.action.save_as\" must be a name of letters, digits, _ or - \\(at most 64\\) \\(got \"my booking\"\\)" simulate --agent "$TMP/saveas.json" --caller callers/booking.json
agent_mod action "a['flow']['nodes']['book']['action'] = 'booking.save'"
expect_err "action.json:$(line_of action '"action"'):[0-9]+: \"flow.nodes.book.action\" must be an object .*\\(got a string\\)" simulate --agent "$TMP/action.json" --caller callers/booking.json
agent_mod savetypo "a['flow']['nodes']['book']['action']['save_ass'] = a['flow']['nodes']['book']['action'].pop('save_as')"
expect_err "savetypo.json:$(line_of savetypo '"save_ass"'):[0-9]+: unknown field \"flow.nodes.book.action.save_ass\"" simulate --agent "$TMP/savetypo.json" --caller callers/booking.json
# a tool's args are checked against what the tool takes, as the call
# would pass them (a lone "{slot}" keeps the slot's type)
agent_mod argmiss "del a['flow']['nodes']['book']['action']['args']['day']"
expect_err "argmiss.json:$(line_of argmiss '"args"'):[0-9]+: \"flow.nodes.book.action.args\" lacks \"day\", which booking.save needs \\(text\\); add \"day\": \"\\{day\\}\"$" simulate --agent "$TMP/argmiss.json" --caller callers/booking.json
agent_mod argnone "del a['flow']['nodes']['book']['action']['args']"
expect_err 'argnone.json:[0-9]+:[0-9]+: "flow.nodes.book.action" has no "args", but booking.save needs party, day, time; add e.g. "args": \{"party": "\{party\}", ...\}$' simulate --agent "$TMP/argnone.json" --caller callers/booking.json
agent_mod argtype "a['flow']['nodes']['book']['action']['args']['party'] = '{day}'"
expect_err 'argtype.json:[0-9]+:[0-9]+: "flow.nodes.book.action.args.party" is "\{day\}", a day answer, but booking.save needs "party" to be a whole number from 1 to 1000; pass e.g. "\{party\}"$' simulate --agent "$TMP/argtype.json" --caller callers/booking.json
agent_mod argtext "a['flow']['nodes']['book']['action']['args']['time'] = '{confirmed}'"
expect_err 'argtext.json:[0-9]+:[0-9]+: "flow.nodes.book.action.args.time" is "\{confirmed\}", a yes_no answer, but booking.save needs "time" to be text; pass e.g. "\{time\}"$' simulate --agent "$TMP/argtext.json" --caller callers/booking.json
agent_mod argextra "a['flow']['nodes']['book']['action']['args']['colour'] = 'red'"
expect_err "argextra.json:$(line_of argextra '"colour"'):[0-9]+: \"flow.nodes.book.action.args.colour\": booking.save takes no argument \"colour\"; it takes party, day, time; remove it or fix the name$" simulate --agent "$TMP/argextra.json" --caller callers/booking.json
agent_mod argrange "a['flow']['nodes']['party']['expect']['max'] = 2000"
expect_err 'argrange.json:[0-9]+:[0-9]+: "flow.nodes.book.action.args.party" is "\{party\}", a number answer from 1 to 2000, but booking.save takes "party" from 1 to 1000, so some answers would fail in the call; set "flow.nodes.party.expect.max" to at most 1000$' simulate --agent "$TMP/argrange.json" --caller callers/booking.json
agent_mod arglit "a['flow']['nodes']['book']['action']['args']['party'] = 0"
expect_err 'arglit.json:[0-9]+:[0-9]+: "flow.nodes.book.action.args.party" is 0, but booking.save takes "party" from 1 to 1000' simulate --agent "$TMP/arglit.json" --caller callers/booking.json
# and what a text says of the tool's result
agent_mod resfield "a['flow']['nodes']['book']['say'] = 'Your number is {booking.id}.'"
expect_err 'resfield.json:[0-9]+:[0-9]+: "flow.nodes.book.say" uses \{booking.id\}, but the result of booking.save \(saved as "booking"\) has no "id"; its fields are booking_id; write e.g. \{booking.booking_id\}$' simulate --agent "$TMP/resfield.json" --caller callers/booking.json
agent_mod reswhole "a['flow']['nodes']['book']['say'] = 'Your number is {booking}.'"
expect_err 'reswhole.json:[0-9]+:[0-9]+: "flow.nodes.book.say" uses \{booking\}, the whole result of booking.save, which is said as nothing; .*\{booking.booking_id\}$' simulate --agent "$TMP/reswhole.json" --caller callers/booking.json
# a slot the tool needs must be set on every way to its node
agent_mod skipq "a['flow']['nodes']['day']['next'] = 'confirm'"
expect_err 'skipq.json:[0-9]+:[0-9]+: "flow.nodes.book.action.args.time" is "\{time\}", but the call can reach node "book" before \{time\} is set \(greet -> party -> day -> confirm -> book\), and booking.save would fail; fill it on every way there' simulate --agent "$TMP/skipq.json" --caller callers/booking.json
agent_mod onerr "a['flow']['nodes']['greet'].update({'action': {'tool': 'booking.save', 'args': {'party': 2, 'day': 'Monday', 'time': 'noon'}, 'on_error': {'next': 'book'}}})"
expect_err 'onerr.json:[0-9]+:[0-9]+: "flow.nodes.book.action.args.party" is "\{party\}", but the call can reach node "book" before \{party\} is set \(greet -\[on_error\]-> book\)' simulate --agent "$TMP/onerr.json" --caller callers/booking.json
# transfer_call: its target, its args, and a node that ends in it
xfer_mod() { # xfer_mod NAME PYTHON-STATEMENT-ON-a (tests/data/transfer.json)
  python3 -c "import json,sys; a=json.load(open('tests/data/transfer.json')); $2; json.dump(a, open(sys.argv[1], 'w'), indent=1)" "$TMP/$1.json"
}
xfer_mod xto "a['flow']['nodes']['greet']['action']['args']['to'] = 'front desk'"
expect_err "xto.json:$(line_of xto '"to"'):[0-9]+: \"flow.nodes.greet.action.args.to\" is \"front desk\", which is no transfer target; use a SIP URI \(\"sip:frontdesk@pbx.example\"\), a tel: URI \(\"tel:\+15551234567\"\) or a phone number" simulate --agent "$TMP/xto.json" --caller callers/booking.json
xfer_mod xnoto "a['flow']['nodes']['greet']['action']['args'] = {}"
expect_err 'xnoto.json:[0-9]+:[0-9]+: "flow.nodes.greet.action.args" lacks "to", the target of the transfer' simulate --agent "$TMP/xnoto.json" --caller callers/booking.json
xfer_mod xnoargs "del a['flow']['nodes']['greet']['action']['args']"
expect_err 'xnoargs.json:[0-9]+:[0-9]+: "flow.nodes.greet.action" has no "args", but transfer_call needs the target; add "args": \{"to": "sip:frontdesk@pbx.example"\}' simulate --agent "$TMP/xnoargs.json" --caller callers/booking.json
xfer_mod xkey "a['flow']['nodes']['greet']['action']['args']['number'] = '+15551234567'"
expect_err "xkey.json:$(line_of xkey '"number"'):[0-9]+: unknown field \"flow.nodes.greet.action.args.number\"; the fields of \"flow.nodes.greet.action.args\" are to" simulate --agent "$TMP/xkey.json" --caller callers/booking.json
xfer_mod xnext "a['flow']['nodes']['greet']['next'] = 'bye'"
expect_err "xnext.json:$(line_of xnext '"next": "bye"'):[0-9]+: \"flow.nodes.greet.next\": a node whose action is transfer_call ends in the transfer .*action.on_error.next" simulate --agent "$TMP/xnext.json" --caller callers/booking.json
xfer_mod xsave "a['flow']['nodes']['greet']['action']['save_as'] = 'desk'"
expect_err "xsave.json:$(line_of xsave '"save_as"'):[0-9]+: \"flow.nodes.greet.action.save_as\": transfer_call gives no result to save; remove it" simulate --agent "$TMP/xsave.json" --caller callers/booking.json
xfer_mod xoe "a['flow']['nodes']['greet']['action']['on_error']['then'] = 'bye'"
expect_err "xoe.json:$(line_of xoe '"then"'):[0-9]+: unknown field \"flow.nodes.greet.action.on_error.then\"" simulate --agent "$TMP/xoe.json" --caller callers/booking.json
xfer_mod xtel "a['flow']['nodes']['greet']['action']['args']['to'] = 'tel:+1-555-123-4567'"
"$BANTER" check "$TMP/xtel.json" >"$TMP/out.txt" 2>&1 || fail "a tel: target was refused: $(cat "$TMP/out.txt")"
pass "bad input is reported clearly"
