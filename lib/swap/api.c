/*
 * Public fs_identity and fs_renderer (include/faceswap/identity.h,
 * renderer.h): thin wrappers of lib/identity and lib/swap.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "identity/atlas.h"
#include "identity/blob.h"
#include "swap/swap.h"

struct fs_identity {
    fs_context *ctx;
    fs_identity_data data;
};

struct fs_renderer {
    fs_context *ctx;
    fs_swap_mesh *mesh;
    fs_swap_params params;
    fs_detector *det; /* loaded by the first fs_renderer_swap_image */
    fs_fitter *fit;
    fs_error_buf err;
};

/* ---------------------------------------------------------------- identity */

/* Candidate faces: only @p index when >= 0, else all by decreasing box area
 * (ties: detector order). Returns the count written to order[]. */
static int sort_by_area(const fs_face_box *faces, int n, int index, int *order)
{
    if (index >= 0) {
        order[0] = index;
        return 1;
    }
    for (int i = 0; i < n; i++) {
        int j = i;
        const float a = faces[i].width * faces[i].height;
        while (j > 0 && faces[order[j - 1]].width * faces[order[j - 1]].height < a) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return n;
}

static fs_status identity_wrap(fs_context *ctx, fs_identity_data *data, fs_identity **out)
{
    fs_identity *id = calloc(1, sizeof(*id));
    if (!id) {
        fs_identity_data_free(data);
        return fs_fail(&ctx->err, FS_ERR_OUT_OF_MEMORY, "fs_identity: out of memory");
    }
    id->ctx = ctx;
    id->data = *data;
    *out = id;
    fs_clear_error(&ctx->err);
    return FS_OK;
}

/*
 * Capture cache: the detector, fitter and mesh that
 * fs_identity_create_from_image needs, loaded on the first capture of a
 * context and kept until fs_context_destroy, so that a service capturing
 * many photos does not reload the models each time (~100 ms). A context
 * setting changed since (model folder, backend, pixel limit, ...) makes
 * the next capture reload them. The detector and fitter serve one thread
 * at a time, so a capture holds the cache's lock from detection to the
 * end of fitting; the atlas is built outside it.
 */
typedef struct capture_cache {
    pthread_mutex_t lock;
    int loaded;
    unsigned gen; /* ctx->config_gen the objects were made with */
    fs_detector *det;
    fs_fitter *fit;
    fs_swap_mesh mesh;
} capture_cache;

/* Guards only the creation of a context's cache (the pointer in fs_context). */
static pthread_mutex_t cache_create_lock = PTHREAD_MUTEX_INITIALIZER;

static void cache_unload(capture_cache *c)
{
    fs_fitter_destroy(c->fit);
    fs_detector_destroy(c->det);
    c->fit = NULL;
    c->det = NULL;
    c->loaded = 0;
}

static void cache_free(void *p)
{
    capture_cache *c = p;
    if (!c)
        return;
    cache_unload(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static capture_cache *cache_get(fs_context *ctx)
{
    pthread_mutex_lock(&cache_create_lock);
    capture_cache *c = ctx->capture_cache;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
            free(c);
            c = NULL;
        }
        if (c) {
            ctx->capture_cache = c;
            ctx->capture_cache_free = cache_free;
        }
    }
    pthread_mutex_unlock(&cache_create_lock);
    return c;
}

/* With c->lock held: (re)loads the objects when missing or made with older settings. */
static fs_status cache_load(fs_context *ctx, capture_cache *c)
{
    if (c->loaded && c->gen == ctx->config_gen)
        return FS_OK;
    cache_unload(c);
    fs_status st = fs_swap_mesh_load(ctx, &c->mesh, &ctx->err);
    if (st == FS_OK)
        st = fs_detector_create(ctx, &c->det);
    if (st == FS_OK)
        st = fs_fitter_create(ctx, &c->fit);
    if (st == FS_OK) {
        /* Every face the detector may report, so that an index can reach any. */
        st = fs_detector_set(c->det, FS_DETECTOR_MAX_FACES, 100);
    }
    if (st != FS_OK) {
        /* failed handles are left untouched by their create calls: NULL */
        cache_unload(c);
        return st;
    }
    c->gen = ctx->config_gen;
    c->loaded = 1;
    return FS_OK;
}

fs_status fs_identity_create_from_image(fs_context *ctx, const fs_image *image, int face_index,
                                        fs_identity **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!image || !out)
        return fs_fail(&ctx->err, FS_ERR_INVALID_ARGUMENT, "fs_identity_create_from_image: NULL argument");
    if (face_index < FS_IDENTITY_LARGEST_FACE)
        return fs_fail(&ctx->err, FS_ERR_OUT_OF_RANGE, "fs_identity_create_from_image: face_index %d", face_index);
    capture_cache *cache = cache_get(ctx);
    fs_face_landmarks *lm = malloc(sizeof(*lm));
    fs_face_box *faces = malloc(sizeof(*faces) * 100);
    if (!cache || !lm || !faces) {
        free(faces);
        free(lm);
        return fs_fail(&ctx->err, FS_ERR_OUT_OF_MEMORY, "fs_identity_create_from_image: out of memory");
    }
    pthread_mutex_lock(&cache->lock);
    fs_status st = cache_load(ctx, cache);
    fs_detector *det = cache->det;
    fs_fitter *fit = cache->fit;
    int n = 0;
    if (st == FS_OK) {
        st = fs_detector_run(det, image, faces, 100, &n);
        if (st != FS_OK)
            fs_fail(&ctx->err, st, "fs_identity_create_from_image: %s", fs_detector_last_error(det));
    }
    if (st == FS_OK) {
        n = n < 100 ? n : 100;
        if (n == 0)
            st = fs_fail(&ctx->err, FS_ERR_NO_FACE, "fs_identity_create_from_image: no face in the source image");
        else if (face_index >= n)
            st = fs_fail(&ctx->err, FS_ERR_OUT_OF_RANGE,
                         "fs_identity_create_from_image: face %d asked, %d found", face_index, n);
    }
    if (st == FS_OK) {
        /* The largest face the fitter accepts: a large low-score detection
         * that is no face (a fist, a pattern) must not hide the real one. */
        int order[100];
        const int m = sort_by_area(faces, n, face_index, order);
        fs_status fst = FS_ERR_NO_FACE;
        for (int i = 0; i < m && fst != FS_OK; i++)
            fst = fs_fitter_run(fit, image, &faces[order[i]], lm);
        if (fst == FS_ERR_NO_FACE)
            st = fs_fail(&ctx->err, FS_ERR_NO_FACE,
                         "fs_identity_create_from_image: no face (the fitter rejected %s)",
                         m == 1 ? "the detection" : "every detection");
        else if (fst != FS_OK)
            st = fs_fail(&ctx->err, fst, "fs_identity_create_from_image: %s", fs_fitter_last_error(fit));
    }
    /* The mesh is only read from here on and stays until the context goes
     * (a reload needs a context setting, which a caller must not change
     * while the context is in use), so the atlas is built unlocked. */
    pthread_mutex_unlock(&cache->lock);
    fs_identity_data data;
    memset(&data, 0, sizeof(data));
    if (st == FS_OK) {
        fs_atlas_params ap;
        fs_atlas_params_default(&ap);
        st = fs_atlas_build(image, (const float(*)[3])lm->points, &cache->mesh.atlas, &ap,
                            &data.atlas, &ctx->err);
    }
    if (st == FS_OK) {
        memcpy(data.landmarks, lm->points, sizeof(data.landmarks));
        data.source_width = image->width;
        data.source_height = image->height;
        data.library_version = FS_VERSION;
    }
    free(faces);
    free(lm);
    return st == FS_OK ? identity_wrap(ctx, &data, out) : st;
}

