#!/usr/bin/env bash
# Fetches the models and the test data into data/ (or $FS_DATA_DIR):
#   data/models/    blazeface, facemesh, iris, faceres (tfjs graph models),
#                   facemeshcoords.ts (mesh UVs and triangles),
#                   face_geometry.binarypb (canonical face, Procrustes weights)
#   data/testdata/  sample photos and a sample video
# Sources are pinned packages (npm tarballs, Debian packages); every file
# that lands in data/ is checked against scripts/data.sha256, so a changed
# upstream package fails here, loudly, instead of changing results.
# Idempotent: files that are present and verify are kept.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${FS_DATA_DIR:-$ROOT/data}
CACHE=$DATA/cache
mkdir -p "$CACHE" "$DATA/models" "$DATA/testdata"
SUMS=$ROOT/scripts/data.sha256

HUMAN=@vladmandic/human@3.3.6
HUMAN_TGZ=vladmandic-human-3.3.6.tgz
HUMAN_SHA=425e9c51dbbca0c8934362b170cb0d54c2529c11c654b3c03092b16e9d6ad3f7
MPFM=@mediapipe/face_mesh@0.4.1657299874
MPFM_TGZ=mediapipe-face_mesh-0.4.1657299874.tgz
MPFM_SHA=c08a7e0742a326285da666cf81d77c8b6f3a181a2ee948cadaf166008e0d3bc7
FACEAPI=@vladmandic/face-api@1.7.15
FACEAPI_TGZ=vladmandic-face-api-1.7.15.tgz
FACEAPI_SHA=0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031

say() { echo "fetch-data: $*" >&2; }

all_present() {
  (cd "$DATA" && sha256sum --quiet -c "$SUMS" >/dev/null 2>&1)
}
if all_present; then
  say "data/ is complete and verified"
  exit 0
fi

npm_get() { # npm_get SPEC TGZ SHA
  if [ ! -f "$CACHE/$2" ] || ! echo "$3  $CACHE/$2" | sha256sum --quiet -c - 2>/dev/null; then
    say "npm pack $1"
    (cd "$CACHE" && npm pack --silent "$1" >/dev/null)
  fi
  echo "$3  $CACHE/$2" | sha256sum --quiet -c - || { say "checksum mismatch: $2"; exit 1; }
}
deb_get() { # deb_get PACKAGE -> prints the .deb path
  local f
  f=$(ls "$CACHE/$1"_*.deb 2>/dev/null | head -n 1 || true)
  if [ -z "$f" ]; then
    say "apt-get download $1"
    (cd "$CACHE" && apt-get download "$1" >/dev/null)
    f=$(ls "$CACHE/$1"_*.deb | head -n 1)
  fi
  echo "$f"
}
deb_extract() { # deb_extract DEB PATH_IN_DEB DEST
  dpkg-deb --fsys-tarfile "$1" | tar -xO ".$2" > "$3.tmp" && mv "$3.tmp" "$3"
}

# Models.
npm_get "$HUMAN" "$HUMAN_TGZ" "$HUMAN_SHA"
for m in blazeface facemesh iris faceres; do
  for ext in json bin; do
    tar -xzOf "$CACHE/$HUMAN_TGZ" "package/models/$m.$ext" > "$DATA/models/$m.$ext"
  done
done
tar -xzOf "$CACHE/$HUMAN_TGZ" package/src/face/facemeshcoords.ts > "$DATA/models/facemeshcoords.ts"

# Canonical face: a protobuf packed inside MediaPipe's asset bundle; the byte
# range comes from face_mesh_solution_packed_assets_loader.js of that package.
npm_get "$MPFM" "$MPFM_TGZ" "$MPFM_SHA"
tar -xzOf "$CACHE/$MPFM_TGZ" package/face_mesh_solution_packed_assets.data > "$CACHE/fm_assets.data"
dd if="$CACHE/fm_assets.data" of="$DATA/models/face_geometry.binarypb" bs=4096 \
   iflag=skip_bytes,count_bytes skip=3737848 count=$((3757224 - 3737848)) status=none

# Test images and video.
npm_get "$FACEAPI" "$FACEAPI_TGZ" "$FACEAPI_SHA"
for i in 1 2 3 4 5 6; do
  tar -xzOf "$CACHE/$FACEAPI_TGZ" "package/demo/sample$i.jpg" > "$DATA/testdata/faceapi_sample$i.jpg"
done
deb=$(deb_get python3-skimage)
deb_extract "$deb" /usr/lib/python3/dist-packages/skimage/data/astronaut.png "$DATA/testdata/astronaut.png"
deb=$(deb_get opencv-doc)
deb_extract "$deb" /usr/share/doc/opencv-doc/examples/data/messi5.jpg "$DATA/testdata/messi5.jpg"
deb_extract "$deb" /usr/share/doc/opencv-doc/examples/data/Megamind.avi "$DATA/testdata/Megamind.avi"
deb=$(deb_get dde-account-faces)
for i in 12 3 7; do
  deb_extract "$deb" /var/lib/AccountsService/icons/bigger/$i.png "$DATA/testdata/noface_$i.png"
done

(cd "$DATA" && sha256sum --quiet -c "$SUMS") || { say "checksum mismatch in data/ (see above)"; exit 1; }
say "models and test data verified in $DATA"
