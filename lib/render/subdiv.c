/*
 * Midpoint (1 -> 4) subdivision with an open-addressing edge hash, so both
 * triangles of an edge get the same midpoint vertex.
 */
#include "render/subdiv.h"

#include <stdlib.h>
#include <string.h>

void fs_mesh_free(fs_mesh *m)
{
    if (!m)
        return;
    free(m->pos);
    free(m->attr);
    free(m->tri);
    memset(m, 0, sizeof(*m));
}

/* Edge (a < b) -> midpoint vertex; slots with key UINT64_MAX are empty. */
typedef struct edge_map {
    uint64_t *key;
    int32_t *val;
    size_t mask;
} edge_map;

static size_t hash_edge(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k;
}

/* Finds or inserts edge (a, b); *fresh is set when inserted with value v. */
static int32_t edge_get(edge_map *m, int32_t a, int32_t b, int32_t v, int *fresh)
{
    if (a > b) {
        const int32_t t = a;
        a = b, b = t;
    }
    const uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    for (size_t i = hash_edge(k) & m->mask;; i = (i + 1) & m->mask) {
        if (m->key[i] == k) {
            *fresh = 0;
            return m->val[i];
        }
        if (m->key[i] == UINT64_MAX) {
            m->key[i] = k;
            m->val[i] = v;
            *fresh = 1;
            return v;
        }
    }
}

static int mesh_ok(const fs_mesh *m)
{
    if (m->n_vert < 0 || m->n_tri < 0 || m->n_attr < 0 || m->n_attr > 64)
        return 0;
    if ((m->n_vert > 0 && !m->pos) || (m->n_attr > 0 && m->n_vert > 0 && !m->attr) ||
        (m->n_tri > 0 && !m->tri))
        return 0;
    for (int t = 0; t < m->n_tri; t++)
        for (int k = 0; k < 3; k++)
            if (m->tri[t][k] < 0 || m->tri[t][k] >= m->n_vert)
                return 0;
    return 1;
}

/* One level: in -> out (allocated here). Returns 0 on OOM. */
static int subdivide_once(const fs_mesh *in, fs_mesh *out)
{
    const int na = in->n_attr;
    /* Each triangle adds at most 3 new vertices; the table is kept at most half full. */
    const size_t max_new = (size_t)in->n_tri * 3;
    const size_t max_vert = (size_t)in->n_vert + max_new + 1; /* + 1: never malloc(0) */
    size_t cap = 16;
    while (cap < 2 * max_new)
        cap *= 2;
    edge_map m = {malloc(cap * sizeof(uint64_t)), malloc(cap * sizeof(int32_t)), cap - 1};
    memset(out, 0, sizeof(*out));
    out->n_attr = na;
    out->pos = malloc(max_vert * 3 * sizeof(float));
    out->attr = na > 0 ? malloc(max_vert * (size_t)na * sizeof(float)) : NULL;
    out->tri = malloc(((size_t)in->n_tri * 4 + 1) * sizeof(*out->tri));
    if (!m.key || !m.val || !out->pos || (na > 0 && !out->attr) || !out->tri) {
        free(m.key);
        free(m.val);
        fs_mesh_free(out);
        return 0;
    }
    memset(m.key, 0xff, cap * sizeof(uint64_t));
    if (in->n_vert > 0) {
        memcpy(out->pos, in->pos, (size_t)in->n_vert * 3 * sizeof(float));
        if (na > 0)
            memcpy(out->attr, in->attr, (size_t)in->n_vert * (size_t)na * sizeof(float));
    }
    int32_t nv = in->n_vert;
    for (int t = 0; t < in->n_tri; t++) {
        const int32_t *c = in->tri[t];
        int32_t mid[3]; /* mid[k]: midpoint of the edge opposite corner k */
        for (int k = 0; k < 3; k++) {
            const int32_t a = c[(k + 1) % 3], b = c[(k + 2) % 3];
            int fresh;
            mid[k] = edge_get(&m, a, b, nv, &fresh);
            if (!fresh)
                continue;
            for (int i = 0; i < 3; i++)
                out->pos[(size_t)nv * 3 + i] =
                    0.5f * (in->pos[(size_t)a * 3 + i] + in->pos[(size_t)b * 3 + i]);
            for (int i = 0; i < na; i++)
                out->attr[(size_t)nv * na + i] =
                    0.5f * (in->attr[(size_t)a * na + i] + in->attr[(size_t)b * na + i]);
            nv++;
        }
        /* Corner triangles keep the parent's orientation, then the middle one. */
        int32_t(*o)[3] = out->tri + (size_t)t * 4;
        o[0][0] = c[0], o[0][1] = mid[2], o[0][2] = mid[1];
        o[1][0] = mid[2], o[1][1] = c[1], o[1][2] = mid[0];
        o[2][0] = mid[1], o[2][1] = mid[0], o[2][2] = c[2];
        o[3][0] = mid[0], o[3][1] = mid[1], o[3][2] = mid[2];
    }
    free(m.key);
    free(m.val);
    out->n_vert = nv;
    out->n_tri = in->n_tri * 4;
    return 1;
}

