/*
 * Loader for TensorFlow.js graph models: model.json (a GraphDef as JSON
 * plus a weights manifest) and its weight shards. Everything in the files is
 * untrusted: each field is checked, each size overflow-checked, and each
 * failure names the file and the node or weight at fault.
 */
#include "nn/graph.h"
#include "nn/json.h"
#include "nn/ops_kernels.h"
#include "atomic_file.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_JSON_BYTES FS_JSON_MAX_SIZE
#define MAX_PATH_BYTES 4096
#define MAX_ATTR_STRING 64

/* ------------------------------------------------------------ name lookup */

/* Open addressing over an array of names; -1 marks an empty slot. */
typedef struct name_map {
    int *slots;
    size_t mask;
    const char *const *names;
} name_map;

static size_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static int map_init(name_map *mp, const char *const *names, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    mp->slots = malloc(cap * sizeof(int));
    if (!mp->slots)
        return 0;
    for (size_t i = 0; i < cap; i++)
        mp->slots[i] = -1;
    mp->mask = cap - 1;
    mp->names = names;
    return 1;
}

static int map_get(const name_map *mp, const char *name)
{
    for (size_t i = hash_name(name) & mp->mask;; i = (i + 1) & mp->mask) {
        const int v = mp->slots[i];
        if (v < 0 || strcmp(mp->names[v], name) == 0)
            return v;
    }
}

/* Inserts index @p idx under names[idx]; returns the index already there for a repeated name, else -1. */
static int map_put(name_map *mp, int idx)
{
    const char *name = mp->names[idx];
    for (size_t i = hash_name(name) & mp->mask;; i = (i + 1) & mp->mask) {
        const int v = mp->slots[i];
        if (v < 0) {
            mp->slots[i] = idx;
            return -1;
        }
        if (strcmp(mp->names[v], name) == 0)
            return v;
    }
}

/* ------------------------------------------------------------ manifest */

typedef enum quant {
    QUANT_NONE = 0,
    QUANT_UINT8,
    QUANT_UINT16,
    QUANT_FLOAT16
} quant;

typedef struct wspec {
    const char *name;     /* in the JSON document */
    int group;
    int rank;
    int64_t dims[FS_NN_MAX_RANK];
    size_t count;
    fs_nn_dtype dtype;
    quant q;
    double scale, min;
    size_t offset;        /* in the concatenated shards */
    size_t bytes;
    size_t data;          /* index of the first value in fdata or idata */
} wspec;

typedef struct loader {
    const char *label;
    fs_error_buf *err;
    const fs_json *root;
    int ngroups;
    const fs_json **groups;
    size_t *group_bytes;  /* bytes the manifest needs per group */
    int nw;
    wspec *w;
    size_t total_bytes;
    size_t nfloat, nint;
} loader;

static void loader_free(loader *ld)
{
    free(ld->groups);
    free(ld->group_bytes);
    free(ld->w);
}

static int checked_add(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return 0;
    *out = a + b;
    return 1;
}

/* Reads a JSON array of non-negative integers as a shape. */
static int read_dims(const fs_json *arr, int *rank, int64_t *dims, size_t *count)
{
    if (!arr || arr->type != FS_JSON_ARRAY || arr->count > FS_NN_MAX_RANK)
        return 0;
    size_t n = 1;
    int r = 0;
    for (const fs_json *d = arr->child; d; d = d->next) {
        int64_t v;
        if (!fs_json_int(d, &v) || v < 0 || v > INT_MAX)
            return 0;
        if (!fs_mul_size(n, (size_t)v, &n))
            return 0;
        dims[r++] = v;
    }
    *rank = r;
    *count = n;
    return 1;
}

