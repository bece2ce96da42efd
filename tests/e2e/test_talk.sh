#!/usr/bin/env bash
# `banter talk` on a stand-in sound card: ALSA's `file` plugin over a
# `null` slave, capture read from one named pipe, playback written to
# another. A small caller process (Perl, always on Debian) sits between the
# two like a room with a speakerphone: it hears what the agent plays,
# sends it back into the microphone as an echo (-12 dB, a short room
# response, ~120 ms late as on a card), adds a little noise, and once the
# agent has greeted and gone quiet for 1.5 s it says "a table for three
# please" over that. Checks: the agent greeted, heard the caller and
# replied; the echo never started "user speech" (it does with --no-aec);
# the playback stream holds the agent's speech; a missing device is
# reported clearly.
source "$(dirname "$0")/lib.sh"
MIXPID=
cleanup() { [ -n "$MIXPID" ] && kill "$MIXPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# the caller's words, as raw 16 kHz PCM16
flite -voice slt -t "a table for three please" -o "$TMP/say.wav"
sox "$TMP/say.wav" -r 16000 -c 1 -b 16 -e signed -t raw "$TMP/say.raw"

cat >"$TMP/.asoundrc" <<EOF
pcm.talkcap {
  type file
  slave.pcm { type null }
  file "$TMP/cap.raw"
  infile "$TMP/in.fifo"
  format raw
}
pcm.talkplay {
  type file
  slave.pcm { type null }
  file "$TMP/out.fifo"
  format raw
}
EOF

cat >"$TMP/room.pl" <<'EOF'
# room.pl IN_FIFO OUT_FIFO SAY.raw PLAYED.raw LOG
# Opens IN first, then OUT: banter talk opens capture, then playback.
use strict; use warnings; use IO::Select;
alarm 150; # if banter dies before opening both pipes, this would wait
my ($in, $out, $say, $played, $log) = @ARGV;
my ($F, $B) = (320, 640);
open(my $sf, '<:raw', $say) or die "$say: $!";
my $words = do { local $/; <$sf> }; close $sf;
my @say = unpack('s<*', $words);
my $seed = 1;
sub noise { $seed = ($seed * 1103515245 + 12345) & 0x7fffffff; (($seed >> 8) % 61) - 30 }
# banter closes the microphone first when it hangs up: stop there
$SIG{PIPE} = 'IGNORE';
sub frame { my $w = syswrite($_[0], pack('s<*', @{$_[1]})); defined $w && $w == $B }
open(my $mic, '>:raw', $in) or die "$in: $!";
my $cap_frames = 0;
# a head start for the microphone; more is added below if playback stalls
for (1 .. 2) { frame($mic, [map { noise() } 1 .. $F]) or exit 0; $cap_frames++ }
open(my $spk, '<:raw', $out) or die "$out: $!";
open(my $pf, '>:raw', $played) or die "$played: $!";
open(my $lg, '>', $log) or die "$log: $!";
$lg->autoflush(1);
my $sel = IO::Select->new($spk);
my ($heard, $quiet, $pos, $state, $stalls, $flowing) = (0, 0, 0, 'wait', 0, 0);
my @hist = (0) x 40;
while (1) {
  # Until the microphone is one playback buffer ahead, both sides wait
  # on each other at the start: then give the microphone another frame.
  # Once playback flows, one frame in makes one frame out.
  if (!$flowing && !$sel->can_read(0.3)) {
    die "playback never started\n" if ++$stalls > 50;
    frame($mic, [map { noise() } 1 .. $F]) or last; $cap_frames++;
    next;
  }
  $flowing = 1;
  my $buf = '';
  while (length($buf) < $B) {
    my $r = sysread($spk, $buf, $B - length($buf), length($buf));
    last if !$r;
  }
  last if length($buf) < $B;
  print $pf $buf;
  my @p = unpack('s<*', $buf);
  my $e = 0; $e += $_ * $_ for @p;
  if (sqrt($e / $F) > 300) { $heard++; $quiet = 0 } else { $quiet++ }
  if ($state eq 'wait' && $heard >= 50 && $quiet >= 75) {
    $state = 'talk';
    print $lg "caller_ms ", $cap_frames * 20, "\n";
  }
  my @o;
  for my $i (0 .. $F - 1) {
    unshift @hist, $p[$i]; pop @hist;
    my $v = 0.25 * $hist[0] + 0.1 * $hist[1] + 0.06 * $hist[23] +
      0.03 * $hist[37] + noise();
    $v += $say[$pos++] if $state eq 'talk' && $pos < @say;
    push @o, $v > 32767 ? 32767 : $v < -32768 ? -32768 : int($v);
  }
  $state = 'done' if $state eq 'talk' && $pos >= @say;
  frame($mic, \@o) or last; $cap_frames++;
}
print $lg "stalls $stalls\n";
EOF

# talk MAX_S [extra args] -> $TMP/out.txt, trace.jsonl, played.raw, room.log
talk() {
  local max=$1; shift
  rm -f "$TMP/in.fifo" "$TMP/out.fifo" "$TMP/played.raw" "$TMP/room.log"
  mkfifo "$TMP/in.fifo" "$TMP/out.fifo"
  perl "$TMP/room.pl" "$TMP/in.fifo" "$TMP/out.fifo" "$TMP/say.raw" \
    "$TMP/played.raw" "$TMP/room.log" 2>"$TMP/room.err" &
  MIXPID=$!
  set +e
  HOME=$TMP timeout 120 "$BANTER" talk --agent agents/restaurant.json \
    --capture talkcap --playback talkplay --trace "$TMP/trace.jsonl" \
    --db "$TMP/db" --max-s "$max" "$@" >"$TMP/out.txt" 2>&1
  TALK_RC=$?
  set -e
  [ "$TALK_RC" = 0 ] || { kill "$MIXPID" 2>/dev/null; MIXPID=; return; }
  wait "$MIXPID" || fail "the room process failed: $(cat "$TMP/room.err")"
  MIXPID=
}
ms_of() { field "$1" t_ms; }

# 15 s: the reply has ended (~11 s) and the idle prompt (~18 s) not begun
talk 15
[ "$TALK_RC" = 0 ] || fail "talk exited $TALK_RC"
grep -q "paced by the system clock" "$TMP/out.txt" || fail "file device not paced"
trace_type agent | head -1 | grep -q "thanks for calling" || fail "the agent did not greet"
caller_ms=$(sed -n 's/^caller_ms //p' "$TMP/room.log")
[ -n "$caller_ms" ] || fail "the caller never got to speak (greeting never ended?)"
user=$(trace_type user | head -1)
[ -n "$user" ] || fail "no user turn"
grep -q "three" <<<"$user" || fail "the agent did not hear 'three': $user"
reply=$(sed -n '/"type":"user"/,$p' "$TMP/trace.jsonl" | grep '"type":"agent"' | head -1)
[ -n "$reply" ] || fail "no agent reply after the user turn"
# the echo of the greeting never looked like the caller
first=$(trace_type speech_start | head -1)
[ -n "$first" ] || fail "the caller's speech was never detected"
[ "$(ms_of "$first")" -ge $((caller_ms - 250)) ] \
  || fail "speech start at $(ms_of "$first") ms, before the caller spoke at $caller_ms ms: echo"
[ -z "$(trace_type barge_in)" ] || fail "a barge-in on the agent's own echo"
trace_type ended | grep -q '"reason":"timeout"' || fail "the call did not run to --max-s"
# playback holds the agent's speech: seconds of it, at a speaking level
secs=$(( $(stat -c %s "$TMP/played.raw") / 32000 ))
[ "$secs" -ge 10 ] || fail "only $secs s of playback"
speech=$(sox -t raw -r 16000 -e signed -b 16 -c 1 "$TMP/played.raw" -n stats 2>&1 \
  | awk '/RMS lev dB/ { print ($4 > -40) }')
[ "$speech" = 1 ] || fail "the playback is (nearly) silent"
pass "talk: greeted, heard \"$(field "$user" text)\", replied \"$(field "$reply" text)\"; no echo barge-in"

# The same room without the echo canceller: the greeting's echo is taken
# for the caller, which shows the check above can fail.
talk 5 --no-aec
[ "$TALK_RC" = 0 ] || fail "talk --no-aec exited $TALK_RC"
[ -n "$(trace_type speech_start)" ] || fail "without AEC the echo went unnoticed: the room is too quiet to test anything"
pass "talk --no-aec: the echo starts speech"

set +e
HOME=$TMP "$BANTER" talk --agent agents/restaurant.json --device nosuchcard \
  --max-s 1 >"$TMP/out.txt" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "a missing device exited $rc"
grep -q 'nosuchcard' "$TMP/out.txt" && grep -q 'arecord -L' "$TMP/out.txt" \
  || fail "unclear message for a missing device: $(cat "$TMP/out.txt")"
pass "talk: a missing device is reported clearly"
