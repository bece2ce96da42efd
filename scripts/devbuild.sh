#!/usr/bin/env bash
# Compile a few sources into one program with the project's flags, without
# the CMake build (so one module can be checked while others are half-done).
#   scripts/devbuild.sh OUT file1.c file2.c ...   (add SAN=1 for ASan+UBSan)
set -euo pipefail
out=$1; shift
flags="-std=gnu11 -g -O1 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes"
flags="$flags -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6 -D_GNU_SOURCE"
flags="$flags -DBT_PS_MODELDIR=\"/usr/share/pocketsphinx/model/en-us\""
[ "${SAN:-0}" = 1 ] && flags="$flags -fsanitize=address,undefined -fno-omit-frame-pointer"
pc=$(pkg-config --cflags --libs libre jansson sqlite3 pocketsphinx sphinxbase espeak-ng soxr speexdsp cmocka)
flite="-lflite_cmu_us_kal -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb -lflite_usenglish -lflite_cmulex -lflite"
exec gcc $flags -Iinclude -Iinclude/banter -Isrc "$@" src/core/err.c src/core/registry.c -o "$out" $pc $flite -lpthread -lm
