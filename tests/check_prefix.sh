#!/bin/sh
# check_prefix.sh — sng_ means exported: every sng_ name in the sources (outside tests and the
# public header) must be declared in include/sngraph/sngraph.h; internal names use sngi_. Fails
# naming each file and name that breaks it.
top="${SNG_TEST_SRCDIR:-$(dirname "$0")}/.."
cd "$top" || exit 99
hdr=include/sngraph/sngraph.h
public=$(grep -oE '\bsng_[a-z0-9_]+' "$hdr" | sort -u)
bad=0
for f in $(find engine ops kernels loaders app serve cli examples -name '*.[ch]' 2>/dev/null | sort); do
    # Names in comments and strings are not identifiers: drop // and /* */ text and "..." first.
    for name in $(sed -e 's|/\*.*\*/||g; s|//.*||; s|"[^"]*"||g; s|sng_[a-z0-9_]*\.h||g' "$f" | grep -oE '\bsng_[a-z0-9_]+' | sort -u); do
        if ! echo "$public" | grep -qx "$name"; then
            echo "$f: $name is not in $hdr: internal names take the sngi_ prefix" >&2
            bad=1
        fi
    done
done
[ "$bad" = 0 ] && echo "every sng_ name is public API"
exit $bad
