#!/usr/bin/env bash
# Installs the Debian 12 packages banter needs; skips what is already there.
set -euo pipefail
pkgs=(build-essential cmake pkg-config
  libre-dev librem-dev libjansson-dev libsqlite3-dev sqlite3
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
  libespeak-ng-dev espeak-ng-data espeak-ng flite1-dev flite sox
  libsoxr-dev libspeexdsp-dev libopus-dev libcmocka-dev
  libspandsp-dev baresip-core sip-tester
  libasound2-dev alsa-utils libssl-dev libcurl4-openssl-dev python3 curl chromium
  clang-14 libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
# Node runs the test clients (the openai and ws packages, playwright-core);
# any Node 18 or later will do, Debian's own included.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The test clients, from the npm registry, as the lock file pins them.
cd "$(dirname "$0")/../tests/clients"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  echo "install-deps: installing the test clients (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi
