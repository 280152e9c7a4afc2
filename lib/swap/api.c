/*
 * Public fs_identity and fs_renderer (include/faceswap/identity.h,
 * renderer.h): thin wrappers of lib/identity and lib/swap.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/atlas.h"
#include "identity/blob.h"
#include "identity/selfie.h"
#include "image/view.h"
#include "param.h"
#include "swap/swap.h"
#include "engine.h"

struct fs_identity {
    fs_context *ctx;
    fs_identity_data data;
    /* fs_identity_source_face: not in the blob, so 0 / -1 for a loaded identity */
    int source_faces, source_index;
    fs_face_box source_box;
    /* fs_identity_get_check: not in the blob either */
    int has_check;
    fs_source_check check;
};

/* The images fs_renderer_debug_image() hands out for one swapped face. */
typedef struct debug_face {
    int index; /* detector order in fs_renderer_swap_image, for sorting */
    int x0, y0, w, h;
    uint8_t *render;   /* w*h*3 */
    uint8_t *mask;     /* w*h: the blend weight * 255 */
    uint8_t *coverage; /* w*h: 255 where the mesh covers */
} debug_face;

struct fs_renderer {
    fs_context *ctx;
    fs_swap_mesh *mesh;
    fs_swap_params params;
    fs_detector *det; /* loaded by the first fs_renderer_swap_image */
    fs_fitter *fit;
    fs_error_buf err;
    int keep_debug;  /* FS_RENDERER_KEEP_DEBUG */
    debug_face *dbg; /* faces of the last swap call, n_dbg of cap_dbg used */
    int n_dbg, cap_dbg;
    double min_face; /* FS_RENDERER_MIN_FACE, px */
    double max_yaw;  /* FS_RENDERER_MAX_YAW, degrees */
    fs_swap_workspace ws; /* reused by every swap: grows to the largest face window */
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

fs_status fs_swap_fit_face(fs_fitter *fit, const fs_image *image, const fs_face_box *faces, int n,
                           int want, fs_face_landmarks *lm, int *chosen)
{
    if (!fit || !image || !lm || !chosen || n < 0 || (n > 0 && !faces))
        return FS_ERR_INVALID_ARGUMENT;
    if (want >= n && n > 0)
        return FS_ERR_OUT_OF_RANGE;
    int stack[128], *order = n <= 128 ? stack : malloc(sizeof(int) * (size_t)n);
    if (!order)
        return FS_ERR_OUT_OF_MEMORY;
    const int m = n == 0 ? 0 : sort_by_area(faces, n, want, order);
    fs_status st = FS_ERR_NO_FACE;
    for (int i = 0; i < m && st == FS_ERR_NO_FACE; i++) {
        st = fs_fitter_run_steady(fit, image, &faces[order[i]], lm);
        if (st == FS_OK)
            *chosen = order[i];
    }
    if (order != stack)
        free(order);
    return st;
}

static fs_status identity_wrap(fs_context *ctx, fs_identity_data *data, fs_identity **out)
{
    fs_identity *id = calloc(1, sizeof(*id));
    if (!id) {
        fs_identity_data_free(data);
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "fs_identity: out of memory");
    }
    id->ctx = ctx;
    id->data = *data;
    id->source_index = -1;
    *out = id;
    fs_context_clear_error(ctx);
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
    fs_status st = fs_swap_mesh_load(ctx, &c->mesh, fs_context_err(ctx));
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

/* Most detections a capture considers; also the detector's limit. */
#define CAPTURE_MAX_FACES 100
/* Other faces the check fits to confirm a crowd (each costs one fit). */
#define CROWD_MAX_FITS 8

/*
 * The crowd measure: the largest other face the fitter accepts, as a share
 * of the chosen face's size. Only detections whose box is at least a third
 * of the chosen one's side are fitted: smaller ones cannot reach the
 * threshold of the crowd ramp.
 */
static float crowd_measure(fs_fitter *fit, const fs_image *image, const fs_face_box *faces, int n,
                           int chosen, float size, fs_face_landmarks *other)
{
    const float side = sqrtf(faces[chosen].width * faces[chosen].height);
    float crowd = 0.0f;
    int fits = 0;
    for (int i = 0; i < n && fits < CROWD_MAX_FITS; i++) {
        if (i == chosen || !(sqrtf(faces[i].width * faces[i].height) >= side / 3.0f))
            continue;
        fits++;
        if (fs_fitter_run(fit, image, &faces[i], other) == FS_OK && size > 0.0f)
            crowd = fmaxf(crowd, fs_check_face_size(other) / size);
    }
    return crowd;
}

/*
 * What capture and the selfie check share: detect, pick the face as
 * fs_identity_create_from_image() documents, fit it and, when @p check is
 * not NULL, measure and judge it. Holds the cache's lock from detection to
 * the last fit. @p faces has room for CAPTURE_MAX_FACES.
 */
static fs_status capture_face(fs_context *ctx, capture_cache *cache, const fs_image *image,
                              int face_index, const char *fn, fs_face_box *faces, int *n_found,
                              int *chosen, fs_face_landmarks *lm, fs_source_check *check)
{
    pthread_mutex_lock(&cache->lock);
    fs_status st = cache_load(ctx, cache);
    fs_detector *det = cache->det;
    fs_fitter *fit = cache->fit;
    int n = 0;
    if (st == FS_OK) {
        st = fs_detector_run(det, image, faces, CAPTURE_MAX_FACES, &n);
        if (st != FS_OK)
            fs_fail(fs_context_err(ctx), st, "%s: %s", fn, fs_detector_last_error(det));
    }
    if (st == FS_OK) {
        n = n < CAPTURE_MAX_FACES ? n : CAPTURE_MAX_FACES;
        if (n == 0)
            st = fs_fail(fs_context_err(ctx), FS_ERR_NO_FACE, "%s: no face in the source image", fn);
        else if (face_index >= n)
            st = fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_RANGE, "%s: face %d asked, %d found", fn,
                         face_index, n);
    }
    if (st == FS_OK) {
        const fs_status fst = fs_swap_fit_face(fit, image, faces, n, face_index, lm, chosen);
        if (fst == FS_ERR_NO_FACE)
            st = fs_fail(fs_context_err(ctx), FS_ERR_NO_FACE, "%s: no face (the fitter rejected %s)", fn,
                         face_index >= 0 || n == 1 ? "the detection" : "every detection");
        else if (fst != FS_OK)
            st = fs_fail(fs_context_err(ctx), fst, "%s: %s", fn, fs_fitter_last_error(fit));
    }
    fs_face_landmarks *other = NULL;
    if (st == FS_OK && check) {
        memset(check, 0, sizeof(*check));
        check->faces = n;
        check->face_index = *chosen;
        check->box = faces[*chosen];
        other = malloc(sizeof(*other));
        st = other ? fs_check_measure(image, lm, check, fs_context_err(ctx))
                   : fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    }
    if (st == FS_OK && check) {
        check->crowd = crowd_measure(fit, image, faces, n, *chosen, check->face_size, other);
        fs_check_judge(check, &fs_check_default_limits);
    }
    free(other);
    pthread_mutex_unlock(&cache->lock);
    *n_found = n;
    return st;
}