static fs_status parse_manifest(loader *ld)
{
    const fs_json *man = fs_json_get(ld->root, "weightsManifest");
    if (!man)
        return FS_OK; /* a graph without weights */
    if (man->type != FS_JSON_ARRAY)
        return fs_fail(ld->err, FS_ERR_CORRUPT, "'%s': weightsManifest is not an array", ld->label);
    size_t nw = 0;
    for (const fs_json *g = man->child; g; g = g->next) {
        const fs_json *ws = fs_json_get_typed(g, "weights", FS_JSON_ARRAY);
        const fs_json *paths = fs_json_get_typed(g, "paths", FS_JSON_ARRAY);
        if (!ws || !paths)
            return fs_fail(ld->err, FS_ERR_CORRUPT,
                           "'%s': weightsManifest entry without 'paths' and 'weights' arrays",
                           ld->label);
        nw += ws->count;
    }
    if (nw > FS_NN_MAX_NODES)
        return fs_fail(ld->err, FS_ERR_TOO_LARGE, "'%s': %zu weights exceed the limit of %d",
                       ld->label, nw, FS_NN_MAX_NODES);
    ld->ngroups = (int)man->count;
    ld->groups = calloc(man->count + 1, sizeof(*ld->groups));
    ld->group_bytes = calloc(man->count + 1, sizeof(*ld->group_bytes));
    ld->w = calloc(nw + 1, sizeof(*ld->w));
    if (!ld->groups || !ld->group_bytes || !ld->w)
        return fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", ld->label);

    int gi = 0;
    size_t offset = 0;
    for (const fs_json *g = man->child; g; g = g->next, gi++) {
        ld->groups[gi] = g;
        const fs_json *ws = fs_json_get(g, "weights");
        for (const fs_json *wj = ws->child; wj; wj = wj->next) {
            wspec *w = &ld->w[ld->nw];
            w->group = gi;
            w->name = fs_json_string(fs_json_get(wj, "name"));
            if (!w->name || !*w->name)
                return fs_fail(ld->err, FS_ERR_CORRUPT, "'%s': weight #%d has no name", ld->label,
                               ld->nw);
            if (!read_dims(fs_json_get(wj, "shape"), &w->rank, w->dims, &w->count))
                return fs_fail(ld->err, FS_ERR_CORRUPT, "'%s': weight '%s': bad or missing shape",
                               ld->label, w->name);
            const char *dt = fs_json_string(fs_json_get(wj, "dtype"));
            if (!dt)
                return fs_fail(ld->err, FS_ERR_CORRUPT, "'%s': weight '%s': no dtype", ld->label,
                               w->name);
            if (strcmp(dt, "float32") == 0)
                w->dtype = FS_NN_DT_FLOAT;
            else if (strcmp(dt, "int32") == 0)
                w->dtype = FS_NN_DT_INT32;
            else
                return fs_fail(ld->err, FS_ERR_MODEL, "'%s': weight '%s': unsupported dtype '%s'",
                               ld->label, w->name, dt);
            size_t elem = 4;
            const fs_json *qj = fs_json_get(wj, "quantization");
            if (qj) {
                const char *qt = fs_json_string(fs_json_get(qj, "dtype"));
                if (!qt)
                    return fs_fail(ld->err, FS_ERR_CORRUPT,
                                   "'%s': weight '%s': quantization without dtype", ld->label,
                                   w->name);
                if (strcmp(qt, "uint8") == 0) {
                    w->q = QUANT_UINT8;
                    elem = 1;
                } else if (strcmp(qt, "uint16") == 0) {
                    w->q = QUANT_UINT16;
                    elem = 2;
                } else if (strcmp(qt, "float16") == 0) {
                    w->q = QUANT_FLOAT16;
                    elem = 2;
                } else {
                    return fs_fail(ld->err, FS_ERR_MODEL,
                                   "'%s': weight '%s': unsupported quantization '%s'", ld->label,
                                   w->name, qt);
                }
                if (w->q == QUANT_FLOAT16 && w->dtype != FS_NN_DT_FLOAT)
                    return fs_fail(ld->err, FS_ERR_MODEL,
                                   "'%s': weight '%s': float16 quantization of an int32 weight",
                                   ld->label, w->name);
                if (w->q != QUANT_FLOAT16) {
                    const fs_json *sj = fs_json_get(qj, "scale"), *mj = fs_json_get(qj, "min");
                    if (!fs_json_double(sj, &w->scale) || !fs_json_double(mj, &w->min) ||
                        !isfinite(w->scale) || !isfinite(w->min))
                        return fs_fail(ld->err, FS_ERR_CORRUPT,
                                       "'%s': weight '%s': %s quantization needs finite scale and min",
                                       ld->label, w->name, qt);
                }
            }
            if (!fs_mul_size(w->count, elem, &w->bytes) ||
                !checked_add(ld->group_bytes[gi], w->bytes, &ld->group_bytes[gi]) ||
                !checked_add(offset, w->bytes, &offset) || offset > FS_NN_MAX_WEIGHT_BYTES)
                return fs_fail(ld->err, FS_ERR_TOO_LARGE,
                               "'%s': weight '%s': weights exceed the %zu-byte limit", ld->label,
                               w->name, FS_NN_MAX_WEIGHT_BYTES);
            w->offset = offset - w->bytes;
            if (w->dtype == FS_NN_DT_FLOAT) {
                w->data = ld->nfloat;
                ld->nfloat += w->count; /* bounded by the byte limit above */
            } else {
                w->data = ld->nint;
                ld->nint += w->count;
            }
            ld->nw++;
        }
    }
    ld->total_bytes = offset;
    return FS_OK;
}

/* ------------------------------------------------------------ files */

static fs_status read_file(const char *path, size_t max, fs_error_buf *err, const char *what,
                           char **data, size_t *size)
{
    int fd = -1;
    uint64_t file_size = 0;
    fs_status st = fs_file_open_regular(path, what, &fd, &file_size, err);
    if (st != FS_OK)
        return st;
    if (file_size > max) {
        close(fd);
        return fs_fail(err, FS_ERR_TOO_LARGE, "%s %s: %llu bytes exceed the %zu-byte limit",
                       what, path, (unsigned long long)file_size, max);
    }
    const size_t n = (size_t)file_size;
    char *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s %s: out of memory", what, path);
    }
    size_t got = 0;
    const int e = fs_fd_read_full(fd, buf, n, &got);
    close(fd);
    if (e != 0 || got != n) {
        free(buf);
        return fs_fail(err, e ? FS_ERR_IO : FS_ERR_TRUNCATED, "%s %s: read %zu of %zu bytes%s%s",
                       what, path, got, n, e ? ": " : "", e ? strerror(e) : "");
    }
    *data = buf;
    *size = n;
    return FS_OK;
}

/* Manifest paths are relative and stay inside the model's folder. */
static int safe_relative_path(const fs_json *p)
{
    const char *s = fs_json_string(p);
    if (!s || !*s || strlen(s) != p->count || p->count > 1024 || s[0] == '/' || strchr(s, '\\'))
        return 0;
    for (const char *c = s; *c;) {
        const char *e = strchr(c, '/');
        const size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return 0;
        c += n + (e ? 1 : 0);
    }
    return 1;
}

/* Reads every group's shards, concatenated in manifest order, and checks
 * each group's byte count against the manifest. */
