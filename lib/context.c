#include "internal.h"
#include "backend.h"
#include "param.h"

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
    fs_ops_init_reference(&ctx->ops);
    if (!ctx->params[FS_CONTEXT_FORCE_REFERENCE])
        fs_ops_init_fast(&ctx->ops);
    fs_backend_reset(ctx); /* GPU overrides are applied lazily by fs_context_ops() */
}

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
    if (!ctx->model_dir) {
        free(ctx);
        return FS_ERR_OUT_OF_MEMORY;
    }
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
    free(ctx->model_dir);
    free(ctx);
}

/* An int64_t as the table's double: exact within every range here
 * (|v| <= 2^31); a value beyond 2^53 rounds, but stays out of range. */
fs_status fs_context_set(fs_context *ctx, fs_context_param param, int64_t value)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_status st = fs_param_check(&context_params, (int)param, (double)value, &ctx->err);
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
    fs_clear_error(&ctx->err);
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
        return fs_fail(&ctx->err, FS_ERR_OUT_OF_MEMORY, "copying the model folder name");
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

const char *fs_context_last_error(const fs_context *ctx)
{
    return ctx ? ctx->err.text : "";
}

const fs_ops *fs_context_ops(fs_context *ctx)
{
    fs_backend_resolve(ctx);
    return &ctx->ops;
}
