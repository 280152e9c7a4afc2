/*
 * fs_context: the root object. It owns the backend choice, the model folder,
 * resource limits and the log callback. Detectors, fitters and later objects
 * are created from a context and must be destroyed before it.
 *
 * Threading: a context may be shared by objects used on different threads
 * once it is configured; setters are not thread-safe against each other,
 * against object creation, or against objects of the context that are
 * running. Its error detail is kept per thread (fs_context_last_error()).
 */
#ifndef FS_CONTEXT_H
#define FS_CONTEXT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_context fs_context;

/** Which compute backend runs the per-stage operations. */
typedef enum fs_backend {
    FS_BACKEND_AUTO = 0, /**< CUDA where a usable GPU is found, otherwise the CPU */
    FS_BACKEND_CPU = 1,  /**< plain C reference plus the fast CPU path */
    FS_BACKEND_CUDA = 2  /**< the CUDA module; FS_ERR_BACKEND_UNAVAILABLE without a GPU */
} fs_backend;

/** Integer parameters of a context. Query valid ranges with fs_context_param_bounds(). */
typedef enum fs_context_param {
    /** fs_backend value. Default FS_BACKEND_AUTO. */
    FS_CONTEXT_BACKEND = 0,
    /**
     * CPU worker threads, 1..256, the calling thread included. Default 1:
     * the library starts no thread. Above 1 the context keeps a pool of
     * that many threads (made at first use) that its objects' stages share
     * (row bands, XNNPACK's tiles); results are the same bytes for any
     * count. Objects used on several threads at once share the pool: one
     * call at a time gets its workers, the others run on their own thread.
     * XNNPACK's tiles get at most one thread per CPU the process may run
     * on (its waiting threads spin). Several busy contexts or processes on
     * one machine share its cores: give each about cores / jobs threads
     * (doc/performance.md, "Threads").
     */
    FS_CONTEXT_THREADS = 1,
    /**
     * 1 forces the plain-C reference path for every operation (slow; for
     * tests and for checking the fast paths). Default 0, or 1 when the
     * environment variable FS_FORCE_REFERENCE is set to a non-zero value at
     * context creation.
     */
    FS_CONTEXT_FORCE_REFERENCE = 2,
    /** Largest image accepted, in pixels (width * height). Default 50,000,000. */
    FS_CONTEXT_MAX_PIXELS = 3,
    /** 1 (default) checks model files against their pinned sha256 before use. */
    FS_CONTEXT_VERIFY_MODELS = 4,
    /** CUDA device ordinal. Default 0. */
    FS_CONTEXT_DEVICE = 5
} fs_context_param;

/** Severity of a log message. */
typedef enum fs_log_level {
    FS_LOG_ERROR = 0,
    FS_LOG_WARNING = 1,
    FS_LOG_INFO = 2,
    FS_LOG_DEBUG = 3
} fs_log_level;

/**
 * Log callback. @p message is UTF-8, without a trailing newline, valid only
 * during the call. May be called from any thread that uses the context.
 */
typedef void (*fs_log_fn)(void *user, fs_log_level level, const char *message);

/**
 * Creates a context with default settings.
 * The model folder defaults to the environment variable FS_MODEL_DIR when set,
 * otherwise to the folder the library was installed with (<datadir>/faceswap/models).
 * @param[out] out receives the new context; untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (out is NULL), FS_ERR_OUT_OF_MEMORY.
 * Since 0.1.
 */
FS_API fs_status fs_context_create(fs_context **out);

/** Destroys a context. Accepts NULL. Since 0.1. */
FS_API void fs_context_destroy(fs_context *ctx);

/**
 * Sets an integer parameter.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (ctx NULL or unknown param),
 *         FS_ERR_OUT_OF_RANGE (value outside fs_context_param_bounds()).
 * Since 0.1.
 */
FS_API fs_status fs_context_set(fs_context *ctx, fs_context_param param, int64_t value);

/** Reads an integer parameter into @p value (untouched on failure). Since 0.1. */
FS_API fs_status fs_context_get(const fs_context *ctx, fs_context_param param, int64_t *value);

/** Inclusive bounds of a parameter. @return FS_OK or FS_ERR_INVALID_ARGUMENT. Since 0.1. */
FS_API fs_status fs_context_param_bounds(fs_context_param param, int64_t *min, int64_t *max);

/**
 * The value a new context gives @p param (before FS_FORCE_REFERENCE and the
 * like are read from the environment) into @p value (untouched on failure).
 * @return FS_OK or FS_ERR_INVALID_ARGUMENT (unknown parameter, NULL value).
 * Thread-safe. Since 0.3.
 */
FS_API fs_status fs_context_param_default(fs_context_param param, int64_t *value);

/**
 * Sets the folder holding the model files (blazeface.json/.bin, facemesh.*,
 * iris.*, faceres.*, face_geometry.binarypb). The string is copied.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_MEMORY.
 * Since 0.1.
 */
FS_API fs_status fs_context_set_model_dir(fs_context *ctx, const char *path);

/** The current model folder; owned by the context, valid until changed. Since 0.1. */
FS_API const char *fs_context_model_dir(const fs_context *ctx);

/**
 * Installs a log callback (NULL removes it). Messages below @p max_level's
 * verbosity are not produced. Since 0.1.
 */
FS_API void fs_context_set_log_callback(fs_context *ctx, fs_log_fn fn, void *user,
                                        fs_log_level max_level);

/**
 * The backend actually in use once objects are created: FS_BACKEND_CPU or
 * FS_BACKEND_CUDA (AUTO resolves at the first model load). Since 0.1.
 */
FS_API fs_backend fs_context_active_backend(const fs_context *ctx);

/**
 * Human-readable detail of this thread's last failing call that reports
 * through the context (its setters, creates of objects from it, image and
 * identity functions given it); "" when none. Each thread reads its own:
 * two threads failing on one context at once each get their own message.
 * Objects keep their own detail for their own calls (fs_detector_last_error()
 * ...). A thread keeps the details of its 8 most recently failing contexts;
 * an older one reads "". Valid on this thread until its next call on the
 * context. Every detail (this one and each object's) is safe to print: a
 * byte quoted from a file that is not printable ASCII or well-formed UTF-8
 * (a control, ESC, a C1 code) reads "\xNN". Since 0.1 (per thread since
 * 0.3).
 */
FS_API const char *fs_context_last_error(const fs_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* FS_CONTEXT_H */
