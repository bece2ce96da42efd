#!/usr/bin/env bash
# Fillers of an LLM agent that speaks in a network voice, rendered ahead:
# once the greeting has its audio, each filler line is streamed once
# through the voice (an OpenAI-compatible /v1/audio/speech server,
# tests/clients/speech_mock.mjs; ElevenLabs' WebSocket,
# elevenlabs_mock.mjs) into the process's sentence cache, so the filler's
# audio starts in the tick it is said, with no round trip; a line that is
# not in yet is streamed when said. The cache is per process: under
# `banter serve` a second call says the filler without asking the voice
# for it again. The model is tests/clients/llm_mock.mjs (llm_lib.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/llm_lib.sh"
SPEECH_PID=""
trap '[ -n "$MOCK_PID" ] && kill $MOCK_PID 2>/dev/null; [ -n "$SPEECH_PID" ] && kill $SPEECH_PID 2>/dev/null; rm -rf "$TMP"' EXIT

# speech MOCK ARGS...: (re)start the voice's server -> SPORT
speech() {
  [ -n "$SPEECH_PID" ] && { kill $SPEECH_PID 2>/dev/null || true; wait $SPEECH_PID 2>/dev/null || true; }
  node "$CLIENTS/$1" --port 0 "${@:2}" >"$TMP/speech.out" 2>"$TMP/speech.err" &
  SPEECH_PID=$!
  SPORT=""
  for _ in $(seq 100); do
    SPORT=$(awk '/^listening/{print $2}' "$TMP/speech.out" 2>/dev/null || true)
    [ -n "$SPORT" ] && break
    sleep 0.05
  done
  [ -n "$SPORT" ] || { cat "$TMP/speech.err" >&2; fail "the voice's server $1 did not start"; }
  export OPENAI_SPEECH_BASE_URL="http://127.0.0.1:$SPORT/v1" \
    ELEVENLABS_API_KEY=xi-test ELEVENLABS_BASE_URL="ws://127.0.0.1:$SPORT"
}
# sp EXPR: check over the voice's log (slog) and the model's (reqs, as in
# llm_lib.sh's py)
sp() {
  curl -s "http://127.0.0.1:$SPORT/log" >"$TMP/slog.json"
  pyrun "$TMP" "$1" <<'PY'
import json, sys
d = sys.argv[1]
slog = json.load(open(d + "/slog.json"))
log = [json.loads(l) for l in open(d + "/req.jsonl")]
reqs = [r for r in log if r["path"] in ("/v1/chat/completions", "/v1/messages")]
tr = [json.loads(l) for l in open(d + "/trace.jsonl")]
fill = [a for a in tr if a["type"] == "agent" and a.get("filler")]
turns = [t for t in tr if t["type"] == "turn"]
reply = [t for t in turns if t.get("kind") == "reply"][0]
# what the voice was asked to say, and when (wall clock)
if slog and "contexts" in slog[0]:
    said = [(c["text"].strip(), c["at"]) for s in slog for c in s["contexts"].values()]
else:
    said = [(r["body"]["input"], r["at"]) for r in slog if "body" in r]
def asked(text): return [t for s, t in said if s == text]
user_req = [r for r in reqs if r["body"]["messages"][-1]["role"] == "user"][0]
v = eval(sys.argv[2])
print(v if not isinstance(v, bool) else ("yes" if v else "no"))
PY
}
scheck() { [ "$(sp "$1")" = yes ] || fail "$2 ($1)"; }

ONE='{"voice":"flite:slt","gap_ms":300,"turns":[{"say":"when are you open"}]}'
SLOW='{"rules":[{"match":{"last_role":"user"},"times":1,"reply":{"text":"We are open from noon.","first_token_ms":1500,"tool_calls":[{"name":"end_call","arguments":{}}]}}]}'
GREETING='["Hello, thanks for calling Bella'"\\'"'s Trattoria.", "How can I help?"]'
FILLERS='["One moment.", "One moment, let me check that.", "Let me think about that."]'

