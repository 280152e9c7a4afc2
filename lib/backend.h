/*
 * Backend modules: the interface between the core library and the CUDA
 * module (cuda/, built as libfaceswap-cuda.so), and the core's side of
 * choosing a backend for a context.
 *
 * The core never links the CUDA runtime. It dlopen()s the module when a
 * context asks for FS_BACKEND_CUDA or resolves FS_BACKEND_AUTO, so that
 * libfaceswap.so loads and runs on machines with no GPU, no driver and no
 * CUDA toolkit. This is a plugin interface, not public API: the module and
 * the core must come from the same build (the ABI block below checks it).
 *
 * The module exports exactly one symbol, FS_CUDA_BACKEND_ENTRY:
 *
 *     const fs_backend_module *fs_cuda_backend_v1(void);
 *
 * It returns a pointer to a static table (never NULL) and does no CUDA work:
 * loading the module must stay cheap and must not create a CUDA context.
 */
#ifndef FS_BACKEND_H
#define FS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "faceswap/context.h"

/* Bumped whenever the meaning of fs_backend_module or of an engine entry
 * changes in a way the struct sizes below do not show.
 * 2: the ops table split into family tables (fs_engine), entries take an
 *    fs_exec and return a status. */
#define FS_BACKEND_ABI_VERSION 2

#define FS_CUDA_BACKEND_ENTRY "fs_cuda_backend_v1"
#define FS_CUDA_MODULE_FILE "libfaceswap-cuda.so"

/* What a module was compiled against; the core refuses a module whose block
 * differs from its own (a stale module from another build would otherwise
 * write function pointers at the wrong offsets). */
typedef struct fs_backend_abi {
    uint32_t version;           /* FS_BACKEND_ABI_VERSION */
    uint32_t size_engine;       /* sizeof(fs_engine) */
    uint32_t size_nn_ops;       /* sizeof(fs_nn_ops), and so on per family */
    uint32_t size_sample_ops;
    uint32_t size_raster_ops;
    uint32_t size_compose_ops;
    uint32_t size_swap_texture_ops;
    uint32_t size_exec;         /* sizeof(fs_exec) */
    uint32_t size_nn_op_desc;   /* sizeof(fs_nn_op_desc) */
    uint32_t size_sample_desc;  /* sizeof(fs_sample_desc) */
} fs_backend_abi;

#define FS_BACKEND_ABI_INIT                                                               \
    {                                                                                     \
        FS_BACKEND_ABI_VERSION, (uint32_t)sizeof(fs_engine), (uint32_t)sizeof(fs_nn_ops), \
            (uint32_t)sizeof(fs_sample_ops), (uint32_t)sizeof(fs_raster_ops),             \
            (uint32_t)sizeof(fs_compose_ops), (uint32_t)sizeof(fs_swap_texture_ops),      \
            (uint32_t)sizeof(fs_exec), (uint32_t)sizeof(fs_nn_op_desc),                   \
            (uint32_t)sizeof(fs_sample_desc)                                              \
    }

typedef struct fs_backend_module {
    fs_backend_abi abi;
    const char *name;        /* "cuda": also the name of every kernel it installs */
    const char *build_info;  /* e.g. "CUDA 13.0, sm_90 compute_90", for logs */

    /*
     * Whether @p device can run this module's kernels. FS_OK, or
     * FS_ERR_BACKEND_UNAVAILABLE with a reason in @p detail (e.g.
     * "no CUDA device: <cudaGetErrorString text>"). Creates the device's
     * primary CUDA context when it succeeds: never call it in a process that
     * will fork and use CUDA in the child. Thread-safe.
     */
    fs_status (*probe)(int device, char *detail, size_t detail_size);

    /*
     * Overrides entries of the families of @p engine it accelerates with
     * the module's kernels for @p device, leaving the others as they are.
     * Call only after probe() returned FS_OK for the same device. FS_OK, or
     * an error with @p detail.
     */
    fs_status (*install)(int device, fs_engine *engine, char *detail, size_t detail_size);
} fs_backend_module;

typedef const fs_backend_module *(*fs_backend_entry_fn)(void);

/* Defined by the module only (cuda/module.c); the core finds it with dlsym(). */
const fs_backend_module *fs_cuda_backend_v1(void);

/* ---- core side (lib/backend.c) ---------------------------------------- */

struct fs_context;

/*
 * Where the core looks for the module, first match wins:
 *   1. $FS_CUDA_MODULE when set (a file path; it is then the only place
 *      tried, so FS_CUDA_MODULE=/nonexistent disables the module; ignored in
 *      set-uid programs),
 *   2. FS_CUDA_MODULE_FILE in the folder of the binary holding libfaceswap
 *      (dladdr: the folder of libfaceswap.so once installed).
 * The module is loaded once per process and never unloaded (the CUDA runtime
 * does not survive dlclose()).
 */

/*
 * Called by fs_context_set() before it stores @p value into @p param: when
 * the change leaves FS_CONTEXT_BACKEND at FS_BACKEND_CUDA (setting the
 * backend, or the device while CUDA is chosen), loads and probes the module
 * and returns FS_ERR_BACKEND_UNAVAILABLE with a detail in this thread's
 * fs_context_err(ctx) ("CUDA
 * module not found: ...", "no CUDA device: ...") when it cannot serve the
 * context. FS_OK otherwise: CPU needs nothing and AUTO is resolved later,
 * falling back silently.
 */
fs_status fs_backend_check(struct fs_context *ctx, fs_context_param param, int64_t value);

/* Forgets the backend overrides: called whenever ctx->engine is rebuilt. */
void fs_backend_reset(struct fs_context *ctx);

/*
 * Applies the chosen backend's overrides to ctx->engine once (idempotent until
 * the next reset) and sets ctx->active_backend. AUTO uses CUDA when the
 * module loads and the device probes usable, otherwise the CPU, logging the
 * reason at info level. FS_CONTEXT_FORCE_REFERENCE wins over any backend.
 */
void fs_backend_resolve(struct fs_context *ctx);

/*
 * Loads the module (once per process) without touching CUDA.
 * Returns it, or NULL with the reason in @p detail. For tests and logs.
 */
const fs_backend_module *fs_backend_cuda_module(char *detail, size_t detail_size);

#endif /* FS_BACKEND_H */
