#!/usr/bin/env bash
# transfer_call in `banter simulate` with a flow agent whose first node
# transfers (tests/data/transfer.json): a line that can transfer
# (--can-transfer) ends the call "transferred" after the agent's line; one
# that cannot takes the action's on_error path and the call goes on.
source "$(dirname "$0")/lib.sh"
printf '{"voice": "flite:slt", "gap_ms": 300, "turns": [{"say": "no"}]}' >"$TMP/caller.json"
xsim() {
  set +e
  "$BANTER" simulate --agent tests/data/transfer.json --caller "$TMP/caller.json" \
    --trace "$TMP/trace.jsonl" --db "$TMP/db" "$@" >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}

xsim --can-transfer
[ "$SIM_RC" = 0 ] || fail "the transferred call did not end normally ($SIM_RC)"
T=$(trace_type transfer)
[ "$(grep -c . <<<"$T")" = 2 ] || fail "two transfer events expected: $T"
grep -q '"to":"sip:frontdesk@pbx.example","status":"started"' <<<"$T" || fail "no started transfer: $T"
grep -q '"status":"transferred"' <<<"$T" || fail "no transferred event: $T"
E=$(trace_type ended)
[ "$(field "$E" reason)" = transferred ] || fail "the call did not end as transferred: $E"
# the transfer came after the line had played
DONE=$(field "$(trace_type agent_done)" t_ms)
[ -n "$DONE" ] && [ "$(field "$(head -1 <<<"$T")" t_ms)" -ge "$DONE" ] || fail "the transfer began before the line played"
grep -q 'caller: no' "$TMP/out.txt" && fail "the caller spoke after the transfer"
pass "simulate --can-transfer: the call ends transferred after the line"

xsim
[ "$SIM_RC" = 0 ] || fail "the call whose transfer failed did not complete ($SIM_RC)"
T=$(trace_type transfer)
grep -q '"status":"failed","reason":"transfer is not possible on this connection"' <<<"$T" || fail "no failed transfer: $T"
grep -q '"name":"transfer_call".*"error":"failed: transfer is not possible on this connection"' <<<"$(trace_type tool)" \
  || fail "no tool event for the failed transfer"
grep -q 'agent:  Sorry, the front desk is not answering.' "$TMP/out.txt" || fail "the on_error line was not said"
grep -q 'agent:  Goodbye.' "$TMP/out.txt" || fail "the flow did not go on to the caller's answer"
[ "$(field "$(trace_type ended)" reason)" = completed ] || fail "the call did not complete"
pass "simulate without --can-transfer: on_error, the call goes on"
