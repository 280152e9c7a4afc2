#!/usr/bin/env bash
# Times the TensorFlow.js reference (../shared/refharness, WASM backend, one
# thread) on the same images as bench_pipeline: median ms of human.detect()
# per image (detector + FaceMesh + Iris, decode excluded), pinned to one core.
#   tfjs_reference.sh [--reps N] IMAGE...
# The harness is looked for in $FS_REFHARNESS, then ../shared/refharness and
# build/refharness; it needs its node_modules (npm install there). Without it
# this prints a "skipped" line and exits 0: the comparison is optional.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPS=20
if [ "${1:-}" = "--reps" ]; then REPS=$2; shift 2; fi
H=""
for d in "${FS_REFHARNESS:-}" "$ROOT/../shared/refharness" "$ROOT/build/refharness"; do
  if [ -n "$d" ] && [ -f "$d/golden.js" ] && [ -d "$d/node_modules/@tensorflow/tfjs-core" ]; then H=$d; break; fi
done
if [ -z "$H" ] || ! command -v node >/dev/null; then
  echo '{"benchmark":"tfjs_reference","skipped":"reference harness with node_modules not found (set FS_REFHARNESS)"}'
  exit 0
fi
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 0"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
first=1
printf '{"benchmark":"tfjs_reference","backend":"wasm","reps":%d,"harness":"%s","images":[' "$REPS" "$H"
for img in "$@"; do
  $PIN node "$H/golden.js" --backend wasm --max-faces 10 --repeat "$REPS" --compact \
      --out "$TMP/out.json" "$img" 2>"$TMP/err.txt" >/dev/null || { cat "$TMP/err.txt" >&2; exit 1; }
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const t = r.timingMs.humanDetectRepeats.slice().sort((a, b) => a - b);
    const m = t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
    process.stderr.write(`${process.argv[2]}: tfjs wasm human.detect median ${m} ms over ${t.length} runs, faces=${r.human.faces.length}\n`);
    process.stdout.write(`${process.argv[3] === "1" ? "" : ","}{"image":${JSON.stringify(process.argv[2])},"faces":${r.human.faces.length},"detect_fit_ms":${m}}`);
  ' "$TMP/out.json" "$img" "$first"
  first=0
done
printf ']}\n'
