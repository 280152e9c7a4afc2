/*
 * The engine's plumbing: the worker pool (lib/pool.h), the context's use of
 * FS_CONTEXT_THREADS (same bytes for any thread count), a failing kernel's
 * status reaching fs_detector_run / fs_fitter_run, and the per-thread error
 * detail of a context.
 */
#include "testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "internal.h"
#include "pool.h"

/* ---------------------------------------------------------------- pool */

#define MANY_TASKS 2000

typedef struct count_job {
    atomic_int runs[MANY_TASKS];
    atomic_int bad_worker;
    int threads;
    int fail_at;          /* task that fails, -1 none */
    fs_pool *nested_pool; /* run a nested job on it from every task */
    atomic_int nested_runs;
} count_job;

static fs_status nested_task(void *user, int task, int worker)
{
    count_job *j = user;
    (void)task;
    /* a nested run is serial: on the calling thread, as worker 0 */
    if (worker != 0)
        atomic_fetch_add(&j->bad_worker, 1);
    atomic_fetch_add(&j->nested_runs, 1);
    return FS_OK;
}

static fs_status count_task(void *user, int task, int worker)
{
    count_job *j = user;
    if (worker < 0 || worker >= j->threads)
        atomic_fetch_add(&j->bad_worker, 1);
    atomic_fetch_add(&j->runs[task], 1);
    if (j->nested_pool) {
        const fs_status st = fs_pool_run(j->nested_pool, 3, nested_task, j);
        if (st != FS_OK)
            return st;
    }
    return task == j->fail_at ? FS_ERR_GPU : FS_OK;
}

static count_job *new_job(int threads, int fail_at)
{
    count_job *j = calloc(1, sizeof(*j));
    ck_assert_ptr_nonnull(j);
    j->threads = threads;
    j->fail_at = fail_at;
    return j;
}

START_TEST(pool_runs_every_task_once)
{
    for (int threads = 1; threads <= 4; threads++) {
        fs_pool *pool = NULL;
        FS_ASSERT_OK(fs_pool_create(threads, &pool));
        ck_assert_int_eq(fs_pool_threads(pool), threads);
        for (int rep = 0; rep < 20; rep++) {
            count_job *j = new_job(threads, -1);
            FS_ASSERT_OK(fs_pool_run(pool, MANY_TASKS, count_task, j));
            for (int t = 0; t < MANY_TASKS; t++)
                if (atomic_load(&j->runs[t]) != 1)
                    ck_abort_msg("%d threads: task %d ran %d times", threads, t,
                                 atomic_load(&j->runs[t]));
            ck_assert_int_eq(atomic_load(&j->bad_worker), 0);
            free(j);
        }
        /* no tasks: nothing runs, FS_OK */
        count_job *j = new_job(threads, -1);
        FS_ASSERT_OK(fs_pool_run(pool, 0, count_task, j));
        ck_assert_int_eq(atomic_load(&j->runs[0]), 0);
        free(j);
        fs_pool_destroy(pool);
    }
}
END_TEST

START_TEST(pool_first_error_wins)
{
    /* serial (no pool): tasks after the failing one never start */
    count_job *j = new_job(1, 5);
    FS_ASSERT_STATUS(fs_pool_run(NULL, 100, count_task, j), FS_ERR_GPU);
    for (int t = 0; t < 100; t++)
        ck_assert_int_eq(atomic_load(&j->runs[t]), t <= 5);
    free(j);
    /* a pool: the failure is returned, and far fewer than all tasks start
     * after it (those already taken finish) */
    fs_pool *pool = NULL;
    FS_ASSERT_OK(fs_pool_create(3, &pool));
    j = new_job(3, 0);
    FS_ASSERT_STATUS(fs_pool_run(pool, MANY_TASKS, count_task, j), FS_ERR_GPU);
    int started = 0;
    for (int t = 0; t < MANY_TASKS; t++)
        started += atomic_load(&j->runs[t]);
    ck_assert_msg(started < MANY_TASKS / 2, "%d tasks started after task 0 failed", started);
    free(j);
    /* the pool is usable after a failed job */
    j = new_job(3, -1);
    FS_ASSERT_OK(fs_pool_run(pool, MANY_TASKS, count_task, j));
    free(j);
    fs_pool_destroy(pool);
}
END_TEST

/* The network library's pool (XNNPACK's pthreadpool, which waits by
 * spinning) gets at most one thread per CPU the process may run on; the
 * pool itself keeps the count asked for. */
static int cpus_of(const cpu_set_t *set)
{
    return CPU_COUNT(set) > 0 ? CPU_COUNT(set) : 1;
}