static int copy_mesh(const fs_mesh *in, fs_mesh *out)
{
    memset(out, 0, sizeof(*out));
    out->n_attr = in->n_attr;
    const size_t nv = (size_t)in->n_vert, nt = (size_t)in->n_tri;
    out->pos = malloc((nv ? nv : 1) * 3 * sizeof(float));
    out->attr = in->n_attr > 0 ? malloc((nv ? nv : 1) * (size_t)in->n_attr * sizeof(float)) : NULL;
    out->tri = malloc((nt ? nt : 1) * sizeof(*out->tri));
    if (!out->pos || (in->n_attr > 0 && !out->attr) || !out->tri) {
        fs_mesh_free(out);
        return 0;
    }
    if (nv) {
        memcpy(out->pos, in->pos, nv * 3 * sizeof(float));
        if (in->n_attr > 0)
            memcpy(out->attr, in->attr, nv * (size_t)in->n_attr * sizeof(float));
    }
    if (nt)
        memcpy(out->tri, in->tri, nt * sizeof(*out->tri));
    out->n_vert = in->n_vert;
    out->n_tri = in->n_tri;
    return 1;
}

fs_status fs_mesh_subdivide(const fs_mesh *in, int levels, fs_mesh *out, fs_error_buf *err)
{
    if (!out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mesh_subdivide: out is NULL");
    memset(out, 0, sizeof(*out));
    if (!in || !mesh_ok(in))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mesh_subdivide: invalid mesh");
    if (levels < 0 || levels > FS_SUBDIV_MAX_LEVELS)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mesh_subdivide: levels %d not in 0..%d",
                       levels, FS_SUBDIV_MAX_LEVELS);
    /* V grows by at most 3 T per level and T by 4x: bound both before allocating. */
    int64_t nt = in->n_tri, nv = in->n_vert;
    for (int l = 0; l < levels; l++) {
        nv += 3 * nt;
        nt *= 4;
        if (nt > FS_SUBDIV_MAX_TRIANGLES || nv > INT32_MAX)
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                           "fs_mesh_subdivide: %d levels of %d triangles exceed %d", levels,
                           in->n_tri, FS_SUBDIV_MAX_TRIANGLES);
    }
    fs_mesh cur;
    if (!copy_mesh(in, &cur))
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_mesh_subdivide: out of memory");
    for (int l = 0; l < levels; l++) {
        fs_mesh next;
        const int ok = subdivide_once(&cur, &next);
        fs_mesh_free(&cur);
        if (!ok)
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_mesh_subdivide: out of memory");
        cur = next;
    }
    *out = cur;
    return FS_OK;
}
