/*
 * Choosing a context's backend and loading the CUDA module on demand.
 * See backend.h for the module interface and the search order.
 */
#include "backend.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The outcome of the one load attempt of this process. */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const fs_backend_module *loaded_module;
static char load_detail[FS_ERROR_DETAIL_SIZE];

/* Long paths are cut, never overflow: the detail is for people to read. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void set_load_detail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(load_detail, sizeof(load_detail), fmt, ap);
    va_end(ap);
}

/* The folder of the binary that holds this code: libfaceswap.so once
 * installed, the test program when a test links the static library.
 * Returns 0 when it cannot be told. */
static int own_folder(char *dir, size_t size)
{
    Dl_info info;
    if (!dladdr(&load_once, &info) || !info.dli_fname)
        return 0;
    const char *slash = strrchr(info.dli_fname, '/');
    if (!slash)
        return 0;
    const size_t len = (size_t)(slash - info.dli_fname);
    if (len + 1 > size)
        return 0;
    memcpy(dir, info.dli_fname, len);
    dir[len] = '\0';
    return 1;
}

/* Opens one candidate file. Returns the module, or NULL with load_detail set. */
static const fs_backend_module *open_module(const char *path)
{
    /* RTLD_NOW: a missing libcudart/libcublas shows here, as a clear error,
     * rather than as a crash at the first kernel call. */
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        set_load_detail("CUDA module %s cannot be loaded: %s", path,
                        why ? why : "unknown dlopen error");
        return NULL;
    }
    fs_backend_entry_fn entry;
    /* POSIX's blessed way to turn dlsym's void * into a function pointer. */
    *(void **)&entry = dlsym(handle, FS_CUDA_BACKEND_ENTRY);
    if (!entry) {
        set_load_detail("%s is not a libfaceswap CUDA module: it does not export %s", path,
                        FS_CUDA_BACKEND_ENTRY);
        dlclose(handle);
        return NULL;
    }
    const fs_backend_module *m = entry();
    const fs_backend_abi want = FS_BACKEND_ABI_INIT;
    if (!m || !m->probe || !m->install) {
        set_load_detail("CUDA module %s returned no usable table", path);
        dlclose(handle);
        return NULL;
    }
    /* The version first: an older module's block is shorter. */
    if (m->abi.version != want.version || memcmp(&m->abi, &want, sizeof(want)) != 0) {
        set_load_detail("CUDA module %s was built for another libfaceswap (backend ABI %u, "
                        "fs_engine %u bytes; this library: ABI %u, %u bytes)",
                        path, (unsigned)m->abi.version, (unsigned)m->abi.size_engine,
                        (unsigned)want.version, (unsigned)want.size_engine);
        dlclose(handle);
        return NULL;
    }
    /* Deliberately never closed: the CUDA runtime registers atexit handlers
     * and fat binaries that must outlive any dlclose(). */
    return m;
}

static void load_module(void)
{
    /* secure_getenv: a set-uid program must not load code named by its caller. */
    const char *env = secure_getenv("FS_CUDA_MODULE");
    if (env && *env) {
        if (access(env, F_OK) != 0) {
            set_load_detail("CUDA module not found: FS_CUDA_MODULE=%s does not exist", env);
            return;
        }
        loaded_module = open_module(env);
        return;
    }
    char dir[4096];
    char path[4096 + sizeof(FS_CUDA_MODULE_FILE) + 1];
    if (!own_folder(dir, sizeof(dir))) {
        set_load_detail("CUDA module not found: the folder of libfaceswap is unknown and "
                        "FS_CUDA_MODULE is not set");
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, FS_CUDA_MODULE_FILE);
    if (access(path, F_OK) != 0) {
        set_load_detail("CUDA module not found: no %s (libfaceswap built without CUDA or the "
                        "module not installed; FS_CUDA_MODULE may name it)",
                        path);
        return;
    }
    loaded_module = open_module(path);
}

const fs_backend_module *fs_backend_cuda_module(char *detail, size_t detail_size)
{
    pthread_once(&load_once, load_module);
    if (!loaded_module && detail && detail_size)
        snprintf(detail, detail_size, "%s", load_detail);
    return loaded_module;
}

