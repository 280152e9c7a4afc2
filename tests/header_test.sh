#!/usr/bin/env bash
# Every public header compiles alone (and included twice) as C99 and as
# C++11, with -Wall -Wextra -Werror -pedantic, and pulls in no CUDA or FFmpeg
# header. A C++ file also checks that the API has C linkage (extern "C").
#
# usage: header_test.sh INCLUDE_DIR CC_COMMAND... -- CXX_COMMAND...
#   meson passes the C compiler it uses (cc.cmd_array()) and the C++ one.
set -euo pipefail
INC=$1; shift
CC=() CXX=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do CC+=("$1"); shift; done
[ $# -gt 0 ] && shift
CXX=("$@")
[ ${#CC[@]} -gt 0 ] || { echo "FAIL: no C compiler given"; exit 1; }
if [ ${#CXX[@]} -eq 0 ]; then
  echo "FAIL: no C++ compiler found (install g++: scripts/install-deps.sh)"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
WARN=(-Wall -Wextra -Werror -pedantic)
fail=0 n=0
headers=("$INC"/faceswap/*.h)
[ -e "${headers[0]}" ] || { echo "FAIL: no headers in $INC/faceswap"; exit 1; }
for h in "${headers[@]}"; do
  name=faceswap/$(basename "$h")
  n=$((n + 1))
  if grep -nE '#[[:space:]]*include[[:space:]]*[<"](cuda|cudnn|cublas|libav|libsw)' "$h"; then
    echo "FAIL: $name includes a CUDA or FFmpeg header"
    fail=1
  fi
  printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$name" "$name" > "$tmp/t.c"
  if ! "${CC[@]}" -std=c99 "${WARN[@]}" -Wstrict-prototypes -Wmissing-prototypes \
       -I"$INC" -c "$tmp/t.c" -o "$tmp/t.o" 2> "$tmp/err"; then
    echo "FAIL: $name as C99:"; sed 's/^/    /' "$tmp/err"; fail=1
  fi
  printf '#include <%s>\n#include <%s>\nint main() { return 0; }\n' "$name" "$name" > "$tmp/t.cpp"
  if ! "${CXX[@]}" -std=c++11 "${WARN[@]}" -I"$INC" -c "$tmp/t.cpp" -o "$tmp/t.o" 2> "$tmp/err"; then
    echo "FAIL: $name as C++11:"; sed 's/^/    /' "$tmp/err"; fail=1
  fi
done

# C linkage: a C++ file taking the address of a few entry points must refer
# to the unmangled names.
cat > "$tmp/link.cpp" <<'EOF'
#include <faceswap/faceswap.h>
int fs_header_test_calls();
int fs_header_test_calls()
{
    fs_context *ctx = 0;
    return (fs_status_name(FS_OK) != 0) + fs_version() + fs_context_create(&ctx);
}
EOF
if "${CXX[@]}" -std=c++11 "${WARN[@]}" -I"$INC" -c "$tmp/link.cpp" -o "$tmp/link.o" 2> "$tmp/err"; then
  undef=$(nm -u "$tmp/link.o" | awk '{ print $2 }' | grep fs_ || true)
  for s in fs_status_name fs_version fs_context_create; do
    # A here-string, not a pipe: under pipefail, grep -q leaving at its
    # match could kill a still-writing echo with SIGPIPE and fail the check.
    grep -qx "$s" <<< "$undef" || { echo "FAIL: $s is not referenced with C linkage (mangled: $(echo "$undef" | tr '\n' ' '))"; fail=1; }
  done
else
  echo "FAIL: faceswap.h C linkage check:"; sed 's/^/    /' "$tmp/err"; fail=1
fi

[ $fail = 0 ] && echo "ok: $n public headers compile alone as C99 and C++11 (${WARN[*]})"
exit $fail
