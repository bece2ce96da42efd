# Shared by the bench scripts (sourced).
# mock_start NAME SCRIPT ARGS...: start the local provider server
# tests/clients/SCRIPT (at niceness NICE, default 0) with its output in
# $TMP/NAME.out and .err and its pid added to $TMP/pids (for the caller's
# EXIT trap: this runs in $(...), whose variables the caller cannot see),
# wait until it listens, and print its port
mock_start() {
  nice -n "${NICE:-0}" node "tests/clients/$2" --port 0 "${@:3}" >"$TMP/$1.out" 2>"$TMP/$1.err" &
  echo $! >>"$TMP/pids"
  for _ in $(seq 100); do grep -q listening "$TMP/$1.out" 2>/dev/null && break; sleep 0.05; done
  awk '/^listening/{print $2}' "$TMP/$1.out"
}
# serve_listening LOG: wait until the `banter serve` writing LOG listens
# (it makes its loops' recognisers first, --warm: seconds), at most 60 s;
# exit with its log if it does not
serve_listening() {
  for _ in $(seq 600); do grep -q 'Realtime API' "$1" 2>/dev/null && return 0; sleep 0.1; done
  cat "$1" >&2
  exit 1
}