/* One capture's buffers and results (fs_identity_create_from_image and
 * fs_identity_check_image). */
typedef struct capture_job {
    capture_cache *cache;
    fs_face_landmarks *lm;
    fs_face_box *faces; /* CAPTURE_MAX_FACES */
    int n, chosen;
    fs_source_check check;
} capture_job;

static void capture_job_free(capture_job *job)
{
    if (!job)
        return;
    free(job->faces);
    free(job->lm);
    free(job);
}

/* Checks the arguments a capture shares (@p out: the caller's out-parameter),
 * makes *@p job_out (release with capture_job_free, also on failure) and runs
 * capture_face. */
static fs_status capture_run(fs_context *ctx, const fs_image *image, const void *out, int face_index,
                             const char *fn, capture_job **job_out)
{
    if (!image || !out)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "%s: NULL argument", fn);
    capture_job *job = *job_out = calloc(1, sizeof(*job));
    if (!job)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    job->chosen = -1;
    if (face_index < FS_IDENTITY_LARGEST_FACE)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_RANGE, "%s: face_index %d", fn, face_index);
    job->cache = cache_get(ctx);
    job->lm = malloc(sizeof(*job->lm));
    job->faces = malloc(sizeof(*job->faces) * CAPTURE_MAX_FACES);
    if (!job->cache || !job->lm || !job->faces)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    return capture_face(ctx, job->cache, image, face_index, fn, job->faces, &job->n, &job->chosen,
                        job->lm, &job->check);
}

