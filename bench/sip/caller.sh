# Sourced by bench/sip_load.sh and bench/sip_llm_load.sh: the sipp caller
# they share. sip_caller BUILD TMP TURNS GREET_MS AFTER_MS writes
# TMP/say.g722 (the caller's words, "a table for three please" by flite,
# as G.722 by banter's own encoder, bench/sip/g722enc.c, with 0.2 s of
# silence before and 1.5 s after: the line is silent while the agent
# decides) and TMP/load.xml (bench/sip/load.xml with its turn repeated
# TURNS times, waiting GREET_MS for the greeting and AFTER_MS after each
# turn).
sip_caller() {
  local build=$1 tmp=$2 turns=$3 greet_ms=$4 after_ms=$5
  [ -x "$build/g722enc" ] || cmake --build "$build" --target g722enc >/dev/null
  flite -voice slt -t "a table for three please" -o "$tmp/words.wav"
  sox "$tmp/words.wav" -r 16000 -c 1 "$tmp/say.wav" pad 0.2 1.5
  "$build/g722enc" "$tmp/say.wav" "$tmp/say.g722"
  sed -e "s|@AUDIO@|$tmp/say.g722|" -e "s|@GREET_MS@|$greet_ms|" \
      -e "s|@AFTER_MS@|$after_ms|" bench/sip/load.xml >"$tmp/one.xml"
  python3 - "$tmp/one.xml" "$turns" >"$tmp/load.xml" <<'PY'
import sys
s = open(sys.argv[1]).read()
a, b = s.index("<!-- turn:"), s.index("<!-- /turn -->") + len("<!-- /turn -->")
print(s[:a] + s[a:b] * int(sys.argv[2]) + s[b:], end="")
PY
}