void fs_identity_destroy(fs_identity *id)
{
    if (!id)
        return;
    fs_identity_data_free(&id->data);
    free(id);
}

fs_status fs_identity_save_memory(const fs_identity *id, void **data, size_t *size)
{
    if (!id || !data || !size)
        return FS_ERR_INVALID_ARGUMENT;
    uint8_t *buf = NULL;
    size_t n = 0;
    const fs_status st = fs_identity_blob_save(&id->data, &buf, &n, &id->ctx->err);
    if (st == FS_OK) {
        *data = buf;
        *size = n;
    }
    return st;
}

void fs_identity_free_memory(void *data)
{
    free(data);
}

fs_status fs_identity_load_memory(fs_context *ctx, const void *data, size_t size,
                                  fs_identity **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!data || !out)
        return fs_fail(&ctx->err, FS_ERR_INVALID_ARGUMENT, "fs_identity_load_memory: NULL argument");
    fs_identity_data d;
    const fs_status st = fs_identity_blob_load(data, size, &d, &ctx->err);
    return st == FS_OK ? identity_wrap(ctx, &d, out) : st;
}

fs_status fs_identity_save_file(const fs_identity *id, const char *path)
{
    if (!id)
        return FS_ERR_INVALID_ARGUMENT;
    if (!path)
        return fs_fail(&id->ctx->err, FS_ERR_INVALID_ARGUMENT, "fs_identity_save_file: NULL path");
    return fs_identity_blob_write_file(&id->data, path, &id->ctx->err);
}

