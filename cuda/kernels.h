/*
 * The CUDA side of the module, as the C entry file (module.c) sees it: each
 * kernel family's .cu file exposes plain extern "C" launchers that work on
 * device memory, so that all of libfaceswap's C structures stay in C.
 */
#ifndef FS_CUDA_KERNELS_H
#define FS_CUDA_KERNELS_H

#include <stddef.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Checks that the current device can run this module's kernels (the module
 * carries code for a fixed list of architectures): cudaSuccess, or e.g.
 * cudaErrorNoKernelImageForDevice. Creates the device's primary context.
 */
cudaError_t fs_cuda_check_kernels(void);

/*
 * In-place activation of @p count floats laid out NHWC with @p channels
 * channels, on @p stream. @p act is an fs_nn_act; @p alpha (PRELU only) is
 * device memory with @p channels entries. Returns the launch status.
 */
cudaError_t fs_cuda_activation(float *data, size_t count, int channels, int act, float clamp_min,
                               float clamp_max, const float *alpha, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* FS_CUDA_KERNELS_H */
