/*
 * The worker pool (pool.h). One job at a time: the run lock is taken with
 * trylock, so a nested or concurrent run falls back to the caller's thread
 * instead of waiting for workers that may be the ones asking.
 */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(FS_HAVE_XNNPACK)
#include <pthreadpool.h>
#endif

#define POOL_MAX_THREADS 1024

struct fs_pool {
    int threads;               /* the caller included */
    int started;               /* worker threads running */
    pthread_t *tids;
    pthread_mutex_t run_lock;  /* held by the thread whose job the workers run */

    pthread_mutex_t lock;      /* guards everything below but next/failed */
    pthread_cond_t work_cv;    /* a new job, or stop */
    pthread_cond_t done_cv;    /* a worker finished its part of the job */
    unsigned gen;              /* bumped per job */
    int stop;
    int done;                  /* workers that finished the current job */
    fs_pool_fn fn;
    void *user;
    int n_tasks;
    fs_status status;          /* the first failure of the job */
    atomic_int next;           /* the next task to hand out */
    atomic_int failed;         /* 1 once a task failed: hand out no more */

    pthread_mutex_t tp_lock;
    int tp_tried;
    void *tp;                  /* pthreadpool_t (XNNPACK builds) */
};

/* Takes tasks until none is left; records the first failure. */
static void work(fs_pool *p, int worker)
{
    for (;;) {
        if (atomic_load(&p->failed))
            return;
        const int task = atomic_fetch_add(&p->next, 1);
        if (task >= p->n_tasks)
            return;
        const fs_status st = p->fn(p->user, task, worker);
        if (st != FS_OK) {
            pthread_mutex_lock(&p->lock);
            if (p->status == FS_OK)
                p->status = st;
            pthread_mutex_unlock(&p->lock);
            atomic_store(&p->failed, 1);
        }
    }
}

typedef struct worker_arg {
    fs_pool *pool;
    int index;
} worker_arg;

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    fs_pool *p = wa->pool;
    const int index = wa->index;
    free(wa);
    unsigned seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->gen == seen && !p->stop)
            pthread_cond_wait(&p->work_cv, &p->lock);
        if (p->stop)
            break;
        seen = p->gen;
        pthread_mutex_unlock(&p->lock);
        work(p, index);
        pthread_mutex_lock(&p->lock);
        if (++p->done == p->started)
            pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

fs_status fs_pool_create(int threads, fs_pool **out)
{
    if (!out || threads < 1 || threads > POOL_MAX_THREADS)
        return FS_ERR_INVALID_ARGUMENT;
    fs_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return FS_ERR_OUT_OF_MEMORY;
    p->threads = threads;
    pthread_mutex_init(&p->run_lock, NULL);
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->tp_lock, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    if (threads > 1) {
        p->tids = malloc((size_t)(threads - 1) * sizeof(*p->tids));
        if (!p->tids) {
            fs_pool_destroy(p);
            return FS_ERR_OUT_OF_MEMORY;
        }
        for (int i = 1; i < threads; i++) {
            worker_arg *wa = malloc(sizeof(*wa));
            if (wa) {
                wa->pool = p;
                wa->index = i;
            }
            if (!wa || pthread_create(&p->tids[p->started], NULL, worker_main, wa) != 0) {
                free(wa);
                fs_pool_destroy(p);
                return FS_ERR_OUT_OF_MEMORY;
            }
            p->started++;
        }
    }
    *out = p;
    return FS_OK;
}

void fs_pool_destroy(fs_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->started; i++)
        pthread_join(pool->tids[i], NULL);
#if defined(FS_HAVE_XNNPACK)
    if (pool->tp)
        pthreadpool_destroy((pthreadpool_t)pool->tp);
#endif
    pthread_cond_destroy(&pool->done_cv);
    pthread_cond_destroy(&pool->work_cv);
    pthread_mutex_destroy(&pool->tp_lock);
    pthread_mutex_destroy(&pool->lock);
    pthread_mutex_destroy(&pool->run_lock);
    free(pool->tids);
    free(pool);
}

int fs_pool_threads(const fs_pool *pool)
{
    return pool ? pool->threads : 1;
}

static fs_status run_serial(int n_tasks, fs_pool_fn fn, void *user)
{
    for (int t = 0; t < n_tasks; t++) {
        const fs_status st = fn(user, t, 0);
        if (st != FS_OK)
            return st;
    }
    return FS_OK;
}

fs_status fs_pool_run(fs_pool *pool, int n_tasks, fs_pool_fn fn, void *user)
{
    if (!fn || n_tasks < 0)
        return FS_ERR_INVALID_ARGUMENT;
    if (!pool || pool->started == 0 || n_tasks <= 1 || pthread_mutex_trylock(&pool->run_lock) != 0)
        return run_serial(n_tasks, fn, user);
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->user = user;
    pool->n_tasks = n_tasks;
    pool->status = FS_OK;
    pool->done = 0;
    atomic_store(&pool->next, 0);
    atomic_store(&pool->failed, 0);
    pool->gen++;
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->lock);

    work(pool, 0);

    pthread_mutex_lock(&pool->lock);
    while (pool->done < pool->started)
        pthread_cond_wait(&pool->done_cv, &pool->lock);
    const fs_status st = pool->status;
    pool->fn = NULL;
    pool->user = NULL;
    pthread_mutex_unlock(&pool->lock);
    pthread_mutex_unlock(&pool->run_lock);
    return st;
}

int fs_pool_bands(const fs_pool *pool, int rows, int min_rows)
{
    const int threads = fs_pool_threads(pool);
    if (threads <= 1 || rows <= 0)
        return 1;
    if (min_rows < 1)
        min_rows = 1;
    /* A few bands per thread even out bands of unequal cost. */
    int bands = threads * 4;
    if (bands > rows / min_rows)
        bands = rows / min_rows;
    return bands < 1 ? 1 : bands;
}

/* The CPUs this process may run on: its affinity mask, else every online
 * one. */
static int cpus_available(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int)n;
}

int fs_pool_nn_threads(const fs_pool *pool)
{
    const int threads = fs_pool_threads(pool), cpus = cpus_available();
    return threads < cpus ? threads : cpus;
}

void *fs_pool_pthreadpool(fs_pool *pool)
{
#if defined(FS_HAVE_XNNPACK)
    if (!pool || pool->threads <= 1)
        return NULL;
    pthread_mutex_lock(&pool->tp_lock);
    if (!pool->tp_tried) {
        /* asked once per pool: every network layer comes here */
        pool->tp_tried = 1;
        const int threads = fs_pool_nn_threads(pool);
        pool->tp = threads > 1 ? pthreadpool_create((size_t)threads) : NULL;
    }
    void *tp = pool->tp;
    pthread_mutex_unlock(&pool->tp_lock);
    return tp;
#else
    (void)pool;
    return NULL;
#endif
}
