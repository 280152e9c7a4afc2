#!/usr/bin/env bash
# Runs the benchmarks on one core and prints one JSON object:
#   models:    bench_models   (BlazeFace, FaceMesh, Iris x2: fast and reference kernels)
#   pipeline:  bench_pipeline (detect, detect + fit per image, public API;
#              default settings, and --compat: the reference's settings)
#   tfjs:      tfjs_reference.sh (TensorFlow.js WASM on the same images; "skipped" without it)
#
#   benchmarks/run.sh [--build DIR] [--reps N] [--out FILE] [IMAGE...]
#
# DIR defaults to build/ (configure it as release or debugoptimized; a debug
# build's figures mean nothing). Images default to the test images the
# agreement tests use. Pinned with taskset -c 0 where taskset exists.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build"
REPS=50
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --help|-h) sed -n '2,11p' "$0"; exit 0 ;;
    --*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -gt 0 ]; then
  IMAGES=("$@")
else
  IMAGES=("$ROOT/data/testdata/astronaut.png" "$ROOT/data/testdata/messi5.jpg"
          "$ROOT/data/testdata/faceapi_sample5.jpg")
fi
for exe in bench_models bench_pipeline; do
  if [ ! -x "$BUILD/benchmarks/$exe" ]; then
    echo "run.sh: $BUILD/benchmarks/$exe not built (ninja -C $BUILD)" >&2
    exit 1
  fi
done
BUILDTYPE=$(python3 -c 'import json,sys
opts = json.load(open(sys.argv[1]))
print(next((o["value"] for o in opts if o["name"] == "buildtype"), "unknown"))' \
  "$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null || echo unknown)
case "$BUILDTYPE" in
  release|debugoptimized) ;;
  *) echo "run.sh: warning: $BUILD is a '$BUILDTYPE' build; figures are not representative" >&2 ;;
esac
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 0"
export FS_MODEL_DIR="${FS_MODEL_DIR:-$ROOT/data/models}"

models=$($PIN "$BUILD/benchmarks/bench_models" --reps "$REPS" --ref-reps 5)
pipeline=$($PIN "$BUILD/benchmarks/bench_pipeline" --reps "$REPS" "${IMAGES[@]}")
pipeline_compat=$($PIN "$BUILD/benchmarks/bench_pipeline" --compat --reps "$REPS" "${IMAGES[@]}")
tfjs=$("$ROOT/benchmarks/tfjs_reference.sh" --reps 20 "${IMAGES[@]}")

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
result=$(printf '{"cpu":"%s","cores_used":1,"buildtype":"%s","date":"%s","models":%s,"pipeline":%s,"pipeline_compat":%s,"tfjs":%s}' \
  "${cpu:-unknown}" "$BUILDTYPE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$models" "$pipeline" "$pipeline_compat" "$tfjs")
if [ -n "$OUT" ]; then
  printf '%s\n' "$result" >"$OUT"
fi
printf '%s\n' "$result"