fs_status fs_identity_create_from_image(fs_context *ctx, const fs_image *image, int face_index,
                                        fs_identity **out)
{
    static const char fn[] = "fs_identity_create_from_image";
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    capture_job *job = NULL;
    fs_status st = capture_run(ctx, image, out, face_index, fn, &job);
    /* The mesh is only read from here on and stays until the context goes
     * (a reload needs a context setting, which a caller must not change
     * while the context is in use), so the atlas is built unlocked. */
    fs_identity_data data;
    memset(&data, 0, sizeof(data));
    if (st == FS_OK) {
        fs_atlas_params ap;
        fs_atlas_params_default(&ap);
        st = fs_atlas_build(image, (const float(*)[3])job->lm->points, &job->cache->mesh.atlas, &ap,
                            &data.atlas, fs_context_err(ctx));
    }
    if (st == FS_OK) {
        memcpy(data.landmarks, job->lm->points, sizeof(data.landmarks));
        data.source_width = image->width;
        data.source_height = image->height;
        data.library_version = FS_VERSION;
    }
    if (st == FS_OK)
        st = identity_wrap(ctx, &data, out);
    if (st == FS_OK) {
        (*out)->source_faces = job->n;
        (*out)->source_index = job->chosen;
        (*out)->source_box = job->faces[job->chosen];
        (*out)->has_check = 1;
        (*out)->check = job->check;
    }
    capture_job_free(job);
    return st;
}

fs_status fs_identity_check_image(fs_context *ctx, const fs_image *image, int face_index,
                                  fs_source_check *out)
{
    static const char fn[] = "fs_identity_check_image";
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    capture_job *job = NULL;
    const fs_status st = capture_run(ctx, image, out, face_index, fn, &job);
    if (st == FS_OK) {
        *out = job->check;
        fs_context_clear_error(ctx);
    }
    capture_job_free(job);
    return st;
}

fs_status fs_identity_get_check(const fs_identity *id, fs_source_check *out)
{
    if (!id || !out)
        return FS_ERR_INVALID_ARGUMENT;
    if (!id->has_check)
        return fs_fail(fs_context_err(id->ctx), FS_ERR_NOT_FOUND,
                       "fs_identity_get_check: a loaded identity has no check of its photo");
    *out = id->check;
    return FS_OK;
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
    const fs_status st = fs_identity_blob_save(&id->data, &buf, &n, fs_context_err(id->ctx));
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
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_identity_load_memory: NULL argument");
    fs_identity_data d;
    const fs_status st = fs_identity_blob_load(data, size, &d, fs_context_err(ctx));
    return st == FS_OK ? identity_wrap(ctx, &d, out) : st;
}

fs_status fs_identity_save_file(const fs_identity *id, const char *path)
{
    if (!id)
        return FS_ERR_INVALID_ARGUMENT;
    if (!path)
        return fs_fail(fs_context_err(id->ctx), FS_ERR_INVALID_ARGUMENT, "fs_identity_save_file: NULL path");
    return fs_identity_blob_write_file(&id->data, path, fs_context_err(id->ctx));
}

fs_status fs_identity_load_file(fs_context *ctx, const char *path, fs_identity **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!path || !out)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_identity_load_file: NULL argument");
    fs_identity_data d;
    const fs_status st = fs_identity_blob_read_file(path, &d, fs_context_err(ctx));
    return st == FS_OK ? identity_wrap(ctx, &d, out) : st;
}

fs_status fs_identity_get_landmarks(const fs_identity *id, fs_face_landmarks *out)
{
    if (!id || !out)
        return FS_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    memcpy(out->points, id->data.landmarks, sizeof(out->points));
    return FS_OK;
}

fs_status fs_identity_get_atlas(const fs_identity *id, fs_image *out)
{
    if (!id || !out)
        return FS_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    out->width = id->data.atlas.size;
    out->height = id->data.atlas.size;
    out->stride = id->data.atlas.size * 4;
    out->format = FS_PIXEL_RGBA8;
    out->memory = FS_MEMORY_HOST;
    /* fs_image has no const view; the header forbids writing through it */
    out->data = id->data.atlas.rgba;
    return FS_OK;
}

fs_status fs_identity_source_face(const fs_identity *id, int *n_faces, int *index,
                                  fs_face_box *box)
{
    if (!id)
        return FS_ERR_INVALID_ARGUMENT;
    if (n_faces)
        *n_faces = id->source_faces;
    if (index)
        *index = id->source_index;
    if (box)
        *box = id->source_box;
    return FS_OK;
}

/* ---------------------------------------------------------------- renderer */