fs_status fs_identity_load_file(fs_context *ctx, const char *path, fs_identity **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!path || !out)
        return fs_fail(&ctx->err, FS_ERR_INVALID_ARGUMENT, "fs_identity_load_file: NULL argument");
    fs_identity_data d;
    const fs_status st = fs_identity_blob_read_file(path, &d, &ctx->err);
    return st == FS_OK ? identity_wrap(ctx, &d, out) : st;
}

/* ---------------------------------------------------------------- renderer */

typedef struct param_info {
    double min, max;
    int integer;
} param_info;

static const param_info renderer_params[] = {
    {0, 2, 1},    /* FS_RENDERER_COLOR */
    {0, 2, 1},    /* FS_RENDERER_BLEND */
    {0, 4, 1},    /* FS_RENDERER_SUBDIVISION */
    {0, 1, 1},    /* FS_RENDERER_SWAP_EYES_MOUTH */
    {0, 0.25, 0}, /* FS_RENDERER_MASK_ERODE */
    {0, 0.25, 0}, /* FS_RENDERER_MASK_FEATHER */
};
#define N_PARAMS ((int)(sizeof(renderer_params) / sizeof(renderer_params[0])))

fs_status fs_renderer_create(fs_context *ctx, fs_renderer **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!out)
        return fs_fail(&ctx->err, FS_ERR_INVALID_ARGUMENT, "fs_renderer_create: NULL out");
    fs_renderer *r = calloc(1, sizeof(*r));
    if (r)
        r->mesh = malloc(sizeof(*r->mesh));
    if (!r || !r->mesh) {
        free(r);
        return fs_fail(&ctx->err, FS_ERR_OUT_OF_MEMORY, "fs_renderer_create: out of memory");
    }
    r->ctx = ctx;
    fs_swap_params_default(&r->params);
    const fs_status st = fs_swap_mesh_load(ctx, r->mesh, &ctx->err);
    if (st != FS_OK) {
        free(r->mesh);
        free(r);
        return st;
    }
    *out = r;
    fs_clear_error(&ctx->err);
    return FS_OK;
}

void fs_renderer_destroy(fs_renderer *r)
{
    if (!r)
        return;
    fs_fitter_destroy(r->fit);
    fs_detector_destroy(r->det);
    free(r->mesh);
    free(r);
}

fs_status fs_renderer_param_bounds(fs_renderer_param param, double *min, double *max)
{
    if ((int)param < 0 || (int)param >= N_PARAMS || !min || !max)
        return FS_ERR_INVALID_ARGUMENT;
    *min = renderer_params[param].min;
    *max = renderer_params[param].max;
    return FS_OK;
}

fs_status fs_renderer_set(fs_renderer *r, fs_renderer_param param, double value)
{
    if (!r)
        return FS_ERR_INVALID_ARGUMENT;
    if ((int)param < 0 || (int)param >= N_PARAMS)
        return fs_fail(&r->err, FS_ERR_INVALID_ARGUMENT, "fs_renderer_set: unknown parameter %d", (int)param);
    const param_info *pi = &renderer_params[param];
    if (!(value >= pi->min && value <= pi->max) || (pi->integer && value != floor(value)))
        return fs_fail(&r->err, FS_ERR_OUT_OF_RANGE, "fs_renderer_set: parameter %d: %g outside %g..%g%s",
                       (int)param, value, pi->min, pi->max, pi->integer ? " (integer)" : "");
    switch (param) {
    case FS_RENDERER_COLOR: r->params.colour = (int)value; break;
    case FS_RENDERER_BLEND: r->params.blend = (int)value; break;
    case FS_RENDERER_SUBDIVISION: r->params.subdivision = (int)value; break;
    case FS_RENDERER_SWAP_EYES_MOUTH: r->params.swap_eyes_mouth = (int)value; break;
    case FS_RENDERER_MASK_ERODE: r->params.erode = value; break;
    case FS_RENDERER_MASK_FEATHER: r->params.feather = value; break;
    }
    return FS_OK;
}