static fs_status read_shards(loader *ld, const char *json_path, char **out, size_t *out_size)
{
    const char *slash = strrchr(json_path, '/');
    const size_t dirlen = slash ? (size_t)(slash - json_path + 1) : 0;
    char *buf = NULL;
    size_t size = 0;
    fs_status st = FS_OK;
    char path[MAX_PATH_BYTES + 1100];
    if (dirlen > MAX_PATH_BYTES)
        return fs_fail(ld->err, FS_ERR_INVALID_ARGUMENT, "'%s': path too long", ld->label);

    for (int g = 0; g < ld->ngroups && st == FS_OK; g++) {
        const fs_json *paths = fs_json_get(ld->groups[g], "paths");
        size_t have = 0;
        const char *last = NULL;
        for (const fs_json *p = paths->child; p; p = p->next) {
            if (!safe_relative_path(p)) {
                st = fs_fail(ld->err, FS_ERR_CORRUPT,
                             "'%s': weight file name '%.200s' is not a plain relative path",
                             ld->label, fs_json_string(p) ? fs_json_string(p) : "(not a string)");
                break;
            }
            snprintf(path, sizeof(path), "%.*s%s", (int)dirlen, json_path, p->str);
            last = p->str;
            /* Read straight into the growing buffer: one copy of the weights. */
            int fd = -1;
            uint64_t file_size = 0;
            st = fs_file_open_regular(path, "weight file", &fd, &file_size, ld->err);
            if (st != FS_OK)
                break;
            size_t total = 0;
            if (file_size > FS_NN_MAX_WEIGHT_BYTES ||
                !checked_add(size, (size_t)file_size, &total) || total > FS_NN_MAX_WEIGHT_BYTES) {
                st = fs_fail(ld->err, FS_ERR_TOO_LARGE, "weight file '%s': weights exceed %zu bytes",
                             path, FS_NN_MAX_WEIGHT_BYTES);
            } else {
                char *nb = realloc(buf, total ? total : 1);
                if (!nb) {
                    st = fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "weight file '%s': out of memory",
                                 path);
                } else {
                    buf = nb;
                    const size_t n = (size_t)file_size;
                    size_t got = 0;
                    const int e = fs_fd_read_full(fd, buf + size, n, &got);
                    if (e != 0 || got != n)
                        st = fs_fail(ld->err, e ? FS_ERR_IO : FS_ERR_TRUNCATED,
                                     "weight file '%s': read %zu of %zu bytes", path, got, n);
                    size = total;
                    have += n;
                }
            }
            close(fd);
            if (st != FS_OK)
                break;
        }
        if (st != FS_OK)
            break;
        if (have < ld->group_bytes[g]) {
            st = fs_fail(ld->err, FS_ERR_TRUNCATED,
                         "weight file '%s%s': %zu bytes, the manifest of '%s' needs %zu",
                         last ? "" : "(none)", last ? last : "", have, ld->label,
                         ld->group_bytes[g]);
        } else if (have > ld->group_bytes[g]) {
            st = fs_fail(ld->err, FS_ERR_CORRUPT,
                         "weight file '%s': %zu bytes, the manifest of '%s' describes %zu "
                         "(weight shapes or dtypes altered?)",
                         last, have, ld->label, ld->group_bytes[g]);
        }
    }
    if (st != FS_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_size = size;
    return FS_OK;
}

/* ------------------------------------------------------------ weights */

