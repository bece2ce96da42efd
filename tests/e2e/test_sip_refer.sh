#!/usr/bin/env bash
# Transfer to a person over SIP (REFER, RFC 3515) against `banter serve`
# with sipp (tests/sip/refer_*.xml) and an agent whose first node
# transfers (tests/data/transfer.json): accepted and answered (the call
# ends "transferred" with banter's BYE), declined (603) and busy (NOTIFY
# sipfrag 486): the call goes on and the agent says so; a bare number. sipp's ports are
# fixed (5300-5319), apart from the other SIP tests'.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian sip-tester; scripts/install-deps.sh)"

# scenario NAME SIPP_PORT [SERVICE]: one run of tests/sip/NAME.xml, must pass
scenario() {
  local name=$1 port=$2 service=${3:-transfer} rc=0
  sipp "127.0.0.1:$SIP_PORT" -sf "tests/sip/$name.xml" -s "$service" -m 1 \
    -i 127.0.0.1 -p "$port" -mp "$((port + 2))" -timeout 30s -timeout_error \
    -nostdin -trace_err -error_file "$TMP/$name.err" >"$TMP/$name.out" 2>&1 || rc=$?
  if [ $rc != 0 ]; then
    cat "$TMP/$name.err" "$TMP/serve.txt" >&2 2>/dev/null || true
    fail "sipp scenario $name failed ($rc)"
  fi
}
# the server's log lines of call N
calllog() { grep "^sip-$1: " "$TMP/serve.txt" || true; }

python3 - >"$TMP/number.json" <<'EOF2'
import json
a = json.load(open("tests/data/transfer.json"))
a["flow"]["nodes"]["greet"]["action"]["args"]["to"] = "+15551234567"
print(json.dumps(a))
EOF2
serve --no-tls --agent transfer=tests/data/transfer.json --agent number="$TMP/number.json"

scenario refer_ok 5300
L=$(calllog 1)
grep -q 'REFER sent: Refer-To <sip:frontdesk@pbx.example>' <<<"$L" || fail "no log line for the REFER"
grep -q 'REFER accepted (202 Accepted)' <<<"$L" || fail "no log line for the 202"
grep -q 'transferred to sip:frontdesk@pbx.example (200 OK)' <<<"$L" || fail "the NOTIFY's sipfrag 200 did not complete the transfer"
grep -q 'the agent ended the call (transferred)' <<<"$L" || fail "the session did not end as transferred"
grep -q 'hanging up (BYE)' <<<"$L" || fail "no BYE after the transfer"
# the line was played before the REFER went out
[ "$(grep -n 'agent: "Connecting you' <<<"$L" | cut -d: -f1)" -lt "$(grep -n 'REFER sent' <<<"$L" | cut -d: -f1)" ] \
  || fail "the REFER went out before the agent's line"
pass "REFER accepted (202, NOTIFY 200): transferred, then BYE"

scenario refer_declined 5304
L=$(calllog 2)
grep -q 'the transfer to sip:frontdesk@pbx.example failed (603 Decline): the call goes on' <<<"$L" || fail "no log line for the declined REFER"
grep -q 'agent: "Sorry, the front desk is not answering."' <<<"$L" || fail "the agent did not say the transfer failed"
grep -q 'agent: "Shall I ask them to call you back?"' <<<"$L" || fail "the flow did not go on after the failed transfer"
grep -q 'the caller hung up (BYE)' <<<"$L" || fail "the call did not stay up until the caller's BYE"
! grep -q 'hanging up (BYE)' <<<"$L" || fail "banter hung up after a declined transfer"
pass "REFER declined (603): the call goes on"

scenario refer_busy 5308
L=$(calllog 3)
grep -q 'REFER accepted (202 Accepted)' <<<"$L" || fail "no log line for the 202"
grep -q 'the transfer to sip:frontdesk@pbx.example failed (486 Busy Here): the call goes on' <<<"$L" || fail "a NOTIFY sipfrag 486 did not fail the transfer"
grep -q 'agent: "Sorry, the front desk is not answering."' <<<"$L" || fail "the agent did not say the transfer failed"
grep -q 'the caller hung up (BYE)' <<<"$L" || fail "the call did not stay up until the caller's BYE"
pass "NOTIFY sipfrag 486: the call goes on"

# a bare number is dialled on the domain the call came from
scenario refer_number 5312 number
L=$(calllog 4)
grep -q 'REFER sent: Refer-To <sip:+15551234567@127.0.0.1>' <<<"$L" || fail "the number's REFER: $L"
grep -q 'the transfer to +15551234567 failed (603 Decline)' <<<"$L" || fail "no log line for the declined REFER to a number"
pass "a number: Refer-To sip:NUMBER@ the caller's domain"

curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" | grep -q '"sip_calls":0' || fail "/healthz after the transfers"
stop_serve
pass "SIP transfers"
