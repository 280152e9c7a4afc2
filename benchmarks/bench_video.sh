#!/usr/bin/env bash
# The video benchmark (doc/video.md): makes the 15-s 1280x720 25-fps template
# with one face of about 250 px (tests/clips/make_clip --scenario bench, with
# its sine track), then runs build/benchmarks/bench_video on it with a
# sample photo. Needs the ffmpeg tool (the clip and the plain-transcode peer).
#
#   benchmarks/bench_video.sh [BUILD] [bench_video options...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
shift || true
export FS_MODEL_DIR=${FS_MODEL_DIR:-$ROOT/data/models}
export FS_TESTDATA_DIR=${FS_TESTDATA_DIR:-$ROOT/data/testdata}
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench_video.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$BUILD/tests/make_clip" --scenario bench "$dir/bench.mp4" "$dir/bench.txt" >/dev/null
echo "bench_video: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$BUILD/benchmarks/bench_video" "$@" "$dir/bench.mp4" "$FS_TESTDATA_DIR/faceapi_sample3.jpg"
