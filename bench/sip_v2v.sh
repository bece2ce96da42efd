#!/usr/bin/env bash
# Voice-to-voice on the wire for SIP next to the WebSocket figure of the
# same caller, against one `banter serve` (agents/restaurant.json) in the
# same run, one call at a time.
#
# The caller is callers/booking.json ("a table for three please",
# "tuesday", "seven pm", "yes"; flite slt) answering the agent's questions.
#   SIP: baresip (Debian baresip-core) places a G.722 call with a
#     microphone WAV holding the answers at fixed times (GREET_S of
#     silence for the greeting, GAP_S after each answer for the reply and
#     the next question). Its sndfile module dumps what it sent
#     (dump-*-enc.wav) and what it decoded (dump-*-dec.wav).
#   WebSocket: tests/clients/call.mjs with the same caller file, in 20 ms
#     chunks at real-time pace (--chunk-ms 20), as RTP packets.
#
# SIP, measured on the caller's side: the end of each answer (its last
# 10 ms above -40 dBFS in the enc dump) to the first 10 ms above -40 dBFS
# in the dec dump after it. The dumps have no common clock; a sample of
# either stands for a packet of its stream (320 samples, 20 ms a packet,
# nothing lost on loopback), and banter's log line at each caller speech
# start ("packet T out, R caller packets in") says which agent packet left
# as which caller packet arrived (tests/e2e/test_sip_bargein.sh does the
# same). So the figure is packet to packet on the wire: from the caller
# packet carrying the last speech to the agent packet carrying the first,
# as both are sent (on loopback: received). baresip's own jitter buffer
# is not in it, since a dec sample is counted as a packet, not as a
# playout time; what that buffer held at the end (banter's packets sent
# minus those baresip decoded) is printed, and "heard" adds it: the
# playout delay of this phone, a property of the phone.
# WebSocket, at the client: the last speech sample of a turn (at the time
# it would be spoken, the stream being paced in real time) to the first
# response.output_audio.delta, and "first speech" adds the quiet the
# reply's audio starts with (lead_ms, audio leaving at the pace it plays),
# the same end point as the SIP figure's energy threshold.
# Both transports' server traces (voice_to_voice_ms) are printed too.
# A SIP turn where the agent was still talking as the answer started (the
# caller spoke over it) is not counted, and the count of those is printed.
#
# Usage: bench/sip_v2v.sh [BANTER] [--runs N] [--greet-s S] [--gap-s S]
# (prints one line per turn, then p50/p95 of each and the difference)
# KEEP=1 leaves the run's files (logs, dumps) in the temporary folder.
# Figures and how to read them: docs/sip.md, "Voice-to-voice on the wire".
set -euo pipefail
BANTER=./build/banter
RUNS=3
GREET_S=7
GAP_S=6
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --greet-s) GREET_S=$2; shift ;;
    --gap-s) GAP_S=$2; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) BANTER=$1 ;;
  esac
  shift
done
cd "$(dirname "$0")/.."
[ -x "$BANTER" ] || { echo "no $BANTER: build first (make build)" >&2; exit 1; }
command -v baresip >/dev/null || { echo "baresip is not installed (Debian baresip-core)" >&2; exit 1; }
[ -d tests/clients/node_modules ] || { echo "no tests/clients/node_modules: npm ci in tests/clients" >&2; exit 1; }
# its TMP (removed at exit), serve (stopped at exit) and baresip_config
source tests/e2e/lib.sh "$BANTER"
CALLER=callers/booking.json

# the microphone: the caller file's answers, 16 kHz for G.722
python3 - "$CALLER" "$TMP" "$GREET_S" "$GAP_S" <<'PY'
import json, subprocess, sys, wave
caller, tmp, greet, gap = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
c = json.load(open(caller))
voice = c.get("voice", "flite:slt").split(":")[1]
pcm = b"\0\0" * int(greet * 16000)
for i, t in enumerate(c["turns"]):
    subprocess.run(["flite", "-voice", voice, "-t", t["say"], "-o", f"{tmp}/t{i}.wav"], check=True)
    subprocess.run(["sox", f"{tmp}/t{i}.wav", "-r", "16000", "-c", "1", "-b", "16", f"{tmp}/r{i}.wav"], check=True)
    w = wave.open(f"{tmp}/r{i}.wav")
    pcm += w.readframes(w.getnframes()) + b"\0\0" * int(gap * 16000)
