#include "internal.h"
#include "backend.h"
#include "engine.h"
#include "param.h"
#include "pool.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CTX_PARAM(p, min, max, def) \
    [p] = {(min), (max), (def), 1, FS_PARAM_INT64, offsetof(struct fs_context, params[p])}

/* Indexed by fs_context_param; every value is a whole number (int64_t). */
static const fs_param_def context_defs[] = {
    CTX_PARAM(FS_CONTEXT_BACKEND, FS_BACKEND_AUTO, FS_BACKEND_CUDA, FS_BACKEND_AUTO),
    CTX_PARAM(FS_CONTEXT_THREADS, 1, 256, 1),
    CTX_PARAM(FS_CONTEXT_FORCE_REFERENCE, 0, 1, 0),
    CTX_PARAM(FS_CONTEXT_MAX_PIXELS, 1, 2147483648.0, 50000000),
    CTX_PARAM(FS_CONTEXT_VERIFY_MODELS, 0, 1, 1),
    CTX_PARAM(FS_CONTEXT_DEVICE, 0, 1023, 0),
};
static const fs_param_table context_params = FS_PARAM_TABLE("fs_context_set", context_defs);

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static void rebuild_ops(fs_context *ctx)
{
    fs_engine_init_reference(ctx->engine);
    if (!ctx->params[FS_CONTEXT_FORCE_REFERENCE])
        fs_engine_init_fast(ctx->engine);
    fs_backend_reset(ctx); /* GPU overrides are applied lazily by fs_context_engine() */
}

/* Context ids start at 1: 0 marks a free error slot. */
static atomic_uint_fast64_t next_context_id = 1;

fs_status fs_context_create(fs_context **out)
{
    if (!out)
        return FS_ERR_INVALID_ARGUMENT;
    fs_context *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return FS_ERR_OUT_OF_MEMORY;
    fs_param_init(&context_params, ctx);
    if (env_flag("FS_FORCE_REFERENCE"))
        ctx->params[FS_CONTEXT_FORCE_REFERENCE] = 1;
    const char *dir = getenv("FS_MODEL_DIR");
    ctx->model_dir = strdup(dir && *dir ? dir : FS_DEFAULT_MODEL_DIR);
    ctx->engine = malloc(sizeof(*ctx->engine));
    if (!ctx->model_dir || !ctx->engine) {
        free(ctx->engine);
        free(ctx->model_dir);
        free(ctx);
        return FS_ERR_OUT_OF_MEMORY;
    }
    ctx->id = atomic_fetch_add(&next_context_id, 1);
    pthread_mutex_init(&ctx->pool_lock, NULL);
    ctx->log_level = FS_LOG_WARNING;
    ctx->active_backend = FS_BACKEND_CPU;
    rebuild_ops(ctx);
    *out = ctx;
    return FS_OK;
}

void fs_context_destroy(fs_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->capture_cache_free)
        ctx->capture_cache_free(ctx->capture_cache);
    fs_pool_destroy(ctx->pool);
    pthread_mutex_destroy(&ctx->pool_lock);
    free(ctx->engine);
    free(ctx->model_dir);
    free(ctx);
}

/* An int64_t as the table's double: exact within every range here
 * (|v| <= 2^31); a value beyond 2^53 rounds, but stays out of range. */
fs_status fs_context_set(fs_context *ctx, fs_context_param param, int64_t value)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_status st = fs_param_check(&context_params, (int)param, (double)value, fs_context_err(ctx));
    if (st != FS_OK)
        return st;
    /* CUDA is checked now, so that asking for it fails here, not at first use. */
    const fs_status backend_st = fs_backend_check(ctx, param, value);
    if (backend_st != FS_OK)
        return backend_st;
    ctx->params[param] = value;
    ctx->config_gen++;
    if (param == FS_CONTEXT_FORCE_REFERENCE || param == FS_CONTEXT_BACKEND ||
        param == FS_CONTEXT_DEVICE)
        rebuild_ops(ctx);
    if (param == FS_CONTEXT_THREADS) {
        /* Made again at the next use with the new count; the context is not
         * to be configured while its objects run (context.h). */
        pthread_mutex_lock(&ctx->pool_lock);
        fs_pool_destroy(ctx->pool);
        ctx->pool = NULL;
        ctx->pool_failed = 0;
        pthread_mutex_unlock(&ctx->pool_lock);
    }
    fs_context_clear_error(ctx);
    return FS_OK;
}

fs_status fs_context_get(const fs_context *ctx, fs_context_param param, int64_t *value)
{
    if (!ctx || !value || !fs_param_find(&context_params, (int)param))
        return FS_ERR_INVALID_ARGUMENT;
    *value = ctx->params[param];
    return FS_OK;
}