/* messi5.jpg's 35 px face still swaps; faces of 8..24 px come out as a
 * smudge. A face of faceapi_sample2.jpg at yaw -56 swaps with its oval fully
 * covered and textured, and so do its landmarks turned rigidly on to 89
 * degrees, so holes do not set the limit; the fit does: past ~75 degrees
 * half the mesh is guessed (doc/swap.md). */
#define DEFAULT_MIN_FACE 24.0
#define DEFAULT_MAX_YAW 75.0

#define REN_PARAM(p, min, max, def, integer, storage, field) \
    [p] = {(min), (max), (def), (integer), (storage), offsetof(fs_renderer, field)}
#define I FS_PARAM_INT
#define D FS_PARAM_DOUBLE

/* The defaults of the swap's own parameters are fs_swap_params_default's
 * (tests/test_param.c checks that the two agree). */
static const fs_param_def renderer_defs[] = {
    REN_PARAM(FS_RENDERER_COLOR, 0, 2, FS_COLOR_FULL, 1, I, params.colour),
    REN_PARAM(FS_RENDERER_BLEND, 0, 2, FS_BLEND_MULTIBAND, 1, I, params.blend),
    REN_PARAM(FS_RENDERER_SUBDIVISION, 0, 4, 0, 1, I, params.subdivision),
    REN_PARAM(FS_RENDERER_SWAP_EYES_MOUTH, 0, 2, FS_SWAP_EYES_TARGET, 1, I, params.eyes),
    REN_PARAM(FS_RENDERER_MASK_ERODE, 0, 0.25, 0.01, 0, D, params.erode),
    REN_PARAM(FS_RENDERER_MASK_FEATHER, 0, 0.25, 0.05, 0, D, params.feather),
    REN_PARAM(FS_RENDERER_KEEP_DEBUG, 0, 1, 0, 1, I, keep_debug),
    /* 8 is lib/swap's own floor (SWAP_MIN_FACE) */
    REN_PARAM(FS_RENDERER_MIN_FACE, 8, 4096, DEFAULT_MIN_FACE, 0, D, min_face),
    REN_PARAM(FS_RENDERER_MAX_YAW, 0, 90, DEFAULT_MAX_YAW, 0, D, max_yaw),
    REN_PARAM(FS_RENDERER_SHAPE, 0, 1, 0.5, 0, D, params.shape),
    REN_PARAM(FS_RENDERER_MATCH_DETAIL, 0, 1, 1, 1, I, params.match_detail),
    REN_PARAM(FS_RENDERER_SKIN_GUARD, 0, 1, 1, 1, I, params.skin_guard),
};
#undef I
#undef D
static const fs_param_table renderer_params = FS_PARAM_TABLE("fs_renderer_set", renderer_defs);

fs_status fs_renderer_create(fs_context *ctx, fs_renderer **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!out)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_renderer_create: NULL out");
    fs_renderer *r = calloc(1, sizeof(*r));
    if (r)
        r->mesh = malloc(sizeof(*r->mesh));
    if (!r || !r->mesh) {
        free(r);
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "fs_renderer_create: out of memory");
    }
    r->ctx = ctx;
    fs_swap_params_default(&r->params); /* and the parameters that are not public */
    fs_param_init(&renderer_params, r);
    const fs_status st = fs_swap_mesh_load(ctx, r->mesh, fs_context_err(ctx));
    if (st != FS_OK) {
        free(r->mesh);
        free(r);
        return st;
    }
    *out = r;
    fs_context_clear_error(ctx);
    return FS_OK;
}

/* Releases the kept debug images (the array stays for the next call). */
static void debug_clear(fs_renderer *r)
{
    for (int i = 0; i < r->n_dbg; i++) {
        free(r->dbg[i].render);
        free(r->dbg[i].mask);
        free(r->dbg[i].coverage);
    }
    r->n_dbg = 0;
}

/* Room for one more kept face, made before the swap so that running out of
 * memory leaves the image untouched. */
static int debug_reserve(fs_renderer *r)
{
    if (r->n_dbg < r->cap_dbg)
        return 1;
    const int cap = r->cap_dbg ? 2 * r->cap_dbg : 4;
    debug_face *d = realloc(r->dbg, sizeof(*d) * (size_t)cap);
    if (!d)
        return 0;
    r->dbg = d;
    r->cap_dbg = cap;
    return 1;
}

