#!/usr/bin/env bash
# SIP over TLS with SRTP: a real SIP phone (baresip, its TLS from libre,
# its srtp module with mediaenc=srtp-mand: RTP/SAVP and a=crypto) calls
# `banter serve` on its TLS port with the server's self-signed pair; the
# greeting must be heard through SRTP and the caller's words (flite slt,
# "a table for three") recognised and answered, with no SRTP packet
# failing authentication. Then: the 180's Contact says transport=tls, a
# certificate given with --cert/--key is the one served, and a bad one
# stops the server at start with a clear message.
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  grep '^sip-' "$TMP/serve.txt" >&2 || true
  exit 1
}
command -v baresip >/dev/null || fail "baresip is not installed (scripts/install-deps.sh)"
MODS=$(dirname "$(dpkg -L baresip-core | grep '/srtp.so$' | head -1)")
[ -n "$MODS" ] || fail "cannot find baresip's srtp module"

sox tests/data/stt_table3_slt.wav -r 16000 -c 1 "$TMP/mic16.wav" pad 8 5
# --srtp require: SRTP calls are what it takes (sipp checks the refusal)
serve --no-tls --srtp require
grep -q "sip:agent@127.0.0.1:$SIP_TLS_PORT;transport=tls (TLS, self-signed), SRTP required" "$TMP/serve.txt" \
  || fail "serve does not announce SIP over TLS"

baresip_config "$TMP/bs" "$TMP/mic16.wav" "$TMP/rec" 127.0.0.1:0 srtp
# libre 1.1's TLS client does not verify the server's certificate, so the
# self-signed one is taken as it is
echo "<sip:tester@127.0.0.1;transport=tls>;regint=0;audio_codecs=G722/16000/1;mediaenc=srtp-mand" \
  >"$TMP/bs/accounts"
baresip_call "$TMP/bs" "$TMP/bs.txt" 40 -e "/dial sip:agent@127.0.0.1:$SIP_TLS_PORT;transport=tls"
# (the server's RTP summary, its last line of the call, may still be on its way)
wait_log '^sip-1: RTP ' 10 || true

grep -q 'Call established' "$TMP/bs.txt" || { cat "$TMP/bs.txt" >&2; fail "the TLS call was not established"; }
grep -q 'sip-1: transport TLS, SRTP AES_CM_128_HMAC_SHA1_80' "$TMP/serve.txt" \
  || fail "the call did not come over TLS with SRTP"
grep -q 'srtp: audio: SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)' "$TMP/bs.txt" \
  || fail "baresip did not take banter's SRTP answer"
dec=$(ls "$TMP"/rec/dump-*-dec.wav | head -1)
[ -f "$dec" ] || fail "baresip recorded nothing"
s=$(python3 - "$dec" <<'PY'
import sys, wave, struct, math
w = wave.open(sys.argv[1]); n = w.getnframes(); r = w.getframerate()
pcm = struct.unpack('<%dh' % (n * w.getnchannels()), w.readframes(n))[::w.getnchannels()]
f = r // 50; loud = 0
for i in range(0, n - f, f):
    e = sum(x * x for x in pcm[i:i + f]) / f
    if e > 0 and 20 * math.log10(math.sqrt(e) / 32768) > -40: loud += 1
print('%.2f' % (loud * 0.02))
PY
)
echo "TLS+SRTP: baresip heard ${s}s of agent speech"
# undecryptable SRTP would be decoded as G.722 noise: speech alone is not
# proof, the greeting's length and the counters below are
awk -v s="$s" 'BEGIN { exit !(s >= 3) }' || fail "only ${s}s of agent speech heard"
grep -q 'sip-1: agent: "Hello, thanks for calling' "$TMP/serve.txt" || fail "no greeting"
user=$(grep '^sip-1: user:' "$TMP/serve.txt" | head -1)
echo "TLS+SRTP: $user"
grep -qE 'table|three' <<<"$user" || fail "the caller's words were not recognised: '$user'"
grep -qE 'sip-1: agent: "(What day would you like to come\?|Sorry, could you repeat that\?|[a-z0-9 ]+, is that right\?)"' "$TMP/serve.txt" \
  || fail "the agent did not answer the caller's turn"
