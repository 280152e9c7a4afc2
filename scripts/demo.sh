#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a result: installs the system
# packages, fetches the models and test data (pinned, sha256-checked), builds,
# and runs the main jobs on built-in samples: perception (faces, 478 3D
# landmarks and head pose, as JSON and as an overlay picture) and the
# still-image swap (the face of the first image put onto the faces of a
# second one).
#
#   ./scripts/demo.sh                      # astronaut.png onto faceapi_sample1.jpg
#   ./scripts/demo.sh photo.jpg            # your photo onto the sample target
#   ./scripts/demo.sh photo.jpg target.jpg # any JPEG / PNG / BMP / PPM
#
# env: FS_BUILD_DIR (default build), FS_OUT_DIR (default out),
#      FS_JOBS (ninja jobs, default: all cores), FS_SKIP_DEPS=1 (no apt).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${FS_BUILD_DIR:-build}
OUT=${FS_OUT_DIR:-out}
JOBS=${FS_JOBS:-$(nproc)}
IMAGE=${1:-data/testdata/astronaut.png}
TARGET=${2:-data/testdata/faceapi_sample1.jpg}
say() { printf '\n== demo: %s\n' "$*" >&2; }

if [ "${FS_SKIP_DEPS:-0}" = 0 ]; then
  say "system packages"
  scripts/install-deps.sh
fi
say "models and test data"
scripts/fetch-data.sh

say "build ($BUILD)"
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD"
fi
ninja -C "$BUILD" -j "$JOBS"

CLI=$BUILD/examples/faceswap
[ -x "$CLI" ] || { echo "demo: $CLI was not built" >&2; exit 1; }
mkdir -p "$OUT"
name=$(basename "${IMAGE%.*}")
json=$OUT/$name.json
overlay=$OUT/${name}_overlay.png

say "faceswap detect $IMAGE"
# The models come from data/models (the installed library would look in
# <datadir>/faceswap/models instead).
export FS_MODEL_DIR=${FS_MODEL_DIR:-$ROOT/data/models}
"$CLI" detect "$IMAGE" --json --overlay "$overlay" > "$json.tmp"
mv "$json.tmp" "$json"

faces=$(grep -o '"landmarks"' "$json" | wc -l)

swapped=$OUT/${name}_onto_$(basename "${TARGET%.*}").jpg
say "faceswap swap --source $IMAGE --target $TARGET"
"$CLI" swap --source "$IMAGE" --target "$TARGET" --output "$swapped"
say "done"
cat <<EOF
  input:    $IMAGE
  faces:    $faces (each: box, score, 6 keypoints, 478 landmarks, yaw/pitch/roll)
  JSON:     $OUT/$name.json
  overlay:  $overlay (boxes and mesh drawn on the image)
  swap:     $swapped ($IMAGE's face on every face of $TARGET)
  CLI:      $CLI detect IMAGE [--json] [--overlay OUT.png]
            $CLI swap --source PHOTO --target IMAGE --output OUT (--help for the options)
EOF
