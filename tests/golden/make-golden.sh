#!/usr/bin/env bash
# Regenerates tests/golden/<image>.txt from the TensorFlow.js reference
# harness (/work/shared/refharness, a copy of it is installed in $REFHARNESS).
# Run it only when the reference changes; the tests read the committed .txt
# files and never need node, npm or the harness.
#
#   tests/golden/make-golden.sh            # needs data/ (scripts/fetch-data.sh),
#                                          # node 20 + npm, cc, libstb-dev
#   REFHARNESS=/path/to/harness KEEP=/tmp/g tests/golden/make-golden.sh
#
# Steps: JPEGs are decoded by OUR decoder (Debian's stb, as lib/image uses it)
# and written as PNG, so both sides see the same pixels; PNGs are used as they
# are. The harness runs on those PNGs (wasm backend, up to 10 faces, raw model
# tensors dumped), golden-convert.py writes the text files and checks that the
# harness decoded the same RGB bytes as stb (sha256).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=${FS_DATA_DIR:-$ROOT/data}
REFSRC=${REFSRC:-/work/shared/refharness}
REFHARNESS=${REFHARNESS:-/tmp/refharness}
PY=/usr/bin/python3            # Debian's; a pyenv shim may shadow python3
say() { echo "make-golden: $*" >&2; }

"$ROOT/scripts/fetch-data.sh"
if [ ! -d "$REFHARNESS/node_modules/@tensorflow/tfjs-backend-wasm" ]; then
  say "installing the reference harness into $REFHARNESS"
  mkdir -p "$REFHARNESS"
  cp -r "$REFSRC"/. "$REFHARNESS"/
  chmod -R u+w "$REFHARNESS"
  (cd "$REFHARNESS" && npm install --no-audit --no-fund)
fi

WORK=${KEEP:-$(mktemp -d)}
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/in" "$WORK/raw" "$WORK/json"
# shellcheck disable=SC2046  # pkg-config output is meant to be split
cc -std=c11 -O2 -Wall -Wextra $(pkg-config --cflags stb) "$HERE/stb-decode.c" \
   $(pkg-config --libs stb) -o "$WORK/stb-decode"

# name:source file. noface_3 and noface_7 are only checked (no face expected).
IMAGES="astronaut:astronaut.png messi5:messi5.jpg faceapi_sample5:faceapi_sample5.jpg noface_12:noface_12.png"
CHECK_ONLY="noface_3:noface_3.png noface_7:noface_7.png"
pngs=()
for spec in $IMAGES $CHECK_ONLY; do
  name=${spec%%:*} src=$DATA/testdata/${spec#*:}
  case $src in
    *.jpg)
      o=$("$PY" "$HERE/golden-convert.py" orientation "$src")
      # stb ignores EXIF orientation while lib/image applies it: a rotated
      # source would give the two sides different pixels.
      [ "$o" = 1 ] || { say "$src has EXIF orientation $o, not 1"; exit 1; }
      "$WORK/stb-decode" "$src" "$WORK/in/$name.png" "$WORK/in/$name.ppm" >/dev/null ;;
    *)
      cp "$src" "$WORK/in/$name.png"
      "$WORK/stb-decode" "$src" "$WORK/in/$name.stb.png" "$WORK/in/$name.ppm" >/dev/null ;;
  esac
  pngs+=("$WORK/in/$name.png")
done

say "running the reference on ${#pngs[@]} images"
(cd "$REFHARNESS" && node golden.js --backend wasm --max-faces 10 --models "$DATA/models" \
   --raw "$WORK/raw" --outdir "$WORK/json" "${pngs[@]}")

for spec in $IMAGES; do
  name=${spec%%:*} src=${spec#*:}
  args=(--comment "input: data/testdata/$src sha256 $(sha256sum "$DATA/testdata/$src" | cut -d' ' -f1)")
  case $src in *.jpg) args+=(--comment "decoded by Debian stb (stbi_load, 3 channels), EXIF orientation 1") ;;
                  *)  args+=(--comment "PNG used as is (alpha, if any, dropped by both decoders)") ;; esac
  case $name in astronaut|messi5) args+=(--tensors) ;; esac
  "$PY" "$HERE/golden-convert.py" text "$WORK/json/$name.json" "$WORK/raw" \
    "$WORK/in/$name.ppm" "$HERE/$name.txt" "${args[@]}"
  say "wrote tests/golden/$name.txt ($(grep -c . "$HERE/$name.txt") lines)"
done

# The check-only images must come out with no accepted face.
for spec in $CHECK_ONLY; do
  name=${spec%%:*}
  "$PY" - "$WORK/json/$name.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
acc = [f for f in j["direct"]["faces"] if "rejected" not in f]
print("make-golden: %s: %d detector selections, %d accepted" % (j["image"]["file"], len(j["direct"]["faces"]), len(acc)), file=sys.stderr)
sys.exit(1 if acc else 0)
EOF
done