fs_status fs_renderer_get(const fs_renderer *r, fs_renderer_param param, double *value)
{
    if (!r || !value || (int)param < 0 || (int)param >= N_PARAMS)
        return FS_ERR_INVALID_ARGUMENT;
    switch (param) {
    case FS_RENDERER_COLOR: *value = r->params.colour; break;
    case FS_RENDERER_BLEND: *value = r->params.blend; break;
    case FS_RENDERER_SUBDIVISION: *value = r->params.subdivision; break;
    case FS_RENDERER_SWAP_EYES_MOUTH: *value = r->params.swap_eyes_mouth; break;
    case FS_RENDERER_MASK_ERODE: *value = r->params.erode; break;
    case FS_RENDERER_MASK_FEATHER: *value = r->params.feather; break;
    }
    return FS_OK;
}

/* Channel order of a format: offsets of R, G, B (all 0 for gray). */
static int format_layout(int format, int *ch, int off[3])
{
    switch (format) {
    case FS_PIXEL_RGB8: *ch = 3; off[0] = 0; off[1] = 1; off[2] = 2; return 1;
    case FS_PIXEL_RGBA8: *ch = 4; off[0] = 0; off[1] = 1; off[2] = 2; return 1;
    case FS_PIXEL_BGR8: *ch = 3; off[0] = 2; off[1] = 1; off[2] = 0; return 1;
    case FS_PIXEL_BGRA8: *ch = 4; off[0] = 2; off[1] = 1; off[2] = 0; return 1;
    case FS_PIXEL_GRAY8: *ch = 1; off[0] = off[1] = off[2] = 0; return 1;
    default: return 0;
    }
}

fs_status fs_renderer_swap_face(fs_renderer *r, const fs_identity *id, fs_image *image,
                                const fs_face_landmarks *target)
{
    if (!r)
        return FS_ERR_INVALID_ARGUMENT;
    if (!id || !image || !target || !image->data)
        return fs_fail(&r->err, FS_ERR_INVALID_ARGUMENT, "fs_renderer_swap_face: NULL argument");
    if (image->memory != FS_MEMORY_HOST)
        return fs_fail(&r->err, FS_ERR_UNSUPPORTED, "fs_renderer_swap_face: device memory");
    int ch = 0, off[3];
    if (!format_layout(image->format, &ch, off))
        return fs_fail(&r->err, FS_ERR_UNSUPPORTED, "fs_renderer_swap_face: pixel format %d", image->format);
    if (image->width <= 0 || image->height <= 0 || image->stride < image->width * ch)
        return fs_fail(&r->err, FS_ERR_INVALID_ARGUMENT, "fs_renderer_swap_face: bad image geometry");
    const fs_ops *ops = fs_context_ops(r->ctx);
    const float(*pts)[3] = (const float(*)[3])target->points;
    if (image->format == FS_PIXEL_RGB8) {
        fs_clear_error(&r->err);
        return fs_swap_face_rgb8(ops, r->mesh, &r->params, &id->data, image, pts, NULL, &r->err);
    }
    /* Other formats: an RGB8 copy, swapped, then the changed pixels written back. */
    const size_t w = (size_t)image->width, h = (size_t)image->height;
    uint8_t *rgb = malloc(w * h * 3);
    uint8_t *orig = malloc(w * h * 3);
    if (!rgb || !orig) {
        free(rgb);
        free(orig);
        return fs_fail(&r->err, FS_ERR_OUT_OF_MEMORY, "fs_renderer_swap_face: out of memory");
    }
    for (size_t y = 0; y < h; y++) {
        const uint8_t *s = (const uint8_t *)image->data + y * (size_t)image->stride;
        for (size_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                rgb[(y * w + x) * 3 + (size_t)c] = s[x * (size_t)ch + (size_t)off[c]];
    }
    memcpy(orig, rgb, w * h * 3);
    fs_image view = *image;
    view.format = FS_PIXEL_RGB8;
    view.stride = (int32_t)(w * 3);
    view.data = rgb;
    fs_clear_error(&r->err);
    const fs_status st = fs_swap_face_rgb8(ops, r->mesh, &r->params, &id->data, &view, pts, NULL, &r->err);
    if (st == FS_OK) {
        for (size_t y = 0; y < h; y++) {
            uint8_t *d = (uint8_t *)image->data + y * (size_t)image->stride;
            for (size_t x = 0; x < w; x++) {
                const uint8_t *p = rgb + (y * w + x) * 3, *o = orig + (y * w + x) * 3;
                if (p[0] == o[0] && p[1] == o[1] && p[2] == o[2])
                    continue;
                if (ch == 1) /* ITU-R BT.601 luma, as the library's readers use */
                    d[x] = (uint8_t)lrint(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]);
                else
                    for (int c = 0; c < 3; c++)
                        d[x * (size_t)ch + (size_t)off[c]] = p[c];
            }
        }
    }
    free(rgb);
    free(orig);
    return st;
}

