#!/usr/bin/env bash
# A real SIP phone (baresip) calls `banter serve`: over G.722 with a
# 16 kHz caller on UDP and again on TCP, over Opus (the server stalling
# for 600 ms in the call), with DTMF keys as an answer, and over PCMU with
# an 8 kHz caller. baresip's
# microphone is a WAV (flite slt: "a table for three", the answer to the
# agent's first question, after silence so that the greeting plays first;
# the recogniser listens with the question's grammar, so a whole booking
# in one sentence is not what to test it with); what it heard is recorded
# by its sndfile module. The DTMF caller is silent and presses 3 then #
# (RFC 4733 telephone-events, sent by baresip's sndcode command through its
# ctrl_tcp module) when the agent asks for the party size. The PCMU call is
# still up when the server gets SIGTERM: the caller hears the goodbye, then
# a BYE.
source "$(dirname "$0")/lib.sh"
# on failure, what the server logged of the calls
fail() {
  echo "FAIL: $*" >&2
  grep '^sip-' "$TMP/serve.txt" >&2 || true
  exit 1
}
command -v baresip >/dev/null || fail "baresip is not installed (scripts/install-deps.sh)"
MODS=$(dirname "$(dpkg -L baresip-core | grep '/g711.so$' | head -1)")
[ -n "$MODS" ] || fail "cannot find baresip's modules"

sox tests/data/stt_table3_slt.wav -r 16000 -c 1 "$TMP/mic16.wav" pad 8 5
# the PCMU caller stays on the line until the server hangs up
sox tests/data/stt_table3_slt.wav -r 8000 -c 1 "$TMP/mic8.wav" pad 8 25
sox tests/data/stt_table3_slt.wav -r 48000 -c 2 "$TMP/mic48.wav" pad 8 5
# the DTMF caller says nothing: only its keys answer
sox -n -r 16000 -b 16 -c 1 "$TMP/silence16.wav" trim 0 45

