#!/bin/sh
# check_op_includes.sh — ops see only the op interface: a file under ops/ may include, of the
# engine, only engine/op_core.h (through ops/op.h). Fails naming each file and line that
# includes another engine header (sng_int.h, session.h, ...), which would expose the graph.
top="${SNG_TEST_SRCDIR:-$(dirname "$0")}/.."
bad=0
for f in "$top"/ops/*.c "$top"/ops/*.h; do
    hits=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*engine/[^"]*|sng_int\.h|session\.h|gradcheck\.h)"' "$f" |
        grep -v 'engine/op_core\.h"')
    [ -z "$hits" ] && continue
    echo "$hits" | sed "s|^\([0-9]*\):\(.*\)|ops/$(basename "$f"):\1: \2: ops include only ops/op.h (engine/op_core.h)|"
    bad=1
done
[ "$bad" = 0 ] && echo "ops/ includes only the op interface"
exit $bad
