# Shared helpers for the end-to-end tests: they drive the real `banter`
# program and check what it wrote (trace, SQLite, recording).
set -euo pipefail
BANTER=${1:?usage: test_x.sh PATH/TO/banter}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$TMP/out.txt" ] && cat "$TMP/out.txt" >&2; exit 1; }
pass() { echo "PASS: $* (${SECONDS} s)"; }

# sim CALLER [extra args] -> $TMP/out.txt, $TMP/trace.jsonl, $TMP/call.wav, $TMP/db
sim() {
  local caller=$1; shift
  set +e
  "$BANTER" simulate --agent agents/restaurant.json --caller "$caller" \
    --trace "$TMP/trace.jsonl" --out "$TMP/call.wav" --db "$TMP/db" "$@" \
    >"$TMP/out.txt" 2>&1
  SIM_RC=$?
  set -e
}
# lines of the trace of one type
trace_type() { grep "\"type\":\"$1\"" "$TMP/trace.jsonl" || true; }
# a JSON field of a compact JSON line (strings and numbers, first match)
field() { sed -n "s/.*\"$2\":\(\"[^\"]*\"\|true\|false\|null\|-\?[0-9][0-9.]*\).*/\1/p" <<<"$1" | head -1 | tr -d '"'; }
sql() { sqlite3 "$TMP/db" "$1"; }

# serve [extra args]: start `banter serve` on free ports in the background
# (HTTP_PORT, TLS_PORT, SIP_PORT, SIP_TLS_PORT, SERVE_PID; output in
# $TMP/serve.txt);
# stopped at exit.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
serve() {
  local try
  # a port picked here can be taken by another test before the server
  # binds it (tests run side by side): then pick again
  for try in 1 2 3; do
    # four at once, held open together so that they differ: one python
    # start rather than four (a second each on a loaded machine)
    read -r HTTP_PORT TLS_PORT SIP_PORT SIP_TLS_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
    "$BANTER" serve --agent agents/restaurant.json --port "$HTTP_PORT" \
      --tls-port "$TLS_PORT" --sip-port "$SIP_PORT" --sip-tls-port "$SIP_TLS_PORT" \
      --addr 127.0.0.1 --db "$TMP/db" \
      --web "$PWD/web" "$@" >"$TMP/serve.txt" 2>&1 &
    SERVE_PID=$!
    trap 'kill $SERVE_PID 2>/dev/null || true; wait $SERVE_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
    # it listens once its loops have made their recognisers (--warm): seconds
    # under ASan on a busy machine
    for _ in $(seq 600); do
      grep -q 'Realtime API' "$TMP/serve.txt" 2>/dev/null && return 0
      kill -0 $SERVE_PID 2>/dev/null || break
      sleep 0.1
    done
    grep -q 'Address already in use' "$TMP/serve.txt" || break
  done
  cat "$TMP/serve.txt" >&2
  fail "banter serve did not start"
}
# stop_serve: SIGTERM, and the server must exit cleanly
stop_serve() {
  kill -TERM $SERVE_PID
  local rc=0
  wait $SERVE_PID || rc=$?
  [ $rc = 0 ] || { cat "$TMP/serve.txt" >&2; fail "banter serve exited $rc after SIGTERM"; }
  grep -q 'banter serve: stopped' "$TMP/serve.txt" || fail "no clean stop"
}
CLIENTS=tests/clients

# mock_start SCRIPT ARGS...: (re)start a local provider server from
# tests/clients in the background -> MOCK_PID, and PORT (the port it
# printed on its `listening PORT` line); an earlier one is stopped first
mock_start() {
  [ -n "${MOCK_PID:-}" ] && { kill $MOCK_PID 2>/dev/null || true; wait $MOCK_PID 2>/dev/null || true; }
  rm -f "$TMP/mock.out"
  node "$CLIENTS/$1" --port 0 "${@:2}" >"$TMP/mock.out" 2>"$TMP/mock.err" &
  MOCK_PID=$!
  for _ in $(seq 100); do
    # (the background shell may not have made mock.out yet: awk's exit
    # status 2 must not end the test under set -e)
    PORT=$(awk '/^listening/{print $2}' "$TMP/mock.out" 2>/dev/null || true)
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  cat "$TMP/mock.err" >&2; fail "the local server $1 did not start"
}