START_TEST(pool_nn_threads_within_cpus)
{
    cpu_set_t all;
    CPU_ZERO(&all);
    ck_assert_int_eq(sched_getaffinity(0, sizeof(all), &all), 0);
    const int cpus = cpus_of(&all);
    ck_assert_int_eq(fs_pool_nn_threads(NULL), 1);
    const int asked[] = {1, 2, 4 * cpus + 1};
    for (int k = 0; k < 3; k++) {
        const int n = asked[k] > 1024 ? 1024 : asked[k];
        fs_pool *pool = NULL;
        FS_ASSERT_OK(fs_pool_create(n, &pool));
        ck_assert_int_eq(fs_pool_threads(pool), n);
        ck_assert_int_eq(fs_pool_nn_threads(pool), n < cpus ? n : cpus);
        fs_pool_destroy(pool);
    }
    /* Pinned to one CPU (as taskset -c 0 does), a pool of four gives the
     * network library one thread, and the pool still runs every task. */
    int first = 0;
    while (!CPU_ISSET(first, &all))
        first++;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
    fs_pool *pool = NULL;
    FS_ASSERT_OK(fs_pool_create(4, &pool));
    const int nn = fs_pool_nn_threads(pool);
    /* one thread for the network library: it runs on the caller, no
     * pthreadpool is made (an XNNPACK build made one of four before) */
    void *const tp = fs_pool_pthreadpool(pool);
    count_job *j = new_job(4, -1);
    const fs_status st = fs_pool_run(pool, MANY_TASKS, count_task, j);
    ck_assert_int_eq(sched_setaffinity(0, sizeof(all), &all), 0);
    FS_ASSERT_OK(st);
    ck_assert_int_eq(nn, 1);
    ck_assert_ptr_null(tp);
    for (int t = 0; t < MANY_TASKS; t++)
        ck_assert_int_eq(atomic_load(&j->runs[t]), 1);
    free(j);
    fs_pool_destroy(pool);
}
END_TEST

START_TEST(pool_nested_runs_serially)
{
    fs_pool *pool = NULL;
    FS_ASSERT_OK(fs_pool_create(4, &pool));
    count_job *j = new_job(4, -1);
    j->nested_pool = pool;
    FS_ASSERT_OK(fs_pool_run(pool, 200, count_task, j));
    ck_assert_int_eq(atomic_load(&j->nested_runs), 200 * 3);
    ck_assert_int_eq(atomic_load(&j->bad_worker), 0);
    for (int t = 0; t < 200; t++)
        ck_assert_int_eq(atomic_load(&j->runs[t]), 1);
    free(j);
    fs_pool_destroy(pool);
}
END_TEST

typedef struct caller_arg {
    fs_pool *pool;
    count_job *job;
    fs_status st;
} caller_arg;

static void *caller_main(void *arg)
{
    caller_arg *a = arg;
    for (int rep = 0; rep < 50 && a->st == FS_OK; rep++) {
        memset(a->job->runs, 0, sizeof(a->job->runs));
        a->st = fs_pool_run(a->pool, MANY_TASKS, count_task, a->job);
        for (int t = 0; t < MANY_TASKS && a->st == FS_OK; t++)
            if (atomic_load(&a->job->runs[t]) != 1)
                a->st = FS_ERR_INTERNAL;
    }
    return NULL;
}

