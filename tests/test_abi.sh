#!/usr/bin/env bash
# ABI check: compares the built library with the saved baseline
# doc/abi/libfaceswap.abi (abidw output) using abidiff (Debian abigail-tools).
#
# abidiff's exit status is a bit mask: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change (e.g. a removed function). 4 alone also covers
# changes abidiff cannot prove harmless (a changed parameter or struct), so
# with bit 4 the report's summaries decide: added functions or variables are
# allowed (the API grows during a release), anything removed or changed fails.
# FS_ABI_STRICT=1 fails on any difference at all (use it right after
# refreshing the baseline at a release; see doc/abi/README.md).
#
# usage: test_abi.sh LIBRARY BASELINE PUBLIC_HEADERS_DIR
set -euo pipefail
LIB=$1 BASE=$2 HDRS=$3
for t in abidiff readelf; do
  command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not installed (scripts/install-deps.sh installs abigail-tools)"; exit 77; }
done
[ -f "$BASE" ] || { echo "FAIL: no baseline $BASE (make one with scripts/abi-baseline.sh)"; exit 1; }
# (no grep -q: with pipefail, readelf's SIGPIPE would read as "no debug info")
if ! readelf -S "$LIB" | grep '\.debug_info' >/dev/null; then
  # Without DWARF abidiff sees symbols only and would report every type as gone.
  echo "SKIP: $LIB has no debug info (build with -g, e.g. buildtype=debugoptimized)"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
report=$tmp/report
set +e
abidiff --no-show-locs --hd2 "$HDRS" "$BASE" "$LIB" > "$report" 2>&1
rc=$?
set -e
cat "$tmp/report"
echo "abidiff exit status $rc"

if [ $rc = 0 ]; then
  echo "ok: ABI identical to $(basename "$BASE")"
  exit 0
fi
if [ $((rc & 3)) != 0 ]; then
  echo "FAIL: abidiff could not compare (error bits $((rc & 3)))"
  exit 1
fi
if [ $((rc & 8)) != 0 ]; then
  echo "FAIL: incompatible ABI change against $(basename "$BASE")"
  exit 1
fi
if [ "${FS_ABI_STRICT:-0}" != 0 ]; then
  echo "FAIL: ABI differs from $(basename "$BASE") and FS_ABI_STRICT is set"
  exit 1
fi
# Bit 4 only: accept additions, nothing else. Summary lines look like
#   Functions changes summary: 0 Removed, 0 Changed, 3 Added functions
#   Variables changes summary: 0 Removed, 0 Changed, 0 Added variable
#   Function symbols changes summary: 0 Removed, 0 Added function symbol not referenced by debug info
bad=$(grep -E 'changes summary:' "$tmp/report" \
      | grep -E '[1-9][0-9]* (Removed|Changed)' || true)
if [ -n "$bad" ] || ! grep -q 'changes summary:' "$tmp/report"; then
  echo "FAIL: the ABI changed beyond additions:"
  echo "${bad:-(no change summary in the report)}"
  exit 1
fi
echo "ok: only additions against $(basename "$BASE") (allowed until the next release's baseline)"
