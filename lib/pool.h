/*
 * A worker pool: the threads a context is given (FS_CONTEXT_THREADS), shared
 * by the stages that split their work (row bands, XNNPACK's tiles) and, later,
 * by the video pipeline.
 *
 * The library takes what its context is given: a context made with the
 * default of 1 thread has no pool and never starts a thread.
 */
#ifndef FS_POOL_H
#define FS_POOL_H

#include "exec.h"
#include "faceswap/common.h"

/* One task: @p task in [0, n_tasks), @p worker in [0, fs_pool_threads())
 * (0 is the calling thread), for per-worker scratch. FS_OK or an error. */
typedef fs_status (*fs_pool_fn)(void *user, int task, int worker);

/* A pool of @p threads threads in all, the caller included (threads - 1
 * are started). FS_ERR_INVALID_ARGUMENT for threads < 1 or > 1024,
 * FS_ERR_OUT_OF_MEMORY when memory or a thread cannot be had. */
fs_status fs_pool_create(int threads, fs_pool **out);
/* Joins the workers. Accepts NULL. Never while a run is in progress. */
void fs_pool_destroy(fs_pool *pool);
/* Threads of @p pool, the caller included; 1 for NULL. */
int fs_pool_threads(const fs_pool *pool);

/*
 * Runs tasks 0..n_tasks-1 on the workers and the calling thread and
 * returns when all are done. The first task to fail wins: its status is
 * returned and no further task is started (tasks already running finish).
 * A NULL pool, n_tasks 1, a call from inside a task of the same pool
 * (nested) or a call while another thread's run holds the pool all run the
 * tasks in order on the calling thread (worker 0): never a deadlock, and
 * the tasks must give the same result either way. Thread-safe.
 */
fs_status fs_pool_run(fs_pool *pool, int n_tasks, fs_pool_fn fn, void *user);

/*
 * Tasks of about @p rows rows each for a stage that splits @p rows rows into
 * bands: 1 without a pool, or when a band would be shorter than @p min_rows.
 */
int fs_pool_bands(const fs_pool *pool, int rows, int min_rows);

/*
 * The threads the network library's own pool gets (fs_pool_pthreadpool):
 * the pool's count, at most the CPUs the process may run on (its affinity
 * mask). XNNPACK's pthreadpool waits by spinning: with more of its threads
 * than CPUs, the spinning ones take the CPU from the ones with work, and
 * `faceswap swap --threads 8` on a 2-core machine took 20.3 s instead of
 * 0.3 s (check 10.3 s, detect 2.4 s). The pool's own workers wait on a
 * condition variable and keep the count asked for. 1 for a NULL pool.
 */
int fs_pool_nn_threads(const fs_pool *pool);

/*
 * XNNPACK builds: a pthreadpool_t with fs_pool_nn_threads threads, made at
 * the first call and owned by the pool (XNNPACK schedules its own tiles on
 * it). NULL for a NULL pool, one such thread, a build without XNNPACK, or
 * when it cannot be made (XNNPACK then runs on the caller: same bytes).
 */
void *fs_pool_pthreadpool(fs_pool *pool);

#endif /* FS_POOL_H */