START_TEST(pool_concurrent_callers)
{
    /* Two threads share one pool (frames of a video on one context): one
     * of them gets the workers, the other runs its tasks itself. */
    fs_pool *pool = NULL;
    FS_ASSERT_OK(fs_pool_create(3, &pool));
    caller_arg a[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        a[i] = (caller_arg){pool, new_job(3, -1), FS_OK};
        ck_assert_int_eq(pthread_create(&th[i], NULL, caller_main, &a[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        FS_ASSERT_OK(a[i].st);
        ck_assert_int_eq(atomic_load(&a[i].job->bad_worker), 0);
        free(a[i].job);
    }
    fs_pool_destroy(pool);
}
END_TEST

START_TEST(pool_bad_arguments)
{
    fs_pool *pool = (fs_pool *)&pool;
    FS_ASSERT_STATUS(fs_pool_create(0, &pool), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_pool_create(1025, &pool), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_pool_create(2, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(pool, (fs_pool *)&pool); /* untouched on failure */
    ck_assert_int_eq(fs_pool_threads(NULL), 1);
    fs_pool_destroy(NULL);
    FS_ASSERT_OK(fs_pool_create(2, &pool));
    FS_ASSERT_STATUS(fs_pool_run(pool, 3, NULL, NULL), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_pool_run(pool, -1, count_task, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_pool_bands(NULL, 1000, 16), 1);
    ck_assert_int_eq(fs_pool_bands(pool, 20, 16), 1);
    const int bands = fs_pool_bands(pool, 1000, 16);
    ck_assert(bands >= 2 && bands <= 1000 / 16);
    fs_pool_destroy(pool);
}
END_TEST

/* ---------------------------------------------------------------- the context's pool */

START_TEST(context_threads_give_the_pool)
{
    fs_context *ctx = fs_test_new_context();
    fs_error_buf err = {{0}};
    fs_exec ex;
    /* the default of 1 thread: no pool, no thread started */
    fs_context_exec(ctx, &err, &ex);
    ck_assert_ptr_null(ex.pool);
    ck_assert_ptr_eq(ex.err, &err);
    ck_assert_ptr_null(ex.stream);
    ck_assert_ptr_null(ex.device_alloc);
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_THREADS, 3));
    fs_context_exec(ctx, &err, &ex);
    ck_assert_int_eq(fs_pool_threads(ex.pool), 3);
    fs_exec again;
    fs_context_exec(ctx, NULL, &again);
    ck_assert_ptr_eq(again.pool, ex.pool); /* one pool per context */
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_THREADS, 1));
    fs_context_exec(ctx, &err, &ex);
    ck_assert_ptr_null(ex.pool);
    fs_context_destroy(ctx);
}
END_TEST

typedef struct pipeline_out {
    fs_face_box boxes[8];
    int n_boxes;
    fs_face_landmarks lm;
    fs_image swapped;
    int n_swapped;
} pipeline_out;

/* Detection, fit and swap of the whole public path on a context of
 * @p threads threads. */
static void run_pipeline(int threads, pipeline_out *o)
{
    memset(o, 0, sizeof(*o));
    fs_context *ctx = fs_test_new_context();
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_THREADS, threads));
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_image src, tgt;
    fs_test_load_rgb8(ctx, "astronaut.png", &src);
    fs_test_load_rgb8(ctx, "faceapi_sample1.jpg", &tgt);
    FS_ASSERT_OK(fs_detector_run(det, &tgt, o->boxes, 8, &o->n_boxes));
    ck_assert_int_gt(o->n_boxes, 0);
    FS_ASSERT_OK(fs_fitter_run(fit, &tgt, &o->boxes[0], &o->lm));
    fs_identity *id = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(ctx, &src, -1, &id));
    fs_renderer *r = NULL;
    FS_ASSERT_OK(fs_renderer_create(ctx, &r));
    o->swapped = fs_test_copy_image(&tgt, 3);
    FS_ASSERT_OK(fs_renderer_swap_image(r, id, &o->swapped, FS_SWAP_FACES_ALL, &o->n_swapped));
    ck_assert_int_gt(o->n_swapped, 0);
    /* the run had the pool it was given */
    fs_exec ex;
    fs_context_exec(ctx, NULL, &ex);
    ck_assert_int_eq(fs_pool_threads(ex.pool), threads);
    fs_renderer_destroy(r);
    fs_identity_destroy(id);
    fs_image_free(&src);
    fs_image_free(&tgt);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}

START_TEST(same_bytes_for_any_thread_count)
{
    pipeline_out one, three;
    run_pipeline(1, &one);
    run_pipeline(3, &three);
    ck_assert_int_eq(one.n_boxes, three.n_boxes);
    ck_assert(memcmp(one.boxes, three.boxes, sizeof(one.boxes[0]) * (size_t)one.n_boxes) == 0);
    ck_assert(memcmp(&one.lm, &three.lm, sizeof(one.lm)) == 0);
    ck_assert_int_eq(one.n_swapped, three.n_swapped);
    const size_t bytes = (size_t)one.swapped.stride * (size_t)one.swapped.height;
    size_t differ = 0;
    for (size_t i = 0; i < bytes; i++)
        differ += ((const uint8_t *)one.swapped.data)[i] != ((const uint8_t *)three.swapped.data)[i];
    ck_assert_msg(differ == 0, "%zu of %zu bytes of the swap differ", differ, bytes);
    free(one.swapped.data);
    free(three.swapped.data);
}
END_TEST

/* ---------------------------------------------------------------- a failing kernel */

static fs_status failing_conv(const fs_exec *ex, void *state, const float *const *inputs,
                              float *output)
{
    (void)state, (void)inputs, (void)output;
    return fs_fail(FS_EXEC_ERR(ex), FS_ERR_GPU, "injected convolution failure");
}

