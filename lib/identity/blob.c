/*
 * Identity blob: writer and bounded, validating reader (see blob.h).
 */
#include "identity/blob.h"
#include "atomic_file.h"
#include "bytes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

#define FIXED_PAYLOAD (4u * 4u + 6u * 4u + (uint32_t)FS_LANDMARKS * 3u * 4u)
/* Version 2's light block after the texels; version 3 adds the albedo's
 * scale to it. */
#define LIGHT_BYTES (4u + 3u * FS_SHADE_TERMS * 4u + 4u)
#define SCALE_BYTES 4u
/* Version 4's skin colour model: u32 components, then per component (all
 * FS_SKIN_COMPONENTS, unused ones zero) f32 weight, mean[3], icov[6]. */
#define SKIN_BYTES (4u + (uint32_t)FS_SKIN_COMPONENTS * 10u * 4u)
#define MAX_FILE_SIZE ((size_t)64 << 20)

static const uint8_t magic[4] = {'F', 'S', 'I', 'D'};

static size_t blob_size(int n, uint32_t version)
{
    if (n < FS_ATLAS_MIN_SIZE || n > FS_ATLAS_MAX_SIZE)
        return 0;
    return FS_ID_BLOB_HEADER + FIXED_PAYLOAD + (size_t)n * (size_t)n * 5u +
           (version >= 2 ? LIGHT_BYTES : 0u) + (version >= 3 ? SCALE_BYTES : 0u) +
           (version >= 4 ? SKIN_BYTES : 0u);
}

size_t fs_identity_blob_size(int n)
{
    return blob_size(n, FS_ID_BLOB_VERSION);
}

static void digest(const uint8_t *blob, size_t payload_len, uint8_t out[FS_SHA256_SIZE])
{
    fs_sha256_ctx c;
    fs_sha256_init(&c);
    fs_sha256_update(&c, blob, 16);
    fs_sha256_update(&c, blob + FS_ID_BLOB_HEADER, payload_len);
    fs_sha256_final(&c, out);
}

static int in_range(float v, float lo, float hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

/* Checks the fields of @p id: the same rules for saving and loading, so a
 * saved blob always loads. Returns NULL or what is wrong. */
static const char *check_fields(const fs_identity_data *id, char *why, size_t why_size)
{
    const int n = id->atlas.size;
    if (n < FS_ATLAS_MIN_SIZE || n > FS_ATLAS_MAX_SIZE || !id->atlas.rgba || !id->atlas.weight) {
        snprintf(why, why_size, "atlas size %d", n);
        return why;
    }
    if (id->source_width < 1 || id->source_width > FS_ID_MAX_SOURCE_SIDE ||
        id->source_height < 1 || id->source_height > FS_ID_MAX_SOURCE_SIDE) {
        snprintf(why, why_size, "source size %dx%d", (int)id->source_width,
                 (int)id->source_height);
        return why;
    }
    if (id->library_version == 0 || id->library_version >= (uint32_t)FS_VERSION_NUMBER(100, 0, 0)) {
        snprintf(why, why_size, "library version %u", (unsigned)id->library_version);
        return why;
    }
    /* CIELAB of sRGB: L* 0..100, a* and b* within about +-130. */
    if (!in_range(id->atlas.lab_mean[0], 0.0f, 100.5f) ||
        !in_range(id->atlas.lab_mean[1], -130.0f, 130.0f) ||
        !in_range(id->atlas.lab_mean[2], -130.0f, 130.0f) ||
        !in_range(id->atlas.lab_std[0], 0.0f, 100.0f) ||
        !in_range(id->atlas.lab_std[1], 0.0f, 200.0f) ||
        !in_range(id->atlas.lab_std[2], 0.0f, 200.0f)) {
        snprintf(why, why_size, "colour statistics out of range");
        return why;
    }
    const fs_shading *L = &id->atlas.light;
    if (L->n_fit < 0 || !in_range(id->atlas.highlight_margin, 0.0f, 100.0f)) {
        snprintf(why, why_size, "light fit of %d samples, highlight margin %g", (int)L->n_fit,
                 (double)id->atlas.highlight_margin);
        return why;
    }
    fs_skin_model skin = id->atlas.skin;
    if (!fs_skin_model_check(&skin)) {
        snprintf(why, why_size, "skin colour model");
        return why;
    }
    if (!in_range(id->atlas.albedo_scale, 1.0f, 16.0f)) {
        snprintf(why, why_size, "albedo scale %g", (double)id->atlas.albedo_scale);
        return why;
    }
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < FS_SHADE_TERMS; k++)
            if (!in_range(L->coeff[c][k], -1000.0f, 1000.0f)) {
                snprintf(why, why_size, "light coefficient out of range");
                return why;
            }
    /* Landmarks may leave the image a little (a face at the border), not far. */
    const float side = (float)(id->source_width > id->source_height ? id->source_width
                                                                     : id->source_height);
    for (int i = 0; i < FS_LANDMARKS; i++) {
        for (int c = 0; c < 3; c++) {
            if (!in_range(id->landmarks[i][c], -4.0f * side, 5.0f * side)) {
                snprintf(why, why_size, "landmark %d out of range", i);
                return why;
            }
        }
    }
    const size_t texels = (size_t)n * (size_t)n;
    for (size_t i = 0; i < texels; i++) {
        const uint8_t *t = id->atlas.rgba + i * 4;
        const uint8_t w = id->atlas.weight[i];
        /* Outside the footprint everything is zero; inside, alpha is full
         * and the weight at least 1 (fs_atlas_build's invariants). */
        if (t[3] == 0 ? (t[0] | t[1] | t[2] | w) != 0 : (t[3] != 255 || w == 0)) {
            snprintf(why, why_size, "texel %zu: alpha %u weight %u", i, (unsigned)t[3],
                     (unsigned)w);
            return why;
        }
    }
    return NULL;
}

