#!/bin/bash
# run_persist_fuzz.sh [SECONDS] — builds tests/fuzz/fuzz_persist.c with libFuzzer, ASan and UBSan
# straight from the app sources that read files back (gallery, .npy, checkpoint archive and its
# manifest), writes a seed corpus with the same file built as a generator, and fuzzes them for
# SECONDS (default 60). Exits non-zero when the fuzzer finds a crash, leak or timeout; the
# reproducer is left in $SNG_FUZZ_DIR (default: a temporary folder, printed). Needs clang with
# libFuzzer (Debian: clang libclang-rt-14-dev, as `tools/install-deps.sh --fuzz` installs).
set -euo pipefail
secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${SNG_FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sng-persist-fuzz.XXXXXX")}
mkdir -p "$work/corpus" "$work/artifacts"
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || { echo "run_persist_fuzz: $CC not found (install clang)" >&2; exit 1; }

# The app sources include "config.h" but need nothing from it.
: > "$work/config.h"
sources="$src/app/gallery.c $src/app/atomic.c $src/app/npy.c $src/app/ckpt_read.c
  $src/app/manifest.c $src/engine/error.c"
cflags="-std=gnu11 -g -O1 -D_GNU_SOURCE -DSNG_BUILDING -I$work -I$src/include -I$src -I$src/engine"
libs="$(pkg-config --libs libarchive) -lpthread -lm"

echo "run_persist_fuzz: building in $work"
# shellcheck disable=SC2086
$CC $cflags -DSNG_FUZZ_SEEDGEN -o "$work/seedgen" "$src/tests/fuzz/fuzz_persist.c" $sources $libs
# shellcheck disable=SC2086
$CC $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer -o "$work/fuzz_persist" "$src/tests/fuzz/fuzz_persist.c" $sources $libs
"$work/seedgen" "$work/corpus"

echo "run_persist_fuzz: fuzzing for ${secs}s"
# shellcheck source=tests/fuzz/fuzz_lib.sh
. "$src/tests/fuzz/fuzz_lib.sh"
fuzz_run run_persist_fuzz "$work" "$secs" "$work/fuzz_persist"
