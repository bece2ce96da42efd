#!/usr/bin/env bash
# SIP conformance and bad input against `banter serve` with sipp
# (scenarios in tests/sip): OPTIONS, a codec we lack (488), an unknown
# agent among several (404), CANCEL before the answer (487), a call with
# hold, resume with another codec and the caller's BYE; a malformed SRTP
# key (488), SRTP keys in the answer, rekeying and turning SRTP off in a
# re-INVITE (488), a plain offer under --srtp require (488); DTMF 3# as the
# answer to the agent's question; bad RTP in a call; garbage datagrams
# and a request missing its headers do not hurt the server; a source
# outside --sip-allow gets 403; a flood beyond --max-calls gets 503.
source "$(dirname "$0")/lib.sh"
command -v sipp >/dev/null || fail "sipp is not installed (Debian sip-tester; scripts/install-deps.sh)"
SC=tests/sip
sed -e "s/\"name\": \"Bella's Trattoria\"/\"name\": \"Second Line\"/" \
    agents/restaurant.json >"$TMP/second.json"

# scenario NAME [service]: one run, must pass
scenario() {
  local name=$1 service=${2:-agent} rc=0
  sipp "127.0.0.1:$SIP_PORT" -sf "$SC/$name.xml" -s "$service" -m 1 \
    -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -timeout 20s -timeout_error \
    -nostdin -trace_err -error_file "$TMP/$name.err" >"$TMP/$name.out" 2>&1 || rc=$?
  if [ $rc != 0 ]; then
    cat "$TMP/$name.err" "$TMP/serve.txt" >&2 2>/dev/null || true
    fail "sipp scenario $name (service $service) failed ($rc)"
  fi
  pass "sipp $name"
}

# each call rings a second before its 200 (--sip-ring-ms): without it a
# pooled recogniser makes the session ready within milliseconds, and the
# CANCEL that sipp sends on the 180 could come after the 200 (a race that
# failed this test once when two SIP tests ran side by side)
serve --no-tls --agent sales="$TMP/second.json" --sip-ring-ms 1000
scenario options
scenario codec488
grep -q 'refused (488): no codec in common' "$TMP/serve.txt" || fail "no log line for the 488"
scenario crypto_bad
grep -q 'refused (488): SRTP: no a=crypto line banter can use' "$TMP/serve.txt" \
  || fail "no log line for the malformed a=crypto"
scenario srtp_rekey
grep -q 'transport UDP, SRTP AES_CM_128_HMAC_SHA1_80' "$TMP/serve.txt" || fail "the SRTP offer was not taken"
grep -q 're-INVITE refused (488): it turns SRTP off within the call' "$TMP/serve.txt" \
  || fail "no log line for the re-INVITE that turns SRTP off"
grep -Eq 'RTP PCMU: [0-9]+ packets sent, .*; SRTP AES_CM_128_HMAC_SHA1_80: 0 RTP and 0 RTCP packets failed' \
  "$TMP/serve.txt" || fail "no SRTP summary for the SRTP call"
scenario unknown404 nobody
grep -q 'refused (404): no agent "nobody"' "$TMP/serve.txt" || fail "no log line for the 404"
scenario cancel
grep -q 'cancelled by the caller (487)' "$TMP/serve.txt" || fail "no log line for the CANCEL"
cid=$(sed -n 's/^\(sip-[0-9]*\): cancelled by the caller (487)$/\1/p' "$TMP/serve.txt" | head -1)
[ -n "$cid" ] || fail "no call id on the CANCEL's log line"
grep -q "^$cid: answered" "$TMP/serve.txt" && fail "the cancelled call $cid was answered after all"
# and the calls answered rang their second first
short=$(sed -n 's/.*: answered with .*, after \([0-9]*\) ms ringing$/\1/p' "$TMP/serve.txt" |
  awk '$1 < 1000' | wc -l)
n=$(grep -c ': answered with' "$TMP/serve.txt")
[ "$n" -ge 1 ] && [ "$short" = 0 ] || fail "--sip-ring-ms 1000: $short of $n calls answered sooner"
scenario call_hold_bye sales
grep -q 'INVITE from .* for "Second Line"' "$TMP/serve.txt" || fail "sip:sales@ did not pick the agent named sales"
grep -q 'on hold: not sending' "$TMP/serve.txt" || fail "hold not seen"
grep -q 're-INVITE: PCMU/8000, sendrecv' "$TMP/serve.txt" || fail "resume with PCMU not seen"
grep -q 'the caller hung up (BYE)' "$TMP/serve.txt" || fail "the caller's BYE not seen"
scenario dtmf
grep -q 'dtmf "3" (#) -> user turn' "$TMP/serve.txt" || fail "the digits 3# did not become a user turn"
grep -q 'agent: "What day would you like to come?"' "$TMP/serve.txt" \
  || fail "the digit 3 was not taken as the party's size"
