/*
 * The per-frame engine: the tables of every family of stages, assembled.
 *
 * Why the families are split as they are. Each family is a set of entries
 * that one kind of object needs, with one reference and its own fast paths,
 * declared and registered where its code lives:
 *
 *   nn       (lib/nn/kernel.h, fs_nn_ops)        graph kernels; a model copies this
 *                                                table and needs nothing else
 *   sample   (lib/sample/sample.h, fs_sample_ops) bilinear crops into tensors: the
 *                                                detector, the fitter, the embedder
 *   raster   (lib/render/raster.h, fs_raster_ops) triangles into a window: the renderer
 *   compose  (lib/compose/compose.h)             masks, colour, blends on a face window
 *   swap texture (lib/swap/lookup.h)             the swap's atlas lookup and 8-bit finish
 *
 * The split follows who consumes what (a detector takes nn + sample, a
 * renderer raster + compose + swap texture), so a change to one family
 * recompiles and re-tests only its users, and a backend (the CUDA module)
 * overrides the families it accelerates without seeing the others' types.
 * Colour conversion for video will be a family of its own. Nothing below
 * this header includes it: only the context (lib/context.c, lib/backend.c)
 * and what hands tables to objects do.
 *
 * The engine says what code runs; lib/exec.h says with what (pool, error
 * buffer, later a stream), per call.
 */
#ifndef FS_ENGINE_H
#define FS_ENGINE_H

#include "compose/compose.h"
#include "nn/kernel.h"
#include "render/raster.h"
#include "sample/sample.h"
#include "swap/lookup.h"

typedef struct fs_engine {
    fs_nn_ops nn;
    fs_sample_ops sample;
    fs_raster_ops raster;
    fs_compose_ops compose;
    fs_swap_texture_ops swap;
} fs_engine;

/* Every entry of every family: the plain-C reference. */
void fs_engine_init_reference(fs_engine *e);
/* Overrides entries with the fast CPU paths this machine and build have. */
void fs_engine_init_fast(fs_engine *e);

#endif /* FS_ENGINE_H */
