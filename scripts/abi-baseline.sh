#!/usr/bin/env bash
# Writes the ABI baseline doc/abi/libfaceswap.abi from a build of the library,
# for tests/test_abi.sh to compare against. Run it at a release (after the
# version node for that release is in lib/libfaceswap.map) and commit the
# result with the release; see doc/abi/README.md.
#
#   scripts/abi-baseline.sh [BUILD_DIR]      (default: build; needs -g, the
#                                             default debugoptimized has it)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
LIB=$BUILD/lib/libfaceswap.so
[ -e "$LIB" ] || { echo "abi-baseline: $LIB not built (meson setup $BUILD && ninja -C $BUILD)" >&2; exit 1; }
LIB=$(readlink -f "$LIB")
readelf -S "$LIB" | grep '\.debug_info' >/dev/null || { echo "abi-baseline: $LIB has no debug info" >&2; exit 1; }
mkdir -p "$ROOT/doc/abi"
# Only what the public headers define. Locations are kept (file names only,
# no paths of this machine): abidiff needs them to tell public types (in
# include/faceswap) from private ones (opaque handles' internals).
abidw --headers-dir "$ROOT/include/faceswap" --drop-private-types \
      --no-corpus-path --no-comp-dir-path --short-locs --no-elf-needed \
      --type-id-style hash --out-file "$ROOT/doc/abi/libfaceswap.abi.tmp" "$LIB"
mv "$ROOT/doc/abi/libfaceswap.abi.tmp" "$ROOT/doc/abi/libfaceswap.abi"
n=$(grep -c '<elf-symbol name=' "$ROOT/doc/abi/libfaceswap.abi" || true)
echo "abi-baseline: wrote doc/abi/libfaceswap.abi ($n exported symbols) from $LIB"
