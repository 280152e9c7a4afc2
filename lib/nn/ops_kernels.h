/*
 * The nn family's registration (reference, own SIMD, XNNPACK) into an
 * fs_nn_ops table, and the desc checks every kernel set shares. Called by
 * lib/engine.c, the graph runtime (its reference fallback) and tests.
 */
#ifndef FS_NN_OPS_KERNELS_H
#define FS_NN_OPS_KERNELS_H

#include "faceswap/common.h"
#include "nn/kernel.h"

/* Fills every entry with the plain-C reference kernels (lib/nn/ops_ref.c). */
void fs_nn_ops_ref_register(fs_nn_ops *ops);

/* The reference, then the fast CPU kernels this machine and build have
 * (own SIMD at the CPU's best level, then XNNPACK). */
void fs_nn_ops_init_reference(fs_nn_ops *ops);
void fs_nn_ops_init_fast(fs_nn_ops *ops);

/* Own SIMD kernels (lib/nn/ops_simd.c), by instruction-set level. */
enum { FS_NN_SIMD_NONE = 0, FS_NN_SIMD_AVX2 = 1, FS_NN_SIMD_AVX512 = 2 };

/* The best level this CPU runs. */
int fs_nn_simd_level(void);

/*
 * Overrides ACTIVATION (not SIGMOID), BINARY (equal shapes or a constant),
 * DEPTHWISE_CONV2D (multiplier 1) with the kernels of @p level, and PAD at
 * any level. Does nothing if the CPU lacks @p level. Tests register each
 * level the machine has to check every variant. The ACTIVATION kernel may
 * run in place (output == input), which the XNNPACK kernels rely on.
 */
void fs_nn_ops_simd_register(fs_nn_ops *ops, int level);

#if defined(FS_HAVE_XNNPACK)
/* Overrides the entries XNNPACK accelerates (lib/nn/ops_xnnpack.c). Each
 * overriding create() declines (FS_ERR_UNSUPPORTED) what it cannot run. */
void fs_nn_ops_xnnpack_register(fs_nn_ops *ops);
#endif

/* XNNPACK alone, without handing ops to the own SIMD kernels: for tests
 * (XNNPACK's own paths against the reference) and benchmarks. Returns 0 and
 * changes nothing in a build without XNNPACK (declared in every build, so
 * that tests need not know how the library was configured). */
int fs_nn_ops_xnnpack_alone_register(fs_nn_ops *ops);

/*
 * Full validation of a desc, independent of any backend: every shape
 * positive and consistent with the op's attributes, pointers present where
 * the op reads them, no size overflow. FS_OK or FS_ERR_INVALID_ARGUMENT.
 * Every backend's create() calls it first, so a backend never sees nonsense.
 */
fs_status fs_nn_desc_validate(const fs_nn_op_desc *d);

/* Output extent of a window op along one axis (no overflow: int64). */
long long fs_nn_window_out(long long in, int pad_before, int pad_after, int kernel, int stride,
                           int dilation);

#endif /* FS_NN_OPS_KERNELS_H */