/* Takes the images of a successful swap out of @p info into the next slot. */
static void debug_take(fs_renderer *r, fs_swap_info *info)
{
    if (!info->render_rgb || !info->mesh_mask || !info->alpha || r->n_dbg >= r->cap_dbg)
        return;
    const size_t n = (size_t)info->w * (size_t)info->h;
    /* The weight becomes bytes in its own buffer: byte p lands in float
     * p / 4 <= p, which has been read already, so no second allocation
     * (that could fail after the image was changed) is needed. */
    const float *a = info->alpha;
    uint8_t *m = (uint8_t *)info->alpha;
    for (size_t p = 0; p < n; p++) {
        const float v = a[p];
        m[p] = v > 0.0f ? (v < 1.0f ? (uint8_t)lrintf(v * 255.0f) : 255) : 0;
    }
    for (size_t p = 0; p < n; p++)
        info->mesh_mask[p] = info->mesh_mask[p] ? 255 : 0;
    debug_face *f = &r->dbg[r->n_dbg++];
    f->index = 0;
    f->x0 = info->x0;
    f->y0 = info->y0;
    f->w = info->w;
    f->h = info->h;
    f->render = info->render_rgb;
    f->mask = m;
    f->coverage = info->mesh_mask;
    info->render_rgb = NULL;
    info->mesh_mask = NULL;
    info->alpha = NULL;
}

/* The faces of a whole-image call were kept in the order they were swapped
 * (by area); the API hands them out in detector order, the reports' order:
 * the k-th kept face is the k-th report with FS_SWAP_SWAPPED. */
static void debug_sort(fs_renderer *r, const fs_swap_face_report *rep, const int *order, int m)
{
    int k = 0;
    for (int i = 0; i < m && k < r->n_dbg; i++)
        if (rep[order[i]].outcome == FS_SWAP_SWAPPED)
            r->dbg[k++].index = order[i];
    assert(k == r->n_dbg);
    if (k != r->n_dbg)
        return;
    for (int i = 1; i < k; i++) {
        const debug_face f = r->dbg[i];
        int j = i;
        for (; j > 0 && r->dbg[j - 1].index > f.index; j--)
            r->dbg[j] = r->dbg[j - 1];
        r->dbg[j] = f;
    }
}

void fs_renderer_destroy(fs_renderer *r)
{
    if (!r)
        return;
    debug_clear(r);
    free(r->dbg);
    fs_fitter_destroy(r->fit);
    fs_detector_destroy(r->det);
    fs_swap_workspace_free(&r->ws);
    free(r->mesh);
    free(r);
}

fs_status fs_renderer_param_bounds(fs_renderer_param param, double *min, double *max)
{
    return fs_param_bounds(&renderer_params, (int)param, min, max);
}

fs_status fs_renderer_param_default(fs_renderer_param param, double *value)
{
    return fs_param_default(&renderer_params, (int)param, value);
}

fs_status fs_renderer_set(fs_renderer *r, fs_renderer_param param, double value)
{
    if (!r)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_status st = fs_param_check(&renderer_params, (int)param, value, &r->err);
    if (st != FS_OK)
        return st;
    fs_param_store(&renderer_params, (int)param, r, value);
    if (param == FS_RENDERER_KEEP_DEBUG && !r->keep_debug)
        debug_clear(r);
    return FS_OK;
}