fs_status fs_identity_blob_save(const fs_identity_data *id, uint8_t **out, size_t *out_size,
                                fs_error_buf *err)
{
    if (!id || !out || !out_size)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "identity save: NULL argument");
    char why[128];
    if (check_fields(id, why, sizeof(why)))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "identity save: %s", why);
    const int n = id->atlas.size;
    const size_t total = fs_identity_blob_size(n);
    uint8_t *b = malloc(total);
    if (!b)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "identity save: out of memory");
    const size_t payload_len = total - FS_ID_BLOB_HEADER;
    memcpy(b, magic, 4);
    fs_put_u32(b + 4, FS_ID_BLOB_VERSION);
    fs_put_u32(b + 8, FS_ID_BLOB_HEADER);
    fs_put_u32(b + 12, (uint32_t)payload_len);
    uint8_t *p = b + FS_ID_BLOB_HEADER;
    fs_put_u32(p, id->library_version);
    fs_put_u32(p + 4, (uint32_t)n);
    fs_put_u32(p + 8, (uint32_t)id->source_width);
    fs_put_u32(p + 12, (uint32_t)id->source_height);
    p += 16;
    for (int c = 0; c < 3; c++, p += 4)
        fs_put_f32(p, id->atlas.lab_mean[c]);
    for (int c = 0; c < 3; c++, p += 4)
        fs_put_f32(p, id->atlas.lab_std[c]);
    for (int i = 0; i < FS_LANDMARKS; i++)
        for (int c = 0; c < 3; c++, p += 4)
            fs_put_f32(p, id->landmarks[i][c]);
    const size_t texels = (size_t)n * (size_t)n;
    memcpy(p, id->atlas.rgba, texels * 4);
    memcpy(p + texels * 4, id->atlas.weight, texels);
    p += texels * 5;
    fs_put_u32(p, (uint32_t)id->atlas.light.n_fit);
    p += 4;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < FS_SHADE_TERMS; k++, p += 4)
            fs_put_f32(p, id->atlas.light.coeff[c][k]);
    fs_put_f32(p, id->atlas.highlight_margin);
    fs_put_f32(p + 4, id->atlas.albedo_scale);
    p += 8;
    fs_put_u32(p, (uint32_t)id->atlas.skin.k);
    p += 4;
    for (int j = 0; j < FS_SKIN_COMPONENTS; j++) {
        const int used = j < id->atlas.skin.k;
        fs_put_f32(p, used ? id->atlas.skin.weight[j] : 0.0f);
        p += 4;
        for (int c = 0; c < 3; c++, p += 4)
            fs_put_f32(p, used ? id->atlas.skin.mean[j][c] : 0.0f);
        for (int c = 0; c < 6; c++, p += 4)
            fs_put_f32(p, used ? id->atlas.skin.icov[j][c] : 0.0f);
    }
    digest(b, payload_len, b + 16);
    *out = b;
    *out_size = total;
    return FS_OK;
}