pcm += b"\0\0" * 6 * 16000     # the last reply is long (booking, goodbye)
w = wave.open(f"{tmp}/mic.wav", "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(pcm)
print(f"microphone: {len(c['turns'])} answers, {len(pcm) / 32000:.1f} s", file=sys.stderr)
PY
MIC_S=$(python3 -c "import wave; w=wave.open('$TMP/mic.wav'); print(int(w.getnframes() / 16000) + 1)")

serve --no-tls
[ -n "${KEEP:-}" ] && trap 'kill $SERVE_PID 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; echo "files kept in $TMP" >&2' EXIT

for i in $(seq "$RUNS"); do
  from=$(($(wc -l <"$TMP/serve.txt") + 1))
  dir="$TMP/bs$i"
  baresip_config "$dir" "$TMP/mic.wav" "$TMP/rec$i"
  echo "<sip:caller@127.0.0.1>;regint=0;audio_codecs=G722/16000/1" >"$dir/accounts"
  timeout $((MIC_S + 30)) baresip -f "$dir" -e "/dial sip:agent@127.0.0.1:$SIP_PORT" -t $((MIC_S + 3)) \
    >"$TMP/bs$i.txt" 2>&1 || true
  # the call's log lines (its RTP summary comes as it ends)
  for _ in $(seq 50); do tail -n +"$from" "$TMP/serve.txt" | grep -q ': RTP ' && break; sleep 0.1; done
  tail -n +"$from" "$TMP/serve.txt" >"$TMP/sip$i.txt"
  node tests/clients/call.mjs "ws://127.0.0.1:$HTTP_PORT/v1/realtime" "$CALLER" --chunk-ms 20 --json "$TMP/ws$i.json" \
    >"$TMP/ws$i.txt" 2>&1 || { cat "$TMP/ws$i.txt" >&2; exit 1; }
done

python3 - "$TMP" "$RUNS" <<'PY'
import glob, json, math, re, struct, sys, wave
tmp, runs = sys.argv[1], int(sys.argv[2])
W, P = 160, 320                      # 10 ms windows; samples per packet
def dump(rec, kind):
    f = glob.glob(f"{rec}/dump-*-{kind}.wav")
    if len(f) != 1:
        sys.exit(f"no single {kind} dump in {rec}")
    w = wave.open(f[0])
    n = w.getnframes()
    pcm = struct.unpack("<%dh" % n, w.readframes(n))
    # per 10 ms window: above -40 dBFS
    return [sum(x * x for x in pcm[i:i + W]) / W > (32768 * 0.01) ** 2
            for i in range(0, n - W + 1, W)]
def pct(a, p):
    a = sorted(a)
    return a[min(len(a) - 1, int(round(p / 100 * (len(a) - 1))))] if a else float("nan")
wire, heard, sip_srv, ws_c, ws_sp, ws_srv, spoke_over, jbs, uncertain = [], [], [], [], [], [], 0, [], 0
clean = []
print(f"{'run':>3} {'turn':>4} {'SIP wire':>8} {'from':>6} {'trace':>6} {'WS delta':>8} {'+lead':>6} {'trace':>6}  heard over SIP / over WS")
for r in range(1, runs + 1):
    log = open(f"{tmp}/sip{r}.txt").read()
    m = re.search(r"^(sip-\d+): answered with (\S+)", log, re.M)
    if not m:
        sys.exit(f"run {r}: the SIP call was not answered; baresip said:\n" + open(f"{tmp}/bs{r}.txt").read())
    cid = m.group(1)
    if not m.group(2).startswith("G722"):
        sys.exit(f"run {r}: answered with {m.group(2)}, not G.722")
    mine = "\n".join(l for l in log.splitlines() if l.startswith(cid + ":"))
    rtp = re.search(r"RTP G722: (\d+) packets sent, (\d+) received \((\d+) lost, (\d+) late.*?(\d+) ms skipped", mine)
    if not rtp:
        sys.exit(f"run {r}: no RTP summary for {cid}")
    if int(rtp.group(3)) or int(rtp.group(4)):
        print(f"run {r}: {rtp.group(3)} packets lost, {rtp.group(4)} late: the dumps' packet counts drift", file=sys.stderr)
    skipped = int(rtp.group(5))
    # every (packets out, caller packets in) pair the log gives, in order
    offs = [(int(a), int(b)) for a, b in re.findall(r"(?:caller speech from|paused at) [0-9.]+ s(?::|;) packet (\d+) out(?:, | is silent; )(\d+) caller packets in", mine)]
    end_off = int(rtp.group(1)) - int(rtp.group(2))
    traces = [json.loads(t) for t in re.findall(r"^" + cid + r": trace (\{.*\})$", mine, re.M)]
    replies = [t for t in traces if t.get("kind") == "reply"]
    users = re.findall(r"^" + cid + r': user: "(.*)"$', mine, re.M)
    enc, dec = dump(f"{tmp}/rec{r}", "enc"), dump(f"{tmp}/rec{r}", "dec")
    sent = int(rtp.group(1))
    jb = sent - len(dec) * W // P
    jbs.append(jb)
    # the answers in what baresip sent: loud windows, split by 600 ms quiet
    segs, i = [], 0
    while i < len(enc):
        if enc[i]:
            j, q = i, 0
            while j < len(enc) and q < 60:
                q = 0 if enc[j] else q + 1
                j += 1
            segs.append((i, j - q))          # [onset, end) in windows
            i = j
        else:
            i += 1
    wsrows = json.load(open(f"{tmp}/ws{r}.json"))[1:]
    for k, (on, end) in enumerate(segs):
        if not offs:
            break
        # where the answer falls on the agent's stream: by the latest
        # count pair logged before its onset and before its end (the
        # first one if none; a stall in the answer moves the second)
        def off(c):
            o = [t - x for t, x in offs if x <= c] or [offs[0][0] - offs[0][1]]
            return o[-1] * P // W              # caller window -> agent window
        d = off(end * W // P)
        on_d, end_d = on + off(on * W // P), end + d
        over = any(dec[max(0, on_d - 30):min(end_d, len(dec))])
        a = next((x for x in range(max(0, end_d), len(dec)) if dec[x]), None)
        nxt = segs[k + 1][0] + d if k + 1 < len(segs) else len(dec) + 1
        v = rng = None
        if a is not None and a < nxt:
            # the wall time of agent packet a is a minus the offset at
            # that time; a loop that fell behind drops frames (skipped),
            # which lowers the offset from then on. The lines just before
            # and just after packet a bound it (after the last line: the
            # counts at hang-up); the later of the two is taken: a skip in
            # between is counted as part of the wait (printed as a range).
            ap = a * W // P
            bef = [t - x for t, x in offs if t <= ap]
            aft = [t - x for t, x in offs if t > ap] or [end_off]
            vs = sorted({(a - end - o * P // W) * 10 for o in (bef[-1] if bef else aft[0], aft[0])})
            # a pair is logged at a frame tick, the caller's packets
            # arriving anywhere in the 20 ms before it: one packet apart
            # is that, not a skip (the mean then)
            if vs[-1] - vs[0] <= 20:
                v, rng = round(sum(vs) / len(vs)), None
            else:
                v, rng = vs[-1], vs
        w_ = wsrows[k] if k < len(wsrows) else {}
        tr = replies[k]["voice_to_voice_ms"] if k < len(replies) else None
        if over:
            spoke_over += 1
        elif v is not None:
            wire.append(v); heard.append(v + jb * 20)
            if not rng: clean.append(v)
        if tr is not None: sip_srv.append(tr)
        c, lead, s = w_.get("v2v_client_ms"), w_.get("lead_ms"), w_.get("v2v_server_ms")
        if c is not None:
            ws_c.append(c)
            if lead is not None: ws_sp.append(c + lead)
        if s is not None: ws_srv.append(s)
        fmt = lambda x: "-" if x is None else str(int(x))
        if rng: uncertain += 1
        print(f"{r:3} {k + 1:4} {fmt(v) + ('*' if over else ''):>8} {'%d..' % rng[0] if rng else '':>6} {fmt(tr):>6} {fmt(c):>8} "
              f"{fmt(None if c is None or lead is None else c + lead):>6} {fmt(s):>6}  "
              f"{users[k] if k < len(users) else '-'!r} / {w_.get('heard')!r}")
    print(f"    {cid}: {rtp.group(1)} packets sent, {rtp.group(2)} received, {skipped} ms skipped; "
          f"baresip decoded {len(dec) * W // P}, its jitter buffer held {jb} ({jb * 20} ms) at the end; "
          f"packets out minus caller packets in: {[t - x for t, x in offs]}, at hang-up {end_off}")
print()
print(f"{'':52} {'n':>3} {'p50':>5} {'p95':>5}  (ms)")
for name, a in (("SIP G.722, on the wire at the caller", wire),
                ("SIP G.722, on the wire, turns with no skip", clean),
                ("SIP G.722, heard (+ baresip's jitter buffer)", heard),
                ("SIP, server trace", sip_srv),
                ("WebSocket, at the client: first audio delta", ws_c),
                ("WebSocket, at the client: first speech (+ lead)", ws_sp),
                ("WebSocket, server trace", ws_srv)):
    print(f"{name:52} {len(a):3} {pct(a, 50):5} {pct(a, 95):5}")
print(f"SIP on the wire minus WebSocket first speech: p50 {pct(wire, 50) - pct(ws_sp, 50)} ms, "
      f"p95 {pct(wire, 95) - pct(ws_sp, 95)} ms; server traces: p50 {pct(sip_srv, 50) - pct(ws_srv, 50)} ms, "
      f"p95 {pct(sip_srv, 95) - pct(ws_srv, 95)} ms")
if spoke_over:
    print(f"{spoke_over} SIP turn(s) not counted (*): the agent was still talking as the answer started (raise --gap-s)")
if uncertain:
    print(f"{uncertain} SIP turn(s) with frames skipped by the call's loop (its RTP summary) around the reply: "
          "counted at the late end of their range (from..)")
print(f"baresip's jitter buffer at the ends of the calls: {', '.join(str(j * 20) for j in jbs)} ms")
PY
