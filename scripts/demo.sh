#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a result: installs the system
# packages, fetches the models and test data (pinned, sha256-checked), builds,
# and runs the main jobs on built-in samples: the micro-film (the face of a
# photo put into every frame of a template video, sound kept: the video
# analysed once into a template file, then rendered), perception (faces,
# 478 3D landmarks and head pose, as JSON and as an overlay picture) and the
# still-image swap (the face of the first image put onto the faces of a
# second one).
#
#   ./scripts/demo.sh                      # astronaut.png into Megamind.avi and onto faceapi_sample1.jpg
#   ./scripts/demo.sh photo.jpg            # your photo into the sample film and onto the sample target
#   ./scripts/demo.sh photo.jpg target.jpg [film.mp4]  # any JPEG / PNG / BMP / PPM; any video
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
FILM=${3:-data/testdata/Megamind.avi}
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

film=$(basename "${FILM%.*}")
template=$OUT/$film.fst
movie=$OUT/${name}_in_$film.mp4
poster=$OUT/${name}_in_$film.jpg
say "faceswap analyse $FILM (once per template)"
"$CLI" analyse "$FILM" --output "$template"
say "faceswap video --source $IMAGE --video $FILM --template $template (once per user)"
"$CLI" video --source "$IMAGE" --video "$FILM" --template "$template" --output "$movie" \
  --poster "$poster"
say "done"
cat <<EOF
  film:     $movie ($IMAGE's face on the protagonist of $FILM, sound kept)
  poster:   $poster (its frame with the largest, most frontal face)
  template: $template (the analysis of $FILM, reused for every photo)
  input:    $IMAGE
  faces:    $faces (each: box, score, 6 keypoints, 478 landmarks, yaw/pitch/roll)
  JSON:     $OUT/$name.json
  overlay:  $overlay (boxes and mesh drawn on the image)
  swap:     $swapped ($IMAGE's face on every face of $TARGET)
  CLI:      $CLI detect IMAGE [--json] [--overlay OUT.png]
            $CLI swap --source PHOTO --target IMAGE --output OUT
            $CLI analyse VIDEO --output TEMPLATE.fst
            $CLI video --source PHOTO --video VIDEO --template TEMPLATE.fst --output OUT.mp4
            (--help for the options)
EOF
