#!/usr/bin/env bash
# Happy path: the booking lands in SQLite with party size, day and time,
# and every reply has a complete latency trace.
source "$(dirname "$0")/lib.sh"
sim callers/booking.json
[ "$SIM_RC" = 0 ] || fail "simulate exited $SIM_RC"
rows=$(sql "select party, day, time from bookings")
[ "$rows" = "3|Tuesday|7 pm" ] || fail "booking row is '$rows', want 3|Tuesday|7 pm"
grep -q "A table for three on Tuesday at 7 pm, is that right?" "$TMP/out.txt" \
  || fail "no confirmation echo"
n=$(trace_type turn | grep -c '"kind":"reply"')
[ "$n" -ge 4 ] || fail "only $n reply turns traced"
for key in user_text confidence user_speech_end_ms endpoint_ms stt_final_ms \
           first_text_ms first_audio_ms audio_out_ms voice_to_voice_ms; do
  trace_type turn | grep '"kind":"reply"' | grep -q "\"$key\":[^n]" || fail "turn trace lacks $key"
done
# voice_to_voice = audio_out - user_speech_end, for every reply
while read -r line; do
  v=$(field "$line" voice_to_voice_ms); a=$(field "$line" audio_out_ms); e=$(field "$line" user_speech_end_ms)
  [ "$v" = $((a - e)) ] || fail "voice_to_voice_ms $v != $a - $e"
done < <(trace_type turn | grep '"kind":"reply"')
trace_type state | grep -q '"to":"speaking"' || fail "no state transitions traced"
# the recording is stereo and as long as the call
sox --i -c "$TMP/call.wav" | grep -q 2 || fail "recording is not stereo"
pass "booking lands in SQLite; trace complete"