# baresip_config DIR MIC RECDIR [LISTEN [MODULE...]]: a config folder for
# baresip (Debian baresip-core) with the WAV MIC as its microphone (aufile),
# what it hears and sends dumped into RECDIR (sndfile), no sound card; the
# codec modules and any MODULE (srtp) load before the account, which needs
# them (../shared/notes/testing-with-real-peers.md)
baresip_config() {
  local dir=$1 mic=$2 rec=$3 listen=${4:-127.0.0.1:0} mods m
  shift 3; [ $# -gt 0 ] && shift
  mods=$(dirname "$(dpkg -L baresip-core | grep '/g711.so$' | head -1)")
  mkdir -p "$dir" "$rec"
  {
    echo "poll_method epoll"
    echo "sip_listen $listen"
    echo "module_path $mods"
    for m in stdio g711 g722 opus "$@" aufile sndfile alsa; do echo "module $m.so"; done
    echo "module_app account.so"
    echo "module_app menu.so"
    echo "audio_player alsa,null"
    echo "audio_alert alsa,null"
    echo "audio_source aufile,$mic"
    echo "snd_path $rec"
  } >"$dir/config"
}

# baresip_call DIR OUT MAX ARGS...: baresip (config folder DIR, output in
# OUT) for at most MAX seconds, quit as soon as its call has ended: -t
# alone kept it idling on a finished call until MAX (20-30 s a call)
baresip_call() {
  local dir=$1 out=$2 max=$3 pid end
  shift 3
  baresip -f "$dir" -t "$max" "$@" >"$out" 2>&1 &
  pid=$!
  end=$((SECONDS + max + 20))
  while kill -0 $pid 2>/dev/null && [ $SECONDS -lt $end ]; do
    grep -q 'terminated (duration' "$out" 2>/dev/null && break
    sleep 0.1
  done
  # SIGTERM stops baresip as -t does (its user agents stop, the sndfile
  # dumps are closed with the call already); KILL only if it hangs
  kill -TERM $pid 2>/dev/null || true
  for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
}
# wait_log REGEX SECONDS: until the server's log has a line that matches
wait_log() {
  for _ in $(seq $(($2 * 10))); do
    grep -qE "$1" "$TMP/serve.txt" && return 0
    sleep 0.1
  done
  return 1
}

# pyrun_start: one python for the rest of the test (tests/e2e/pyrun.py),
# for tests that run many small python checks: each python start costs
# about half a second of CPU here. Then pyrun ARGS... <<'EOF' SCRIPT EOF
# does what python3 - ARGS... would (output, exit status, stderr), the
# script in fresh globals; without pyrun_start it is python3 - itself.
# (its pipes on plain descriptors, which subshells and pipelines keep,
# where the coproc's own are closed)
pyrun_start() {
  coproc PYRUN { exec python3 "$(dirname "${BASH_SOURCE[0]}")/pyrun.py"; }
  exec {PYRUN_IN}>&"${PYRUN[1]}" {PYRUN_OUT}<&"${PYRUN[0]}"
}
pyrun() {
  local code rc out
  if [ -z "${PYRUN_IN:-}" ]; then python3 - "$@"; return; fi
  code=$(cat)
  printf '%s\0' "$#" "$PWD" "$@" "$code" >&"$PYRUN_IN"
  IFS= read -r -d '' rc <&"$PYRUN_OUT" && IFS= read -r -d '' out <&"$PYRUN_OUT" \
    || { echo "pyrun: no answer from tests/e2e/pyrun.py" >&2; return 1; }
  printf '%s' "$out"
  return "$rc"
}
