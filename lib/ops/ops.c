#include "ops/ops.h"

#include <string.h>

/* Each area registers its reference entries here; the fast CPU path then
 * overrides what it accelerates. Entries left NULL are filled by their
 * owners (lib/nn/ops_ref.c, lib/image/sample_ref.c). */
void fs_ops_init_reference(fs_ops *ops)
{
    memset(ops, 0, sizeof(*ops));
}

void fs_ops_init_fast(fs_ops *ops)
{
    (void)ops;
}
