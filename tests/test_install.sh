#!/usr/bin/env bash
# Installs the build into a temporary staging root (meson install --destdir),
# builds examples/embed.c against that copy with
# `pkg-config --cflags --libs faceswap`, and runs it on astronaut.png: what a
# downstream project does, without touching the system.
#
# usage: test_install.sh BUILD_ROOT SOURCE_ROOT B_SANITIZE CC_COMMAND...
# env:   FS_MODEL_DIR, FS_TESTDATA_DIR, FS_GOLDEN_DIR (set by tests/meson.build)
set -euo pipefail
BUILD=$1 SRC=$2 SANITIZE=$3
shift 3
CC=("$@")
MESON=${MESON:-meson}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# Install. --no-rebuild: meson test has built everything already, and a
# rebuild from inside a test would race with the other build steps.
if ! "$MESON" install -C "$BUILD" --no-rebuild --destdir "$root" > "$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  echo "FAIL: meson install --destdir"
  exit 1
fi

pc=$(find "$root" -name faceswap.pc -print -quit)
[ -n "$pc" ] || { echo "FAIL: no faceswap.pc installed"; cat "$tmp/install.log"; exit 1; }
# The .pc names the real prefix (e.g. /usr/local); PKG_CONFIG_SYSROOT_DIR maps
# it into the staging root, as for any staged or cross install.
export PKG_CONFIG_PATH=${pc%/*}
export PKG_CONFIG_SYSROOT_DIR=$root
cflags=$(pkg-config --cflags faceswap)
libs=$(pkg-config --libs faceswap)
echo "pkg-config: $cflags $libs"
case " $cflags " in *" -I$root/"*) ;; *) bad "pkg-config --cflags does not point into the staged install: $cflags" ;; esac
# pkgconf applies the sysroot to variables too; pkg-config 0.29 does not.
in_root() { case $1 in "$root"/*) echo "$1" ;; *) echo "$root$1" ;; esac; }
libdir=$(in_root "$(pkg-config --variable=libdir faceswap)")
incdir=$(in_root "$(pkg-config --variable=includedir faceswap)")

# Version and the SONAME links.
want_version=$(sed -n 's/^#define FS_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' "$SRC/include/faceswap/version.h" | paste -sd.)
got_version=$(pkg-config --modversion faceswap)
[ "$got_version" = "$want_version" ] || bad "faceswap.pc version $got_version, version.h says $want_version"
abi=$(sed -n 's/^#define FS_ABI_VERSION \([0-9]*\).*/\1/p' "$SRC/include/faceswap/version.h")
for f in libfaceswap.so "libfaceswap.so.$abi"; do
  [ -e "$libdir/$f" ] || bad "$libdir/$f is not installed"
done

# Every public header is installed.
for h in "$SRC"/include/faceswap/*.h; do
  cmp -s "$h" "$incdir/faceswap/${h##*/}" || bad "include/faceswap/${h##*/} is not installed (or differs) in $incdir/faceswap"
done

# Build the example the way a downstream build would. A sanitized library
# needs a sanitized program (the runtime must come first).
san=()
[ "$SANITIZE" = none ] || [ -z "$SANITIZE" ] || san=("-fsanitize=$SANITIZE")
# shellcheck disable=SC2086  # pkg-config output is meant to be split
if ! "${CC[@]}" -std=c11 -Wall -Wextra -Werror "${san[@]}" "$SRC/examples/embed.c" \
     $cflags $libs -o "$tmp/embed" 2> "$tmp/cc.log"; then
  cat "$tmp/cc.log"
  echo "FAIL: examples/embed.c does not build against the installed library"
  exit 1
fi

# Run it against the installed copy, not the build tree's.
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
resolved=$(ldd "$tmp/embed" | awk '$1 ~ /^libfaceswap\.so/ { print $3 }')
case $resolved in "$libdir"/*) ;; *) bad "embed resolves libfaceswap to '$resolved', not the installed $libdir" ;; esac

img=${FS_TESTDATA_DIR:-$SRC/data/testdata}/astronaut.png
if ! FS_MODEL_DIR=${FS_MODEL_DIR:-$SRC/data/models} "$tmp/embed" "$img" > "$tmp/out" 2> "$tmp/err"; then
  cat "$tmp/out" "$tmp/err"
  echo "FAIL: embed exited with an error on astronaut.png"
  exit 1
fi
cat "$tmp/out"
[ -s "$tmp/err" ] && { echo "stderr:"; cat "$tmp/err"; }

# The output: one face, where the reference puts it (loose: this checks the
# installed library works, test_golden checks the accuracy), 478 landmarks.
grep -qx "libfaceswap $want_version" "$tmp/out" || bad "no 'libfaceswap $want_version' line"
grep -qx "image .*astronaut.png 512x512" "$tmp/out" || bad "no 'image ... 512x512' line"
grep -qx "faces 1" "$tmp/out" || bad "expected 'faces 1'"
golden=${FS_GOLDEN_DIR:-$SRC/tests/golden}/astronaut.txt
gbox=$(awk '$1 == "box" { print $2, $3, $4 - $2, $5 - $3; exit }' "$golden")
box=$(awk '$1 == "face" && $2 == 0 && $3 == "box" { print $4, $5, $6, $7 }' "$tmp/out")
if [ -z "$box" ]; then
  bad "no 'face 0 box' line"
elif ! awk -v a="$box" -v b="$gbox" 'BEGIN { n = split(a, x); split(b, y);
        for (i = 1; i <= 4; i++) if (n != 4 || x[i] - y[i] > 5 || y[i] - x[i] > 5) exit 1 }'; then
  bad "face 0 box ($box) is more than 5 px from the reference's ($gbox)"
fi
conf=$(awk '$1 == "face" && $2 == 0 && $3 == "landmarks" && $4 == 478 { print $6 }' "$tmp/out")
if [ -z "$conf" ]; then
  bad "no 'face 0 landmarks 478' line"
elif ! awk -v c="$conf" 'BEGIN { exit !(c > 0.5 && c <= 1) }'; then
  bad "face 0 confidence $conf, expected > 0.5"
fi

[ $fail = 0 ] && echo "ok: installed into a staging root, embed built with pkg-config and ran"
exit $fail