grep -q 'sip-1: the caller hung up (BYE)' "$TMP/serve.txt" || fail "the caller's BYE was not seen"
grep '^sip-1: RTP' "$TMP/serve.txt"
# baresip sends one RTCP APP packet in clear before its SRTP starts, and
# at times its RTCP BYE in clear as it hangs up: dropped as RTCP, so only
# RTP is asserted clean
grep -Eq 'sip-1: RTP G722: [0-9]+ packets sent, [0-9]{3,} received .*; SRTP AES_CM_128_HMAC_SHA1_80: 0 RTP and [0-9]+ RTCP packets failed authentication, 0 replayed' \
  "$TMP/serve.txt" || fail "SRTP packets failed authentication, or too few came"
pass "baresip over TLS with SRTP: greeting heard, caller recognised"

# the 180's Contact and Via: transport=tls
python3 - "$SIP_TLS_PORT" >"$TMP/tls180.txt" <<'PY' || fail "no 180 over TLS: $(cat "$TMP/tls180.txt")"
import socket, ssl, sys
port = int(sys.argv[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
lp = s.getsockname()[1]
sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 4000 RTP/SAVP 0\r\n"
       "a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")
req = ("INVITE sip:agent@127.0.0.1:%d;transport=tls SIP/2.0\r\n"
       "Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-tls1\r\n"
       "From: <sip:probe@127.0.0.1>;tag=a1\r\nTo: <sip:agent@127.0.0.1>\r\n"
       "Call-ID: tls-probe-1\r\nCSeq: 1 INVITE\r\n"
       "Contact: <sip:probe@127.0.0.1:%d;transport=tls>\r\nMax-Forwards: 70\r\n"
       "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
       % (port, lp, lp, len(sdp), sdp))
s.sendall(req.encode())
buf = b""
while b"SIP/2.0 180" not in buf or not buf.endswith(b"\r\n\r\n"):
    d = s.recv(4096)
    if not d: break
    buf += d
print(buf.decode(errors="replace"))
sys.exit(0 if b"SIP/2.0 180" in buf else 1)
PY
grep -qi '^Contact: <sip:agent@127.0.0.1:[0-9]*;transport=tls>' "$TMP/tls180.txt" \
  || { cat "$TMP/tls180.txt" >&2; fail "the 180's Contact does not say transport=tls"; }
grep -qi '^Via: SIP/2.0/TLS' "$TMP/tls180.txt" || fail "the 180's Via is not TLS"
grep -q 'sip-2: transport TLS, SRTP AES_CM_128_HMAC_SHA1_32' "$TMP/serve.txt" \
  || fail "no log line for the second TLS call"
stop_serve
pass "Contact and Via say transport=tls"

# --cert/--key: that certificate is served on the SIP TLS port
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=banter-sip-test" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
serve --no-tls --cert "$TMP/cert.pem" --key "$TMP/key.pem"
echo | openssl s_client -connect "127.0.0.1:$SIP_TLS_PORT" 2>/dev/null | grep -q 'subject=CN = banter-sip-test' \
  || fail "the SIP TLS port does not serve the --cert certificate"
stop_serve
ls "$TMP"/.banter-tls-* 2>/dev/null && fail "the joined copy of --cert and --key was left behind"
ls .banter-tls-* 2>/dev/null && fail "the joined copy of --cert and --key was left behind"
pass "--cert/--key served over SIP TLS"

# a bad certificate stops the start with a message that says what to do
echo "not a certificate" >"$TMP/bad.pem"
rc=0
"$BANTER" serve --agent agents/restaurant.json --no-tls --port "$(free_port)" \
  --sip-port "$(free_port)" --sip-tls-port "$(free_port)" --addr 127.0.0.1 \
  --cert "$TMP/bad.pem" --key "$TMP/key.pem" >"$TMP/bad.txt" 2>&1 || rc=$?
[ $rc != 0 ] || fail "serve started with a bad certificate"
grep -q 'cannot use the TLS certificate for SIP over TLS.*--cert and --key' "$TMP/bad.txt" \
  || { cat "$TMP/bad.txt" >&2; fail "no clear message for a bad certificate"; }
ls .banter-tls-* 2>/dev/null && fail "the joined copy of a bad --cert and --key was left behind"
pass "a bad certificate is refused at start"

# --no-sip: no SIP on any transport, TLS included
serve --no-tls --no-sip
grep -q 'transport=tls' "$TMP/serve.txt" && fail "--no-sip still announces SIP over TLS"
python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)' \
  "$SIP_TLS_PORT" 2>/dev/null && fail "--no-sip still listens for SIP over TLS"
stop_serve
pass "--no-sip: no SIP over TLS either"
