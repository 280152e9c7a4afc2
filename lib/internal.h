/*
 * Internal declarations shared by the core library. Not installed.
 */
#ifndef FS_INTERNAL_H
#define FS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "faceswap/faceswap.h"
#include "ops/ops.h"

#define FS_ERROR_DETAIL_SIZE 512

/* A per-handle error detail: every handle embeds one. */
typedef struct fs_error_buf {
    char text[FS_ERROR_DETAIL_SIZE];
} fs_error_buf;

struct fs_context {
    int64_t params[6];            /* indexed by fs_context_param */
    char *model_dir;
    fs_log_fn log_fn;
    void *log_user;
    fs_log_level log_level;
    fs_backend active_backend;
    fs_ops ops;                   /* filled at creation: reference, then fast overrides */
    int ops_ready;
    fs_error_buf err;
    /* Bumped by every fs_context_set / fs_context_set_model_dir, so that
     * objects cached from this context (lib/swap/api.c) know to reload. */
    unsigned config_gen;
    /* Detector and fitter that fs_identity_create_from_image keeps between
     * calls (lib/swap/api.c), released by fs_context_destroy; NULL until
     * the first capture. */
    void *capture_cache;
    void (*capture_cache_free)(void *cache);
};

/*
 * Records "detail" in @p buf (printf-style) and returns @p status, so that
 * error paths read `return fs_fail(&h->err, FS_ERR_X, "...", ...);`.
 * Also forwards the message to the context's log callback when ctx != NULL.
 */
fs_status fs_fail(fs_error_buf *buf, fs_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void fs_clear_error(fs_error_buf *buf);
/* Copies an error detail from one handle to another (e.g. a sub-object's to its owner). */
void fs_copy_error(fs_error_buf *dst, const fs_error_buf *src);

void fs_log(const fs_context *ctx, fs_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The operations table of this context (reference or reference + fast overrides). */
const fs_ops *fs_context_ops(fs_context *ctx);

/* Joins model_dir and a file name into a new malloc'd string (NULL on OOM). */
char *fs_model_path(const fs_context *ctx, const char *file);

/* Overflow-checked size arithmetic: returns 0 on overflow. */
static inline int fs_mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return 0;
    *out = a * b;
    return 1;
}

#endif /* FS_INTERNAL_H */
