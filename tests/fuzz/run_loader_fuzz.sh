#!/bin/bash
# run_loader_fuzz.sh [SECONDS] — builds tests/fuzz/fuzz_image.c with libFuzzer, ASan and UBSan
# straight from the loader sources (not through automake), writes a seed corpus with the same
# file built as a generator, and fuzzes the image decoders and the archive reader for SECONDS
# (default 60). Exits non-zero when the fuzzer finds a crash, leak or timeout; the reproducer is
# left in $SNG_FUZZ_DIR (default: a temporary folder, printed). Needs clang with libFuzzer
# (Debian: clang libclang-rt-14-dev, as `tools/install-deps.sh --fuzz` installs).
set -euo pipefail
secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${SNG_FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sng-loader-fuzz.XXXXXX")}
mkdir -p "$work/corpus" "$work/artifacts"
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || { echo "run_loader_fuzz: $CC not found (install clang)" >&2; exit 1; }

# The loader sources include "config.h" but need nothing from it.
: > "$work/config.h"
sources="$src/loaders/source.c $src/loaders/image.c $src/loaders/image_png.c
  $src/loaders/image_pgm.c $src/loaders/image_jpeg.c $src/loaders/image_resize.c
  $src/loaders/idx.c $src/loaders/dataset.c $src/loaders/pairs_csv.c $src/loaders/split.c
  $src/loaders/augment.c $src/loaders/sampler.c $src/loaders/prefetch.c $src/loaders/describe.c
  $src/engine/error.c $src/engine/util.c"
cflags="-std=gnu11 -g -O1 -D_GNU_SOURCE -I$work -I$src/include -I$src -DSNGI_IMG_MAX_PIXELS=4194304"
libs="$(pkg-config --libs libarchive libpng zlib) -ljpeg -lpthread -lm"

echo "run_loader_fuzz: building in $work"
# shellcheck disable=SC2086
$CC $cflags -DSNG_FUZZ_SEEDGEN -o "$work/seedgen" "$src/tests/fuzz/fuzz_image.c" $sources $libs
# shellcheck disable=SC2086
$CC $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer -o "$work/fuzz_image" "$src/tests/fuzz/fuzz_image.c" $sources $libs
"$work/seedgen" "$work/corpus"

echo "run_loader_fuzz: fuzzing for ${secs}s"
# shellcheck source=tests/fuzz/fuzz_lib.sh
. "$src/tests/fuzz/fuzz_lib.sh"
fuzz_run run_loader_fuzz "$work" "$secs" "$work/fuzz_image"
