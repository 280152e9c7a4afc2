/*
 * Midpoint subdivision of a triangle mesh: every triangle splits into four
 * (corner triangles first, the middle one last), each edge gains one new
 * vertex shared by the triangles on both sides (found through an edge hash,
 * so the result stays watertight), positions and attributes of the new
 * vertex are the averages of the edge's ends. Per level: V' = V + E,
 * T' = 4 T. The 468-vertex, 898-triangle canonical face (1,365 edges, 36
 * on the boundary) gives 1,833 / 7,257 / 28,881 / 115,233 vertices and
 * 3,592 / 14,368 / 57,472 / 229,888 triangles at levels 1..4
 * (tests/test_raster.c checks V' = V + E and the edge structure).
 */
#ifndef FS_RENDER_SUBDIV_H
#define FS_RENDER_SUBDIV_H

#include <stdint.h>

#include "internal.h"

#define FS_SUBDIV_MAX_LEVELS 6
#define FS_SUBDIV_MAX_TRIANGLES (1 << 24) /* refuses output beyond this */

/* A triangle mesh, owned by whoever filled it (fs_mesh_free for subdivided ones). */
typedef struct fs_mesh {
    int n_vert;
    int n_attr;      /* attributes per vertex (e.g. 2 for UV) */
    float *pos;      /* [n_vert][3] */
    float *attr;     /* [n_vert][n_attr], NULL when n_attr is 0 */
    int n_tri;
    int32_t (*tri)[3];
} fs_mesh;

/*
 * Subdivides @p in @p levels times (0 copies it) into @p out (allocated;
 * release with fs_mesh_free). FS_ERR_INVALID_ARGUMENT for a bad mesh (index
 * out of range, negative counts, levels outside 0..FS_SUBDIV_MAX_LEVELS,
 * output too large), FS_ERR_OUT_OF_MEMORY. On error @p out is zeroed.
 */
fs_status fs_mesh_subdivide(const fs_mesh *in, int levels, fs_mesh *out, fs_error_buf *err);

/* Frees what fs_mesh_subdivide allocated; accepts NULL and a zeroed mesh. */
void fs_mesh_free(fs_mesh *m);

#endif /* FS_RENDER_SUBDIV_H */