fs_status fs_renderer_swap_image(fs_renderer *r, const fs_identity *id, fs_image *image,
                                 int faces, int *swapped)
{
    if (!r)
        return FS_ERR_INVALID_ARGUMENT;
    if (swapped)
        *swapped = 0;
    if (!id || !image)
        return fs_fail(&r->err, FS_ERR_INVALID_ARGUMENT, "fs_renderer_swap_image: NULL argument");
    if (faces < FS_SWAP_FACES_LARGEST)
        return fs_fail(&r->err, FS_ERR_OUT_OF_RANGE, "fs_renderer_swap_image: faces %d", faces);
    fs_status st = FS_OK;
    if (!r->det) {
        st = fs_detector_create(r->ctx, &r->det);
        if (st != FS_OK) {
            r->det = NULL;
            return fs_fail(&r->err, st, "fs_renderer_swap_image: %s", fs_context_last_error(r->ctx));
        }
    }
    if (!r->fit) {
        st = fs_fitter_create(r->ctx, &r->fit);
        if (st != FS_OK) {
            r->fit = NULL;
            return fs_fail(&r->err, st, "fs_renderer_swap_image: %s", fs_context_last_error(r->ctx));
        }
    }
    fs_face_box box[16];
    int n = 0;
    st = fs_detector_run(r->det, image, box, 16, &n);
    if (st != FS_OK)
        return fs_fail(&r->err, st, "fs_renderer_swap_image: %s", fs_detector_last_error(r->det));
    n = n < 16 ? n : 16;
    if (n == 0)
        return fs_fail(&r->err, FS_ERR_NO_FACE, "fs_renderer_swap_image: no face in the target image");
    if (faces >= n)
        return fs_fail(&r->err, FS_ERR_OUT_OF_RANGE, "fs_renderer_swap_image: face %d asked, %d found", faces, n);
    /* Fit every chosen face on the untouched image first: a swapped face
     * must not change the landmarks of its neighbour. LARGEST: the largest
     * face the fitter accepts. */
    int order[16];
    const int m = sort_by_area(box, n, faces >= 0 ? faces : -1, order);
    fs_face_landmarks *lm = malloc(sizeof(*lm) * (size_t)m);
    int *ok = calloc((size_t)m, sizeof(int));
    if (!lm || !ok) {
        free(lm);
        free(ok);
        return fs_fail(&r->err, FS_ERR_OUT_OF_MEMORY, "fs_renderer_swap_image: out of memory");
    }
    for (int i = 0; i < m; i++) {
        ok[i] = fs_fitter_run(r->fit, image, &box[order[i]], &lm[i]) == FS_OK;
        if (ok[i] && faces == FS_SWAP_FACES_LARGEST)
            break;
    }
    int done = 0;
    fs_status last_st = FS_ERR_NO_FACE;
    for (int i = 0; i < m; i++) {
        if (!ok[i])
            continue;
        const fs_status s = fs_renderer_swap_face(r, id, image, &lm[i]);
        if (s == FS_OK)
            done++;
        else if (s != FS_ERR_NO_FACE) {
            last_st = s;
            break;
        }
    }
    free(lm);
    free(ok);
    if (swapped)
        *swapped = done;
    if (done > 0) {
        fs_clear_error(&r->err);
        return FS_OK;
    }
    if (last_st == FS_ERR_NO_FACE)
        return fs_fail(&r->err, FS_ERR_NO_FACE, "fs_renderer_swap_image: no face could be swapped");
    return last_st;
}

const fs_identity_data *fs_identity_internal_data(const fs_identity *id)
{
    return id ? &id->data : NULL;
}

const fs_swap_mesh *fs_renderer_internal_mesh(const fs_renderer *r)
{
    return r ? r->mesh : NULL;
}

const fs_swap_params *fs_renderer_internal_params(const fs_renderer *r)
{
    return r ? &r->params : NULL;
}

const char *fs_renderer_last_error(const fs_renderer *r)
{
    return r ? r->err.text : "";
}
