#!/usr/bin/env bash
# `banter dial` places calls. A listening baresip (auto-answer) takes two:
# over G.722 (banter offers Opus first; baresip has only G.722) its
# microphone says "a table for three" after silence, so that the greeting
# plays first, and it hangs up when the WAV ends; over PCMU (--codecs
# pcmu,g722) banter hangs up at --max-s. Then the failures: nothing
# listening (UDP: --ring-s; TCP: refused), a phone that answers 486 (sipp),
# and a proxy that challenges the INVITE (sipp, digest checked) with the
# right password, a wrong one and none.
# Fixed ports 5261-5266, apart from the other SIP tests' free ports.
source "$(dirname "$0")/lib.sh"
BS_PORT=5261 NONE_PORT=5262 BUSY_PORT=5263 AUTH_PORT=5264 AUTH_MEDIA=5266
fail() {
  echo "FAIL: $*" >&2
  for f in "$TMP"/dial-*.txt; do [ -f "$f" ] && { echo "== $f" >&2; cut -c1-300 "$f" >&2; }; done
  exit 1
}
command -v baresip >/dev/null || fail "baresip is not installed (scripts/install-deps.sh)"
command -v sipp >/dev/null || fail "sipp is not installed (Debian sip-tester; scripts/install-deps.sh)"
MODS=$(dirname "$(dpkg -L baresip-core | grep '/g711.so$' | head -1)")
[ -n "$MODS" ] || fail "cannot find baresip's modules"

sox tests/data/stt_table3_slt.wav -r 16000 -c 1 "$TMP/mic16.wav" pad 7 5
# the PCMU callee stays on the line until banter hangs up
sox -n -r 8000 -c 1 -b 16 "$TMP/mic8.wav" trim 0 30

