#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at @p s, other than a C1 control
 * (U+0080..U+009F, which some terminals obey as ESC sequences); 0 if none. */
static size_t utf8_printable_len(const unsigned char *s)
{
    const unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0xc2 || c > 0xf4)
        return 0;
    if (c < 0xe0) {
        n = 2;
        lo = c == 0xc2 ? 0xa0 : 0x80;
    } else if (c < 0xf0) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf; /* no UTF-16 surrogates */
    } else {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing above U+10FFFF */
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0; /* also stops at the terminating NUL */
    return n;
}

size_t fs_text_escape(char *dst, size_t cap, const char *src)
{
    if (cap == 0)
        return 0;
    size_t o = 0;
    for (const unsigned char *s = (const unsigned char *)src; *s;) {
        size_t n = *s >= 0x20 && *s < 0x7f ? 1 : utf8_printable_len(s);
        if (n > 0) {
            if (o + n >= cap)
                break;
            memcpy(dst + o, s, n);
            o += n;
            s += n;
            continue;
        }
        if (o + 4 >= cap)
            break;
        snprintf(dst + o, 5, "\\x%02x", (unsigned)*s++);
        o += 4;
    }
    dst[o] = '\0';
    return o;
}

/* Messages quote names and bytes from untrusted files: escaped, so that
 * whoever prints a detail prints no control sequence (lib/internal.h). */
fs_status fs_fail(fs_error_buf *buf, fs_status status, const char *fmt, ...)
{
    if (buf) {
        char raw[sizeof(buf->text)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        fs_text_escape(buf->text, sizeof(buf->text), raw);
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
    char raw[1024], text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    fs_text_escape(text, sizeof(text), raw);
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
