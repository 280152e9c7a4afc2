/*
 * The CUDA module's kernels against the plain-C reference, on a real GPU.
 * Exits 77 (meson's "skipped") when the module is not built or no usable
 * device is found, printing why.
 *
 * Runs without forking (CK_NOFORK): the parent creates the CUDA context
 * when it probes the device, and a forked child could not use it.
 *
 * Tolerances (the reference is lib/nn/ops_ref.c):
 *   NONE, RELU, CLAMP, PRELU: bit-identical values (NaN where the reference
 *     gives NaN); both sides use the same float formulas.
 *   SIGMOID: |gpu - ref| <= 5e-7 * |ref| + 1e-37. The GPU evaluates
 *     1 / (1 + expf(-x)) in float (expf <= 2 ulp), the reference in double
 *     rounded once, so they differ by at most ~3 float ulp (~3.6e-7
 *     relative); the absolute term covers x < -88, where float expf
 *     overflows and the GPU gives 0 for a reference value below FLT_MIN.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "internal.h"
#include "testutil.h"

static fs_context *gpu_ctx;

/* A small deterministic generator (xorshift32): the same data on every run. */
static uint32_t rng_state = 0x12345678u;

static float rand_uniform(float lo, float hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return lo + (hi - lo) * (float)(rng_state >> 8) * (1.0f / 16777216.0f);
}

/* Random values with edge cases sprinkled at fixed places. */
static void fill_input(float *x, size_t n)
{
    static const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, -1e-40f, 6.0f, -1.0f,
                                    1.0f, 87.0f, -87.0f, 89.0f, -89.0f, 104.0f, -104.0f, 1e30f,
                                    -1e30f, INFINITY, -INFINITY, NAN};
    const size_t ns = sizeof(special) / sizeof(special[0]);
    for (size_t i = 0; i < n; i++)
        x[i] = rand_uniform(-12.0f, 12.0f);
    for (size_t i = 0; i < ns && i * 7 < n; i++)
        x[i * 7] = special[i];
}

typedef struct act_case {
    fs_nn_act act;
    float clamp_min, clamp_max;
    const char *label;
} act_case;

static const act_case act_cases[] = {
    {FS_NN_ACT_NONE, 0, 0, "none"},
    {FS_NN_ACT_RELU, 0, 0, "relu"},
    {FS_NN_ACT_CLAMP, 0.0f, 6.0f, "relu6"},
    {FS_NN_ACT_CLAMP, -1.0f, 1.0f, "clamp[-1,1]"},
    {FS_NN_ACT_PRELU, 0, 0, "prelu"},
    {FS_NN_ACT_SIGMOID, 0, 0, "sigmoid"},
};

/* Odd sizes, one channel, and one tensor larger than the kernel's grid
 * (4096 blocks x 256 threads) so the grid-stride loop is exercised. */
static const fs_nn_shape shapes[] = {
    {1, 1, 1, 1}, {1, 7, 5, 3}, {1, 33, 17, 16}, {2, 64, 64, 32}, {1, 1100, 1024, 1},
    {1, 128, 128, 96},
};

static int values_match(fs_nn_act act, float gpu, float ref, double *worst)
{
    if (isnan(ref) || isnan(gpu))
        return isnan(ref) && isnan(gpu);
    if (act != FS_NN_ACT_SIGMOID)
        return gpu == ref;
    const double d = fabs((double)gpu - (double)ref);
    if (d > *worst)
        *worst = d;
    return d <= 5e-7 * fabs((double)ref) + 1e-37;
}

START_TEST(test_backend_is_cuda)
{
    const fs_engine *ops = fs_context_engine(gpu_ctx);
    ck_assert_int_eq(fs_context_active_backend(gpu_ctx), FS_BACKEND_CUDA);
    ck_assert_str_eq(ops->nn.k[FS_NN_ACTIVATION].name, "cuda");
}
END_TEST

