#!/bin/bash
# run_loader_fuzz.sh [SECONDS] [READER_SECONDS] — builds tests/fuzz/fuzz_image.c and
# tests/fuzz/fuzz_readers.c (once per reader: pairs CSV, IDX) with libFuzzer, ASan and UBSan
# straight from the loader sources (not through automake), writes a seed corpus for each with the
# same file built as a generator, and fuzzes the image decoders and the archive reader for
# SECONDS (default 60), then each reader for READER_SECONDS (default 30). Exits non-zero when the fuzzer finds a crash, leak or timeout; the reproducer is
# left in $SNG_FUZZ_DIR (default: a temporary folder, printed). Needs clang with libFuzzer
# (Debian: clang libclang-rt-14-dev, as `tools/install-deps.sh --fuzz` installs).
set -euo pipefail
secs=${1:-60}
rsecs=${2:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${SNG_FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sng-loader-fuzz.XXXXXX")}
mkdir -p "$work/artifacts"
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
# build NAME SOURCE [DEFINES...]: the fuzzer $work/NAME and its seed corpus $work/NAME.corpus.
build() {
    local name=$1 file=$2
    shift 2
    mkdir -p "$work/$name.corpus"
    # shellcheck disable=SC2086
    $CC $cflags "$@" -DSNG_FUZZ_SEEDGEN -o "$work/$name.seedgen" "$file" $sources $libs
    # shellcheck disable=SC2086
    $CC $cflags "$@" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -fno-omit-frame-pointer -o "$work/$name" "$file" $sources $libs
    "$work/$name.seedgen" "$work/$name.corpus"
}
build fuzz_image "$src/tests/fuzz/fuzz_image.c"
build fuzz_pairs_csv "$src/tests/fuzz/fuzz_readers.c" -DSNG_FUZZ_TARGET=0
build fuzz_idx "$src/tests/fuzz/fuzz_readers.c" -DSNG_FUZZ_TARGET=1

# fuzz NAME SECONDS
fuzz() {
    local name=$1 t=$2 rc=0
    echo "run_loader_fuzz: fuzzing $name for ${t}s"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        "$work/$name" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" \
        "$work/$name.corpus" > "$work/$name.log" 2>&1 || rc=$?
    tail -n 25 "$work/$name.log"
    if [ "$rc" -ne 0 ]; then
        echo "run_loader_fuzz: $name FAILED (exit $rc); reproducers in $work/artifacts:" >&2
        ls -l "$work/artifacts" >&2 || true
        exit 1
    fi
}
fuzz fuzz_image "$secs"
fuzz fuzz_pairs_csv "$rsecs"
fuzz fuzz_idx "$rsecs"
echo "run_loader_fuzz: ok, no crash in ${secs}s + 2 x ${rsecs}s"
[ -n "${SNG_FUZZ_DIR:-}" ] || rm -rf "$work"
