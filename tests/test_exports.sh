#!/usr/bin/env bash
# The library exports exactly the functions listed in the linker map, each in
# the version node that lists it, all named fs_*, and its SONAME is
# libfaceswap.so.<FS_ABI_VERSION of include/faceswap/version.h>.
#
# usage: test_exports.sh LIBRARY MAP VERSION_H     (meson passes the built library)
set -euo pipefail
LIB=$1 MAP=$2 VERSION_H=$3
NM=${NM:-nm}
READELF=${READELF:-readelf}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The map, as "symbol node" lines: comments removed, braces, colons and
# semicolons made tokens, then a small state machine: "NODE {" opens a node,
# "global :" / "local :" switch sections, "} [PARENT] ;" closes it (PARENT is
# the inherited node, not a symbol).
sed -e ':a' -e 'N' -e '$!ba' -e 's,/\*\([^*]\|\*[^/]\)*\*/, ,g' "$MAP" \
  | sed -e 's|#.*||' -e 's|\([{};:]\)| \1 |g' | tr -s '[:space:]' '\n' \
  | awk '
      $0 == "" { next }
      $0 == "{" { depth++; node = last; sect = ""; next }
      $0 == "}" { depth--; sect = ""; next }
      $0 == ":" || $0 == ";" { next }
      depth == 1 && ($0 == "global" || $0 == "local") { sect = $0; next }
      depth == 1 && sect == "global" { print $0, node }
      { last = $0 }
    ' > "$tmp/map"

if [ ! -s "$tmp/map" ]; then
  bad "no global symbols found in $MAP"
fi
while read -r sym node; do
  case $sym in
    *[*?\[]*) bad "glob '$sym' in the global section of node $node: the map must list exact names" ;;
    fs_*) ;;
    *) bad "map symbol '$sym' (node $node) does not start with fs_" ;;
  esac
done < "$tmp/map"
dups=$(cut -d' ' -f1 "$tmp/map" | sort | uniq -d)
[ -z "$dups" ] || bad "listed twice in the map: $dups"

# Defined dynamic symbols. Version-node names show up as absolute (A)
# symbols; everything else must be a listed function or object.
"$NM" -D --defined-only "$LIB" > "$tmp/nm"
awk '$2 != "A" { print $3 }' "$tmp/nm" | sed 's/@@*/ /' | sort > "$tmp/exported"
awk '$2 == "A" { print $3 }' "$tmp/nm" | sed 's/@@*.*//' | sort -u > "$tmp/nodes"
cut -d' ' -f1 "$tmp/exported" | sort -u > "$tmp/exported.names"
cut -d' ' -f1 "$tmp/map" | sort -u > "$tmp/map.names"

while read -r sym; do
  case $sym in fs_*) ;; *) bad "exported symbol '$sym' does not start with fs_" ;; esac
done < "$tmp/exported.names"

missing=$(comm -13 "$tmp/exported.names" "$tmp/map.names")
extra=$(comm -23 "$tmp/exported.names" "$tmp/map.names")
if [ -n "$missing" ]; then
  bad "in $(basename "$MAP") but not exported by $(basename "$LIB") ($(echo "$missing" | wc -l)):"
  echo "$missing" | sed 's/^/    /'
fi
if [ -n "$extra" ]; then
  bad "exported but not in $(basename "$MAP") ($(echo "$extra" | wc -l)):"
  echo "$extra" | sed 's/^/    /'
fi

# Each exported symbol carries the version node that lists it.
sort "$tmp/map" > "$tmp/map.sorted"
while read -r sym ver; do
  want=$(awk -v s="$sym" '$1 == s { print $2 }' "$tmp/map.sorted")
  [ -z "$want" ] && continue   # reported above
  [ "$ver" = "$want" ] || bad "$sym has version '${ver:-none}', the map puts it in $want"
done < "$tmp/exported"

# SONAME from version.h.
abi=$(sed -n 's/^#define[[:space:]]\{1,\}FS_ABI_VERSION[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p' "$VERSION_H")
[ -n "$abi" ] || bad "no FS_ABI_VERSION in $VERSION_H"
soname=$("$READELF" -d "$LIB" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libfaceswap.so.$abi" ] || bad "SONAME is '$soname', version.h says libfaceswap.so.$abi"

n=$(wc -l < "$tmp/exported.names")
if [ $fail = 0 ]; then
  echo "ok: $n exported symbols match $(basename "$MAP") ($(wc -l < "$tmp/nodes") version node(s)), SONAME $soname"
fi
exit $fail