fs_status fs_identity_blob_load(const uint8_t *data, size_t size, fs_identity_data *out,
                                fs_error_buf *err)
{
    if (!out || (!data && size))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "identity load: NULL argument");
    if (size >= 4 && memcmp(data, magic, 4) != 0)
        return fs_fail(err, FS_ERR_CORRUPT, "identity load: not an identity (no FSID magic)");
    if (size < FS_ID_BLOB_HEADER)
        return fs_fail(err, FS_ERR_TRUNCATED, "identity load: %zu bytes, header needs %u", size,
                       FS_ID_BLOB_HEADER);
    const uint32_t version = fs_get_u32(data + 4);
    if (version < 1 || version > FS_ID_BLOB_VERSION)
        return fs_fail(err, FS_ERR_VERSION,
                       "identity load: format version %u, this library reads 1 to %u",
                       (unsigned)version, FS_ID_BLOB_VERSION);
    if (fs_get_u32(data + 8) != FS_ID_BLOB_HEADER)
        return fs_fail(err, FS_ERR_CORRUPT, "identity load: header size %u",
                       (unsigned)fs_get_u32(data + 8));
    const size_t payload_len = fs_get_u32(data + 12);
    if (size - FS_ID_BLOB_HEADER < payload_len)
        return fs_fail(err, FS_ERR_TRUNCATED, "identity load: %zu payload bytes of %zu",
                       size - FS_ID_BLOB_HEADER, payload_len);
    if (size - FS_ID_BLOB_HEADER > payload_len)
        return fs_fail(err, FS_ERR_CORRUPT, "identity load: %zu bytes after the payload",
                       size - FS_ID_BLOB_HEADER - payload_len);
    uint8_t sum[FS_SHA256_SIZE];
    digest(data, payload_len, sum);
    if (memcmp(sum, data + 16, FS_SHA256_SIZE) != 0)
        return fs_fail(err, FS_ERR_CHECKSUM, "identity load: checksum mismatch");

    const uint8_t *p = data + FS_ID_BLOB_HEADER;
    if (payload_len < FIXED_PAYLOAD)
        return fs_fail(err, FS_ERR_CORRUPT, "identity load: payload of %zu bytes", payload_len);
    const uint32_t n = fs_get_u32(p + 4);
    if (n < FS_ATLAS_MIN_SIZE || n > FS_ATLAS_MAX_SIZE)
        return fs_fail(err, FS_ERR_CORRUPT, "identity load: atlas size %u", (unsigned)n);
    if (blob_size((int)n, version) != size)
        return fs_fail(err, FS_ERR_CORRUPT, "identity load: %zu bytes for a %ux%u atlas", size,
                       (unsigned)n, (unsigned)n);

    /* Judged as stored, before the int32 fields could show a wrapped value. */
    const uint32_t sw = fs_get_u32(p + 8), sh = fs_get_u32(p + 12);
    if (sw < 1 || sw > FS_ID_MAX_SOURCE_SIDE || sh < 1 || sh > FS_ID_MAX_SOURCE_SIDE)
        return fs_fail(err, FS_ERR_CORRUPT, "identity load: source size %ux%u (sides are 1..%d)",
                       (unsigned)sw, (unsigned)sh, FS_ID_MAX_SOURCE_SIDE);

    fs_identity_data id;
    memset(&id, 0, sizeof(id));
    id.library_version = fs_get_u32(p);
    id.atlas.size = (int)n;
    id.source_width = (int32_t)sw;
    id.source_height = (int32_t)sh;
    p += 16;
    for (int c = 0; c < 3; c++, p += 4)
        id.atlas.lab_mean[c] = fs_get_f32(p);
    for (int c = 0; c < 3; c++, p += 4)
        id.atlas.lab_std[c] = fs_get_f32(p);
    for (int i = 0; i < FS_LANDMARKS; i++)
        for (int c = 0; c < 3; c++, p += 4)
            id.landmarks[i][c] = fs_get_f32(p);
    const size_t texels = (size_t)n * n;
    id.atlas.rgba = malloc(texels * 4);
    id.atlas.weight = malloc(texels);
    if (!id.atlas.rgba || !id.atlas.weight) {
        fs_atlas_free(&id.atlas);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "identity load: out of memory");
    }
    memcpy(id.atlas.rgba, p, texels * 4);
    memcpy(id.atlas.weight, p + texels * 4, texels);
    fs_shading_flat(&id.atlas.light);
    id.atlas.albedo_scale = 1.0f; /* before version 3: the albedo as it is */
    if (version >= 2) {
        p += texels * 5;
        const uint32_t nf = fs_get_u32(p);
        id.atlas.light.n_fit = nf > INT32_MAX ? -1 : (int32_t)nf; /* -1: refused below */
        p += 4;
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < FS_SHADE_TERMS; k++, p += 4)
                id.atlas.light.coeff[c][k] = fs_get_f32(p);
        id.atlas.highlight_margin = fs_get_f32(p);
        if (version >= 3)
            id.atlas.albedo_scale = fs_get_f32(p + 4);
        if (version >= 4) {
            p += 8;
            const uint32_t k = fs_get_u32(p);
            /* Out of range: refused below (fs_skin_model_check). */
            id.atlas.skin.k = k > FS_SKIN_COMPONENTS ? -1 : (int32_t)k;
            p += 4;
            for (int j = 0; j < FS_SKIN_COMPONENTS; j++) {
                id.atlas.skin.weight[j] = fs_get_f32(p);
                p += 4;
                for (int c = 0; c < 3; c++, p += 4)
                    id.atlas.skin.mean[j][c] = fs_get_f32(p);
                for (int c = 0; c < 6; c++, p += 4)
                    id.atlas.skin.icov[j][c] = fs_get_f32(p);
            }
        }
    }
    char why[128];
    if (check_fields(&id, why, sizeof(why))) {
        fs_atlas_free(&id.atlas);
        return fs_fail(err, FS_ERR_CORRUPT, "identity load: %s", why);
    }
    fs_skin_model_check(&id.atlas.skin); /* its log-normalisers, from what was read */
    for (size_t i = 0; i < texels; i++)
        id.atlas.n_footprint += id.atlas.rgba[i * 4 + 3] != 0;
    *out = id;
    return FS_OK;
}

