#!/usr/bin/env bash
# Installs the Debian 12 (bookworm) packages libfaceswap needs to build, test
# and fetch its data. Fast path: when every package is already installed it
# does nothing (no apt-get update). Uses sudo only when not root.
#
# Not installed here: CUDA. The build works without it (meson -Dcuda=auto
# skips cuda/ when /usr/local/cuda is absent); install NVIDIA's CUDA 13 and
# cuDNN yourself to build the CUDA module.
#
#   scripts/install-deps.sh           install what is missing
#   scripts/install-deps.sh --check   only list what is missing (exit 1 if any)
#   FS_BENCH_DEPS=1 scripts/install-deps.sh
#                                     also the benchmarks' yardsticks (OpenCV for
#                                     bench_blend.py); the tests never need them
set -euo pipefail
say() { echo "install-deps: $*" >&2; }

PACKAGES=(
  # build
  build-essential    # gcc, g++ (C++ header test), make, binutils (nm, readelf)
  meson ninja-build pkg-config
  # libraries
  check              # unit tests (pulls libsubunit-dev)
  libstb-dev         # PNG, BMP decode, BMP encode (Debian ships stb compiled: libstb.so)
  libturbojpeg0-dev  # JPEG decode and encode (libjpeg-turbo's TurboJPEG API)
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
                     # video: demux, decode, H.264 encode (Debian's libavcodec has libx264)
  zlib1g-dev         # PNG writing (lib/image: stb's PNG writer aborts on out-of-memory)
  libxnnpack-dev libpthreadpool-dev   # fast CPU kernels; xnnpack.h includes pthreadpool.h
  # tests and tools
  python3 python3-numpy python3-pytest   # ctypes binding and its tests
  ffmpeg             # test clips and the benchmark's plain transcode (never used by the library)
  abigail-tools      # abidw / abidiff: ABI check against doc/abi/libfaceswap.abi
  # data fetch (scripts/fetch-data.sh: npm pack + apt-get download + sha256)
  ca-certificates
)
if [ "${FS_BENCH_DEPS:-0}" = 1 ]; then
  PACKAGES+=(python3-opencv)   # benchmarks/bench_blend.py: cv2.seamlessClone, the blend stage's yardstick
fi

missing=()
for p in "${PACKAGES[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
# npm is only needed for `npm pack` in fetch-data.sh. A node/npm from another
# source (e.g. NodeSource) counts: Debian's nodejs/npm would conflict with it.
if ! command -v npm >/dev/null 2>&1; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  missing+=(npm)
fi

# fetch-data.sh runs `apt-get download` for its test images: that needs the
# package lists, which a fresh container may not have even when every
# package above is installed.
lists_ok=1
apt-cache show --no-all-versions opencv-doc >/dev/null 2>&1 || lists_ok=0

if [ ${#missing[@]} -eq 0 ] && [ $lists_ok = 1 ]; then
  say "all packages present"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] || say "missing: ${missing[*]}"
  [ $lists_ok = 1 ] || say "apt package lists are empty (apt-get update needed)"
  exit 1
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    say "not root and no sudo: as root, run apt-get update; apt-get install ${missing[*]}"
    exit 1
  fi
  SUDO=sudo
fi
apt() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
apt update -q
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  apt install -y -q --no-install-recommends "${missing[@]}"
fi
say "done"
