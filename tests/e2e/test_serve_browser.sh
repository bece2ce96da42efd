#!/usr/bin/env bash
# The browser page (web/) in a real headless Chromium against `banter serve`:
# a fake microphone speaks, the page shows both sides' transcripts, the
# reply's latency and plays the agent's audio; typed turns, also over the
# agent's voice. Then a clean SIGTERM.
source "$(dirname "$0")/lib.sh"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "SKIP: no chromium"; exit 0; }
serve
OUT_DIR=${OUT_DIR:-$TMP} node "$CLIENTS/browser.mjs" "$HTTP_PORT" | tee "$TMP/out.txt" || true
grep -q '^[0-9]* passed, 0 failed$' "$TMP/out.txt" || { tail -20 "$TMP/serve.txt" >&2; fail "browser tests failed"; }
stop_serve
pass "browser page"
