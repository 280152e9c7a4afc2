#include "internal.h"
#include "backend.h"

#include <stdlib.h>
#include <string.h>

typedef struct param_info {
    int64_t min, max, def;
} param_info;

/* Indexed by fs_context_param. */
static const param_info context_params[] = {
    [FS_CONTEXT_BACKEND] = {FS_BACKEND_AUTO, FS_BACKEND_CUDA, FS_BACKEND_AUTO},
    [FS_CONTEXT_THREADS] = {1, 256, 1},
    [FS_CONTEXT_FORCE_REFERENCE] = {0, 1, 0},
    [FS_CONTEXT_MAX_PIXELS] = {1, INT64_C(1) << 31, 50000000},
    [FS_CONTEXT_VERIFY_MODELS] = {0, 1, 1},
    [FS_CONTEXT_DEVICE] = {0, 1023, 0},
};
#define N_CONTEXT_PARAMS ((int)(sizeof(context_params) / sizeof(context_params[0])))

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
    for (int i = 0; i < N_CONTEXT_PARAMS; i++)
        ctx->params[i] = context_params[i].def;
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

static int valid_param(int param)
{
    return param >= 0 && param < N_CONTEXT_PARAMS;
}

fs_status fs_context_set(fs_context *ctx, fs_context_param param, int64_t value)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!valid_param((int)param))
        return fs_fail(&ctx->err, FS_ERR_INVALID_ARGUMENT, "unknown context parameter %d", (int)param);
    const param_info *pi = &context_params[param];
    if (value < pi->min || value > pi->max)
        return fs_fail(&ctx->err, FS_ERR_OUT_OF_RANGE,
                       "context parameter %d: %lld outside [%lld, %lld]", (int)param,
                       (long long)value, (long long)pi->min, (long long)pi->max);
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
    if (!ctx || !value || !valid_param((int)param))
        return FS_ERR_INVALID_ARGUMENT;
    *value = ctx->params[param];
    return FS_OK;
}

fs_status fs_context_param_bounds(fs_context_param param, int64_t *min, int64_t *max)
{
    if (!min || !max || !valid_param((int)param))
        return FS_ERR_INVALID_ARGUMENT;
    *min = context_params[param].min;
    *max = context_params[param].max;
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
