#!/bin/sh
# Regenerates the build system from a git checkout (not needed from a release tarball).
set -e
cd "$(dirname "$0")"
autoreconf -fi
