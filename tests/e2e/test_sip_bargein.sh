#!/usr/bin/env bash
# A caller barges in over RTP: baresip calls `banter serve` over G.722 and,
# while the agent's long greeting plays, says "wait, stop" (flite slt from
# its aufile microphone). baresip's sndfile module dumps what it sent
# (dump-*-enc.wav) and what it heard (dump-*-dec.wav); the test measures on
# them how long the agent went on after the caller's onset.
#
# The two dumps have no common clock: baresip writes each when a frame
# passes its encoder or decoder (the enc file from the microphone's first
# frame, the dec file from the first packet decoded, after its own jitter
# buffer), one RTP packet of 20 ms per 320 samples. So a sample of either
# stands for a packet of the stream: enc sample s is in caller packet
# s / 320, dec sample s in agent packet s / 320 (nothing is lost on
# loopback, and the RTP summary says so). banter's log line at the caller's
# speech start gives the packet counts of both streams at one moment, which
# puts both dumps on one time line.
#
# Asserted, in packets rather than wall time so that a loaded machine does
# not decide the result: from the caller's onset to the first silent packet
# banter sent (banter's part: its jitter buffer, the VAD's onset detection
# and the pause) at most 100 ms of the caller's audio had reached banter,
# and what baresip decoded of the agent stops within 100 ms of the onset
# on the dumps' common time line. Caller audio queued beyond the jitter
# buffer's goal because the call's loop fell behind (ASan on a busy
# machine) is printed as a backlog and not counted.
# A second call, to an agent that cannot be interrupted, must measure late.
source "$(dirname "$0")/lib.sh"
fail() {
  echo "FAIL: $*" >&2
  grep '^sip-' "$TMP/serve.txt" >&2 || true
  exit 1
}
command -v baresip >/dev/null || fail "baresip is not installed (scripts/install-deps.sh)"
MODS=$(dirname "$(dpkg -L baresip-core | grep '/g711.so$' | head -1)")
[ -n "$MODS" ] || fail "cannot find baresip's modules"

# 3 s into the call the caller says "wait, stop", then stays on the line
# while the agent answers; the call ends with the microphone file
flite -voice slt -t "wait, stop." -o "$TMP/stop.wav"
sox "$TMP/stop.wav" -r 16000 -c 1 "$TMP/mic.wav" pad 3 5

# the restaurant agent with a greeting long enough to be talking at 3 s
# (one sentence without commas: no pause in it for the onset to fall in)
agent() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a = json.load(open('agents/restaurant.json'))
a['flow']['nodes']['greet']['say'] = (
    "Hello and thank you so much for calling Bella's Trattoria the little "
    "Italian restaurant down by the old river bridge where we make fresh "
    "pasta every single morning.")
a['name'] = sys.argv[1].split('/')[-1][:-5]
a['turn']['interruptions'] = sys.argv[2] == 'true'
json.dump(a, open(sys.argv[1], 'w'))
PY
}
agent "$TMP/talk.json" true
agent "$TMP/deaf.json" false

# phone NAME: one G.722 call from the microphone WAV, dumps in $TMP/rec-NAME
phone() {
  local dir="$TMP/bs-$1"
  baresip_config "$dir" "$TMP/mic.wav" "$TMP/rec-$1"
  echo "<sip:tester@127.0.0.1>;regint=0;audio_codecs=G722/16000/1" >"$dir/accounts"
  baresip_call "$dir" "$TMP/bs-$1.txt" 30 -e "/dial sip:$1@127.0.0.1:$SIP_PORT"
}

