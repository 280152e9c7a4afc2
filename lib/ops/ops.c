#include "ops/ops.h"
#include "ops/sample.h"
#include "nn/ops_kernels.h"
#include "compose/filter.h"
#include "swap/lookup.h"

#include <string.h>

/* Each area registers its reference entries here; the fast CPU path then
 * overrides what it accelerates. Entries left NULL are filled by their
 * owners (lib/nn/ops_ref.c, lib/image/sample_ref.c). */
void fs_ops_init_reference(fs_ops *ops)
{
    memset(ops, 0, sizeof(*ops));
    fs_sample_init_reference(ops);
    fs_nn_ops_ref_register(ops);
    fs_compose_ops_register(ops, 0);
    fs_swap_ops_register(ops);
    ops->raster_triangles = fs_raster_triangles_ref;
}

void fs_ops_init_fast(fs_ops *ops)
{
    fs_sample_init_fast(ops);
    fs_compose_ops_register(ops, 1);
    ops->raster_triangles = fs_raster_triangles_fast;
    ops->swap_lookup = fs_swap_lookup_fast;
    fs_nn_ops_simd_register(ops, fs_nn_simd_level());
#if defined(FS_HAVE_XNNPACK)
    fs_nn_ops_xnnpack_register(ops); /* after SIMD: it hands some ops back to it */
#endif
}
