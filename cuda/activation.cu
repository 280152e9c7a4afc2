/*
 * FS_NN_ACTIVATION on the GPU: the same element-wise formulas as the plain-C
 * reference op (lib/nn), one thread per element with a grid-stride loop.
 * The first kernel of the module: small on purpose, it exercises the whole
 * plug-in path (load, probe, install, run) on a real device.
 */
#include <cuda_runtime.h>

#include "kernels.h"
#include "nn/kernel.h"

namespace {

/* One instance per activation, so the per-element switch is resolved at
 * compile time. RELU, CLAMP and PRELU are written as lib/nn/ops_ref.c writes
 * them, so they match it bit for bit, NaN included. SIGMOID uses float expf
 * (no fast-math: <= 2 ulp) and IEEE division, where the reference rounds a
 * double result once: they differ by a few float ulp. */
template <int ACT>
__global__ void activation_kernel(float *data, size_t count, int channels, float lo, float hi,
                                  const float *__restrict__ alpha)
{
    const size_t step = (size_t)blockDim.x * gridDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += step) {
        const float x = data[i];
        float y = x;
        if (ACT == FS_NN_ACT_RELU)
            y = x > 0.0f ? x : 0.0f;
        else if (ACT == FS_NN_ACT_CLAMP)
            y = x < lo ? lo : x > hi ? hi : x;
        else if (ACT == FS_NN_ACT_PRELU)
            y = x >= 0.0f ? x : alpha[i % (size_t)channels] * x;
        else if (ACT == FS_NN_ACT_SIGMOID)
            y = 1.0f / (1.0f + expf(-x));
        data[i] = y;
    }
}

template <int ACT>
cudaError_t launch(float *data, size_t count, int channels, float lo, float hi,
                   const float *alpha, cudaStream_t stream)
{
    const unsigned threads = 256;
    /* Enough blocks to fill any current GPU; the loop covers the rest. */
    const size_t max_blocks = 4096;
    size_t blocks = (count + threads - 1) / threads;
    if (blocks > max_blocks)
        blocks = max_blocks;
    activation_kernel<ACT><<<(unsigned)blocks, threads, 0, stream>>>(data, count, channels, lo, hi,
                                                                     alpha);
    return cudaGetLastError();
}

} // namespace

extern "C" cudaError_t fs_cuda_check_kernels(void)
{
    cudaFuncAttributes attr;
    /* Fails with cudaErrorNoKernelImageForDevice (or a driver error) when
     * the module carries no code this device can run. */
    return cudaFuncGetAttributes(&attr, activation_kernel<FS_NN_ACT_SIGMOID>);
}

extern "C" cudaError_t fs_cuda_activation(float *data, size_t count, int channels, int act,
                                          float clamp_min, float clamp_max, const float *alpha,
                                          cudaStream_t stream)
{
    if (count == 0)
        return cudaSuccess;
    if (channels <= 0)
        return cudaErrorInvalidValue;
    switch (act) {
    case FS_NN_ACT_NONE:
        return launch<FS_NN_ACT_NONE>(data, count, channels, clamp_min, clamp_max, alpha, stream);
    case FS_NN_ACT_RELU:
        return launch<FS_NN_ACT_RELU>(data, count, channels, clamp_min, clamp_max, alpha, stream);
    case FS_NN_ACT_CLAMP:
        return launch<FS_NN_ACT_CLAMP>(data, count, channels, clamp_min, clamp_max, alpha, stream);
    case FS_NN_ACT_PRELU:
        if (!alpha)
            return cudaErrorInvalidValue;
        return launch<FS_NN_ACT_PRELU>(data, count, channels, clamp_min, clamp_max, alpha, stream);
    case FS_NN_ACT_SIGMOID:
        return launch<FS_NN_ACT_SIGMOID>(data, count, channels, clamp_min, clamp_max, alpha,
                                         stream);
    default:
        return cudaErrorInvalidValue;
    }
}
