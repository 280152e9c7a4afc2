/*
 * Internal declarations shared by the core library. Not installed.
 */
#ifndef FS_INTERNAL_H
#define FS_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "exec.h"
#include "faceswap/faceswap.h"

#define FS_ERROR_DETAIL_SIZE 512

/* Plain loops that the compiler vectorises run twice as wide on AVX2:
 * FS_AVX2_CLONE builds a function for AVX2 as well as for the baseline,
 * the one to run picked once at load time (GCC's target_clones, an
 * ifunc). The AVX2 target has no FMA, so the two give the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define FS_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define FS_AVX2_CLONE
#endif

/* Whether the CPU runs AVX2, for the entries that pick their own AVX2
 * loops (x86-64 with GCC or clang only). libgcc fills the CPU model in a
 * constructor, before any caller of the library runs: a read of it each
 * call, no state of our own to race on. */
#if defined(__x86_64__) && defined(__GNUC__)
static inline int fs_cpu_has_avx2(void)
{
    return __builtin_cpu_supports("avx2") != 0;
}
#endif

/* A per-handle error detail: every handle embeds one. */
typedef struct fs_error_buf {
    char text[FS_ERROR_DETAIL_SIZE];
} fs_error_buf;

struct fs_engine;

struct fs_context {
    int64_t params[6];            /* indexed by fs_context_param */
    char *model_dir;
    fs_log_fn log_fn;
    void *log_user;
    fs_log_level log_level;
    fs_backend active_backend;
    /* Filled at creation: reference, then fast overrides (lib/engine.h);
     * the backend's overrides are applied at first use (lib/backend.h). */
    struct fs_engine *engine;
    int ops_ready;
    /* A number no other context of this process had: the tag of this
     * context's per-thread error details (fs_context_err). */
    uint64_t id;
    /* The worker pool, made at the first fs_context_exec() with
     * FS_CONTEXT_THREADS > 1 and dropped when that parameter changes. */
    fs_pool *pool;
    int pool_failed;              /* 1: creating it failed once, do not retry */
    pthread_mutex_t pool_lock;
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
 * The detail is escaped as fs_text_escape() does: it may quote file content.
 */
fs_status fs_fail(fs_error_buf *buf, fs_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/*
 * Copies @p src into @p dst (@p cap bytes, NUL-terminated, cut at a whole
 * character) with every byte that is not printable ASCII or part of
 * well-formed, non-control UTF-8 written as "\xNN": no terminal control
 * sequence (ESC, CSI, C1) survives. Idempotent. Returns the length written.
 */
size_t fs_text_escape(char *dst, size_t cap, const char *src);
void fs_clear_error(fs_error_buf *buf);
/* Copies an error detail from one handle to another (e.g. a sub-object's to its owner). */
void fs_copy_error(fs_error_buf *dst, const fs_error_buf *src);

void fs_log(const fs_context *ctx, fs_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The engine of this context (reference, fast overrides, then the backend's),
 * resolving the backend at the first call. */
const struct fs_engine *fs_context_engine(fs_context *ctx);

/*
 * An execution context for one call on @p ctx (lib/exec.h): the context's
 * worker pool (made at the first call when FS_CONTEXT_THREADS > 1; NULL,
 * serial, with 1 thread or if it cannot be made) and @p err. Thread-safe.
 */
void fs_context_exec(fs_context *ctx, fs_error_buf *err, fs_exec *out);

/*
 * This thread's error detail for @p ctx: what fs_context_last_error()
 * returns on this thread. Calls that fail before they have an object of
 * their own (creates, identity and image functions) write here, so two
 * threads failing on one context each read their own message. Never NULL
 * for a non-NULL ctx.
 */
fs_error_buf *fs_context_err(const fs_context *ctx);
/* Clears this thread's detail for @p ctx after a success; takes no slot
 * when the thread has none, so successes evict no other context's detail. */
void fs_context_clear_error(const fs_context *ctx);

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

/* Rec. 709 luminance of an RGB triple (linear light, or sRGB values where
 * a caller only ranks them): the light model, its highlights, the swap's
 * colour weights and the compose stage's shading transfer share it. */
static inline float fs_luma709(const float c[3])
{
    return 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
}

#endif /* FS_INTERNAL_H */