START_TEST(kernel_failure_reaches_the_caller)
{
    fs_context *ctx = fs_test_new_context();
    fs_image img;
    fs_test_load_rgb8(ctx, "astronaut.png", &img);
    /* a detection with the context's own kernels, for the fitter below */
    fs_detector *good = fs_test_new_detector(ctx);
    fs_face_box box;
    int n = 0;
    FS_ASSERT_OK(fs_detector_run(good, &img, &box, 1, &n));
    ck_assert_int_eq(n, 1);
    fs_detector_destroy(good);

    /* Objects made from now on copy a table whose convolutions fail. */
    fs_engine *engine = (fs_engine *)fs_context_engine(ctx);
    engine->nn.k[FS_NN_CONV2D].run = failing_conv;
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_face_box faces[4];
    int count = -7;
    FS_ASSERT_STATUS(fs_detector_run(det, &img, faces, 4, &count), FS_ERR_GPU);
    ck_assert_int_eq(count, -7); /* untouched on failure */
    ck_assert_msg(strstr(fs_detector_last_error(det), "injected") != NULL, "%s",
                  fs_detector_last_error(det));
    fs_face_landmarks lm;
    memset(&lm, 0x5a, sizeof(lm));
    const fs_face_landmarks before = lm;
    FS_ASSERT_STATUS(fs_fitter_run(fit, &img, &box, &lm), FS_ERR_GPU);
    ck_assert(memcmp(&lm, &before, sizeof(lm)) == 0);
    ck_assert_msg(strstr(fs_fitter_last_error(fit), "injected") != NULL, "%s",
                  fs_fitter_last_error(fit));
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_image_free(&img);
    fs_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- per-thread error detail */

typedef struct failer {
    fs_context *ctx;
    const char *path;
    pthread_barrier_t *barrier;
    fs_status st;
    char seen[FS_ERROR_DETAIL_SIZE];
} failer;

static void *failer_main(void *arg)
{
    failer *f = arg;
    fs_image img;
    f->st = fs_image_read_file(f->ctx, f->path, &img);
    /* both threads have failed before either reads */
    pthread_barrier_wait(f->barrier);
    snprintf(f->seen, sizeof(f->seen), "%s", fs_context_last_error(f->ctx));
    pthread_barrier_wait(f->barrier);
    return NULL;
}

START_TEST(each_thread_reads_its_own_error)
{
    fs_context *ctx = fs_test_new_context();
    pthread_barrier_t barrier;
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
    failer f[2] = {{ctx, "/nonexistent/engine-first.png", &barrier, FS_OK, ""},
                   {ctx, "/nonexistent/engine-second.png", &barrier, FS_OK, ""}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, failer_main, &f[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_ne(f[i].st, FS_OK);
        ck_assert_msg(strstr(f[i].seen, f[i].path) != NULL, "thread %d read '%s'", i, f[i].seen);
        ck_assert_msg(strstr(f[i].seen, f[1 - i].path) == NULL, "thread %d read '%s'", i,
                      f[i].seen);
    }
    /* this thread failed on nothing */
    ck_assert_str_eq(fs_context_last_error(ctx), "");
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(error_slots_per_context)
{
    /* One thread, many contexts: the most recent keep their details. */
    enum { N = 10 };
    fs_context *ctx[N];
    char path[N][64];
    for (int i = 0; i < N; i++) {
        ctx[i] = fs_test_new_context();
        snprintf(path[i], sizeof(path[i]), "/nonexistent/slot-%d.png", i);
        fs_image img;
        ck_assert_int_ne(fs_image_read_file(ctx[i], path[i], &img), FS_OK);
    }
    for (int i = 0; i < N; i++) {
        const char *e = fs_context_last_error(ctx[i]);
        if (i >= N - 8)
            ck_assert_msg(strstr(e, path[i]) != NULL, "context %d: '%s'", i, e);
        else
            ck_assert_str_eq(e, ""); /* its slot went to a later context */
    }
    /* A new context never reads a destroyed one's detail, even at the
     * same address. */
    for (int i = 0; i < N; i++)
        fs_context_destroy(ctx[i]);
    fs_context *fresh = fs_test_new_context();
    ck_assert_str_eq(fs_context_last_error(fresh), "");
    ck_assert_str_eq(fs_context_last_error(NULL), "");
    /* a success that clears: fs_context_set */
    ck_assert_int_ne(fs_context_set(fresh, FS_CONTEXT_THREADS, 100000), FS_OK);
    ck_assert_str_ne(fs_context_last_error(fresh), "");
    FS_ASSERT_OK(fs_context_set(fresh, FS_CONTEXT_THREADS, 2));
    ck_assert_str_eq(fs_context_last_error(fresh), "");
    fs_context_destroy(fresh);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("pool");
    tcase_add_test(tc, pool_runs_every_task_once);
    tcase_add_test(tc, pool_first_error_wins);
    tcase_add_test(tc, pool_nested_runs_serially);
    tcase_add_test(tc, pool_nn_threads_within_cpus);
    tcase_add_test(tc, pool_concurrent_callers);
    tcase_add_test(tc, pool_bad_arguments);
    tcase_add_test(tc, context_threads_give_the_pool);
    suite_add_tcase(s, tc);
    tc = tcase_create("pipeline");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, same_bytes_for_any_thread_count);
    tcase_add_test(tc, kernel_failure_reaches_the_caller);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, each_thread_reads_its_own_error);
    tcase_add_test(tc, error_slots_per_context);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