# measure NAME CALL: the barge-in of call sip-CALL, dumped in rec-NAME:
# prints the figures, and last "delay WIRE OURS" in ms (OURS: banter's
# part, "none" if it never paused)
measure() {
  local log="$TMP/call-$1.txt"
  grep "^sip-$2:" "$TMP/serve.txt" >"$log" || true
  python3 - "$log" "$TMP/rec-$1" <<'PY'
import glob, math, re, struct, sys, wave
log = open(sys.argv[1]).read()
def dump(kind):
    f = glob.glob(sys.argv[2] + '/dump-*-%s.wav' % kind)
    if len(f) != 1:
        sys.exit('no single %s dump in %s' % (kind, sys.argv[2]))
    w = wave.open(f[0])
    if w.getframerate() != 16000 or w.getnchannels() != 1:
        sys.exit('the %s dump is not 16 kHz mono' % kind)
    n = w.getnframes()
    return struct.unpack('<%dh' % n, w.readframes(n))
enc, dec = dump('enc'), dump('dec')
W, P = 160, 320                 # 10 ms windows; samples per packet
def loud(pcm, i):               # the 10 ms at sample i above -40 dBFS
    e = sum(x * x for x in pcm[i:i + W]) / W
    return e > 0 and 20 * math.log10(math.sqrt(e) / 32768) > -40
# the caller's onset: the first loud 10 ms of what baresip sent
on = next((i for i in range(0, len(enc) - W, W) if loud(enc, i)), None)
if on is None:
    sys.exit('baresip sent no speech')
# banter's packet counts at the caller's speech start put the caller's
# packet on the agent's stream (on loopback a packet arrives as it leaves)
m = re.search(r'caller speech from ([0-9.]+) s; packet (\d+) out, '
              r'(\d+) caller packets in', log)
if not m:
    sys.exit('banter logged no caller speech')
tx_m, rx_m = int(m.group(2)), int(m.group(3))
on_dec = on + (tx_m - rx_m) * P
if on_dec < 0 or on_dec >= len(dec):
    sys.exit('the onset falls outside the dec dump (sample %d)' % on_dec)
# the agent must be talking when the caller starts, else nothing is stopped
if not any(loud(dec, i) for i in range(max(0, on_dec - 10 * P), on_dec, W)):
    sys.exit('the agent was not talking at the caller\'s onset')
# where it stops: the start of the first 300 ms of quiet from 200 ms
# before the onset on. A pause inside or between the greeting's words is
# shorter; the agent's answer to the caller's words comes later (their
# end and the endpointer's wait: once, under ASan, "wait" ended a turn
# and the reprompt began 550 ms after the stop, inside the 600 ms this
# asked for before, and the stop was taken 5 s late)
i, quiet, stop = max(0, on_dec - 10 * P), 0, None
while i + W <= len(dec) and quiet < 300 * 16:
    if loud(dec, i):
        quiet, stop = 0, None
    else:
        stop = i if stop is None else stop
        quiet += W
    i += W
if quiet < 300 * 16:
    stop = len(dec)
wire = (stop - on_dec) / 16
print('caller onset: enc dump %.3f s (caller packet %d), on the agent\'s '
      'stream %.3f s (agent packet %d)' % (on / 16000, on // P,
      on_dec / 16000, on_dec // P))
print('the agent stops in the dec dump at %.3f s (agent packet %d): %.0f ms '
      'after the onset' % (stop / 16000, stop // P, wire))
sent = re.search(r'RTP G722: (\d+) packets sent', log)
kept = 0
if sent:
    kept = int(sent.group(1)) - len(dec) // P
    print('baresip decoded %d of the %s packets sent: its own jitter buffer '
          'held %d (%d ms) before its decoder and the dump, on the wall '
          'clock' % (len(dec) // P, sent.group(1), kept, kept * 20))
p = re.search(r'paused at ([0-9.]+) s: packet (\d+) out is silent; '
              r'(\d+) caller packets in, (\d+) of them in the jitter '
              r'buffer \(its goal (\d+)\), the latest (\d+) ms ago', log)
ours, backlog = 'none', 0
if p:
    tx_p, rx_p, held, goal, age = (int(p.group(k)) for k in range(2, 7))
    arrived = (rx_p * P - on) / 16
    heard = arrived - held * 20
    # packets held beyond the buffer's goal are a backlog of a loop that
    # fell behind (a starved core), not the buffer's design
    backlog = max(0, held - goal) * 20
    ours = arrived - backlog
    print('banter paused with packet %d out, %.0f ms of the caller\'s speech '
          'in (%d packets, the latest %d ms before): the session had heard '
          '%.0f ms of it (its VAD dated the start %s s, paused at %s s) '
          'and %d packets (%d ms) waited in the jitter buffer (its goal %d)'
          % (tx_p, arrived, rx_p - on // P, age, heard, m.group(1),
             p.group(1), held, held * 20, goal))
    if backlog:
        print('of those, %d ms are a backlog of the call\'s loop falling '
              'behind' % backlog)
    print('on the wall clock: caller onset to banter\'s first silent packet '
          '%.0f ms, to baresip\'s decoder about %.0f ms' % (arrived + age,
          arrived + age + kept * 20))
    if stop // P > tx_p + 1:
        sys.exit('the dump goes on to agent packet %d after banter\'s first '
                 'silent packet %d: the dumps are not aligned' % (stop // P,
                 tx_p))
    ours = '%.0f' % ours
print('delay %.0f %s %d' % (wire, ours, backlog))
PY
}

serve --no-tls --agent "$TMP/talk.json" --agent "$TMP/deaf.json"
# call NAME N: the call to agent NAME, the server's call sip-N
call() {
  phone "$1"
  grep -q 'Call established' "$TMP/bs-$1.txt" || { cat "$TMP/bs-$1.txt" >&2; fail "$1: the call was not established"; }
  grep -q "sip-$2: answered with G722/8000" "$TMP/serve.txt" || fail "$1: not answered with G.722"
  # (the RTP summary, the server's last line of the call, may still be on its way)
  wait_log "^sip-$2: RTP " 10 || true
  grep "^sip-$2: RTP" "$TMP/serve.txt"
  # the dumps count packets only if none was lost
  grep -q "^sip-$2: RTP G722: [0-9]* packets sent, [0-9]* received (0 lost, 0 late" "$TMP/serve.txt" \
    || fail "$1: packets were lost or late"
  out=$(measure "$1" "$2" 2>&1) || fail "$1: $out"
  echo "$out"
  read -r _ WIRE OURS BACKLOG <<<"$(tail -1 <<<"$out")"
}

call talk 1
grep -q 'sip-1: barge-in' "$TMP/serve.txt" || fail "no barge-in"
[ "$OURS" != none ] || fail "banter did not pause for the caller"
[ "$OURS" -le 100 ] || fail "banter sent agent audio for $OURS ms of the caller's speech (most 100)"
# a loop that fell behind (ASan on a busy machine) queues the caller's
# audio beyond the jitter buffer's goal: that is printed, and not counted
[ $((WIRE - BACKLOG)) -le 100 ] || fail "what baresip heard of the agent went on $WIRE ms after the caller's onset (most 100, $BACKLOG ms of it backlog)"
pass "barge-in over RTP: what baresip heard of the agent stopped $WIRE ms after the caller's onset; banter paused when $OURS ms of the caller's speech had reached it (backlog $BACKLOG ms)"

# the same caller cannot stop an agent that takes no interruptions: the
# measurement sees it talk on
call deaf 2
[ "$OURS" = none ] || fail "the agent without interruptions paused"
[ "$WIRE" -gt 1000 ] || fail "the agent without interruptions stopped $WIRE ms after the onset"
pass "without interruptions the agent talked on for $WIRE ms: the measurement sees a late stop"
