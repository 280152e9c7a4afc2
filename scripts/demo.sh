#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a result: installs the system
# packages, fetches the models and test data (pinned, sha256-checked), builds,
# and runs the main job on a built-in sample image. For now the main job is
# perception: faces, 478 3D landmarks and head pose, written as JSON and as an
# overlay picture.
#
#   ./scripts/demo.sh                 # sample: data/testdata/astronaut.png
#   ./scripts/demo.sh photo.jpg       # any JPEG / PNG / BMP / PPM
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
say "done"
cat <<EOF
  input:    $IMAGE
  faces:    $faces (each: box, score, 6 keypoints, 478 landmarks, yaw/pitch/roll)
  JSON:     $OUT/$name.json
  overlay:  $overlay (boxes and mesh drawn on the image)
  CLI:      $CLI detect IMAGE [--json] [--overlay OUT.png] (--help for the options)
EOF
