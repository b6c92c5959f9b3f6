#!/bin/bash
# run_model_fuzz.sh [SECONDS] — builds tests/fuzz/fuzz_model.c with libFuzzer, ASan and UBSan
# straight from the engine and op sources (not through automake), seeds the corpus with the
# shipped models and the malformed ones of tests/models/bad, and fuzzes the model loader for
# SECONDS (default 60). Exits non-zero when the fuzzer finds a crash, leak or timeout; the
# reproducer is left in $SNG_FUZZ_DIR (default: a temporary folder, printed). Needs clang with
# libFuzzer (Debian: clang libclang-rt-14-dev, as `tools/install-deps.sh --fuzz` installs).
set -euo pipefail
secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${SNG_FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sng-model-fuzz.XXXXXX")}
mkdir -p "$work/corpus" "$work/artifacts"
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || { echo "run_model_fuzz: $CC not found (install clang)" >&2; exit 1; }

# A minimal config.h: the sources only need PACKAGE_VERSION (and include it unconditionally).
cat > "$work/config.h" <<CFG
#define PACKAGE_VERSION "fuzz"
#define PACKAGE_STRING "sngraph fuzz"
CFG
# The loader and compiler, the printers and every op (the registry names them all). Sessions,
# planning, training and the CLI are not reached from sng_graph_load_string.
sources="$src/engine/xml_model.c $src/engine/graph.c $src/engine/cfg.c $src/engine/summary.c
  $src/engine/error.c $src/engine/util.c $src/engine/op_ctx.c $(ls "$src"/ops/*.c)"
blis_inc=${BLIS_INC:-/usr/include/x86_64-linux-gnu/blis-openmp}
blis_lib=${BLIS_LIB:-/usr/lib/x86_64-linux-gnu/blis-openmp}
cflags="-std=gnu11 -g -O1 -Wno-pass-failed -D_GNU_SOURCE -DSNG_BUILDING -I$work -I$src/include -I$src -I$src/engine
  -isystem $blis_inc -DSNG_MODELDIR=\"$work/no-installed-models\"
  -DSNG_SCHEMA_FILE=\"$src/models/sngraph.rng\" -fopenmp"
libs="-L$blis_lib -Wl,-rpath,$blis_lib -lblis -fopenmp
  $(pkg-config --cflags --libs libxml-2.0) -lm -lpthread"

echo "run_model_fuzz: building in $work"
# shellcheck disable=SC2086
$CC $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer -o "$work/fuzz_model" "$src/tests/fuzz/fuzz_model.c" $sources $libs

n=0
for f in "$src"/models/*.xml "$src"/models/backbones/*.xml "$src"/tests/models/bad/*.xml \
         "$src"/tests/models/bad/inc/*.xml; do
    [ -f "$f" ] || continue
    head -c 65536 "$f" > "$work/corpus/seed$n.xml"
    n=$((n + 1))
done
# The default model with its backbone inlined (so the fuzzer sees a full VGG16 graph).
sed -e '/<xi:include/r '"$src/models/backbones/vgg16.xml" -e '/<xi:include/d' \
    "$src/models/siamese_vgg16.xml" | grep -v '^<?xml' > "$work/corpus/inlined.xml" || true

echo "run_model_fuzz: fuzzing for ${secs}s ($n seeds)"
# The models directory is the base for XIncludes in the harness (backbones/*.xml resolve).
export SNG_FUZZ_MODEL_DIR="$src/models" OMP_NUM_THREADS=1
# shellcheck source=tests/fuzz/fuzz_lib.sh
. "$src/tests/fuzz/fuzz_lib.sh"
fuzz_run run_model_fuzz "$work" "$secs" "$work/fuzz_model"