serve --no-tls
# phone CODEC MIC [NAME [TRANSPORT [MODULE...]]]: one call, recorded under
# $TMP/rec-NAME (baresip output in $TMP/bs-NAME.txt; NAME is the codec's
# by default); TRANSPORT tcp puts the phone's SIP on TCP (its account and
# the dialled URI); with CTRL_PORT set, the phone takes commands there
# (module ctrl_tcp); the call ends when the microphone file does
phone() {
  local codec=$1 mic=$2 name=${3:-${1%%/*}} tp=${4:-udp} uri dir
  dir="$TMP/bs-$name"
  shift 2; shift $(($# < 2 ? $# : 2))
  baresip_config "$dir" "$mic" "$TMP/rec-$name" 127.0.0.1:0 "$@"
  [ -n "${CTRL_PORT:-}" ] && echo "ctrl_tcp_listen 127.0.0.1:$CTRL_PORT" >>"$dir/config"
  uri="sip:agent@127.0.0.1:$SIP_PORT"
  if [ "$tp" = tcp ]; then
    echo "<sip:tester@127.0.0.1;transport=tcp>;regint=0;audio_codecs=$codec" >"$dir/accounts"
    uri="$uri;transport=tcp"
  else
    echo "<sip:tester@127.0.0.1>;regint=0;audio_codecs=$codec" >"$dir/accounts"
  fi
  baresip_call "$dir" "$TMP/bs-$name.txt" 40 -e "/dial $uri"
}
# ctrl CMD [PARAMS]: a command to the phone's ctrl_tcp module (JSON in a
# netstring, the reply likewise); fails unless baresip answers ok
ctrl() {
  python3 - "$CTRL_PORT" "$@" <<'PY'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
cmd = {"command": sys.argv[2], "token": "t"}
if len(sys.argv) > 3:
    cmd["params"] = sys.argv[3]
b = json.dumps(cmd).encode()
s.sendall(b"%d:%s," % (len(b), b))
r = b""
while not r.endswith(b","):
    d = s.recv(4096)
    if not d:
        break
    r += d
sys.exit(0 if b'"ok":true' in r else 1)
PY
}
# seconds of a WAV louder than -40 dBFS (20 ms frames, first channel)
speech_s() {
  python3 - "$1" <<'PY'
import sys, wave, struct, math
w = wave.open(sys.argv[1]); n = w.getnframes(); r = w.getframerate()
ch = w.getnchannels()
pcm = struct.unpack('<%dh' % (n * ch), w.readframes(n))[::ch]; f = r // 50; loud = 0
for i in range(0, n - f, f):
    e = sum(x * x for x in pcm[i:i + f]) / f
    if e > 0 and 20 * math.log10(math.sqrt(e) / 32768) > -40: loud += 1
print('%.2f' % (loud * 0.02))
PY
}
# check_g722 NAME ID HOW: the G.722 call sip-ID (baresip's side in
# bs-NAME) was answered, its recording holds the agent's speech, and the
# caller's words were recognised and answered
check_g722() {
  local name=$1 id=$2 how=$3 dec s user
  # baresip quits as its call ends: the server's last line of the call
  # (its RTP summary) may still be on its way
  wait_log "^sip-$id: RTP " 10 || true
  grep -q 'Call established' "$TMP/bs-$name.txt" || { cat "$TMP/bs-$name.txt" >&2; fail "$how: call not established"; }
  grep -q "sip-$id: answered with G722/8000" "$TMP/serve.txt" || fail "$how: not answered with G.722"
  grep -q 'Set audio decoder: G722' "$TMP/bs-$name.txt" || fail "$how: baresip did not decode G.722"
  dec=$(ls "$TMP"/rec-$name/dump-*-dec.wav | head -1)
  [ -f "$dec" ] || fail "$how: baresip recorded nothing"
  s=$(speech_s "$dec")
  echo "$how: baresip heard ${s}s of agent speech"
  awk -v s="$s" 'BEGIN { exit !(s >= 3) }' || fail "$how: only ${s}s of agent speech heard"
  grep -q "sip-$id: agent: \"Hello, thanks for calling" "$TMP/serve.txt" || fail "$how: no greeting"
  user=$(grep "^sip-$id: user:" "$TMP/serve.txt" | head -1)
  echo "$how: $user"
  grep "^sip-$id: RTP" "$TMP/serve.txt" || true
  # the caller's words reached the recogniser and the agent answered them;
  # the exact number is not asserted: under ASan on 2 busy cores one run
  # in a few heard "a table for eight" (no packet lost or late) and
  # reprompted; an unsure number is confirmed ("three, is that right?")
  grep -qE 'table|three' <<<"$user" || fail "$how: the caller's words were not recognised: '$user'"
  grep -qE "sip-$id: agent: \"(What day would you like to come\?|Sorry, could you repeat that\?|[a-z0-9 ]+, is that right\?)\"" \
    "$TMP/serve.txt" || fail "$how: the agent did not answer the caller's turn"
  grep -q "sip-$id: the caller hung up (BYE)" "$TMP/serve.txt" || fail "$how: the caller's BYE was not seen"
  grep -q "sip-$id: RTP G722: [0-9]* packets sent" "$TMP/serve.txt" || fail "$how: no RTP summary"
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" | grep -q '"sip_calls":0' && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" | grep -q '"sip_calls":0' \
    || fail "$how: the server does not answer /healthz after the call"
}

# ---- G.722 over UDP ----
phone G722/16000/1 "$TMP/mic16.wav"
grep -q 'sip-1: transport UDP' "$TMP/serve.txt" || fail "G.722: the call did not come over UDP"
check_g722 G722 1 G.722
pass "G.722 call: greeting heard, caller recognised"

# ---- G.722 over TCP: the INVITE, its answer and the BYE on one TCP
# connection to banter's SIP port; RTP as ever ----
phone G722/16000/1 "$TMP/mic16.wav" tcp tcp
grep -q 'sip-2: transport TCP' "$TMP/serve.txt" || fail "G.722 over TCP: the call did not come over TCP"
check_g722 tcp 2 "G.722 over TCP"
pass "G.722 call over TCP: greeting heard, caller recognised"

# ---- Opus (baresip's aufile wants 48 kHz stereo for it); the server
# stalls for 600 ms during the greeting (SIGSTOP: every loop stops, the
# caller's packets pile up in the socket) ----
phone opus/48000/2 "$TMP/mic48.wav" &
PHONE=$!
wait_log '^sip-3: established' 60 || fail "Opus: the call was not established"
sleep 2
kill -STOP $SERVE_PID; sleep 0.6; kill -CONT $SERVE_PID
wait $PHONE || true
wait_log '^sip-3: RTP ' 10 || true
grep -q 'sip-3: answered with opus/48000' "$TMP/serve.txt" || fail "not answered with Opus"
grep -q 'Set audio decoder: opus' "$TMP/bs-opus.txt" || fail "baresip did not decode Opus"
s=$(speech_s "$(ls "$TMP"/rec-opus/dump-*-dec.wav | head -1)")
echo "Opus: baresip heard ${s}s of agent speech; $(grep '^sip-3: user:' "$TMP/serve.txt" | head -1)"
awk -v s="$s" 'BEGIN { exit !(s >= 3) }' || fail "Opus: only ${s}s of agent speech heard"
# (not asserted: one run in five heard "" here; see the closing note)
# the packets of the stall beyond the jitter buffer's bound (its goal, 2,
# plus 10) were dropped at once: when the caller starts speaking, 4 s
# later, the buffer holds no more than that (unbounded, it held 17 here,
# shrinking by one a second)
rtp=$(grep '^sip-3: RTP' "$TMP/serve.txt") || fail "Opus: no RTP summary"
echo "$rtp"
grep -qE ', [1-9][0-9]* packets dropped from a backlog' <<<"$rtp" \
  || fail "Opus: nothing of the stall's backlog was dropped"
held=$(sed -n 's/^sip-3: caller speech from .*, \([0-9]*\) of them in the jitter buffer$/\1/p' \
  "$TMP/serve.txt" | head -1)
echo "Opus: $held packets in the jitter buffer as the caller began to speak"
[ -n "$held" ] || fail "Opus: the caller's speech was not detected"
[ "$held" -le 12 ] || fail "Opus: $held packets (20 ms each) of the caller waited in the jitter buffer after the stall"
pass "Opus call; a 600 ms stall's backlog dropped at once"

# ---- DTMF: the party size keyed in, 3 then # ----
CTRL_PORT=$(free_port)
phone G722/16000/1 "$TMP/silence16.wav" dtmf udp ctrl_tcp &
PHONE=$!
wait_log '^sip-4: agent: "How many people is the table for\?"' 90 \
  || { cat "$TMP/bs-dtmf.txt" >&2; fail "DTMF: the agent did not ask for the party size"; }
# the question is logged as it starts to play; keys pressed over it stop
# it as speech would (docs/sip.md), so they answer it either way
sleep 3
ok=0
for _ in $(seq 50); do
  ctrl sndcode '3#' 2>/dev/null && { ok=1; break; }
  sleep 0.2
done
[ $ok = 1 ] || { cat "$TMP/bs-dtmf.txt" >&2; fail "DTMF: baresip's ctrl_tcp did not take sndcode"; }
# the turn's trace line comes once the agent's answer has played
wait_log '^sip-4: trace .*"user_text":"3"' 60 || fail "DTMF: no turn with the user text \"3\""
ctrl quit 2>/dev/null || true
wait $PHONE || true
CTRL_PORT=
wait_log '^sip-4: RTP ' 10 || true
grep -q "audio: send DTMF digit: '3'" "$TMP/bs-dtmf.txt" || fail "DTMF: baresip did not send 3"
grep -q '^sip-4: INVITE from .*, with DTMF$' "$TMP/serve.txt" || fail "DTMF: the offer had no telephone-event"
grep '^sip-4: dtmf' "$TMP/serve.txt"
grep -q '^sip-4: dtmf "3" (#) -> user turn' "$TMP/serve.txt" || fail "DTMF: 3# did not become a user turn"
grep '^sip-4: trace .*"user_text":"3"' "$TMP/serve.txt" | grep -q '"kind":"reply"' \
  || fail "DTMF: the turn of the user text \"3\" is not a reply"
grep -q '^sip-4: agent: "What day would you like to come?"' "$TMP/serve.txt" \
  || fail "DTMF: the agent did not take the keys as the party size"
# the caller is silent: no turn but the keys' came from the recogniser
grep -q '^sip-4: user:' "$TMP/serve.txt" && fail "DTMF: the silent caller was heard: $(grep '^sip-4: user:' "$TMP/serve.txt")"
grep -q 'sip-4: the caller hung up (BYE)' "$TMP/serve.txt" || fail "DTMF: the caller's BYE was not seen"
rtp=$(grep '^sip-4: RTP' "$TMP/serve.txt") || fail "DTMF: no RTP summary"
echo "$rtp"
# baresip sends the key's event packets beside its audio: they take no
# time in the jitter buffer, so no backlog builds up from them; only a
# stall of the loop (its skipped frames) may drop packets
skipped=$(sed -n 's/.*, \([0-9]*\) ms skipped.*/\1/p' <<<"$rtp")
dropped=$(sed -n 's/.*, \([0-9]*\) packets dropped from a backlog.*/\1/p' <<<"$rtp")
[ -n "$skipped" ] && [ -n "$dropped" ] || fail "DTMF: cannot read the RTP summary"
[ "$dropped" -le $((skipped / 20 + 2)) ] \
  || fail "DTMF: $dropped packets dropped from a backlog, where the loop skipped only $skipped ms"
pass "DTMF: 3# reached the flow as the party size"

# ---- PCMU; SIGTERM while the call is up ----
phone PCMU/8000/1 "$TMP/mic8.wav" &
PHONE=$!
for _ in $(seq 150); do
  grep -q '^sip-5: user:' "$TMP/serve.txt" && break
  sleep 0.1
done
grep -q 'answered with PCMU/8000' "$TMP/serve.txt" || fail "not answered with PCMU"
grep -q '^sip-5: user:' "$TMP/serve.txt" || fail "PCMU: no user turn"
echo "PCMU: $(grep '^sip-5: user:' "$TMP/serve.txt" | head -1)"
stop_serve
wait $PHONE || true
grep -q 'sip-5: hanging up (BYE)' "$TMP/serve.txt" || fail "no BYE after the goodbye"
grep -q 'Set audio decoder: PCMU' "$TMP/bs-PCMU.txt" || fail "baresip did not decode PCMU"
grep -q 'terminated' "$TMP/bs-PCMU.txt" || fail "baresip's call did not end"
dec=$(ls "$TMP"/rec-PCMU/dump-*-dec.wav | head -1)
s=$(speech_s "$dec")
echo "PCMU: baresip heard ${s}s of agent speech"
awk -v s="$s" 'BEGIN { exit !(s >= 3) }' || fail "PCMU: only ${s}s of agent speech heard"
pass "PCMU call: answered, goodbye and BYE at shutdown"