/* IEEE binary16 -> binary32, exact (subnormals, infinities and NaN payloads kept). */
static float half_to_float(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t e = (h >> 10) & 0x1F, mant = h & 0x3FF;
    uint32_t bits;
    if (e == 0) {
        const float v = (float)mant * 0x1p-24f; /* exact: mant < 2^10 */
        memcpy(&bits, &v, 4);
        bits |= sign;
    } else if (e == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((e + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* tfjs computes q * scale + min in double precision, then stores it as
 * float32 (or rounds it half up for int32): the same is done here. */
static void decode_weight(const wspec *w, const unsigned char *src, float *fdst, int32_t *idst)
{
    for (size_t i = 0; i < w->count; i++) {
        double v;
        switch (w->q) {
        case QUANT_UINT8:
            v = (double)src[i] * w->scale + w->min;
            break;
        case QUANT_UINT16:
            v = (double)rd16(src + 2 * i) * w->scale + w->min;
            break;
        case QUANT_FLOAT16:
            fdst[i] = half_to_float(rd16(src + 2 * i));
            continue;
        default:
            if (w->dtype == FS_NN_DT_FLOAT) {
                const uint32_t b = rd32(src + 4 * i);
                memcpy(&fdst[i], &b, 4);
            } else {
                idst[i] = (int32_t)rd32(src + 4 * i);
            }
            continue;
        }
        if (w->dtype == FS_NN_DT_FLOAT) {
            fdst[i] = (float)v;
        } else {
            const double r = floor(v + 0.5);
            idst[i] = r >= INT32_MAX ? INT32_MAX : r <= INT32_MIN ? INT32_MIN : (int32_t)r;
        }
    }
}

/* ------------------------------------------------------------ attributes */

static const fs_json *attr(const fs_json *node, const char *key)
{
    return fs_json_get(fs_json_get(node, "attr"), key);
}

/* An int attribute {"i": "3"}; protobuf's JSON leaves out zero values. */
static int attr_int(const fs_json *a, int64_t *v)
{
    if (!a || a->type != FS_JSON_OBJECT)
        return 0;
    const fs_json *i = fs_json_get(a, "i");
    if (!i) {
        *v = 0;
        return 1;
    }
    return fs_json_int(i, v);
}

static int attr_bool(const fs_json *a, int *v)
{
    if (!a || a->type != FS_JSON_OBJECT)
        return 0;
    const fs_json *b = fs_json_get(a, "b");
    if (!b) {
        *v = 0;
        return 1;
    }
    if (b->type != FS_JSON_TRUE && b->type != FS_JSON_FALSE)
        return 0;
    *v = b->type == FS_JSON_TRUE;
    return 1;
}

/* {"list": {"i": ["1", "2", "2", "1"]}}: returns the count, -1 if malformed or longer than max. */
static int attr_int_list(const fs_json *a, int64_t *out, int max)
{
    const fs_json *list = fs_json_get(a, "list");
    if (!list || list->type != FS_JSON_OBJECT)
        return -1;
    const fs_json *arr = fs_json_get(list, "i");
    if (!arr)
        return 0;
    if (arr->type != FS_JSON_ARRAY || arr->count > (uint32_t)max)
        return -1;
    int n = 0;
    for (const fs_json *v = arr->child; v; v = v->next)
        if (!fs_json_int(v, &out[n++]))
            return -1;
    return n;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 (standard or URL alphabet, padding optional) into a
 * NUL-terminated string; 0 if malformed, too long, or holding a NUL. */
static int b64_decode(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        const int v = b64_value(*s);
        if (v < 0)
            return 0;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap)
                return 0;
            const char c = (char)((acc >> bits) & 0xFF);
            if (c == '\0')
                return 0;
            out[n++] = c;
        }
    }
    for (; *s == '='; s++)
        ;
    if (*s)
        return 0;
    out[n] = '\0';
    return 1;
}

/* A string attribute {"s": base64}. Missing "s" is the empty string. */
static int attr_string(const fs_json *a, char *out, size_t cap)
{
    if (!a || a->type != FS_JSON_OBJECT)
        return 0;
    const fs_json *s = fs_json_get(a, "s");
    if (!s) {
        out[0] = '\0';
        return 1;
    }
    return s->type == FS_JSON_STRING && b64_decode(s->str, out, cap);
}

/* {"shape": {"dim": [{"size": "-1"}, ...]}}: 1 known, 0 malformed, -1 unknown rank. */
static int parse_shape(const fs_json *shape, int *rank, int64_t *dims)
{
    if (!shape || shape->type != FS_JSON_OBJECT)
        return 0;
    const fs_json *ur = fs_json_get(shape, "unknownRank");
    if (ur && ur->type == FS_JSON_TRUE)
        return -1;
    const fs_json *dim = fs_json_get(shape, "dim");
    if (!dim) {
        *rank = 0;
        return 1;
    }
    if (dim->type != FS_JSON_ARRAY || dim->count > FS_NN_MAX_RANK)
        return 0;
    int r = 0;
    for (const fs_json *d = dim->child; d; d = d->next) {
        const fs_json *sz = fs_json_get(d, "size");
        int64_t v = 0;
        if (d->type != FS_JSON_OBJECT || (sz && !fs_json_int(sz, &v)) || v < -1 || v > INT_MAX)
            return 0;
        dims[r++] = v;
    }
    *rank = r;
    return 1;
}

static const char *dtype_attr(const fs_json *node)
{
    const fs_json *a = attr(node, "dtype");
    return fs_json_string(fs_json_get(a, "type"));
}

/* ------------------------------------------------------------ nodes */

typedef struct op_name {
    const char *name;
    fs_nn_tfop op;
} op_name;

static const op_name op_names[] = {
    {"Placeholder", FS_TF_PLACEHOLDER},
    {"Const", FS_TF_CONST},
    {"Conv2D", FS_TF_CONV2D},
    {"_FusedConv2D", FS_TF_CONV2D},
    {"DepthwiseConv2dNative", FS_TF_DEPTHWISE},
    {"_FusedDepthwiseConv2dNative", FS_TF_DEPTHWISE},
    {"Add", FS_TF_ADD},
    {"AddV2", FS_TF_ADD},
    {"Mul", FS_TF_MUL},
    {"Minimum", FS_TF_MINIMUM},
    {"Maximum", FS_TF_MAXIMUM},
    {"Relu", FS_TF_RELU},
    {"Relu6", FS_TF_RELU6},
    {"Prelu", FS_TF_PRELU},
    {"Sigmoid", FS_TF_SIGMOID},
    {"MaxPool", FS_TF_MAXPOOL},
    {"Pad", FS_TF_PAD},
    {"Reshape", FS_TF_RESHAPE},
    {"Identity", FS_TF_IDENTITY},
    {"ConcatV2", FS_TF_CONCAT},
    {"Mean", FS_TF_MEAN},
    {"MatMul", FS_TF_MATMUL},
    {"_FusedMatMul", FS_TF_MATMUL},
    {"Softmax", FS_TF_SOFTMAX},
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static fs_status node_fail(const loader *ld, const char *node, fs_status st, const char *fmt, ...)
{
    char msg[FS_ERROR_DETAIL_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fs_fail(ld->err, st, "'%s': node '%.200s': %s", ld->label, node, msg);
}

/* strides / dilations {"list": {"i": [1, h, w, 1]}} (NHWC). */
static fs_status window_attr(const loader *ld, const fs_json *nj, const char *name,
                             const char *key, int *h, int *w)
{
    const fs_json *a = attr(nj, key);
    *h = *w = 1;
    if (!a)
        return FS_OK;
    int64_t v[4];
    const int n = attr_int_list(a, v, 4);
    if (n == 0)
        return FS_OK;
    if (n != 4 || v[0] != 1 || v[3] != 1 || v[1] < 1 || v[2] < 1 || v[1] > 4096 || v[2] > 4096)
        return node_fail(ld, name, FS_ERR_MODEL, "unsupported %s attribute", key);
    *h = (int)v[1];
    *w = (int)v[2];
    return FS_OK;
}

static fs_status padding_attr(const loader *ld, const fs_json *nj, fs_nn_node *nd)
{
    char s[MAX_ATTR_STRING];
    if (!attr_string(attr(nj, "padding"), s, sizeof(s)))
        return node_fail(ld, nd->name, FS_ERR_MODEL, "missing or malformed padding attribute");
    if (strcmp(s, "SAME") == 0) {
        nd->padding = FS_NN_PADDING_SAME;
    } else if (strcmp(s, "VALID") == 0) {
        nd->padding = FS_NN_PADDING_VALID;
    } else if (strcmp(s, "EXPLICIT") == 0) {
        int64_t v[8];
        const int n = attr_int_list(attr(nj, "explicit_paddings"), v, 8);
        if (n != 8 || v[0] || v[1] || v[6] || v[7])
            return node_fail(ld, nd->name, FS_ERR_MODEL, "unsupported explicit_paddings");
        for (int i = 0; i < 4; i++) {
            if (v[2 + i] < 0 || v[2 + i] > 4096)
                return node_fail(ld, nd->name, FS_ERR_MODEL, "unsupported explicit_paddings");
            nd->explicit_pads[i] = (int)v[2 + i];
        }
        nd->padding = FS_NN_PADDING_EXPLICIT;
    } else {
        return node_fail(ld, nd->name, FS_ERR_MODEL, "unsupported padding '%s'", s);
    }
    return FS_OK;
}

static fs_status data_format_attr(const loader *ld, const fs_json *nj, const char *name)
{
    const fs_json *a = attr(nj, "data_format");
    if (!a)
        return FS_OK;
    char s[MAX_ATTR_STRING];
    if (!attr_string(a, s, sizeof(s)) || (s[0] && strcmp(s, "NHWC") != 0))
        return node_fail(ld, name, FS_ERR_MODEL, "unsupported data_format (only NHWC)");
    return FS_OK;
}

/* fused_ops of _FusedConv2D / _FusedMatMul; returns the number of extra inputs expected. */
static fs_status fused_attr(const loader *ld, const fs_json *nj, fs_nn_node *nd, int *extra)
{
    *extra = 0;
    const fs_json *a = attr(nj, "fused_ops");
    if (!a)
        return FS_OK;
    const fs_json *list = fs_json_get(a, "list");
    const fs_json *arr = list ? fs_json_get(list, "s") : NULL;
    if (!list || (arr && arr->type != FS_JSON_ARRAY))
        return node_fail(ld, nd->name, FS_ERR_MODEL, "malformed fused_ops attribute");
    if (!arr || arr->count == 0)
        return FS_OK;
    if (arr->count > 2)
        return node_fail(ld, nd->name, FS_ERR_MODEL, "unsupported fused_ops (%u ops)", arr->count);
    char op[2][MAX_ATTR_STRING];
    int i = 0;
    for (const fs_json *s = arr->child; s; s = s->next, i++)
        if (s->type != FS_JSON_STRING || !b64_decode(s->str, op[i], sizeof(op[i])))
            return node_fail(ld, nd->name, FS_ERR_MODEL, "malformed fused_ops attribute");
    if (strcmp(op[0], "BiasAdd") != 0)
        return node_fail(ld, nd->name, FS_ERR_MODEL, "unsupported fused op '%s'", op[0]);
    nd->has_bias = 1;
    *extra = 1;
    if (arr->count == 2) {
        if (strcmp(op[1], "Relu") == 0) {
            nd->fused_act = FS_NN_ACT_RELU;
        } else if (strcmp(op[1], "Relu6") == 0) {
            nd->fused_act = FS_NN_ACT_CLAMP;
        } else if (strcmp(op[1], "Sigmoid") == 0) {
            nd->fused_act = FS_NN_ACT_SIGMOID;
        } else if (strcmp(op[1], "Prelu") == 0) {
            nd->fused_act = FS_NN_ACT_PRELU;
            *extra = 2;
        } else {
            return node_fail(ld, nd->name, FS_ERR_MODEL, "unsupported fused op '%s'", op[1]);
        }
    }
    int64_t num_args = 0;
    const fs_json *na = attr(nj, "num_args");
    if (na && (!attr_int(na, &num_args) || num_args != *extra))
        return node_fail(ld, nd->name, FS_ERR_MODEL, "num_args does not match fused_ops");
    return FS_OK;
}

/* Attributes of one node, and the number of data inputs its op takes (-1: two or more). */
static fs_status parse_attrs(const loader *ld, const fs_json *nj, fs_nn_node *nd, int *want)
{
    fs_status st = FS_OK;
    *want = 1;
    nd->stride_h = nd->stride_w = nd->dilation_h = nd->dilation_w = 1;
    switch (nd->op) {
    case FS_TF_PLACEHOLDER: {
        *want = 0;
        const char *dt = dtype_attr(nj);
        if (dt && strcmp(dt, "DT_FLOAT") != 0)
            return node_fail(ld, nd->name, FS_ERR_MODEL, "input dtype '%s' (only DT_FLOAT)", dt);
        const int r = parse_shape(fs_json_get(attr(nj, "shape"), "shape"), &nd->rank, nd->dims);
        if (r <= 0)
            return node_fail(ld, nd->name, FS_ERR_MODEL, "input shape missing or of unknown rank");
        for (int i = 0; i < nd->rank; i++)
            if (nd->dims[i] < 0 && i > 0)
                return node_fail(ld, nd->name, FS_ERR_MODEL,
                                 "input dimension %d is not fixed (only the batch may vary)", i);
        nd->dtype = FS_NN_DT_FLOAT;
        break;
    }
    case FS_TF_CONST:
        *want = 0;
        break; /* values are attached from the manifest */
    case FS_TF_CONV2D:
    case FS_TF_DEPTHWISE: {
        int extra;
        if ((st = window_attr(ld, nj, nd->name, "strides", &nd->stride_h, &nd->stride_w)) ||
            (st = window_attr(ld, nj, nd->name, "dilations", &nd->dilation_h, &nd->dilation_w)) ||
            (st = padding_attr(ld, nj, nd)) || (st = data_format_attr(ld, nj, nd->name)) ||
            (st = fused_attr(ld, nj, nd, &extra)))
            return st;
        *want = 2 + extra;
        break;
    }
    case FS_TF_MATMUL: {
        int extra;
        if ((st = fused_attr(ld, nj, nd, &extra)) != FS_OK)
            return st;
        const fs_json *ta = attr(nj, "transpose_a"), *tb = attr(nj, "transpose_b");
        if ((ta && !attr_bool(ta, &nd->transpose_a)) || (tb && !attr_bool(tb, &nd->transpose_b)))
            return node_fail(ld, nd->name, FS_ERR_MODEL, "malformed transpose attribute");
        if (nd->transpose_a)
            return node_fail(ld, nd->name, FS_ERR_MODEL, "transpose_a is not supported");
        *want = 2 + extra;
        break;
    }
    case FS_TF_MAXPOOL: {
        int64_t k[4];
        const int n = attr_int_list(attr(nj, "ksize"), k, 4);
        if (n != 4 || k[0] != 1 || k[3] != 1 || k[1] < 1 || k[2] < 1 || k[1] > 4096 || k[2] > 4096)
            return node_fail(ld, nd->name, FS_ERR_MODEL, "unsupported ksize attribute");
        nd->ksize_h = (int)k[1];
        nd->ksize_w = (int)k[2];
        if ((st = window_attr(ld, nj, nd->name, "strides", &nd->stride_h, &nd->stride_w)) ||
            (st = padding_attr(ld, nj, nd)) || (st = data_format_attr(ld, nj, nd->name)))
            return st;
        *want = 1;
        break;
    }
    case FS_TF_ADD:
    case FS_TF_MUL:
    case FS_TF_MINIMUM:
    case FS_TF_MAXIMUM:
    case FS_TF_PRELU:
    case FS_TF_PAD:
    case FS_TF_RESHAPE:
        *want = 2;
        break;
    case FS_TF_MEAN: {
        const fs_json *kd = attr(nj, "keep_dims");
        if (kd && !attr_bool(kd, &nd->keep_dims))
            return node_fail(ld, nd->name, FS_ERR_MODEL, "malformed keep_dims attribute");
        *want = 2;
        break;
    }
    case FS_TF_CONCAT: {
        *want = -1;
        break;
    }
    case FS_TF_RELU6:
        nd->fused_act = FS_NN_ACT_CLAMP;
        break;
    default:
        break;
    }
    return st;
}

/* Input reference "name", "name:0" or "^name" (control input: *control = 1). */
static fs_status input_name(const loader *ld, const char *node, const fs_json *in, char *buf,
                            size_t cap, int *control)
{
    const char *s = fs_json_string(in);
    if (!s || !*s || strlen(s) != in->count)
        return node_fail(ld, node, FS_ERR_CORRUPT, "malformed input list");
    *control = s[0] == '^';
    if (*control)
        s++;
    size_t n = strlen(s);
    const char *colon = strrchr(s, ':');
    if (colon) {
        const char *d = colon + 1;
        if (!*d || strspn(d, "0123456789") != strlen(d))
            colon = NULL; /* a ':' that is part of the name */
        else if (strcmp(d, "0") != 0)
            return node_fail(ld, node, FS_ERR_MODEL,
                             "input '%.200s' reads output %s of a node (only output 0 is supported)",
                             s, d);
        else
            n = (size_t)(colon - s);
    }
    if (n + 1 > cap)
        return node_fail(ld, node, FS_ERR_CORRUPT, "input name too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    return FS_OK;
}

/* ------------------------------------------------------------ building */

void fs_nn_model_destroy(fs_nn_model *m)
{
    if (!m)
        return;
    fs_nn_plan_free(m);
    if (m->nodes) {
        for (int i = 0; i < m->num_nodes; i++) {
            free(m->nodes[i].name);
            free(m->nodes[i].op_name);
            free(m->nodes[i].inputs);
        }
    }
    free(m->nodes);
    free(m->fdata);
    free(m->idata);
    free(m->outputs);
    free(m->label);
    free(m);
}

static char *dup_string(const char *s)
{
    const size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Marks (flag[i] = 1) the nodes the model.json's signature lists as outputs
 * ("name" or "name:0"); one hash lookup per listed output. */
static void mark_signature_outputs(const fs_json *root, const name_map *nmap, int *flag)
{
    const fs_json *sig = fs_json_get(root, "signature");
    if (!sig)
        sig = fs_json_get(fs_json_get(root, "userDefinedMetadata"), "signature");
    const fs_json *outs = fs_json_get(sig, "outputs");
    if (!outs || outs->type != FS_JSON_OBJECT)
        return;
    char buf[1024];
    for (const fs_json *o = outs->child; o; o = o->next) {
        const char *s = fs_json_string(fs_json_get(o, "name"));
        if (!s)
            continue;
        size_t n = strlen(s);
        if (n >= 2 && strcmp(s + n - 2, ":0") == 0)
            n -= 2;
        if (n >= sizeof(buf))
            continue;
        memcpy(buf, s, n);
        buf[n] = '\0';
        const int i = map_get(nmap, buf);
        if (i >= 0)
            flag[i] = 1;
    }
}

static fs_status build_model(loader *ld, const void *weights, size_t weights_size,
                             fs_nn_model *m)
{
    fs_status st = FS_OK;
    const fs_json *topo = fs_json_get_typed(ld->root, "modelTopology", FS_JSON_OBJECT);
    const fs_json *nodes = fs_json_get_typed(topo, "node", FS_JSON_ARRAY);
    if (!nodes)
        return fs_fail(ld->err, FS_ERR_CORRUPT, "'%s': no modelTopology.node array", ld->label);
    if (nodes->count == 0 || nodes->count > FS_NN_MAX_NODES)
        return fs_fail(ld->err, FS_ERR_MODEL, "'%s': %u nodes (1 to %d supported)", ld->label,
                       nodes->count, FS_NN_MAX_NODES);
    const int n = (int)nodes->count;

    /* Weights, dequantised. */
    if (ld->nfloat && !(m->fdata = malloc(ld->nfloat * sizeof(float))))
        return fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", ld->label);
    if (ld->nint && !(m->idata = malloc(ld->nint * sizeof(int32_t))))
        return fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", ld->label);
    for (int i = 0; i < ld->nw; i++) {
        const wspec *w = &ld->w[i];
        if (w->offset + w->bytes > weights_size) /* memory loads are checked here */
            return fs_fail(ld->err, FS_ERR_TRUNCATED,
                           "'%s': weights of %zu bytes end before weight '%s' (needs %zu)",
                           ld->label, weights_size, w->name, ld->total_bytes);
        const int is_float = w->dtype == FS_NN_DT_FLOAT;
        decode_weight(w, (const unsigned char *)weights + w->offset,
                      is_float ? m->fdata + w->data : NULL, is_float ? NULL : m->idata + w->data);
    }

    /* Nodes in file order first. */
    fs_nn_node *nd = calloc((size_t)n, sizeof(*nd));
    const char **names = calloc((size_t)n, sizeof(*names));
    const char **wnames = calloc((size_t)ld->nw + 1, sizeof(*wnames));
    const fs_json **njs = calloc((size_t)n, sizeof(*njs));
    int *order = malloc((size_t)n * sizeof(int));
    int *newpos = malloc((size_t)n * sizeof(int));
    int *indeg = calloc((size_t)n, sizeof(int));
    int *first_use = NULL, *use_list = NULL;
    name_map nmap = {0}, wmap = {0};
    if (nd) { /* from here on the nodes belong to the model (freed by destroy) */
        m->nodes = nd;
        m->num_nodes = n;
    }
    if (!nd || !names || !wnames || !njs || !order || !newpos || !indeg ||
        !map_init(&nmap, names, (size_t)n) || !map_init(&wmap, wnames, (size_t)ld->nw)) {
        st = fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", ld->label);
        goto done;
    }
    for (int i = 0; i < ld->nw; i++) {
        wnames[i] = ld->w[i].name;
        map_put(&wmap, i); /* a repeated weight name: the first one wins */
    }
    int i = 0;
    size_t total_inputs = 0;
    for (const fs_json *nj = nodes->child; nj; nj = nj->next, i++) {
        njs[i] = nj;
        const char *name = fs_json_string(fs_json_get(nj, "name"));
        const char *op = fs_json_string(fs_json_get(nj, "op"));
        if (nj->type != FS_JSON_OBJECT || !name || !*name || !op) {
            st = fs_fail(ld->err, FS_ERR_CORRUPT, "'%s': node #%d has no name or op", ld->label, i);
            goto done;
        }
        if (!(nd[i].name = dup_string(name)) || !(nd[i].op_name = dup_string(op))) {
            st = fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", ld->label);
            goto done;
        }
        names[i] = nd[i].name;
        nd[i].orig_index = i;
        if (map_put(&nmap, i) >= 0) {
            st = node_fail(ld, name, FS_ERR_MODEL, "name used by two nodes");
            goto done;
        }
        size_t k = 0;
        while (k < sizeof(op_names) / sizeof(op_names[0]) && strcmp(op_names[k].name, op) != 0)
            k++;
        if (k == sizeof(op_names) / sizeof(op_names[0])) {
            st = node_fail(ld, name, FS_ERR_MODEL, "unsupported op '%.100s'", op);
            goto done;
        }
        nd[i].op = op_names[k].op;
        const fs_json *in = fs_json_get(nj, "input");
        if (in && in->type != FS_JSON_ARRAY) {
            st = node_fail(ld, name, FS_ERR_CORRUPT, "malformed input list");
            goto done;
        }
        total_inputs += in ? in->count : 0;
    }

    /* Inputs (resolved once every name is known) and attributes. */
    char ibuf[1024];
    for (i = 0; i < n; i++) {
        const fs_json *in = fs_json_get(njs[i], "input");
        const int cnt = in ? (int)in->count : 0;
        if (cnt && !(nd[i].inputs = malloc((size_t)cnt * sizeof(int)))) {
            st = fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", ld->label);
            goto done;
        }
        for (const fs_json *e = in ? in->child : NULL; e; e = e->next) {
            int control = 0;
            if ((st = input_name(ld, nd[i].name, e, ibuf, sizeof(ibuf), &control)) != FS_OK)
                goto done;
            const int src = map_get(&nmap, ibuf);
            if (src < 0) {
                st = node_fail(ld, nd[i].name, FS_ERR_MODEL, "input '%.200s' is not a node", ibuf);
                goto done;
            }
            if (!control)
                nd[i].inputs[nd[i].num_inputs++] = src;
        }
        int want;
        if ((st = parse_attrs(ld, njs[i], &nd[i], &want)) != FS_OK)
            goto done;
        if ((want >= 0 && nd[i].num_inputs != want) || (want < 0 && nd[i].num_inputs < 3)) {
            st = node_fail(ld, nd[i].name, FS_ERR_MODEL, "op '%s' takes %d inputs, has %d",
                           nd[i].op_name, want < 0 ? 3 : want, nd[i].num_inputs);
            goto done;
        }
        if (nd[i].op == FS_TF_CONCAT) {
            int64_t nattr;
            const fs_json *na = attr(njs[i], "N");
            if (na && (!attr_int(na, &nattr) || nattr != nd[i].num_inputs - 1)) {
                st = node_fail(ld, nd[i].name, FS_ERR_MODEL, "attribute N does not match inputs");
                goto done;
            }
        }
        if (nd[i].op == FS_TF_CONST) {
            const int wi = map_get(&wmap, nd[i].name);
            if (wi < 0) {
                st = node_fail(ld, nd[i].name, FS_ERR_MODEL, "constant missing from the weights manifest");
                goto done;
            }
            const wspec *w = &ld->w[wi];
            const char *dt = dtype_attr(njs[i]);
            const fs_nn_dtype gdt = !dt                            ? w->dtype
                                    : strcmp(dt, "DT_FLOAT") == 0 ? FS_NN_DT_FLOAT
                                    : strcmp(dt, "DT_INT32") == 0 ? FS_NN_DT_INT32
                                                                  : (fs_nn_dtype)-1;
            if (gdt != w->dtype) {
                st = node_fail(ld, nd[i].name, FS_ERR_MODEL,
                               "constant of dtype '%s' does not match the manifest's %s",
                               dt, w->dtype == FS_NN_DT_FLOAT ? "float32" : "int32");
                goto done;
            }
            const fs_json *tensor = fs_json_get(attr(njs[i], "value"), "tensor");
            const fs_json *ts = fs_json_get(tensor, "tensorShape");
            int grank;
            int64_t gdims[FS_NN_MAX_RANK];
            if (ts) {
                const int r = parse_shape(ts, &grank, gdims);
                int same = r == 1 && grank == w->rank;
                for (int d = 0; same && d < grank; d++)
                    same = gdims[d] == w->dims[d];
                if (r >= 0 && !same) {
                    st = node_fail(ld, nd[i].name, FS_ERR_SHAPE,
                                   "the weights manifest gives another shape than the graph");
                    goto done;
                }
            }
            nd[i].dtype = w->dtype;
            nd[i].rank = w->rank;
            memcpy(nd[i].dims, w->dims, sizeof(w->dims));
            nd[i].count = w->count;
            if (w->dtype == FS_NN_DT_FLOAT)
                nd[i].f = m->fdata + w->data;
            else
                nd[i].i32 = m->idata + w->data;
        }
    }

    /* Topological order (Kahn; ties keep the file order). */
    if (!(first_use = calloc((size_t)n + 1, sizeof(int))) ||
        !(use_list = malloc((total_inputs + 1) * sizeof(int)))) {
        st = fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", ld->label);
        goto done;
    }
    for (i = 0; i < n; i++)
        for (int k = 0; k < nd[i].num_inputs; k++)
            first_use[nd[i].inputs[k] + 1]++;
    for (i = 0; i < n; i++)
        first_use[i + 1] += first_use[i];
    {
        int *fill = newpos; /* scratch: next free slot per producer */
        for (i = 0; i < n; i++)
            fill[i] = first_use[i];
        for (i = 0; i < n; i++) {
            indeg[i] = nd[i].num_inputs;
            for (int k = 0; k < nd[i].num_inputs; k++)
                use_list[fill[nd[i].inputs[k]]++] = i;
        }
    }
    int head = 0, tail = 0;
    for (i = 0; i < n; i++)
        if (indeg[i] == 0)
            order[tail++] = i;
    while (head < tail) {
        const int v = order[head++];
        for (int k = first_use[v]; k < first_use[v + 1]; k++)
            if (--indeg[use_list[k]] == 0)
                order[tail++] = use_list[k];
    }
    if (tail < n) {
        for (i = 0; i < n && indeg[i] == 0; i++)
            ;
        st = node_fail(ld, nd[i].name, FS_ERR_MODEL, "the graph has a cycle through this node");
        goto done;
    }

    /* Graph outputs: Identity nodes, nodes nobody reads, and the signature's outputs. */
    int nout = 0;
    memset(indeg, 0, (size_t)n * sizeof(int)); /* scratch: output flags */
    mark_signature_outputs(ld->root, &nmap, indeg);
    for (i = 0; i < n; i++) {
        const int used = first_use[i + 1] > first_use[i];
        indeg[i] = nd[i].op != FS_TF_CONST && nd[i].op != FS_TF_PLACEHOLDER &&
                   (indeg[i] || nd[i].op == FS_TF_IDENTITY || !used);
        nout += indeg[i];
    }
    int ninput = 0;
    for (i = 0; i < n; i++)
        if (nd[i].op == FS_TF_PLACEHOLDER)
            ninput++;
    if (ninput != 1 || nout == 0) {
        st = fs_fail(ld->err, FS_ERR_MODEL, "'%s': %d inputs and %d outputs (need 1 input, outputs)",
                     ld->label, ninput, nout);
        goto done;
    }

    /* Reorder the nodes topologically and renumber their inputs. */
    fs_nn_node *sorted = malloc((size_t)n * sizeof(*sorted));
    m->outputs = malloc((size_t)nout * sizeof(int));
    if (!sorted || !m->outputs) {
        free(sorted);
        st = fs_fail(ld->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", ld->label);
        goto done;
    }
    for (i = 0; i < n; i++)
        newpos[order[i]] = i;
    for (i = 0; i < n; i++) {
        sorted[i] = nd[order[i]];
        for (int k = 0; k < sorted[i].num_inputs; k++)
            sorted[i].inputs[k] = newpos[sorted[i].inputs[k]];
        if (sorted[i].op == FS_TF_PLACEHOLDER)
            m->input = i;
    }
    for (i = 0; i < n; i++)
        if (indeg[i])
            m->outputs[m->num_outputs++] = newpos[i];
    free(nd);
    m->nodes = sorted;

done:
    free(names);
    free(wnames);
    free(njs);
    free(order);
    free(newpos);
    free(indeg);
    free(first_use);
    free(use_list);
    free(nmap.slots);
    free(wmap.slots);
    return st;
}

static fs_status load_common(const fs_nn_ops *ops, const char *label, const char *json,
                             size_t json_size, const char *json_path, const void *weights,
                             size_t weights_size, fs_error_buf *err, fs_nn_model **out)
{
    loader ld;
    memset(&ld, 0, sizeof(ld));
    ld.label = label;
    ld.err = err;
    fs_json_doc *doc = NULL;
    char *shards = NULL;
    fs_nn_model *m = NULL;
    char jerr[256];
    fs_status st = fs_json_parse(json, json_size, &doc, jerr, sizeof(jerr));
    if (st != FS_OK) {
        fs_fail(err, st, "'%s': %s", label, jerr);
        goto fail;
    }
    ld.root = fs_json_root(doc);
    if (ld.root->type != FS_JSON_OBJECT) {
        st = fs_fail(err, FS_ERR_CORRUPT, "'%s': not a JSON object", label);
        goto fail;
    }
    const char *format = fs_json_string(fs_json_get(ld.root, "format"));
    if (format && strcmp(format, "graph-model") != 0) {
        st = fs_fail(err, FS_ERR_MODEL, "'%s': format '%.100s' (only graph-model)", label, format);
        goto fail;
    }
    if ((st = parse_manifest(&ld)) != FS_OK)
        goto fail;
    if (json_path) {
        if ((st = read_shards(&ld, json_path, &shards, &weights_size)) != FS_OK)
            goto fail;
        weights = shards;
    } else if (weights_size != ld.total_bytes) {
        st = fs_fail(err, weights_size < ld.total_bytes ? FS_ERR_TRUNCATED : FS_ERR_CORRUPT,
                     "'%s': %zu bytes of weights, the manifest describes %zu", label, weights_size,
                     ld.total_bytes);
        goto fail;
    }
    if (!(m = calloc(1, sizeof(*m))) || !(m->label = dup_string(label))) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", label);
        goto fail;
    }
    m->ops = *ops;
    fs_nn_ops_init_reference(&m->ref_ops);
    if ((st = build_model(&ld, weights, weights_size, m)) != FS_OK)
        goto fail;
    free(shards);
    fs_json_free(doc);
    loader_free(&ld);
    *out = m;
    return FS_OK;

fail:
    fs_nn_model_destroy(m);
    free(shards);
    fs_json_free(doc);
    loader_free(&ld);
    return st;
}

fs_status fs_nn_model_load(const fs_nn_ops *ops, const char *json_path, fs_error_buf *err,
                           fs_nn_model **out)
{
    if (!ops || !json_path || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_nn_model_load: NULL argument");
    if (strlen(json_path) > MAX_PATH_BYTES)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_nn_model_load: path too long");
    char *json = NULL;
    size_t size = 0;
    fs_status st = read_file(json_path, MAX_JSON_BYTES, err, "model file", &json, &size);
    if (st != FS_OK)
        return st;
    st = load_common(ops, json_path, json, size, json_path, NULL, 0, err, out);
    free(json);
    return st;
}

fs_status fs_nn_model_load_memory(const fs_nn_ops *ops, const char *json, size_t json_size,
                                  const void *weights, size_t weights_size, fs_error_buf *err,
                                  fs_nn_model **out)
{
    if (!ops || !json || !out || (!weights && weights_size))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_nn_model_load_memory: NULL argument");
    return load_common(ops, "model.json", json, json_size, NULL, weights ? weights : "",
                       weights_size, err, out);
}