void fs_identity_data_free(fs_identity_data *id)
{
    if (id)
        fs_atlas_free(&id->atlas);
}

fs_status fs_identity_blob_write_file(const fs_identity_data *id, const char *path,
                                      fs_error_buf *err)
{
    if (!path)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "identity write: NULL path");
    uint8_t *blob = NULL;
    size_t size = 0;
    fs_status st = fs_identity_blob_save(id, &blob, &size, err);
    if (st != FS_OK)
        return st;
    fs_atomic_file af;
    st = fs_atomic_file_open(&af, path, err);
    if (st == FS_OK) {
        const int ok = fwrite(blob, 1, size, af.f) == size;
        st = fs_atomic_file_close(&af, ok, err);
        if (st == FS_OK && !ok)
            st = fs_fail(err, FS_ERR_IO, "%s: write failed", path);
    }
    free(blob);
    return st;
}

fs_status fs_identity_blob_read_file(const char *path, fs_identity_data *out, fs_error_buf *err)
{
    if (!path || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "identity read: NULL argument");
    uint8_t *buf = NULL;
    size_t size = 0;
    fs_status st = fs_file_read_all(path, MAX_FILE_SIZE, "identity files", &buf, &size, err);
    if (st != FS_OK)
        return st;
    st = fs_identity_blob_load(buf, size, out, err);
    free(buf);
    return st;
}