for voice in openai:alloy elevenlabs:21m00Tcm4TlvDq8ikWAM; do
  case $voice in
    openai:*) speech speech_mock.mjs --key sk-test ;;
    *) speech elevenlabs_mock.mjs --key xi-test ;;
  esac
  agent "a['persona']['voice'] = '$voice'"
  mock "$SLOW"
  llmsim "$ONE"
  [ "$SIM_RC" = 0 ] || fail "$voice: the call did not complete ($SIM_RC)"
  # the filler's audio came from the cache: in the tick it was said,
  # long before the model's words
  check 'len(fill) == 1 and fill[0]["text"] == "One moment." and fill[0]["prerendered"] is True' "$voice: the filler was not rendered ahead"
  check 'reply["first_audio_ms"] == fill[0]["t_ms"] and reply["first_audio_ms"] < at("We are open")' "$voice: the filler's audio did not start in the tick it was said"
  check '"One moment. We are open from noon." in said' "$voice: the turn did not say the filler, then the answer"
  # the voice had each filler line once, before the caller's turn went to
  # the model (so before the filler's timer could fire), after the greeting
  scheck "all(len(asked(t)) == 1 for t in $FILLERS)" "$voice: a filler line was not asked for exactly once"
  scheck 'asked("One moment.")[0] < user_req["at"]' "$voice: the filler was not rendered before the turn that said it"
  scheck 'max(asked(g)[0] for g in '"$GREETING"') <= min(t for s, t in said if s in '"$FILLERS"')' "$voice: a filler went to the voice before the greeting"
  scheck 'sorted(s for s, t in said) == sorted('"$GREETING + $FILLERS"' + ["We are open from noon."])' "$voice: other requests than the greeting, the three fillers and the answer"
  pass "$voice: fillers rendered ahead, once, after the greeting; said from the cache"
done

# the filler's rendering ahead has not come back when the filler is said
# (the voice holds that request open) or it failed (a 500): the filler is
# streamed when said, as any sentence, the trace says it was not rendered
# ahead, and a failed rendering ahead is not the call's failure (no
# fallback voice)
for how in hold-first fail-first; do
  speech speech_mock.mjs --key sk-test --$how "One moment."
  agent "a['persona']['voice'] = 'openai:alloy'"
  mock "$SLOW"
  llmsim "$ONE"
  [ "$SIM_RC" = 0 ] || fail "$how: the call did not complete ($SIM_RC)"
  check 'len(fill) == 1 and fill[0]["prerendered"] is False' "$how: the filler was said as rendered ahead though its rendering was not in"
  check '"One moment. We are open from noon." in said' "$how: the filler and the answer were not both said"
  check 'not [t for t in tr if t["type"] == "error"]' "$how: an error in the trace"
  scheck 'len(asked("One moment.")) == 2 and asked("One moment.")[1] > user_req["at"]' "$how: the filler was not asked for again when said"
  pass "$how: a filler whose rendering ahead is not in is streamed when said"
done

# one process, two calls: the second does not ask for the filler again
speech speech_mock.mjs --key sk-test
mock '{"rules":[{"match":{"last_user":"slow question"},"reply":{"text":"Let me think. Yes.","first_token_ms":1500}}],"default":{"text":"Hello."}}'
agent "a['persona']['voice'] = 'openai:alloy'"
export OPENAI_API_KEY=sk-test OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" BANTER_TOOLS_URL="http://127.0.0.1:$PORT/hooks"
serve --agent assistant="$TMP/agent.json"
trap 'kill $SERVE_PID $MOCK_PID $SPEECH_PID 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
node "$CLIENTS/realtime_filler.mjs" "$HTTP_PORT" "http://127.0.0.1:$SPORT/log" "One moment." >"$TMP/out.txt" 2>&1 || true
cat "$TMP/out.txt"
grep -q '^2 passed, 0 failed$' "$TMP/out.txt" || { cat "$TMP/serve.txt" >&2; fail "the second call asked the voice for the filler again"; }
stop_serve
pass "serve: a filler rendered by one call serves the next"
