#!/usr/bin/env bash
# Installs the Debian 12 packages banter needs; skips what is already there.
set -euo pipefail
pkgs=(build-essential cmake pkg-config
  libre-dev librem-dev libjansson-dev libsqlite3-dev sqlite3
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
  libespeak-ng-dev espeak-ng-data espeak-ng flite1-dev flite sox
  libsoxr-dev libspeexdsp-dev libopus-dev libcmocka-dev
  libasound2-dev alsa-utils
  clang-14 libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
