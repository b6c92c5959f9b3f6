#!/bin/sh
# Installs what sngraph needs to build, test and run on Debian (as root). Idempotent.
#   --fuzz   also the clang toolchain for the libFuzzer harnesses
#   --mpi    also Open MPI (configure --with-mpi: data-parallel training, tests/test_mpi)
set -e
pkgs="build-essential autoconf automake libtool pkg-config ca-certificates git
      libxml2-dev libblis-dev libblis-openmp-dev libarchive-dev libcunit1-dev
      libpng-dev libjpeg62-turbo-dev zlib1g-dev libmicrohttpd-dev libjansson-dev
      curl dataset-fashion-mnist"
for a in "$@"; do
    case "$a" in
    --fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
    --mpi) pkgs="$pkgs libopenmpi-dev openmpi-bin" ;;
    *) echo "install-deps.sh: unknown option $a" >&2; exit 2 ;;
    esac
done
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
