#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fs_status fs_fail(fs_error_buf *buf, fs_status status, const char *fmt, ...)
{
    if (buf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf->text, sizeof(buf->text), fmt, ap);
        va_end(ap);
    }
    return status;
}

void fs_clear_error(fs_error_buf *buf)
{
    if (buf)
        buf->text[0] = '\0';
}

void fs_copy_error(fs_error_buf *dst, const fs_error_buf *src)
{
    if (dst && src && dst != src)
        memcpy(dst->text, src->text, sizeof(dst->text));
}

void fs_log(const fs_context *ctx, fs_log_level level, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn || level > ctx->log_level)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user, level, text);
}

char *fs_model_path(const fs_context *ctx, const char *file)
{
    const char *dir = ctx->model_dir ? ctx->model_dir : "";
    size_t n = strlen(dir) + 1 + strlen(file) + 1;
    char *p = malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n, "%s%s%s", dir, (*dir && dir[strlen(dir) - 1] != '/') ? "/" : "", file);
    return p;
}