scenario rtp_bad
grep -q 'dropping RTP payload type 99' "$TMP/serve.txt" || fail "no log line for a wrong payload type"
grep -q 'dropping RTP from 127.0.0.1:[0-9]* (the call.s is' "$TMP/serve.txt" || fail "no log line for RTP from elsewhere"
grep -q 'dropping an RTP packet of 1400 bytes' "$TMP/serve.txt" || fail "no log line for an oversized packet"
grep 'RTP PCMU:' "$TMP/serve.txt" | tail -1
grep -Eq 'RTP PCMU: [0-9]+ packets sent, 1[5-9] received .* 1 wrong type, 1 from elsewhere' "$TMP/serve.txt" \
  || fail "the bad RTP was not counted as such"

# garbage and a request without Call-ID, CSeq, From, To and Via
printf '\x80\x00garbage\xff\xfe%.0s' {1..50} >/dev/udp/127.0.0.1/$SIP_PORT
head -c 1400 /dev/urandom >/dev/udp/127.0.0.1/$SIP_PORT
printf 'INVITE sip:agent@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n' >/dev/udp/127.0.0.1/$SIP_PORT
printf 'INVITE sip:agent@127.0.0.1 SIP/2.0\r\nContent-Length: 99999\r\n\r\nv=0' >/dev/tcp/127.0.0.1/$SIP_PORT || true
sleep 0.5
kill -0 $SERVE_PID || fail "the server died on garbage"
scenario options
curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" | grep -q '"sip_calls":0' || fail "/healthz after the scenarios"
stop_serve

# a narrow-band (PCMU) caller of an agent whose stt names a recogniser for
# phone codecs: that one (a Deepgram server, tests/clients/deepgram_mock.mjs)
# hears the call
echo '["three"]' >"$TMP/dg.json"
node "$CLIENTS/deepgram_mock.mjs" --script "$TMP/dg.json" --port 0 >"$TMP/dg.out" 2>"$TMP/dg.err" &
DG_PID=$!
for _ in $(seq 100); do grep -q listening "$TMP/dg.out" 2>/dev/null && break; sleep 0.05; done
DG_PORT=$(awk '/^listening/{print $2}' "$TMP/dg.out")
python3 - >"$TMP/nb.json" <<'EOF2'
import json
a = json.load(open("agents/restaurant.json"))
a["stt"] = {"provider": "pocketsphinx", "narrowband": {"provider": "deepgram"}}
print(json.dumps(a))
EOF2
export DEEPGRAM_BASE_URL="ws://127.0.0.1:$DG_PORT"
serve --no-tls --agent nb="$TMP/nb.json"
scenario dtmf nb
curl -s "http://127.0.0.1:$DG_PORT/log" | python3 -c 'import json,sys; l=json.load(sys.stdin); sys.exit(0 if len(l) == 1 and l[0]["audio_bytes"] > 0 else 1)' \
  || fail "the PCMU call to the narrow-band agent did not stream to its narrow-band recogniser"
stop_serve
kill $DG_PID 2>/dev/null || true
unset DEEPGRAM_BASE_URL
pass "a PCMU caller is heard by the agent's narrow-band recogniser"

# --srtp require: a plain RTP offer gets 488
serve --no-tls --srtp require
scenario srtp_required
grep -q 'refused (488): plain RTP, and --srtp require' "$TMP/serve.txt" || fail "no log line for --srtp require"
scenario options
stop_serve

# --max-calls 2: a flood of 6 calls at once; 2 are answered, the other 4
# get 503 with a Retry-After, and the server goes on serving
serve --no-tls --max-calls 2
rc=0
sipp "127.0.0.1:$SIP_PORT" -sf "$SC/flood.xml" -s agent -m 6 -l 6 -r 100 \
  -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" -timeout 30s -timeout_error \
  -nostdin -trace_err -error_file "$TMP/flood.err" >"$TMP/flood.out" 2>&1 || rc=$?
[ $rc = 0 ] || { cat "$TMP/flood.err" "$TMP/serve.txt" >&2 2>/dev/null || true; fail "sipp flood failed ($rc)"; }
n503=$(grep -c 'refused (503): as many calls as allowed' "$TMP/serve.txt" || true)
nok=$(grep -c ': established' "$TMP/serve.txt" || true)
[ "$n503" = 4 ] && [ "$nok" = 2 ] || fail "flood beyond --max-calls 2: $nok answered, $n503 refused (want 2 and 4)"
scenario options
stop_serve
pass "a flood beyond --max-calls gets 503 with Retry-After"

# --sip-allow: 127.0.0.1 is not in 10.0.0.0/8
serve --no-tls --sip-allow 10.0.0.0/8,192.168.1.20
scenario forbidden
grep -q 'refused OPTIONS from 127.0.0.1:[0-9]* (403)' "$TMP/serve.txt" || fail "no log line for the 403"
stop_serve
pass "SIP scenarios"