# dial NAME ARGS...: banter dial, output in $TMP/dial-NAME.txt (stdout)
# and .err (stderr); DIAL_RC its exit status
dial() {
  local name=$1; shift
  DIAL_RC=0
  timeout 90 "$BANTER" dial "$@" --agent agents/restaurant.json --db "$TMP/db" \
    >"$TMP/dial-$name.txt" 2>"$TMP/dial-$name.err" || DIAL_RC=$?
}
# callee CODECS MIC [ANSWERMODE]: a listening baresip in the background (BS_PID);
# what it hears is recorded under $TMP/rec-CODEC
callee() {
  local dir="$TMP/bs-${1%%/*}"
  baresip_config "$dir" "$2" "$TMP/rec-${1%%/*}" "127.0.0.1:$BS_PORT"
  echo "<sip:callee@127.0.0.1>;regint=0;answermode=${3:-auto};audio_codecs=$1" >"$dir/accounts"
  baresip -f "$dir" -t 60 >"$TMP/bs-${1%%/*}.txt" 2>&1 &
  BS_PID=$!
  for _ in $(seq 50); do
    grep -q 'baresip is ready' "$TMP/bs-${1%%/*}.txt" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$TMP/bs-${1%%/*}.txt" >&2; fail "baresip did not start"
}
stop_callee() { kill $BS_PID 2>/dev/null || true; wait $BS_PID 2>/dev/null || true; }
SIPP_PID=
trap 'stop_callee; [ -z "$SIPP_PID" ] || kill $SIPP_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
# WAV: seconds louder than -40 dBFS, and when the first such 20 ms frame is
speech() {
  python3 - "$1" <<'PY'
import sys, wave, struct, math
w = wave.open(sys.argv[1]); n = w.getnframes(); r = w.getframerate()
ch = w.getnchannels()
pcm = struct.unpack('<%dh' % (n * ch), w.readframes(n))[::ch]; f = r // 50
loud = 0; first = -1
for i in range(0, n - f, f):
    e = sum(x * x for x in pcm[i:i + f]) / f
    if e > 0 and 20 * math.log10(math.sqrt(e) / 32768) > -40:
        loud += 1
        if first < 0: first = i / r
print('%.2f %.2f %.2f' % (loud * 0.02, first, n / r))
PY
}

# ---- G.722: the callee talks, then hangs up ----
callee G722/16000/1 "$TMP/mic16.wav"
dial g722 "sip:callee@127.0.0.1:$BS_PORT"
stop_callee
L="$TMP/dial-g722.txt"
[ $DIAL_RC = 0 ] || { cat "$TMP/dial-g722.err" >&2; fail "G.722: banter dial exited $DIAL_RC"; }
grep -q 'sip-1: answered with G722/8000' "$L" || fail "G.722: not answered with G.722"
grep -q 'Call established' "$TMP/bs-G722.txt" || { cat "$TMP/bs-G722.txt" >&2; fail "G.722: baresip did not answer"; }
grep -q 'Set audio decoder: G722' "$TMP/bs-G722.txt" || fail "baresip did not decode G.722"
grep -q 'sip-1: agent: "Hello, thanks for calling' "$L" || fail "G.722: no greeting"
dec=$(ls "$TMP"/rec-G722/dump-*-dec.wav | head -1)
[ -f "$dec" ] || fail "baresip recorded nothing"
read -r s first len <<<"$(speech "$dec")"
echo "G.722: baresip heard ${s}s of agent speech from ${first}s, in a ${len}s call"
# the greeting starts when the call is answered, and it is speech (the
# greeting and the answer to the callee), not a tone or noise all along
awk -v s="$s" -v f="$first" -v l="$len" 'BEGIN { exit !(s >= 3 && f >= 0 && f < 1.5 && s < l - 5) }' \
  || fail "G.722: the callee heard ${s}s of speech from ${first}s of ${len}s"
user=$(grep '^sip-1: user:' "$L" | head -1)
echo "G.722: $user"
grep -qE 'table|three' <<<"$user" || fail "G.722: the callee's words were not recognised: '$user'"
grep -qE 'sip-1: agent: "(What day would you like to come\?|Sorry, could you repeat that\?|[a-z0-9 ]+, is that right\?)"' "$L" \
  || fail "G.722: the agent did not answer the callee's turn"
grep -q 'sip-1: trace {"turn":0,"kind":"greeting"' "$L" || fail "G.722: no trace of the greeting"
grep -q 'sip-1: the callee hung up (BYE)' "$L" || fail "G.722: the callee's BYE was not seen"
grep 'sip-1: RTP G722:' "$L" || fail "G.722: no RTP summary"
grep -Eq 'sip-1: RTP G722: [1-9][0-9]+ packets sent, [1-9][0-9]+ received \(0 lost' "$L" \
  || fail "G.722: RTP was not both ways, or lost"
grep -q 'banter dial: the call ended: the callee hung up' "$L" || fail "G.722: no end line"
grep -q 'terminated' "$TMP/bs-G722.txt" || fail "G.722: baresip's call did not end"
pass "dial over G.722: greeting heard by the callee, its answer recognised, its BYE"

# ---- PCMU by --codecs; banter hangs up at --max-s ----
callee PCMU/8000/1,G722/16000/1 "$TMP/mic8.wav"
dial pcmu "sip:callee@127.0.0.1:$BS_PORT" --codecs pcmu,g722 --max-s 6
sleep 0.5
stop_callee
L="$TMP/dial-pcmu.txt"
[ $DIAL_RC = 0 ] || { cat "$TMP/dial-pcmu.err" >&2; fail "PCMU: banter dial exited $DIAL_RC"; }
grep -q 'sip-1: answered with PCMU/8000' "$L" || fail "PCMU: not answered with PCMU (the first of --codecs)"
grep -q 'sip-1: hanging up (BYE): the call reached --max-s (6 s)' "$L" || fail "PCMU: no BYE at --max-s"
grep -q 'Call with sip:banter@127.0.0.1 terminated' "$TMP/bs-PCMU.txt" || { cat "$TMP/bs-PCMU.txt" >&2; fail "PCMU: baresip did not see our BYE"; }
read -r s first len <<<"$(speech "$(ls "$TMP"/rec-PCMU/dump-*-dec.wav | head -1)")"
echo "PCMU: baresip heard ${s}s of agent speech from ${first}s, in a ${len}s call"
# (baresip's PCMU recording has 60 ms of silence after every 40 ms of
# speech, for inbound calls as well: 20 ms frames count less than over G.722)
awk -v s="$s" 'BEGIN { exit !(s >= 1) }' || fail "PCMU: only ${s}s of agent speech heard"
pass "dial over PCMU (--codecs), hung up at --max-s"

# ---- Ctrl-C while it rings (baresip does not answer) ----
callee PCMU/8000/1 "$TMP/mic8.wav" manual
# --foreground: timeout passes the SIGINT to banter only, once; otherwise it
# also signals its process group, banter gets a second Ctrl-C (which quits
# at once, by design) and the test would see that instead, some of the time
timeout --foreground 60 "$BANTER" dial "sip:callee@127.0.0.1:$BS_PORT" --agent agents/restaurant.json --db "$TMP/db" \
  >"$TMP/dial-int.txt" 2>"$TMP/dial-int.err" &
DIAL_PID=$!
for _ in $(seq 100); do grep -q 'sip-1: ringing' "$TMP/dial-int.txt" && break; sleep 0.1; done
kill -INT $DIAL_PID
DIAL_RC=0; wait $DIAL_PID || DIAL_RC=$?
sleep 0.3
stop_callee
[ $DIAL_RC = 1 ] || fail "Ctrl-C while ringing: exit $DIAL_RC, not 1"
grep -q 'cancelled before the callee answered (Ctrl-C)' "$TMP/dial-int.err" \
  || { cat "$TMP/dial-int.err" >&2; fail "Ctrl-C while ringing: no clear message"; }
grep -q 'session closed' "$TMP/bs-PCMU.txt" || { cat "$TMP/bs-PCMU.txt" >&2; fail "Ctrl-C while ringing: baresip saw no CANCEL"; }
pass "dial: Ctrl-C while it rings cancels"

# ---- nothing there ----
dial none "sip:nobody@127.0.0.1:$NONE_PORT" --ring-s 2
[ $DIAL_RC = 1 ] || fail "nothing listening: exit $DIAL_RC, not 1"
grep -q "no response from sip:nobody@127.0.0.1:$NONE_PORT in 2 s: nothing answers SIP there" "$TMP/dial-none.err" \
  || { cat "$TMP/dial-none.err" >&2; fail "nothing listening: no clear error"; }
dial tcp "sip:nobody@127.0.0.1:$NONE_PORT;transport=tcp"
[ $DIAL_RC = 1 ] || fail "TCP refused: exit $DIAL_RC, not 1"
grep -q 'refused the connection: no SIP server listens there' "$TMP/dial-tcp.err" \
  || { cat "$TMP/dial-tcp.err" >&2; fail "TCP refused: no clear error"; }
dial bad "http://example.com/"
[ $DIAL_RC = 2 ] && grep -q 'is not a SIP URI' "$TMP/dial-bad.err" || fail "a bad URI: no clear usage error"
dial codec "sip:nobody@127.0.0.1:$NONE_PORT" --codecs opus,gsm
[ $DIAL_RC = 2 ] && grep -q -- '--codecs takes opus, g722, pcmu and pcma' "$TMP/dial-codec.err" || fail "a bad codec: no clear usage error"
pass "dial: nothing listening (UDP, TCP), a bad URI, a bad codec"

# sipp_uas NAME [PORT MEDIA_PORT]: a sipp phone or proxy in the background
sipp_uas() {
  sipp -sf "tests/sip/$1.xml" -i 127.0.0.1 -p "$2" -mp "$3" -m 1 -nostdin \
    -timeout 30s -timeout_error -trace_err -error_file "$TMP/$1.err" \
    >"$TMP/$1.out" 2>&1 &
  SIPP_PID=$!
  sleep 0.3
}
sipp_wait() { SIPP_RC=0; wait $SIPP_PID || SIPP_RC=$?; }

# ---- busy ----
sipp_uas uas_busy $BUSY_PORT 5265
dial busy "sip:somebody@127.0.0.1:$BUSY_PORT"
sipp_wait; [ $SIPP_RC = 0 ] || { cat "$TMP/uas_busy.err" >&2; fail "the busy phone's scenario failed (the offer: Opus, G.722, PCMU, PCMA, telephone-event?)"; }
[ $DIAL_RC = 1 ] || fail "486: exit $DIAL_RC, not 1"
grep -q "sip:somebody@127.0.0.1:$BUSY_PORT answered 486 Busy Here: the callee is busy" "$TMP/dial-busy.err" \
  || { cat "$TMP/dial-busy.err" >&2; fail "486: no clear error"; }
pass "dial: 486 from a busy phone"

# ---- a proxy's digest challenge to the INVITE ----
sipp_uas uas_auth $AUTH_PORT $AUTH_MEDIA
BANTER_SIP_PASSWORD=s3cret dial auth "sip:x@127.0.0.1:$AUTH_PORT" --from sip:alice@127.0.0.1 --max-s 2
sipp_wait; [ $SIPP_RC = 0 ] || { cat "$TMP/uas_auth.err" >&2; fail "the proxy's scenario failed (digest not right?)"; }
[ $DIAL_RC = 0 ] || { cat "$TMP/dial-auth.err" >&2; fail "challenged: exit $DIAL_RC"; }
grep -q 'sip-1: answered with PCMU/8000' "$TMP/dial-auth.txt" || fail "challenged: not answered"
sipp_uas uas_auth $AUTH_PORT $AUTH_MEDIA
BANTER_SIP_PASSWORD=wrong dial authbad "sip:x@127.0.0.1:$AUTH_PORT" --from sip:alice@127.0.0.1 --max-s 2
sipp_wait; [ $SIPP_RC != 0 ] || fail "the proxy took a wrong password"
[ $DIAL_RC = 1 ] && grep -q 'answered 403 Forbidden' "$TMP/dial-authbad.err" || fail "a wrong password: no clear error"
sipp_uas uas_auth $AUTH_PORT $AUTH_MEDIA
env -u BANTER_SIP_PASSWORD "$BANTER" dial "sip:x@127.0.0.1:$AUTH_PORT" --agent agents/restaurant.json \
  --db "$TMP/db" --from sip:alice@127.0.0.1 >"$TMP/dial-nopw.txt" 2>"$TMP/dial-nopw.err" && fail "no password: exit 0"
kill $SIPP_PID 2>/dev/null || true; wait $SIPP_PID 2>/dev/null || true
grep -q 'answered 401 Unauthorized: the provider wants credentials: set BANTER_SIP_PASSWORD' "$TMP/dial-nopw.err" \
  || { cat "$TMP/dial-nopw.err" >&2; fail "no password: no clear error"; }
pass "dial: a challenged INVITE with the right password, a wrong one, none"
