#!/bin/bash
# run_args_fuzz.sh [SECONDS] — builds tests/fuzz/fuzz_args.c (the command-line parser of every
# command, cli/args.c) with libFuzzer, ASan and UBSan, writes its seed corpus and fuzzes it for
# SECONDS (default 60). Exits non-zero on a crash, leak or timeout, leaving the reproducer.
set -euo pipefail
secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${SNG_FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sng-args-fuzz.XXXXXX")}
mkdir -p "$work/corpus" "$work/artifacts"
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || { echo "run_args_fuzz: $CC not found (install clang)" >&2; exit 1; }
: > "$work/config.h"
sources="$src/cli/args.c $src/cli/args_help.c $src/engine/error.c"
cflags="-std=gnu11 -g -O1 -D_GNU_SOURCE -DSNG_BUILDING -I$work -I$src/include -I$src -I$src/engine"
echo "run_args_fuzz: building in $work"
# shellcheck disable=SC2086
$CC $cflags -DSNG_FUZZ_SEEDGEN -o "$work/seedgen" "$src/tests/fuzz/fuzz_args.c" $sources -lm
# shellcheck disable=SC2086
$CC $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer -o "$work/fuzz_args" "$src/tests/fuzz/fuzz_args.c" $sources -lm
"$work/seedgen" "$work/corpus"
echo "run_args_fuzz: fuzzing for ${secs}s"
# shellcheck source=tests/fuzz/fuzz_lib.sh
. "$src/tests/fuzz/fuzz_lib.sh"
fuzz_run run_args_fuzz "$work" "$secs" "$work/fuzz_args"
