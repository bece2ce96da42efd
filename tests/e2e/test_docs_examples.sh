#!/usr/bin/env bash
# What a newcomer pastes from the docs runs: every ```json block of
# docs/caller-file.md is a caller file banter simulate plays to the end.
source "$(dirname "$0")/lib.sh"
cp callers/yes.wav "$TMP/"
python3 - "$TMP" <<'PY'
import re, sys
blocks = re.findall(r"```json\n(.*?)```", open("docs/caller-file.md").read(), re.S)
assert blocks, "docs/caller-file.md has no ```json example"
for i, b in enumerate(blocks):
    open(f"{sys.argv[1]}/example{i}.json", "w").write(b)
PY
for f in "$TMP"/example*.json; do
  sim "$f"
  [ "$SIM_RC" -eq 0 ] || fail "$(basename "$f") from docs/caller-file.md did not run to the end"
done
pass "the docs' caller files run"