/* Loads and probes; FS_OK or an error with @p detail filled. */
static fs_status probe_cuda(int device, char *detail, size_t detail_size)
{
    const fs_backend_module *m = fs_backend_cuda_module(detail, detail_size);
    if (!m)
        return FS_ERR_BACKEND_UNAVAILABLE;
    return m->probe(device, detail, detail_size);
}

fs_status fs_backend_check(fs_context *ctx, fs_context_param param, int64_t value)
{
    if (param != FS_CONTEXT_BACKEND && param != FS_CONTEXT_DEVICE)
        return FS_OK;
    const int64_t backend = param == FS_CONTEXT_BACKEND ? value : ctx->params[FS_CONTEXT_BACKEND];
    const int64_t device = param == FS_CONTEXT_DEVICE ? value : ctx->params[FS_CONTEXT_DEVICE];
    if (backend != FS_BACKEND_CUDA)
        return FS_OK;
    char detail[FS_ERROR_DETAIL_SIZE];
    const fs_status st = probe_cuda((int)device, detail, sizeof(detail));
    if (st != FS_OK)
        return fs_fail(fs_context_err(ctx), st, "backend CUDA (device %d): %s", (int)device, detail);
    return FS_OK;
}

void fs_backend_reset(fs_context *ctx)
{
    ctx->ops_ready = 0;
    ctx->active_backend = FS_BACKEND_CPU;
}

/*
 * Objects created from one context on several threads may resolve it at the
 * same time: one lock for all contexts keeps the table whole. It is held
 * only while a context is first resolved (the probe may take a second when
 * it creates the CUDA context), and never while the log callback runs.
 */
static pthread_mutex_t resolve_lock = PTHREAD_MUTEX_INITIALIZER;

/* Does the work of fs_backend_resolve(); the message to log goes to @p msg. */
static fs_log_level resolve_locked(fs_context *ctx, char *msg, size_t msg_size)
{
    /* Set first: a backend that failed once is not retried on every call. */
    ctx->ops_ready = 1;
    ctx->active_backend = FS_BACKEND_CPU;
    const int64_t want = ctx->params[FS_CONTEXT_BACKEND];
    if (want == FS_BACKEND_CPU)
        return FS_LOG_DEBUG;
    if (ctx->params[FS_CONTEXT_FORCE_REFERENCE]) {
        snprintf(msg, msg_size, "reference path forced: the CUDA backend is not used");
        return FS_LOG_INFO;
    }
    const int device = (int)ctx->params[FS_CONTEXT_DEVICE];
    char detail[FS_ERROR_DETAIL_SIZE];
    fs_status st = probe_cuda(device, detail, sizeof(detail));
    if (st == FS_OK) {
        /* Install into a copy so that a failure leaves the CPU tables whole. */
        fs_engine engine = *ctx->engine;
        st = loaded_module->install(device, &engine, detail, sizeof(detail));
        if (st == FS_OK) {
            *ctx->engine = engine;
            ctx->active_backend = FS_BACKEND_CUDA;
            snprintf(msg, msg_size, "using the CUDA backend on device %d (%s)", device,
                     loaded_module->build_info ? loaded_module->build_info : "cuda");
            return FS_LOG_INFO;
        }
    }
    snprintf(msg, msg_size, "CUDA backend not used, running on the CPU: %s", detail);
    /* CUDA itself was probed when it was chosen, so failing here is
     * unexpected and worth an error; AUTO falling back is routine. */
    return want == FS_BACKEND_CUDA ? FS_LOG_ERROR : FS_LOG_INFO;
}

void fs_backend_resolve(fs_context *ctx)
{
    char msg[FS_ERROR_DETAIL_SIZE + 64] = "";
    fs_log_level level = FS_LOG_DEBUG;
    pthread_mutex_lock(&resolve_lock);
    if (!ctx->ops_ready)
        level = resolve_locked(ctx, msg, sizeof(msg));
    pthread_mutex_unlock(&resolve_lock);
    if (msg[0])
        fs_log(ctx, level, "%s", msg);
}
