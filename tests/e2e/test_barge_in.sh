#!/usr/bin/env bash
# The caller interrupts the greeting: the agent's audio stops within one
# frame and the history holds only the words the caller heard.
source "$(dirname "$0")/lib.sh"
sim callers/barge_in.json
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
b=$(trace_type barge_in | head -1)
[ -n "$b" ] || fail "no barge-in"
t=$(field "$b" t_ms)
heard=$(field "$b" text)
turn=$(trace_type turn | grep '"barge_in":true' | head -1)
full=$(field "$turn" agent_text)
[ -n "$heard" ] || fail "nothing heard before the barge-in"
[ "$heard" != "$full" ] || fail "heard text is the whole reply"
# heard words are the start of the full text (punctuation aside)
norm() { tr -d '.,?!' <<<"$1" | tr -s ' '; }
case "$(norm "$full")" in "$(norm "$heard")"*) ;; *) fail "heard '$heard' is not a prefix of '$full'";; esac
# the history keeps the heard words, not the whole reply
ended=$(trace_type ended)
grep -qF "\"role\":\"assistant\",\"text\":\"$heard\"" <<<"$ended" || fail "history lacks the cut line '$heard'"
grep -qF "\"text\":\"$full\"" <<<"$ended" && fail "history holds the full interrupted reply"
# the agent channel is silent from one frame after the barge-in
start=$(awk -v t="$t" 'BEGIN{printf "%.3f", (t+20)/1000}')
peak=$(sox "$TMP/call.wav" -n remix 2 trim "$start" 0.5 stat 2>&1 | awk '/Maximum amplitude/{print $3}')
awk -v p="$peak" 'BEGIN{exit !(p < 0.0001)}' || fail "agent audio continues after the barge-in (peak $peak)"
pass "barge-in stops audio within a frame; history cut to '$heard'"
