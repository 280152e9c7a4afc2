#!/usr/bin/env bash
# Runs the whole test suite, as CI does (.ci/run calls this on a clean clone):
#
#   ci    build-ci    --werror build (CUDA module too where CUDA is installed),
#                     the whole `meson test` suite: unit, golden, bad-input,
#                     Python (pytest), export check, header test, ABI check,
#                     install + pkg-config test
#   asan  build-asan  -Db_sanitize=address,undefined, the same suite except the
#                     Python tests (see below); CUDA off (nvcc takes no -fsanitize)
#   ref   build-ref   -Dcuda=disabled -Dxnnpack=disabled, suite run with
#                     FS_FORCE_REFERENCE=1: the plain-C reference path only
#
#   ./scripts/run-tests.sh              # all stages
#   ./scripts/run-tests.sh ci ref       # some stages
#
# Installs missing system packages and fetches the data first (both are no-ops
# when done already). Exits non-zero if any stage fails; prints a summary.
# env: FS_BUILD_PREFIX (default "build": build-ci, build-asan, build-ref),
#      FS_JOBS (ninja jobs, default all cores), FS_SKIP_DEPS=1 (no apt),
#      FS_SETUP_OPTIONS (added to every meson setup, e.g. "-Dcuda=disabled"
#      to time a machine with CUDA as the CUDA-less CI machine).
#
# Why no Python tests under ASan: CPython is not built with AddressSanitizer,
# so ctypes cannot load an ASan-instrumented libfaceswap.so unless libasan is
# LD_PRELOADed into the interpreter, and then LeakSanitizer reports CPython's
# own never-freed allocations. The binding is a thin ctypes layer over the C
# API, whose every path the C tests run under ASan/UBSan; its tests run in the
# ci and ref stages.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PREFIX=${FS_BUILD_PREFIX:-build}
JOBS=${FS_JOBS:-$(nproc)}
STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=(ci asan ref)
for s in "${STAGES[@]}"; do
  case $s in ci|asan|ref) ;; *) echo "run-tests: unknown stage '$s' (ci, asan, ref)" >&2; exit 2 ;; esac
done

T0=$(date +%s)
summary=()
failed=0
say() { printf '\n== run-tests: %s\n' "$*"; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }
record() { # record STAGE STATUS DETAIL
  summary+=("$(printf '%-6s %-5s %s' "$1" "$2" "$3")")
  [ "$2" = ok ] || failed=1
}

if [ "${FS_SKIP_DEPS:-0}" = 0 ]; then
  say "system packages"
  scripts/install-deps.sh || { echo "run-tests: installing packages failed" >&2; exit 1; }
fi
say "models and test data"
scripts/fetch-data.sh || { echo "run-tests: fetching data failed" >&2; exit 1; }

# Counts of one `meson test` run from its JSON log: "N ok, N skipped, N failed: names".
results() {
  /usr/bin/python3 - "$1/meson-logs/testlog.json" <<'EOF'
import json, sys
counts, bad = {}, []
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    print("no test log"); sys.exit(0)
for line in lines:
    t = json.loads(line)
    r = t["result"]
    counts[r] = counts.get(r, 0) + 1
    if r not in ("OK", "SKIP", "EXPECTEDFAIL"):
        bad.append("%s (%s)" % (t["name"], r.lower()))
s = "%d ok, %d skipped" % (counts.get("OK", 0), counts.get("SKIP", 0))
if bad:
    s += ", %d failed: %s" % (len(bad), " ".join(bad))
print(s)
EOF
}

# stage NAME DIR "MESON OPTIONS" "MESON TEST OPTIONS" [ENV=VALUE...]
stage() {
  local name=$1 dir=$2 opts="$3 ${FS_SETUP_OPTIONS:-}" topts=$4
  shift 4
  local t
  t=$(date +%s)
  say "$name: configure $dir ($opts)"
  local setup=(meson setup) log
  log=$(mktemp)
  [ -d "$dir/meson-private" ] && setup+=(--reconfigure)
  # shellcheck disable=SC2086  # option lists are meant to be split
  if ! "${setup[@]}" "$dir" $opts > "$log" 2>&1; then
    cat "$log"; rm -f "$log"
    record "$name" FAIL "meson setup failed ($(elapsed "$t"))"; return
  fi
  # meson's own summary of what this build has (CUDA module, XNNPACK, ...)
  sed -n '/^libfaceswap /,$p' "$log" | grep -v '^$' | head -n 30
  rm -f "$log"
  say "$name: build"
  if ! ninja -C "$dir" -j "$JOBS"; then
    record "$name" FAIL "build failed ($(elapsed "$t"))"; return
  fi
  local tb
  tb=$(date +%s)
  say "$name: test"
  local rc=0
  # shellcheck disable=SC2086
  env "$@" meson test -C "$dir" --print-errorlogs $topts || rc=$?
  local res
  res=$(results "$dir")
  if [ $rc = 0 ]; then
    record "$name" ok "$res (build $((tb - t))s, tests $(elapsed "$tb"))"
  else
    record "$name" FAIL "$res (build $((tb - t))s, tests $(elapsed "$tb"))"
  fi
}

for s in "${STAGES[@]}"; do
  case $s in
    ci)   stage ci "$PREFIX-ci" "--werror" "" ;;
    asan) stage asan "$PREFIX-asan" "-Db_sanitize=address,undefined -Dcuda=disabled" \
                "--no-suite python --timeout-multiplier 4" \
                ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ;;
    ref)  stage ref "$PREFIX-ref" "-Dcuda=disabled -Dxnnpack=disabled" \
                "--timeout-multiplier 4" FS_FORCE_REFERENCE=1 ;;
  esac
done

say "summary ($(elapsed "$T0") in all)"
printf '  %s\n' "${summary[@]}"
if [ $failed != 0 ]; then
  echo "run-tests: FAILED (logs: $PREFIX-*/meson-logs/testlog.txt)"
  exit 1
fi
echo "run-tests: all passed"
