#!/bin/sh
# check_example.sh — builds examples/verify.c the way a user would, against the installed
# library found through pkg-config (installed into a staging directory), and runs it: train a
# small model through sng_train, compare two images, enrol into and identify against a gallery.
set -u
src=${SNG_TEST_SRCDIR:?}/..
build=${SNG_BUILDDIR:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/sng-example.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
command -v pkg-config >/dev/null || { echo "no pkg-config: skipped"; exit 77; }

stage=$work/stage
${MAKE:-make} -s -C "$build" install DESTDIR="$stage" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; exit 1; }
pc=$(find "$stage" -name sngraph.pc | head -1)
[ -n "$pc" ] || { echo "sngraph.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=${pc%/*} PKG_CONFIG_SYSROOT_DIR=$stage
libdir=$(pkg-config --variable=libdir sngraph)
${SNG_CC:-cc} -std=c11 -Wall -Werror -o "$work/verify" "$src/examples/verify.c" \
    $(pkg-config --cflags --libs sngraph) || exit 1
# pkg-config already prefixes the sysroot to libdir.
export LD_LIBRARY_PATH=$libdir

# Eight classes of bar images, 28x28 binary PGM (P2), ten per class, with jitter and noise.
awk -v dir="$work/bars" 'BEGIN {
    srand(7)
    for (c = 0; c < 8; c++) {
        system("mkdir -p " dir "/c" c)
        for (i = 0; i < 10; i++) {
            f = dir "/c" c "/" i ".pgm"
            print "P2\n28 28\n255" > f
            off = int(rand() * 3) - 1
            for (y = 0; y < 28; y++) {
                line = ""
                for (x = 0; x < 28; x++) {
                    v = int(rand() * 40)
                    p = (c < 4) ? y : x
                    if (p >= 3 + 6 * (c % 4) + off && p < 6 + 6 * (c % 4) + off) v = 220 + int(rand() * 35)
                    line = line v " "
                }
                print line > f
            }
            close(f)
        }
    }
}'

v=$work/verify
"$v" train "$src/examples/bars.xml" "$work/run" data.source="$work/bars" >"$work/train.log" 2>&1 ||
    { cat "$work/train.log"; exit 1; }
grep -q "^step 40/40 loss" "$work/train.log" || { cat "$work/train.log"; exit 1; }
ck=$work/run/checkpoint.tar
[ -s "$ck" ] || { echo "no checkpoint"; exit 1; }

# An image against itself is at distance 0: the best possible score, always "same".
out=$("$v" compare "$ck" "$work/bars/c1/0.pgm" "$work/bars/c1/0.pgm") || exit 1
echo "$out" | grep -q ": same$" || { echo "self-compare: $out"; exit 1; }
"$v" compare "$ck" "$work/bars/c1/0.pgm" "$work/bars/c5/0.pgm" | grep -q "^score " || exit 1
# A missing image is an error with a message, not a crash.
"$v" compare "$ck" "$work/bars/c1/0.pgm" "$work/none.pgm" 2>"$work/err" && exit 1
grep -q "none.pgm" "$work/err" || { cat "$work/err"; exit 1; }

# Enrol two identities, identify one of their enrolment images: it ranks first.
out=$("$v" identify "$ck" "$work/g.gallery" "$work/bars/c2/0.pgm" \
      alice "$work/bars/c2/0.pgm" bob "$work/bars/c6/0.pgm") || { echo "$out"; exit 1; }
echo "$out" | head -1 | grep -q "^1\. alice 0\.000000 match$" || { echo "identify: $out"; exit 1; }
echo "$out" | grep -q "^2 identities$" || exit 1
# The gallery was written: the installed program lists both.
"$stage/usr/local/bin/sngraph" gallery list "$work/g.gallery" 2>/dev/null | sort | tr '\n' ' ' |
    grep -q "^alice bob $" || [ ! -x "$stage/usr/local/bin/sngraph" ] || exit 1
echo "example program: trained, compared, enrolled and identified through the installed API"
exit 0
