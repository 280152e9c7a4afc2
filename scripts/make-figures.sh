#!/usr/bin/env bash
# Makes the before/after figures of doc/swap.md (doc/img/*.jpg) from the test
# images: astronaut.png (NASA, public domain) and faceapi_sample*.jpg
# (@vladmandic/face-api, MIT). Builds nothing: give it a build folder in
# which examples/faceswap and lib/libfaceswap.so are built.
#
#   scripts/make-figures.sh [BUILD]        # default: build
#
# Runs `faceswap swap --debug` on each pair with the library's defaults
# (every face) and composes the figures
# with scripts/compose-figures.py (libfaceswap's own image reader and writer
# through the Python binding, and numpy). Deterministic: the same build gives
# the same files. Takes under a minute.
# env: FS_MODEL_DIR, FS_TESTDATA_DIR (default data/models, data/testdata).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CLI=$BUILD/examples/faceswap
LIB=$BUILD/lib/libfaceswap.so
for f in "$CLI" "$LIB"; do
  [ -e "$f" ] || { echo "make-figures: $f is missing: build $BUILD first (ninja -C $BUILD)" >&2; exit 2; }
done
export FS_MODEL_DIR=${FS_MODEL_DIR:-$ROOT/data/models}
DATA=${FS_TESTDATA_DIR:-$ROOT/data/testdata}
export FACESWAP_LIBRARY=$LIB
OUT=$ROOT/doc/img
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fs_figures.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

# swap NAME SOURCE TARGET: the debug folder $WORK/NAME
swap() {
  echo "== $1: $2 onto $3"
  "$CLI" swap --source "$DATA/$2" --target "$DATA/$3" --output "$WORK/$1.png" \
    --threads 1 --debug "$WORK/$1"
}
compose() { /usr/bin/python3 "$ROOT/scripts/compose-figures.py" "$@"; }

swap astronaut-on-sample1 astronaut.png faceapi_sample1.jpg
swap sample3-on-astronaut faceapi_sample3.jpg astronaut.png
swap astronaut-on-sample2 astronaut.png faceapi_sample2.jpg
swap sample4-on-sample5 faceapi_sample4.jpg faceapi_sample5.jpg

compose full "$WORK/astronaut-on-sample1" "$OUT/swap-astronaut-on-sample1-full.jpg"
compose faces "$WORK/astronaut-on-sample1" "$OUT/swap-astronaut-on-sample1.jpg"
compose faces "$WORK/sample3-on-astronaut" "$OUT/swap-sample3-on-astronaut.jpg"
compose faces "$WORK/astronaut-on-sample2" "$OUT/swap-astronaut-on-sample2.jpg"
compose faces "$WORK/sample4-on-sample5" "$OUT/swap-sample4-on-sample5.jpg"
compose strip "$WORK/sample3-on-astronaut" 0 "$OUT/swap-stages.jpg"

status=0
for f in "$OUT"/swap-*.jpg; do
  size=$(stat -c %s "$f")
  printf '%-60s %7d bytes\n' "${f#"$ROOT"/}" "$size"
  if [ "$size" -ge 256000 ]; then
    echo "make-figures: $f is over 250 KB: lower the tile sizes in compose-figures.py" >&2
    status=1
  fi
done
exit $status
