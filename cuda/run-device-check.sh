#!/usr/bin/env bash
# The CUDA module's checks on a machine with an NVIDIA GPU: builds (unless
# --no-build) and runs tests/test_cuda_module.c and tests/test_cuda_gpu.c,
# and fails when the GPU test skips, since here a skip means the module did
# not find the device.
#
# Usage: cuda/run-device-check.sh [BUILD_DIR] [--no-build]
#   BUILD_DIR  default: build-gpu at the source root; configured with
#              -Dcuda=enabled when it does not exist yet.
#   --no-build use BUILD_DIR as it is (e.g. a build folder copied from a
#              machine with the toolkit; the GPU machine then needs only the
#              driver and the CUDA runtime the module links, libcudart.so.13).
# Needs: meson, ninja and Check for a build; nvcc (CUDA >= 12) for the module.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=""
do_build=1
for arg in "$@"; do
    case $arg in
        --no-build) do_build=0 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) build=$arg ;;
    esac
done
build=${build:-$root/build-gpu}

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'DEVICE CHECK FAILED: %s\n' "$*" >&2; exit 1; }

step "device"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=index,name,compute_cap,driver_version,memory.total --format=csv \
        || nvidia-smi -L || true
else
    echo "nvidia-smi not found (the driver may still be present)"
fi

if [ "$do_build" = 1 ]; then
    step "build ($build)"
    if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" "$root" -Dcuda=enabled
    fi
    # The library's target carries its full version (libfaceswap.so.X.Y.Z).
    core_target=$(ninja -C "$build" -t targets all |
        sed -n 's|^\(lib/libfaceswap\.so\.[0-9.]*[0-9]\): .*LINKER$|\1|p')
    ninja -C "$build" "$core_target" cuda/libfaceswap-cuda.so \
        tests/test_cuda_module tests/test_cuda_gpu
fi

[ -d "$build" ] || fail "no build folder $build"
build=$(cd "$build" && pwd)
module="$build/cuda/libfaceswap-cuda.so"
[ -f "$module" ] || fail "$module missing: configure with -Dcuda=enabled"

step "the core library links no CUDA library"
core=$(ls "$build"/lib/libfaceswap.so.*[0-9] | tail -n 1)
[ -f "$core" ] || fail "no libfaceswap.so.X.Y.Z in $build/lib"
readelf -d "$core" | grep NEEDED
if readelf -d "$core" | grep NEEDED | grep -Eiq 'cuda|cublas|cudnn'; then
    fail "libfaceswap.so has a CUDA library in NEEDED"
fi
echo "module:"
readelf -d "$module" | grep -E 'NEEDED|RUNPATH' || true

step "cuda_module (plumbing; forks per test)"
FS_CUDA_MODULE=$module FS_BUILD_ROOT=$build "$build/tests/test_cuda_module" \
    || fail "test_cuda_module"

step "cuda_gpu (kernels vs the C reference; no fork)"
set +e
FS_CUDA_MODULE=$module FS_BUILD_ROOT=$build "$build/tests/test_cuda_gpu"
rc=$?
set -e
case $rc in
    0) ;;
    77) fail "test_cuda_gpu skipped: the module found no usable GPU (reason above)" ;;
    *) fail "test_cuda_gpu exited $rc" ;;
esac

step "all CUDA device checks passed"
