/*
 * The execution context every engine entry takes as its first argument:
 * what a backend needs at run time, as opposed to the tables (lib/engine.h),
 * which say what code runs.
 *
 * A caller builds one per call (fs_context_exec() in lib/internal.h), on
 * its stack, pointing at its own error buffer: two threads that run stages
 * of one context at once each pass their own fs_exec, so entries never
 * share anything writable through it. Entries return an fs_status and
 * write their detail into err; they never keep the pointer.
 */
#ifndef FS_EXEC_H
#define FS_EXEC_H

#include "faceswap/common.h"

struct fs_error_buf;
typedef struct fs_pool fs_pool;

typedef struct fs_exec {
    /* The context's worker pool (lib/pool.h); NULL runs every task on the
     * calling thread. Results must not depend on it (same bytes for any
     * thread count): entries split work only where each output element is
     * computed by the same operations whatever the split. */
    fs_pool *pool;
    /* Where an entry writes the detail of a failure; may be NULL (the
     * status alone is returned). */
    struct fs_error_buf *err;
    /* Reserved for the CUDA backend, NULL today: the cudaStream_t the
     * entries of one call queue on (so that frames in flight on separate
     * threads do not serialise on the default stream), and the device
     * allocator their scratch comes from. */
    void *stream;
    void *device_alloc;
} fs_exec;

/* The error buffer of @p ex, NULL-safe. */
#define FS_EXEC_ERR(ex) ((ex) ? (ex)->err : NULL)

/* A serial execution context writing its detail to @p errbuf (an
 * fs_error_buf *), for callers with no pool: tests, set-up paths. */
#define FS_EXEC_SERIAL(errbuf) (&(const fs_exec){NULL, (errbuf), NULL, NULL})

#endif /* FS_EXEC_H */
