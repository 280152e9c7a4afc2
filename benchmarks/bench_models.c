/*
 * Per-model inference benchmark: the median milliseconds of one
 * fs_nn_model_run() of BlazeFace (256x256), FaceMesh (192x192) and Iris
 * (64x64, batch 2: both eyes) through the graph runtime, with the fast CPU
 * table (own SIMD + XNNPACK) and with the plain-C reference table. One
 * thread; pin it to one core (benchmarks/run.sh uses taskset -c 0).
 * Prints a line per model on stderr and one JSON object on stdout: the
 * median ("fast_ms", "reference_ms") and the fastest run ("*_min_ms").
 *
 *   bench_models [--reps N] [--ref-reps N] [--no-reference] [--model-dir DIR] [MODEL...]
 *
 * MODEL is blazeface, facemesh or iris (default: all three). The model
 * folder defaults to $FS_MODEL_DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "internal.h"
#include "nn/nn.h"
#include "nn/ops_kernels.h"

typedef struct bench_model {
    const char *name;
    int batch;
} bench_model;

static const bench_model models[] = {
    {"blazeface", 1},
    {"facemesh", 1},
    {"iris", 2},
};

/* Median ms of @p reps runs after two warm-up runs (and their minimum in
 * *best: on a shared machine the figure least disturbed by others); < 0 on
 * error. */
static double time_model(const fs_nn_ops *ops, const char *dir, const bench_model *bm, int reps,
                         double *best, char *why, size_t why_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.json", dir, bm->name);
    fs_error_buf err;
    fs_clear_error(&err);
    fs_nn_model *m = NULL;
    double result = -1;
    double *t = calloc((size_t)reps, sizeof(double));
    float *input = NULL;
    if (!t || fs_nn_model_load(ops, path, &err, &m) != FS_OK ||
        fs_nn_model_prepare(m, bm->batch, &err) != FS_OK)
        goto done;
    fs_nn_shape s = fs_nn_model_input_shape(m);
    s.n = bm->batch;
    const size_t n = fs_nn_shape_size(s);
    input = malloc(n * sizeof(float));
    if (!input)
        goto done;
    /* An image-like input in the models' [-1, 1] / [0, 1] ranges. */
    for (size_t i = 0; i < n; i++)
        input[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (int r = -2; r < reps; r++) {
        const double t0 = bench_now_ms();
        if (fs_nn_model_run(m, FS_EXEC_SERIAL(&err), input) != FS_OK)
            goto done;
        if (r >= 0)
            t[r] = bench_now_ms() - t0;
    }
    result = bench_median(t, reps); /* sorts t: t[0] is the minimum */
    *best = t[0];
done:
    if (result < 0)
        snprintf(why, why_size, "%s", err.text[0] ? err.text : "out of memory");
    free(input);
    free(t);
    fs_nn_model_destroy(m);
    return result;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_models [--reps N] [--ref-reps N] [--no-reference] "
                    "[--model-dir DIR] [blazeface|facemesh|iris ...]\n");
}

int main(int argc, char **argv)
{
    int reps = 50, ref_reps = 5, reference = 1, first = 1;
    const char *dir = getenv("FS_MODEL_DIR");
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--reps") == 0 && first + 1 < argc)
            reps = atoi(argv[++first]);
        else if (strcmp(argv[first], "--ref-reps") == 0 && first + 1 < argc)
            ref_reps = atoi(argv[++first]);
        else if (strcmp(argv[first], "--no-reference") == 0)
            reference = 0;
        else if (strcmp(argv[first], "--model-dir") == 0 && first + 1 < argc)
            dir = argv[++first];
        else {
            usage();
            return 2;
        }
    }
    if (!dir || !*dir || reps < 1 || ref_reps < 1) {
        usage();
        fprintf(stderr, "(set --model-dir or FS_MODEL_DIR)\n");
        return 2;
    }
    for (int i = first; i < argc; i++) {
        int known = 0;
        for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++)
            known |= strcmp(argv[i], models[k].name) == 0;
        if (!known) {
            usage();
            return 2;
        }
    }

    static fs_nn_ops fast, ref;
    fs_nn_ops_init_reference(&ref);
    fs_nn_ops_init_reference(&fast);
    fs_nn_ops_init_fast(&fast);

    int failed = 0, printed = 0;
    printf("{\"benchmark\":\"models\",\"threads\":1,\"reps\":%d,\"ref_reps\":%d,\"models\":[", reps,
           ref_reps);
    for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++) {
        const bench_model *bm = &models[k];
        int wanted = first >= argc;
        for (int i = first; i < argc; i++)
            wanted |= strcmp(argv[i], bm->name) == 0;
        if (!wanted)
            continue;
        char why[FS_ERROR_DETAIL_SIZE] = "";
        double bf = 0, br = 0;
        const double tf = time_model(&fast, dir, bm, reps, &bf, why, sizeof(why));
        const double tr = reference && tf >= 0
                              ? time_model(&ref, dir, bm, ref_reps, &br, why, sizeof(why))
                              : -1;
        if (tf < 0 || (reference && tr < 0)) {
            fprintf(stderr, "bench_models: %s: %s\n", bm->name, why);
            failed = 1;
            continue;
        }
        fprintf(stderr, "%-10s batch %d  fast %8.3f ms (min %.3f)", bm->name, bm->batch, tf, bf);
        if (reference)
            fprintf(stderr, "  reference %9.2f ms (min %.2f)  x%.1f", tr, br, tr / tf);
        fprintf(stderr, "\n");
        printf("%s{\"model\":\"%s\",\"batch\":%d,\"fast_ms\":%.3f,\"fast_min_ms\":%.3f",
               printed ? "," : "", bm->name, bm->batch, tf, bf);
        if (reference)
            printf(",\"reference_ms\":%.3f,\"reference_min_ms\":%.3f", tr, br);
        printf("}");
        printed = 1;
    }
    printf("]}\n");
    return failed;
}