fs_status fs_context_param_bounds(fs_context_param param, int64_t *min, int64_t *max)
{
    double lo, hi;
    if (!min || !max || fs_param_bounds(&context_params, (int)param, &lo, &hi) != FS_OK)
        return FS_ERR_INVALID_ARGUMENT;
    *min = (int64_t)lo;
    *max = (int64_t)hi;
    return FS_OK;
}

fs_status fs_context_param_default(fs_context_param param, int64_t *value)
{
    double v;
    if (!value || fs_param_default(&context_params, (int)param, &v) != FS_OK)
        return FS_ERR_INVALID_ARGUMENT;
    *value = (int64_t)v;
    return FS_OK;
}

fs_status fs_context_set_model_dir(fs_context *ctx, const char *path)
{
    if (!ctx || !path)
        return FS_ERR_INVALID_ARGUMENT;
    char *copy = strdup(path);
    if (!copy)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "copying the model folder name");
    free(ctx->model_dir);
    ctx->model_dir = copy;
    ctx->config_gen++;
    return FS_OK;
}

const char *fs_context_model_dir(const fs_context *ctx)
{
    return ctx ? ctx->model_dir : NULL;
}

void fs_context_set_log_callback(fs_context *ctx, fs_log_fn fn, void *user, fs_log_level max_level)
{
    if (!ctx)
        return;
    ctx->log_fn = fn;
    ctx->log_user = user;
    ctx->log_level = max_level;
}

fs_backend fs_context_active_backend(const fs_context *ctx)
{
    return ctx ? ctx->active_backend : FS_BACKEND_CPU;
}

/*
 * Per-thread error details: each thread keeps a few slots, each tagged with
 * the id of the context it belongs to. Ids are never reused, so a slot of a
 * destroyed context is never read as another's, and nothing needs freeing:
 * the slots die with their thread. A thread that fails on more contexts
 * than it has slots reuses the slot written longest ago (that context then
 * reads "" on this thread).
 */
#define ERROR_SLOTS 8

typedef struct error_slot {
    uint64_t ctx_id;  /* 0: free */
    uint64_t used;    /* this thread's write clock at the last claim */
    fs_error_buf buf;
} error_slot;

static _Thread_local error_slot error_slots[ERROR_SLOTS];
static _Thread_local uint64_t error_clock;

static error_slot *find_slot(uint64_t id)
{
    for (int i = 0; i < ERROR_SLOTS; i++)
        if (error_slots[i].ctx_id == id)
            return &error_slots[i];
    return NULL;
}

fs_error_buf *fs_context_err(const fs_context *ctx)
{
    if (!ctx)
        return NULL;
    error_slot *s = find_slot(ctx->id);
    if (!s) {
        s = &error_slots[0];
        for (int i = 1; i < ERROR_SLOTS && s->ctx_id; i++)
            if (!error_slots[i].ctx_id || error_slots[i].used < s->used)
                s = &error_slots[i];
        s->ctx_id = ctx->id;
        s->buf.text[0] = '\0';
    }
    s->used = ++error_clock;
    return &s->buf;
}

void fs_context_clear_error(const fs_context *ctx)
{
    error_slot *s = ctx ? find_slot(ctx->id) : NULL;
    if (s)
        s->buf.text[0] = '\0';
}

const char *fs_context_last_error(const fs_context *ctx)
{
    if (!ctx)
        return "";
    const error_slot *s = find_slot(ctx->id);
    return s ? s->buf.text : "";
}

const fs_engine *fs_context_engine(fs_context *ctx)
{
    fs_backend_resolve(ctx);
    return ctx->engine;
}

void fs_context_exec(fs_context *ctx, fs_error_buf *err, fs_exec *out)
{
    memset(out, 0, sizeof(*out));
    out->err = err;
    if (!ctx || ctx->params[FS_CONTEXT_THREADS] <= 1)
        return;
    const int threads = (int)ctx->params[FS_CONTEXT_THREADS];
    int failed = 0;
    pthread_mutex_lock(&ctx->pool_lock);
    if (!ctx->pool && !ctx->pool_failed && fs_pool_create(threads, &ctx->pool) != FS_OK) {
        ctx->pool = NULL; /* serial: the same results, only slower */
        ctx->pool_failed = failed = 1;
    }
    out->pool = ctx->pool;
    pthread_mutex_unlock(&ctx->pool_lock);
    /* Logged outside the lock: the callback may call back into the library. */
    if (failed)
        fs_log(ctx, FS_LOG_WARNING, "no worker pool of %d threads: running on one", threads);
}
