#!/usr/bin/env bash
# `banter serve --sip-register`: a sipp registrar (tests/sip/registrar.xml,
# on the fixed port 5270) challenges each REGISTER with a digest (401) and
# takes the next only with a right Authorization for alice/s3cret; its
# first 200 gives 2 s, so banter registers again before that expires; at
# shutdown banter unregisters (expires=0). A wrong password is refused
# (403, logged with what to do); no password is an error at start.
source "$(dirname "$0")/lib.sh"
REG_PORT=5270
command -v sipp >/dev/null || fail "sipp is not installed (Debian sip-tester; scripts/install-deps.sh)"
fail() {
  echo "FAIL: $*" >&2
  [ -f "$TMP/serve.txt" ] && grep '^sip' "$TMP/serve.txt" >&2
  exit 1
}
registrar() {
  sipp -sf tests/sip/registrar.xml -i 127.0.0.1 -p $REG_PORT -m 1 -nostdin \
    -timeout 30s -timeout_error -trace_err -error_file "$TMP/reg.err" \
    >"$TMP/reg.out" 2>&1 &
  REG_PID=$!
  sleep 0.3
}
REG_PID=
trap 'kill $SERVE_PID $REG_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
wait_for() {  # PATTERN: in the server's log within 10 s
  for _ in $(seq 100); do grep -q "$1" "$TMP/serve.txt" && return 0; sleep 0.1; done
  return 1
}

# ---- registered, again before expiry, unregistered at shutdown ----
registrar
export BANTER_SIP_PASSWORD=s3cret
serve --no-tls --sip-register "sip:alice@127.0.0.1:$REG_PORT"
wait_for "sip: registered sip:alice@127.0.0.1:$REG_PORT (200 OK), for 2 s" || fail "not registered"
wait_for "sip: registered again sip:alice@127.0.0.1:$REG_PORT (200 OK), for 60 s" || fail "not registered again before expiry"
stop_serve
grep -q "sip: unregistering sip:alice@127.0.0.1:$REG_PORT" "$TMP/serve.txt" || fail "no unregistering at shutdown"
rc=0; wait $REG_PID || rc=$?
[ $rc = 0 ] || { cat "$TMP/reg.err" >&2; fail "the registrar's scenario failed ($rc): a REGISTER without a right digest, or no unregistering"; }
pass "registered with digest auth, again before expiry, unregistered at shutdown"

# ---- a wrong password ----
registrar
BANTER_SIP_PASSWORD=wrong serve --no-tls --sip-register "sip:alice@127.0.0.1:$REG_PORT"
wait_for "sip: registering sip:alice@127.0.0.1:$REG_PORT failed: 403 Forbidden" || fail "a refused registration was not logged"
stop_serve
rc=0; wait $REG_PID || rc=$?
[ $rc != 0 ] || fail "the registrar took a wrong password"
pass "a wrong password: the registrar's 403 logged"

# ---- no password ----
unset BANTER_SIP_PASSWORD
rc=0
"$BANTER" serve --agent agents/restaurant.json --no-tls --port "$(free_port)" --sip-port "$(free_port)" \
  --addr 127.0.0.1 --db "$TMP/db" --sip-register "sip:alice@127.0.0.1:$REG_PORT" >"$TMP/nopw.txt" 2>&1 || rc=$?
[ $rc = 1 ] || fail "no password: exit $rc, not 1"
grep -q 'needs the account.s password in the environment: set BANTER_SIP_PASSWORD' "$TMP/nopw.txt" \
  || { cat "$TMP/nopw.txt" >&2; fail "no password: no clear error"; }
rc=0
"$BANTER" serve --agent agents/restaurant.json --no-tls --sip-register "" >"$TMP/empty.txt" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q 'takes SIP URIs' "$TMP/empty.txt" || fail "an empty --sip-register: no usage error"
pass "no password, an empty URI: errors at start"
