/* Assembles the families' tables (engine.h); each family registers its own. */
#include "engine.h"

#include <string.h>

#include "nn/ops_kernels.h"

void fs_engine_init_reference(fs_engine *e)
{
    memset(e, 0, sizeof(*e));
    fs_nn_ops_init_reference(&e->nn);
    fs_sample_ops_init_reference(&e->sample);
    fs_raster_ops_init_reference(&e->raster);
    fs_compose_ops_init_reference(&e->compose);
    fs_swap_texture_ops_init_reference(&e->swap);
}

void fs_engine_init_fast(fs_engine *e)
{
    fs_nn_ops_init_fast(&e->nn);
    fs_sample_ops_init_fast(&e->sample);
    fs_raster_ops_init_fast(&e->raster);
    fs_compose_ops_init_fast(&e->compose);
    fs_swap_texture_ops_init_fast(&e->swap);
}
