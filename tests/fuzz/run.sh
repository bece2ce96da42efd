#!/usr/bin/env bash
# Runs the libFuzzer harnesses of a BT_FUZZ build (FUZZ_JOBS at a time) and
# fails if any finds a crash, a leak, undefined behaviour or a hang.
#
#   tests/fuzz/run.sh BUILD_DIR [HARNESS...]    (default: every fuzz_*)
#
# Settings (environment):
#   FUZZ_SECONDS  time per harness (default 20)
#   FUZZ_RUNS     at most this many inputs per harness (default: no cap)
#   FUZZ_JOBS     harnesses run at once (default 1)
#   FUZZ_CORPUS   keep the corpora in FUZZ_CORPUS/<harness> and grow them
#                 run after run (default: a temporary folder, removed)
#
# Crashing inputs are kept in BUILD_DIR/fuzz-artifacts/<harness>/; the
# message names the file and the command that replays it.
#
# A new harness tests/fuzz/fuzz_NAME.c needs: its seeds in seeds() below,
# optionally a dictionary tests/fuzz/NAME.dict and flags in flags().
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR [HARNESS...]}
shift
build=$(cd "$build" && pwd)
secs=${FUZZ_SECONDS:-20}
runs=${FUZZ_RUNS:-}
jobs=${FUZZ_JOBS:-1}

