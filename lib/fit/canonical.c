/*
 * Reader of face_geometry.binarypb (MediaPipe's canonical face) in the
 * protobuf wire format. Bounded: every length is checked against what is
 * left, varints stop at 10 bytes, groups (wire types 3, 4) are refused,
 * nesting is fixed (three message types), counts are capped by the struct.
 */
#include "fit/fit_internal.h"
#include "model_files.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const uint8_t *p, *end;
} reader;

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

static int read_varint(reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (r->p >= r->end)
            return 0;
        const uint8_t b = *r->p++;
        if (i == 9 && b > 1)
            return 0; /* more than 64 bits */
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

static int read_f32(reader *r, float *v)
{
    if (r->end - r->p < 4)
        return 0;
    const uint32_t u = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                       (uint32_t)r->p[3] << 24;
    memcpy(v, &u, sizeof(*v));
    r->p += 4;
    return 1;
}

/* A length-delimited payload as a sub-reader. */
static int read_len(reader *r, reader *sub)
{
    uint64_t n;
    if (!read_varint(r, &n) || n > (uint64_t)(r->end - r->p))
        return 0;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 1;
}

static int skip_field(reader *r, int wire)
{
    uint64_t v;
    reader sub;
    switch (wire) {
    case WIRE_VARINT: return read_varint(r, &v);
    case WIRE_I64:
        if (r->end - r->p < 8)
            return 0;
        r->p += 8;
        return 1;
    case WIRE_LEN: return read_len(r, &sub);
    case WIRE_I32:
        if (r->end - r->p < 4)
            return 0;
        r->p += 4;
        return 1;
    default: return 0;
    }
}

static int read_key(reader *r, uint32_t *field, int *wire)
{
    uint64_t k;
    if (!read_varint(r, &k) || (k >> 3) == 0 || (k >> 3) > UINT32_MAX)
        return 0;
    *field = (uint32_t)(k >> 3);
    *wire = (int)(k & 7);
    return 1;
}

typedef struct mesh_state {
    float *vb;     /* vertex buffer destination, vb_cap floats */
    size_t vb_len, vb_cap;
    uint32_t *ib;  /* index buffer destination */
    size_t ib_len, ib_cap;
    uint64_t vertex_type, primitive_type;
} mesh_state;

static int push_float(mesh_state *m, float v)
{
    if (m->vb_len >= m->vb_cap)
        return 0;
    m->vb[m->vb_len++] = v;
    return 1;
}

static int push_index(mesh_state *m, uint64_t v)
{
    if (m->ib_len >= m->ib_cap || v > UINT32_MAX)
        return 0;
    m->ib[m->ib_len++] = (uint32_t)v;
    return 1;
}

static fs_status parse_mesh(reader *r, mesh_state *m, fs_error_buf *err)
{
    static const char *const what = "face_geometry.binarypb: canonical_mesh";
    while (r->p < r->end) {
        uint32_t field;
        int wire;
        if (!read_key(r, &field, &wire))
            return fs_fail(err, FS_ERR_CORRUPT, "%s: bad field key", what);
        if (field == 1 && wire == WIRE_VARINT) {
            if (!read_varint(r, &m->vertex_type))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: bad vertex_type", what);
        } else if (field == 2 && wire == WIRE_VARINT) {
            if (!read_varint(r, &m->primitive_type))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: bad primitive_type", what);
        } else if (field == 3 && wire == WIRE_I32) {
            float v;
            if (!read_f32(r, &v) || !push_float(m, v))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: vertex_buffer truncated or too long", what);
        } else if (field == 3 && wire == WIRE_LEN) {
            reader sub;
            if (!read_len(r, &sub) || (sub.end - sub.p) % 4 != 0)
                return fs_fail(err, FS_ERR_CORRUPT, "%s: bad packed vertex_buffer", what);
            while (sub.p < sub.end) {
                float v;
                if (!read_f32(&sub, &v) || !push_float(m, v))
                    return fs_fail(err, FS_ERR_CORRUPT, "%s: vertex_buffer too long", what);
            }
        } else if (field == 4 && wire == WIRE_VARINT) {
            uint64_t v;
            if (!read_varint(r, &v) || !push_index(m, v))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: index_buffer bad or too long", what);
        } else if (field == 4 && wire == WIRE_LEN) {
            reader sub;
            if (!read_len(r, &sub))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: bad packed index_buffer", what);
            while (sub.p < sub.end) {
                uint64_t v;
                if (!read_varint(&sub, &v) || !push_index(m, v))
                    return fs_fail(err, FS_ERR_CORRUPT, "%s: index_buffer bad or too long", what);
            }
        } else if (!skip_field(r, wire)) {
            return fs_fail(err, FS_ERR_CORRUPT, "%s: field %u (wire type %d) unreadable", what,
                           (unsigned)field, wire);
        }
    }
    return FS_OK;
}

static fs_status parse_basis(reader *r, fs_canonical_face *out, fs_error_buf *err)
{
    static const char *const what = "face_geometry.binarypb: procrustes_landmark_basis";
    uint64_t id = 0;
    float weight = 0.0f;
    while (r->p < r->end) {
        uint32_t field;
        int wire;
        if (!read_key(r, &field, &wire))
            return fs_fail(err, FS_ERR_CORRUPT, "%s: bad field key", what);
        if (field == 1 && wire == WIRE_VARINT) {
            if (!read_varint(r, &id))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: bad landmark_id", what);
        } else if (field == 2 && wire == WIRE_I32) {
            if (!read_f32(r, &weight))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: bad weight", what);
        } else if (!skip_field(r, wire)) {
            return fs_fail(err, FS_ERR_CORRUPT, "%s: field %u unreadable", what, (unsigned)field);
        }
    }
    if (id >= FS_MESH_LANDMARKS)
        return fs_fail(err, FS_ERR_MODEL, "%s: landmark_id %llu out of range", what,
                       (unsigned long long)id);
    if (!isfinite(weight) || weight < 0.0f)
        return fs_fail(err, FS_ERR_MODEL, "%s: weight %g of landmark %d is not a finite value >= 0",
                       what, weight, (int)id);
    if (out->n_basis >= FS_MESH_LANDMARKS)
        return fs_fail(err, FS_ERR_MODEL, "%s: more than %d entries", what, FS_MESH_LANDMARKS);
    out->basis_id[out->n_basis] = (int)id;
    out->basis_weight[out->n_basis] = weight;
    out->n_basis++;
    return FS_OK;
}

static fs_status parse_all(const uint8_t *data, size_t size, float *vbuf, size_t vb_cap,
                           uint32_t *idx, size_t ib_cap, fs_canonical_face *face_out,
                           fs_error_buf *err)
{
    static const char *const what = "face_geometry.binarypb";
    mesh_state m = {.vb = vbuf, .vb_cap = vb_cap, .ib = idx, .ib_cap = ib_cap};
    fs_canonical_face *const fp = face_out;
    int have_mesh = 0;
    reader r = {data, data + size};
    while (r.p < r.end) {
        uint32_t field;
        int wire;
        if (!read_key(&r, &field, &wire))
            return fs_fail(err, FS_ERR_CORRUPT, "%s: bad field key at byte %zu", what,
                           (size_t)(r.p - data));
        fs_status st = FS_OK;
        if (field == 1 && wire == WIRE_LEN) {
            reader sub;
            if (!read_len(&r, &sub))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: canonical_mesh truncated", what);
            st = parse_mesh(&sub, &m, err);
            have_mesh = 1;
        } else if (field == 2 && wire == WIRE_LEN) {
            reader sub;
            if (!read_len(&r, &sub))
                return fs_fail(err, FS_ERR_CORRUPT, "%s: procrustes_landmark_basis truncated", what);
            st = parse_basis(&sub, fp, err);
        } else if (!skip_field(&r, wire)) {
            return fs_fail(err, FS_ERR_CORRUPT, "%s: field %u (wire type %d) unreadable", what,
                           (unsigned)field, wire);
        }
        if (st != FS_OK)
            return st;
    }
    if (!have_mesh)
        return fs_fail(err, FS_ERR_MODEL, "%s: no canonical_mesh", what);
    if (m.vertex_type != 0 || m.primitive_type != 0)
        return fs_fail(err, FS_ERR_MODEL, "%s: vertex_type %llu / primitive_type %llu, expected 0 / 0",
                       what, (unsigned long long)m.vertex_type, (unsigned long long)m.primitive_type);
    if (m.vb_len != (size_t)FS_MESH_LANDMARKS * 5)
        return fs_fail(err, FS_ERR_MODEL, "%s: %zu vertex values, expected %d x 5", what, m.vb_len,
                       FS_MESH_LANDMARKS);
    if (m.ib_len % 3 != 0 || m.ib_len == 0)
        return fs_fail(err, FS_ERR_MODEL, "%s: %zu indices, not whole triangles", what, m.ib_len);
    if (fp->n_basis < 3)
        return fs_fail(err, FS_ERR_MODEL, "%s: %d Procrustes landmarks, need at least 3", what,
                       fp->n_basis);
    double wsum = 0.0;
    for (int i = 0; i < fp->n_basis; i++)
        wsum += fp->basis_weight[i];
    if (!(wsum > 0.0))
        return fs_fail(err, FS_ERR_MODEL, "%s: Procrustes weights sum to zero", what);
    for (int v = 0; v < FS_MESH_LANDMARKS; v++) {
        for (int k = 0; k < 5; k++)
            if (!isfinite(vbuf[5 * v + k]))
                return fs_fail(err, FS_ERR_MODEL, "%s: vertex %d is not finite", what, v);
        fp->vertices[v][0] = vbuf[5 * v];
        fp->vertices[v][1] = vbuf[5 * v + 1];
        fp->vertices[v][2] = vbuf[5 * v + 2];
        fp->uv[v][0] = vbuf[5 * v + 3];
        fp->uv[v][1] = vbuf[5 * v + 4];
    }
    fp->n_triangles = (int)(m.ib_len / 3);
    for (size_t i = 0; i < m.ib_len; i++) {
        if (idx[i] >= FS_MESH_LANDMARKS)
            return fs_fail(err, FS_ERR_MODEL, "%s: triangle index %u out of range", what,
                           (unsigned)idx[i]);
        fp->triangles[i / 3][i % 3] = (uint16_t)idx[i];
    }
    return FS_OK;
}

fs_status fs_canonical_face_parse(const uint8_t *data, size_t size, fs_canonical_face *out,
                                  fs_error_buf *err)
{
    static const char *const what = "face_geometry.binarypb";
    enum { VB_CAP = FS_MESH_LANDMARKS * 5, IB_CAP = FS_CANON_MAX_TRIANGLES * 3 };

    if (!data || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: no data", what);
    if (size == 0)
        return fs_fail(err, FS_ERR_TRUNCATED, "%s: empty", what);

    /* Staged on the heap (about 60 KB) so that *out is written only on
     * success and small thread stacks are safe. */
    struct stage {
        float vb[VB_CAP];
        uint32_t ib[IB_CAP];
        fs_canonical_face face;
    } *sg = calloc(1, sizeof(*sg));
    if (!sg)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
    const fs_status st = parse_all(data, size, sg->vb, VB_CAP, sg->ib, IB_CAP, &sg->face, err);
    if (st == FS_OK)
        *out = sg->face;
    free(sg);
    return st;
}

/* The file is about 30 kB; anything past this is not a canonical face. */
#define GEOMETRY_MAX_SIZE ((size_t)1 << 20)

fs_status fs_canonical_face_load(fs_context *ctx, fs_canonical_face *out, fs_error_buf *err)
{
    uint8_t *geo = NULL;
    size_t geo_size = 0;
    fs_status st =
        fs_model_file_read(ctx, "face_geometry.binarypb", GEOMETRY_MAX_SIZE, err, &geo, &geo_size);
    if (st != FS_OK)
        return st;
    st = fs_canonical_face_parse(geo, geo_size, out, err);
    free(geo);
    return st;
}

float fs_canonical_mirror(const fs_canonical_face *canon, uint16_t mirror[FS_MESH_LANDMARKS])
{
    float worst = 0.0f;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const float rx = -canon->vertices[i][0], ry = canon->vertices[i][1],
                    rz = canon->vertices[i][2];
        float best = FLT_MAX;
        int bj = i;
        for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
            const float dx = canon->vertices[j][0] - rx, dy = canon->vertices[j][1] - ry,
                        dz = canon->vertices[j][2] - rz;
            const float d = dx * dx + dy * dy + dz * dz;
            if (d < best) {
                best = d;
                bj = j;
            }
        }
        mirror[i] = (uint16_t)bj;
        worst = fmaxf(worst, sqrtf(best));
    }
    return worst;
}