fs_status fs_renderer_get(const fs_renderer *r, fs_renderer_param param, double *value)
{
    if (!r || !value || !fs_param_find(&renderer_params, (int)param))
        return FS_ERR_INVALID_ARGUMENT;
    *value = fs_param_load(&renderer_params, (int)param, r);
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

/* fs_renderer_swap_face without touching the kept debug images; @p info
 * (may be NULL) receives what fs_swap_face reports. */
static fs_status swap_face_info(fs_renderer *r, const fs_identity *id, fs_image *image,
                                const fs_face_landmarks *target, fs_swap_info *info)
{
    if (!id || !target)
        return fs_fail(&r->err, FS_ERR_INVALID_ARGUMENT, "fs_renderer_swap_face: NULL argument");
    const fs_status vst = fs_image_view_check(r->ctx, image, "fs_renderer_swap_face", &r->err);
    if (vst != FS_OK)
        return vst;
    int ch = 0, off[3];
    if (!format_layout(image->format, &ch, off))
        return fs_fail(&r->err, FS_ERR_UNSUPPORTED, "fs_renderer_swap_face: pixel format %d", image->format);
    const fs_engine *eng = fs_context_engine(r->ctx);
    fs_exec ex;
    fs_context_exec(r->ctx, &r->err, &ex);
    const float(*pts)[3] = (const float(*)[3])target->points;
    if (image->format == FS_PIXEL_RGB8) {
        fs_clear_error(&r->err);
        return fs_swap_face(eng, &ex, &r->ws, r->mesh, &r->params, &id->data, image, pts, info);
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
    const fs_status st = fs_swap_face(eng, &ex, &r->ws, r->mesh, &r->params, &id->data, &view, pts, info);
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

/* One face of a swap call, kept for fs_renderer_debug_image when asked. */
static fs_status swap_face_keep(fs_renderer *r, const fs_identity *id, fs_image *image,
                                const fs_face_landmarks *target)
{
    if (!r->keep_debug)
        return swap_face_info(r, id, image, target, NULL);
    if (!debug_reserve(r))
        return fs_fail(&r->err, FS_ERR_OUT_OF_MEMORY, "fs_renderer_swap_face: out of memory");
    fs_swap_info info;
    memset(&info, 0, sizeof(info));
    info.keep_debug = 1;
    const fs_status st = swap_face_info(r, id, image, target, &info);
    if (st == FS_OK)
        debug_take(r, &info);
    fs_swap_info_free(&info);
    return st;
}

/* FS_RENDERER_MIN_FACE and FS_RENDERER_MAX_YAW on one face: FS_SWAP_SWAPPED
 * when it may be swapped, else the reason, with the detail in r->err. The
 * size is the pipeline's own (lib/swap/swap.c): the larger side of the mesh
 * points' bounding box. Landmarks that are not finite pass here, for the
 * pipeline to reject as an invalid argument; a yaw that is not finite
 * (landmarks made without a pose) passes too. */
static fs_swap_outcome face_check(fs_renderer *r, const fs_face_landmarks *lm, const char *fn,
                                  float *size, float *yaw)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    int finite = 1;
    for (int i = 0; i < FS_MESH_LANDMARKS && finite; i++) {
        const double x = lm->points[i][0], y = lm->points[i][1];
        finite = isfinite(x) && isfinite(y);
        x0 = fmin(x0, x);
        y0 = fmin(y0, y);
        x1 = fmax(x1, x);
        y1 = fmax(y1, y);
    }
    const double s = finite ? fmax(x1 - x0, y1 - y0) : 0.0;
    *size = (float)s;
    *yaw = lm->pose.yaw;
    if (finite && s < r->min_face) {
        fs_fail(&r->err, FS_ERR_NO_FACE, "%s: face of %.1f px is smaller than FS_RENDERER_MIN_FACE (%g px)",
                fn, s, r->min_face);
        return FS_SWAP_SKIPPED_SMALL;
    }
    if (fabs((double)lm->pose.yaw) > r->max_yaw) {
        fs_fail(&r->err, FS_ERR_NO_FACE, "%s: face turned %.1f degrees (yaw), beyond FS_RENDERER_MAX_YAW (%g)",
                fn, (double)lm->pose.yaw, r->max_yaw);
        return FS_SWAP_SKIPPED_TURNED;
    }
    return FS_SWAP_SWAPPED;
}

fs_status fs_renderer_swap_face(fs_renderer *r, const fs_identity *id, fs_image *image,
                                const fs_face_landmarks *target)
{
    if (!r)
        return FS_ERR_INVALID_ARGUMENT;
    debug_clear(r);
    float size, yaw;
    /* NULL arguments are swap_face_info's to report */
    if (id && image && image->data && target &&
        face_check(r, target, "fs_renderer_swap_face", &size, &yaw) != FS_SWAP_SWAPPED)
        return FS_ERR_NO_FACE;
    return swap_face_keep(r, id, image, target);
}

fs_status fs_renderer_debug_image(const fs_renderer *r, int face, fs_renderer_debug_kind kind,
                                  fs_image *out, int *x0, int *y0)
{
    if (!r || !out || (int)kind < FS_DEBUG_RENDER || (int)kind > FS_DEBUG_COVERAGE)
        return FS_ERR_INVALID_ARGUMENT;
    if (face < 0 || face >= r->n_dbg)
        return FS_ERR_OUT_OF_RANGE;
    const debug_face *f = &r->dbg[face];
    memset(out, 0, sizeof(*out));
    out->width = f->w;
    out->height = f->h;
    out->stride = kind == FS_DEBUG_RENDER ? f->w * 3 : f->w;
    out->format = kind == FS_DEBUG_RENDER ? FS_PIXEL_RGB8 : FS_PIXEL_GRAY8;
    out->memory = FS_MEMORY_HOST;
    out->data = kind == FS_DEBUG_RENDER ? f->render : kind == FS_DEBUG_MASK ? f->mask : f->coverage;
    if (x0)
        *x0 = f->x0;
    if (y0)
        *y0 = f->y0;
    return FS_OK;
}

/* Sets one report's outcome and status. */
static void report_set(fs_swap_face_report *rep, fs_swap_outcome outcome, fs_status status)
{
    rep->outcome = (int32_t)outcome;
    rep->status = (int32_t)status;
}

/*
 * fs_renderer_swap_image{,_report}: rep[] gets one report per face found
 * (*n_found of them, detector order). Arguments checked by the callers.
 */
static fs_status swap_image_run(fs_renderer *r, const fs_identity *id, fs_image *image,
                                int faces, fs_swap_face_report rep[FS_SWAP_MAX_FACES],
                                int *n_found, int *swapped)
{
    *n_found = 0;
    *swapped = 0;
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
    fs_face_box box[FS_SWAP_MAX_FACES];
    int n = 0;
    st = fs_detector_run(r->det, image, box, FS_SWAP_MAX_FACES, &n);
    if (st != FS_OK)
        return fs_fail(&r->err, st, "fs_renderer_swap_image: %s", fs_detector_last_error(r->det));
    n = n < FS_SWAP_MAX_FACES ? n : FS_SWAP_MAX_FACES;
    memset(rep, 0, sizeof(*rep) * (size_t)n);
    for (int i = 0; i < n; i++) {
        rep[i].box = box[i];
        report_set(&rep[i], FS_SWAP_NOT_CHOSEN, FS_OK);
    }
    *n_found = n;
    if (n == 0)
        return fs_fail(&r->err, FS_ERR_NO_FACE, "fs_renderer_swap_image: no face in the target image");
    if (faces >= n)
        return fs_fail(&r->err, FS_ERR_OUT_OF_RANGE, "fs_renderer_swap_image: face %d asked, %d found", faces, n);
    /* Fit every chosen face on the untouched image first: a swapped face
     * must not change the landmarks of its neighbour. LARGEST: the largest
     * face that can be swapped, so it swaps as soon as one passes (the
     * image is still untouched while it looks). */
    int order[FS_SWAP_MAX_FACES];
    const int m = sort_by_area(box, n, faces >= 0 ? faces : -1, order);
    fs_face_landmarks *lm = malloc(sizeof(*lm) * (size_t)m);
    if (!lm)
        return fs_fail(&r->err, FS_ERR_OUT_OF_MEMORY, "fs_renderer_swap_image: out of memory");
    int ok[FS_SWAP_MAX_FACES] = {0};
    int done = 0, hard_at = -1;
    fs_status hard = FS_OK; /* an error that ends the call, at order[hard_at] */
    for (int i = 0; i < m && !done && hard == FS_OK; i++) {
        fs_swap_face_report *p = &rep[order[i]];
        const fs_status fst = fs_fitter_run_steady(r->fit, image, &box[order[i]], &lm[i]);
        if (fst != FS_OK) {
            report_set(p, FS_SWAP_SKIPPED_FIT, fst);
            continue;
        }
        p->confidence = lm[i].confidence;
        const fs_swap_outcome why = face_check(r, &lm[i], "fs_renderer_swap_image", &p->face_size, &p->yaw);
        if (why != FS_SWAP_SWAPPED) {
            report_set(p, why, FS_ERR_NO_FACE);
            continue;
        }
        ok[i] = 1;
        if (faces != FS_SWAP_FACES_LARGEST)
            continue;
        const fs_status s = swap_face_keep(r, id, image, &lm[i]);
        report_set(p, s == FS_OK ? FS_SWAP_SWAPPED : FS_SWAP_FAILED, s);
        done = s == FS_OK;
        if (s != FS_OK && s != FS_ERR_NO_FACE) {
            hard = s;
            hard_at = i;
        }
    }
    for (int i = 0; i < m && faces != FS_SWAP_FACES_LARGEST && hard == FS_OK; i++) {
        if (!ok[i])
            continue;
        const fs_status s = swap_face_keep(r, id, image, &lm[i]);
        report_set(&rep[order[i]], s == FS_OK ? FS_SWAP_SWAPPED : FS_SWAP_FAILED, s);
        done += s == FS_OK;
        if (s != FS_OK && s != FS_ERR_NO_FACE) {
            hard = s;
            hard_at = i;
        }
    }
    /* Not tried because of it: under LARGEST every face after it (none was
     * looked at), otherwise those that passed the checks. */
    for (int j = hard_at + 1; hard != FS_OK && j < m; j++)
        if (ok[j] || faces == FS_SWAP_FACES_LARGEST)
            report_set(&rep[order[j]], FS_SWAP_FAILED, FS_ERR_CANCELLED);
    free(lm);
    debug_sort(r, rep, order, m);
    *swapped = done;
    if (hard != FS_OK)
        return hard; /* swap_face_keep's detail stays */
    if (done > 0) {
        fs_clear_error(&r->err);
        return FS_OK;
    }
    /* The detail counts the reasons, for callers of fs_renderer_swap_image. */
    static const char *const why[FS_SWAP_FAILED + 1] = {
        "", "not chosen", "rejected by the fitter", "smaller than FS_RENDERER_MIN_FACE",
        "turned beyond FS_RENDERER_MAX_YAW", "outside the image"};
    int count[FS_SWAP_FAILED + 1] = {0};
    for (int i = 0; i < n; i++)
        count[rep[i].outcome]++;
    char text[256] = "";
    size_t len = 0;
    for (int k = FS_SWAP_NOT_CHOSEN; k <= FS_SWAP_FAILED && len < sizeof(text); k++)
        if (count[k] > 0) {
            const int w = snprintf(text + len, sizeof(text) - len, ", %d %s", count[k], why[k]);
            len += w > 0 ? (size_t)w : 0;
        }
    return fs_fail(&r->err, FS_ERR_NO_FACE, "fs_renderer_swap_image: no face could be swapped (%d found%s)",
                   n, text);
}

fs_status fs_renderer_swap_image(fs_renderer *r, const fs_identity *id, fs_image *image,
                                 int faces, int *swapped)
{
    if (!r)
        return FS_ERR_INVALID_ARGUMENT;
    debug_clear(r);
    if (swapped)
        *swapped = 0;
    if (!id || !image)
        return fs_fail(&r->err, FS_ERR_INVALID_ARGUMENT, "fs_renderer_swap_image: NULL argument");
    if (faces < FS_SWAP_FACES_LARGEST)
        return fs_fail(&r->err, FS_ERR_OUT_OF_RANGE, "fs_renderer_swap_image: faces %d", faces);
    fs_swap_face_report rep[FS_SWAP_MAX_FACES];
    int n = 0, done = 0;
    const fs_status st = swap_image_run(r, id, image, faces, rep, &n, &done);
    if (swapped)
        *swapped = done;
    return st;
}

fs_status fs_renderer_swap_image_report(fs_renderer *r, const fs_identity *id, fs_image *image,
                                        int faces, fs_swap_face_report *reports, int capacity,
                                        int *n_faces)
{
    if (!r)
        return FS_ERR_INVALID_ARGUMENT;
    debug_clear(r);
    if (n_faces)
        *n_faces = 0;
    if (!id || !image || !reports || !n_faces)
        return fs_fail(&r->err, FS_ERR_INVALID_ARGUMENT, "fs_renderer_swap_image_report: NULL argument");
    if (capacity < 1)
        return fs_fail(&r->err, FS_ERR_INVALID_ARGUMENT,
                       "fs_renderer_swap_image_report: capacity %d (at least 1)", capacity);
    if (faces < FS_SWAP_FACES_LARGEST)
        return fs_fail(&r->err, FS_ERR_OUT_OF_RANGE, "fs_renderer_swap_image_report: faces %d", faces);
    fs_swap_face_report rep[FS_SWAP_MAX_FACES];
    int n = 0, done = 0;
    const fs_status st = swap_image_run(r, id, image, faces, rep, &n, &done);
    memcpy(reports, rep, sizeof(*rep) * (size_t)(n < capacity ? n : capacity));
    *n_faces = n;
    return st;
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

void fs_renderer_internal_limits(const fs_renderer *r, double *min_face, double *max_yaw)
{
    *min_face = r->min_face;
    *max_yaw = r->max_yaw;
}

fs_context *fs_renderer_internal_context(const fs_renderer *r)
{
    return r->ctx;
}

const char *fs_renderer_last_error(const fs_renderer *r)
{
    return r ? r->err.text : "";
}