# Little-endian integers as bytes, for hand-made WAV headers.
le16() { printf '\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)); }
le32() { le16 $(($1 & 65535)); le16 $(($1 >> 16 & 65535)); }

# A small WAV: format tag, channels, rate, bits, data bytes; a tag of
# 0xfffe writes WAVE_FORMAT_EXTENSIBLE around PCM.
wav() {
	local tag=$1 ch=$2 rate=$3 bits=$4 n=$5 align fmt
	align=$(( ch * ((bits + 7) / 8) ))
	if [ "$tag" -eq 65534 ]; then
		fmt="$(le16 65534)$(le16 "$ch")$(le32 "$rate")"
		fmt+="$(le32 $((rate * align)))$(le16 $align)$(le16 "$bits")"
		fmt+="$(le16 22)$(le16 "$bits")$(le32 4)$(le16 1)"
		fmt+='\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71'
		printf "RIFF$(le32 $((4 + 48 + 8 + n)))WAVEfmt $(le32 40)$fmt"
	else
		fmt="$(le16 "$tag")$(le16 "$ch")$(le32 "$rate")"
		fmt+="$(le32 $((rate * align)))$(le16 $align)$(le16 "$bits")"
		printf "RIFF$(le32 $((4 + 24 + 8 + n)))WAVEfmt $(le32 16)$fmt"
	fi
	printf "data$(le32 "$n")"
	# noise from a test recording: deterministic seeds
	tail -c +45 "$root/tests/data/stt_noise.wav" | head -c "$n"
}

# Seed inputs of a harness, written into its corpus folder $2.
seeds() {
	local f n=1024
	case $1 in
	fuzz_agent)
		cp -n "$root"/agents/*.json "$root"/callers/*.json "$2/" ;;
	fuzz_realtime)
		# one client event of each kind, as the test clients send them
		printf '%s' '{"type":"session.update","session":{"type":"realtime","output_modalities":["text"],"audio":{"input":{"format":{"type":"audio/pcm","rate":24000},"turn_detection":{"type":"server_vad","threshold":0.5,"prefix_padding_ms":300,"silence_duration_ms":500,"create_response":true,"interrupt_response":true,"idle_timeout_ms":6000}},"output":{"format":{"type":"audio/pcmu"},"voice":"alloy","speed":1.1}},"tools":[{"type":"function","name":"f"}]}}' >"$2/update.json"
		printf '%s' '{"type":"session.update","session":{"audio":{"input":{"turn_detection":{"type":"semantic_vad","eagerness":"low"}}}}}' >"$2/semantic.json"
		printf '%s' '{"event_id":"e1","type":"input_audio_buffer.append","audio":"AAABAAIAAwA="}' >"$2/append.json"
		printf '%s' '{"type":"input_audio_buffer.commit"}' >"$2/commit.json"
		printf '%s' '{"type":"conversation.item.create","previous_item_id":null,"item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hello"}]}}' >"$2/item.json"
		printf '%s' '{"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"c1","output":"{}"}}' >"$2/output.json"
		printf '%s' '{"type":"conversation.item.truncate","item_id":"item_1","content_index":0,"audio_end_ms":1500}' >"$2/truncate.json"
		printf '%s' '{"type":"response.create","response":{"output_modalities":["audio"]}}' >"$2/response.json"
		printf '%s' '{"type":"response.cancel","response_id":"resp_1"}' >"$2/cancel.json"
		;;
	fuzz_sdp)
		# offers as phones write them, and refused ones
		printf 'v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96 9 0 8 101\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 stereo=1\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/48000\r\na=fmtp:101 0-16\r\na=sendrecv\r\na=ptime:20\r\n' >"$2/baresip.sdp"
		printf 'v=0\nc=IN IP4 0.0.0.0\na=sendonly\nm=video 6000 RTP/AVP 96\nm=audio 5000 RTP/SAVP 0\nm=audio 5002 RTP/AVP 3 118 8\na=rtpmap:118 g722/8000\na=inactive\n' >"$2/hold.sdp"
		printf 'v=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 4000 RTP/AVP 3 18\r\n' >"$2/nocodec.sdp"
		printf 'v=0\r\nc=IN IP4 192.0.2.10\r\nm=audio 4000 RTP/SAVP 9 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\r\na=crypto:3 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==\r\n' >"$2/srtp.sdp"
		printf 'v=0\r\nc=IN IP4 192.0.2.10\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 F8_128_HMAC_SHA1_80 inline:xyz|1:4 KDR=1\r\nm=audio 4002 RTP/AVP 8\r\na=crypto:9 AES_256_CM_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ==;inline:x\r\n' >"$2/srtp_bad.sdp"
		;;
	fuzz_llm_stream)
		# wire byte (0 OpenAI, 1 Anthropic), cut byte, then the stream
		printf '\x00\x07data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\ndata: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":"{\\"a\\""}}]}}]}\n\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n' >"$2/openai.sse"
		printf '\x01\x05event: message_start\r\ndata: {"type":"message_start","message":{"id":"m"}}\r\n\r\nevent: content_block_start\r\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}\r\n\r\nevent: content_block_delta\r\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}\r\n\r\n: ping\r\nevent: message_delta\r\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"}}\r\n\r\nevent: error\r\ndata: {"type":"error","error":{"type":"overloaded_error","message":"x"}}\r\n\r\n' >"$2/anthropic.sse"
		;;
	fuzz_rtp)
		# codec byte, then records: put 0..3 (one lost), get each tick
		printf '\x02\x00\x00\x00\x04abcd\x00\x00\x01\x04efgh\x00\x00\x03\x04ijkl\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x02\x00\x02\x00\x01\x00\x00\x00' >"$2/pcmu.bin"
		printf '\x00\x00\x00\x00\x03\xf8\xff\xfe\x04\x00\x01\x20xxxx\x01\x00\x00\x00\x01\x00\x00\x00' >"$2/opus.bin"
		;;
	fuzz_srtp)
		# suite byte (high bit: start near the wrap), then records:
		# the caller's packets, a replay, a changed one, forged ones
		printf '\x00\x00\x00\x00\x04abcd\x01\x00\x00\x04efgh\x03\x00\x00\x00\x24\x00\x05\x04ijkl\x85\x10\x00\x0czzzzzzzzzzzz\x06\x00\x00\x10\x80\x09\x00\x01\x00\x00\x00\x01\x5e\xed\x12\x34xxxx\x02\x00\x00\x04mnop' >"$2/mix.bin"
		printf '\x81\x00\x00\x00\x02ab\x00\x00\x00\x02cd\x05\x00\x00\x0c000000000000\x05\x00\x00\x0c111111111111\x00\x00\x00\x02ef\x07\x00\x00\x10\x81\xc9\x00\x01\x00\x00\x00\x01\x80\x00\x00\x01abcd' >"$2/wrap.bin"
		;;
	fuzz_ws)
		# read size byte, then what the server sent: a 101 with frames
		# (text, fragments, a ping, binary, close), and a refusal
		printf '\x10HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05hello\x01\x03one\x89\x02p!\x80\x03two\x82\x7e\x00\x02ab\x88\x04\x03\xe8ok' >"$2/open.bin"
		printf '\x40HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 44\r\n\r\n{"error":{"message":"Incorrect API key."}}  ' >"$2/refused.bin"
		;;
	fuzz_speech_wire)
		# provider byte (0 Deepgram, 1 ElevenLabs), t0 byte, then the
		# messages of a turn, NUL between them, as the APIs send them
		printf '\x00\x08%s\x00%s\x00%s\x00%s\x00%s\x00%s' \
			'{"type":"Metadata","request_id":"r","model_info":{"name":"nova-3"}}' \
			'{"type":"SpeechStarted","channel":[0],"timestamp":1.02}' \
			'{"type":"Results","channel_index":[0,1],"duration":0.5,"start":1.0,"is_final":false,"speech_final":false,"channel":{"alternatives":[{"transcript":"a table","confidence":0.98,"words":[{"word":"a","start":1.04,"end":1.12,"confidence":0.97},{"word":"table","start":1.12,"end":1.5,"confidence":0.99,"punctuated_word":"table"}]}]}}' \
			'{"type":"Results","is_final":true,"speech_final":true,"from_finalize":true,"channel":{"alternatives":[{"transcript":"a table for two","words":[{"word":"a","start":1.04,"end":1.12,"confidence":0.97},{"word":"for","start":1.6,"end":1.7,"confidence":0.9},{"word":"two","start":1.7,"end":2.1,"confidence":0.95}]}]}}' \
			'{"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.1}' \
			'{"type":"Error","description":"bad audio","message":"x"}' >"$2/deepgram.bin"
		printf '\x00\x00%s\x00%s\x00%s\x00%s\x00%s' \
			'{"type":"TurnInfo","event":"StartOfTurn","turn_index":0,"transcript":"","words":[]}' \
			'{"type":"TurnInfo","event":"Update","transcript":"my name","words":[{"word":"my","confidence":0.9},{"word":"name","confidence":0.8}]}' \
			'{"type":"TurnInfo","event":"EagerEndOfTurn","transcript":"my name is anna","end_of_turn_confidence":0.6}' \
			'{"type":"TurnInfo","event":"TurnResumed","transcript":"my name is anna"}' \
			'{"type":"TurnInfo","event":"EndOfTurn","transcript":"My name is Anna Smith.","words":[{"word":"my","confidence":0.99}]}' >"$2/flux.bin"
		printf '\x0d\x00%s\x00%s\x00%s\x00%s' \
			'{"audio":"AAABAAIAAwAEAAUA","alignment":{"chars":["H","i"," ","t","h"],"charStartTimesMs":[0,40,80,90,120],"charDurationsMs":[40,40,10,30,30]},"contextId":"c1"}' \
			'{"audio":"//8AAP7/","normalizedAlignment":null,"alignment":{"chars":["e","r","e","."],"charStartTimesMs":[0,20,40,60],"charDurationsMs":[20,20,20,20]},"contextId":"c1"}' \
			'{"isFinal":true,"contextId":"c1"}' \
			'{"message":"Unusual activity detected","error":"quota_exceeded","code":1008,"context_id":"c2"}' >"$2/elevenlabs.bin"
		;;
	fuzz_wav)
		# the test recordings (canonical 44-byte headers), cut to
		# their first 1 kB of audio: the sample loop is not what
		# needs the time
		for f in "$root"/tests/data/*.wav; do
			{ head -c 40 "$f"; printf "$(le32 $n)"
			  tail -c +45 "$f" | head -c $n; } \
				>"$2/$(basename "$f")"
		done
		# the other encodings the reader takes
		wav 1 1 8000 8 64 >"$2/pcm8.wav"
		wav 1 2 44100 16 64 >"$2/stereo16.wav"
		wav 1 1 48000 24 63 >"$2/pcm24.wav"
		wav 1 1 48000 32 64 >"$2/pcm32.wav"
		wav 3 1 16000 32 64 >"$2/float32.wav"
		wav 3 2 16000 64 64 >"$2/float64.wav"
		wav 6 1 8000 8 64 >"$2/alaw.wav"
		wav 7 1 8000 8 64 >"$2/ulaw.wav"
		wav 65534 2 96000 24 60 >"$2/extensible24.wav"
		;;
	esac
}

# Extra libFuzzer flags of a harness.
flags() {
	case $1 in
	# longer inputs only make the sample loop slower
	fuzz_wav) echo "-max_len=4096" ;;
	esac
}

if [ $# -gt 0 ]; then
	harnesses=("$@")
else
	harnesses=()
	for f in "$root"/tests/fuzz/fuzz_*.c; do
		harnesses+=("$(basename "$f" .c)")
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/banter-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
corpora=${FUZZ_CORPUS:-$tmp/corpus}

export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"

# fuzz_one HARNESS: one run; its report goes to $tmp/HARNESS.out, its
# exit status (0: no finding) and count of inputs to .rc and .execs
fuzz_one() {
	local h=$1 bin corpus art args dict log start rc took execs rate cov unit
	bin=$build/tests/fuzz/$h
	echo 1 >"$tmp/$h.rc"
	echo 0 >"$tmp/$h.execs"
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing; build it with make fuzz-build" >&2
		return
	fi
	corpus=$corpora/$h
	art=$build/fuzz-artifacts/$h
	mkdir -p "$corpus" "$art"
	seeds "$h" "$corpus"

	args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048
	      -print_final_stats=1 -artifact_prefix="$art/")
	[ -n "$runs" ] && args+=(-runs="$runs")
	dict=$root/tests/fuzz/${h#fuzz_}.dict
	[ -f "$dict" ] && args+=(-dict="$dict")
	# shellcheck disable=SC2207
	args+=($(flags "$h"))

	log=$tmp/$h.log
	start=$(date +%s)
	"$bin" "${args[@]}" "$corpus" >"$log" 2>&1
	rc=$?
	took=$(( $(date +%s) - start ))

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[^ ]*' "$log" |
	      tail -n 1)
	echo "${execs:-0}" >"$tmp/$h.execs"
	if [ $rc -eq 0 ]; then
		echo 0 >"$tmp/$h.rc"
		echo "fuzz: $h ok: ${execs:-?} execs in ${took}s" \
		     "(${rate:-?}/s), $cov, no crash"
		return
	fi

	unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	echo "fuzz: $h FAILED (exit $rc) after ${execs:-?} execs in" \
	     "${took}s; $cov" >&2
	# the sanitizer's report from its first line, without the shadow
	# memory map; libFuzzer's progress lines before it are no news
	awk '/ERROR: |runtime error|ALARM|out-of-memory|deadly signal/ {on = 1}
	     on && !/^  0x|^Shadow|^  [A-Z][a-z ]+:/ {print}' "$log" |
		head -n 60 >&2
	if [ -n "$unit" ]; then
		echo "fuzz: crashing input: $unit" >&2
		echo "fuzz: replay it with: LSAN_OPTIONS=$LSAN_OPTIONS" \
		     "$bin $unit" >&2
	fi
}

# FUZZ_JOBS harnesses at a time (each libFuzzer run is one process on one
# core; the time and input caps per harness stay the same); the reports
# come in harness order once all have run
for h in "${harnesses[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	fuzz_one "$h" >"$tmp/$h.out" 2>&1 &
done
wait
failed=0
total=0
for h in "${harnesses[@]}"; do
	cat "$tmp/$h.out"
	[ "$(cat "$tmp/$h.rc")" = 0 ] || failed=1
	total=$(( total + $(cat "$tmp/$h.execs") ))
done

echo "fuzz: $total execs in all"
exit $failed
