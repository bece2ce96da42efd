# Shared by the bench scripts (sourced).
# serve_listening LOG: wait until the `banter serve` writing LOG listens
# (it makes its loops' recognisers first, --warm: seconds), at most 60 s;
# exit with its log if it does not
serve_listening() {
  for _ in $(seq 600); do grep -q 'Realtime API' "$1" 2>/dev/null && return 0; sleep 0.1; done
  cat "$1" >&2
  exit 1
}