START_TEST(test_activation_vs_reference)
{
    const fs_nn_kernel gpu = fs_context_engine(gpu_ctx)->nn.k[FS_NN_ACTIVATION];
    fs_engine ref_ops;
    fs_engine_init_reference(&ref_ops);
    const fs_nn_kernel ref = ref_ops.nn.k[FS_NN_ACTIVATION];
    ck_assert_msg(ref.create && ref.run && ref.destroy,
                  "the reference ACTIVATION kernel is not registered");
    ck_assert_str_eq(gpu.name, "cuda");

    double worst_sigmoid = 0.0;
    for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
        const fs_nn_shape sh = shapes[si];
        const size_t n = fs_nn_shape_size(sh);
        float *in = malloc(n * sizeof(float));
        float *out_gpu = malloc(n * sizeof(float));
        float *out_ref = malloc(n * sizeof(float));
        float *alpha = malloc((size_t)sh.c * sizeof(float));
        ck_assert(in && out_gpu && out_ref && alpha);
        fill_input(in, n);
        for (int c = 0; c < sh.c; c++)
            alpha[c] = rand_uniform(-0.5f, 0.5f);

        for (size_t ai = 0; ai < sizeof(act_cases) / sizeof(act_cases[0]); ai++) {
            const act_case *ac = &act_cases[ai];
            fs_nn_op_desc d;
            memset(&d, 0, sizeof(d));
            d.type = FS_NN_ACTIVATION;
            d.num_inputs = 1;
            d.in[0] = d.out = sh;
            d.act = ac->act;
            d.clamp_min = ac->clamp_min;
            d.clamp_max = ac->clamp_max;
            d.alpha = ac->act == FS_NN_ACT_PRELU ? alpha : NULL;

            void *gs = NULL, *rs = NULL;
            FS_ASSERT_OK(gpu.create(&d, &gs));
            FS_ASSERT_OK(ref.create(&d, &rs));
            const float *inputs[1] = {in};
            /* Poison both outputs: a kernel that writes nothing cannot pass. */
            memset(out_gpu, 0x7f, n * sizeof(float));
            memset(out_ref, 0x3f, n * sizeof(float));
            FS_ASSERT_OK(gpu.run(FS_EXEC_SERIAL(NULL), gs, inputs, out_gpu));
            FS_ASSERT_OK(ref.run(FS_EXEC_SERIAL(NULL), rs, inputs, out_ref));
            /* Twice: a state must be reusable (the runtime runs it per frame). */
            FS_ASSERT_OK(gpu.run(FS_EXEC_SERIAL(NULL), gs, inputs, out_gpu));

            size_t bad = 0, first_bad = 0;
            for (size_t i = 0; i < n; i++)
                if (!values_match(ac->act, out_gpu[i], out_ref[i], &worst_sigmoid) && bad++ == 0)
                    first_bad = i;
            ck_assert_msg(bad == 0,
                          "%s on %dx%dx%dx%d: %zu of %zu values differ; first at %zu: "
                          "in %.9g gpu %.9g ref %.9g",
                          ac->label, sh.n, sh.h, sh.w, sh.c, bad, n, first_bad,
                          (double)in[first_bad], (double)out_gpu[first_bad],
                          (double)out_ref[first_bad]);
            gpu.destroy(gs);
            ref.destroy(rs);
        }
        free(in);
        free(out_gpu);
        free(out_ref);
        free(alpha);
    }
    printf("activation: NONE/RELU/CLAMP/PRELU bit-identical; SIGMOID max |gpu-ref| = %.3g\n",
           worst_sigmoid);
}
END_TEST

START_TEST(test_unsupported_goes_back)
{
    const fs_nn_kernel gpu = fs_context_engine(gpu_ctx)->nn.k[FS_NN_ACTIVATION];
    fs_nn_op_desc d;
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_ACTIVATION;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 2, 2, 2};
    d.out = (fs_nn_shape){1, 2, 2, 3};
    void *state = NULL;
    ck_assert_int_eq(gpu.create(&d, &state), FS_ERR_UNSUPPORTED);
    ck_assert_ptr_null(state);
}
END_TEST

int main(void)
{
    const char *module = getenv("FS_CUDA_MODULE");
    if (!module || !*module) {
        printf("SKIP: the CUDA module is not built (-Dcuda=disabled or no CUDA toolkit)\n");
        return 77;
    }
    if (fs_context_create(&gpu_ctx) != FS_OK) {
        fprintf(stderr, "fs_context_create failed\n");
        return EXIT_FAILURE;
    }
    const fs_status st = fs_context_set(gpu_ctx, FS_CONTEXT_BACKEND, FS_BACKEND_CUDA);
    if (st == FS_ERR_BACKEND_UNAVAILABLE) {
        printf("SKIP: %s\n", fs_context_last_error(gpu_ctx));
        fs_context_destroy(gpu_ctx);
        return 77;
    }
    if (st != FS_OK) {
        fprintf(stderr, "selecting CUDA: %s: %s\n", fs_status_name(st),
                fs_context_last_error(gpu_ctx));
        fs_context_destroy(gpu_ctx);
        return EXIT_FAILURE;
    }

    Suite *s = suite_create("cuda_gpu");
    TCase *tc = tcase_create("activation");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_backend_is_cuda);
    tcase_add_test(tc, test_activation_vs_reference);
    tcase_add_test(tc, test_unsupported_goes_back);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    fs_context_destroy(gpu_ctx);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
