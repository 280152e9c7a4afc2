/*
 * Neural-network kernels of the ops table: the reference against cases
 * worked out by hand, and every fast kernel against the reference on random
 * and edge-case descs, as dav1d's checkasm does. The tables under test:
 * "simd-avx2" and "simd-avx512" (own kernels, each level this CPU has),
 * "xnnpack" (XNNPACK alone, where the library has it) and "fast" (what a
 * context uses: own kernels first, XNNPACK for the rest). Every kernel runs
 * once on other data before the compared run, and writes next to its output
 * are caught by a canary.
 *
 *   test_ops            the Check suite (meson test ops)
 *   test_ops --bench    prints per-kernel timings of model-like layers, asserts nothing
 *
 * $FS_TEST_SEED picks the random seed (printed on failure).
 *
 * Tolerances (see tol_for()): the reference accumulates sums in double, so
 * a difference is the fast kernel's own float error.
 *  - CONV2D, DEPTHWISE_CONV2D, MATMUL: a float sum of K products plus a
 *    bias, in any order, with or without FMA, is within gamma_{K+1} *
 *    sum|terms| of the exact value (Higham, "Accuracy and Stability of
 *    Numerical Algorithms", 2nd ed., section 3.1), gamma_n = n u / (1 - n u),
 *    u = 2^-24; one more u for the reference's own rounding:
 *        |fast - ref| <= (K + 2) u (|b| + sum |a w|)   (+ 2u|ref| under PReLU)
 *    This is a bound, not a guess, and still small: a single wrong, missing
 *    or repeated tap of a 3x3x32 window shows as soon as it exceeds 3e-5 of
 *    the window's magnitude.
 *  - MEAN: a float sum of K = h*w terms and one scaling: (K + 3) u mean|x|.
 *  - SOFTMAX and SIGMOID: XNNPACK evaluates exp() with a polynomial of a few
 *    ulp, after rounding x - max to float (|x - max| u relative):
 *    |d| <= (c + 16 + |x - max|) u ref (softmax over c), |d| <= 1e-6
 *    (sigmoid in [0, 1], i.e. about 8 ulp of values near 1).
 *  - everything else (MAX_POOL, BINARY, RELU, CLAMP, PRELU, PAD, CONCAT):
 *    one rounding at most, the same one as the reference: exact equality.
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "nn/ops_kernels.h"
#include "pool.h"

#define U_F32 (1.0 / 16777216.0) /* 2^-24 */
#define SLACK_FLOATS 16          /* XNNPACK may read 16 bytes past an input */
#define CANARY 12345.678f

/* ---- tables under test ---- */

typedef struct test_table {
    char label[32];
    fs_nn_ops ops;
} test_table;

static fs_nn_ops ref_ops;
static test_table tables[5];
static int n_tables;

static void setup_tables(void)
{
    fs_nn_ops_init_reference(&ref_ops);
    n_tables = 0;
    for (int level = FS_NN_SIMD_AVX2; level <= fs_nn_simd_level(); level++) {
        test_table *t = &tables[n_tables++];
        fs_nn_ops_init_reference(&t->ops);
        fs_nn_ops_simd_register(&t->ops, level);
        snprintf(t->label, sizeof(t->label), "simd-%s",
                 level == FS_NN_SIMD_AVX512 ? "avx512" : "avx2");
    }
    test_table *x = &tables[n_tables];
    fs_nn_ops_init_reference(&x->ops);
    if (fs_nn_ops_xnnpack_alone_register(&x->ops)) {
        snprintf(x->label, sizeof(x->label), "xnnpack");
        n_tables++;
    }
    test_table *t = &tables[n_tables++];
    fs_nn_ops_init_reference(&t->ops);
    fs_nn_ops_init_fast(&t->ops);
    snprintf(t->label, sizeof(t->label), "fast");
}

/* ---- random numbers ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* xorshift64*: small, deterministic, good enough for test data */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static int rnd(int lo, int hi) /* inclusive */
{
    return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

static float rndf(void) /* [-1, 1) */
{
    return (float)((double)(rng_next() >> 40) / (double)(1ULL << 23) - 1.0);
}

static int pick(const int *v, int n)
{
    return v[rnd(0, n - 1)];
}

static uint64_t seed_base(void)
{
    const char *s = getenv("FS_TEST_SEED");
    return s && *s ? strtoull(s, NULL, 0) : 0x5eed0f5eedULL;
}

/* Test data: mostly [-1, 1), in "wide" mode magnitudes from 1e-3 to 1e4 and
 * some exact zeros, so that sign, PReLU and cancellation paths all run. */
static int wide_values;

static float rnd_value(void)
{
    if (!wide_values)
        return rndf();
    const int r = rnd(0, 19);
    if (r == 0)
        return 0.0f;
    return rndf() * powf(10.0f, (float)rnd(-3, 4));
}

/* malloc that never returns NULL (also usable by --bench, outside Check). */
static float *alloc_floats(size_t n)
{
    /* on cache lines, as the runtime's arena places tensors */
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "test_ops: out of memory\n");
        abort();
    }
    return p;
}

static float *new_tensor(size_t n)
{
    float *p = alloc_floats(n + SLACK_FLOATS);
    for (size_t i = 0; i < n; i++)
        p[i] = rnd_value();
    for (size_t i = n; i < n + SLACK_FLOATS; i++)
        p[i] = NAN; /* a kernel that uses past-the-end data shows it */
    return p;
}

/* ---- running kernels ---- */

typedef struct op_case {
    fs_nn_op_desc d;
    float *in[FS_NN_MAX_INPUTS];
    float *w, *b, *alpha, *cst;
} op_case;

static void case_free(op_case *c)
{
    for (int i = 0; i < FS_NN_MAX_INPUTS; i++)
        free(c->in[i]);
    free(c->w);
    free(c->b);
    free(c->alpha);
    free(c->cst);
    memset(c, 0, sizeof(*c));
}

static void case_inputs(op_case *c)
{
    for (int i = 0; i < c->d.num_inputs; i++)
        c->in[i] = new_tensor(fs_nn_shape_size(c->d.in[i]));
}

static void case_act(op_case *c, int allow_sigmoid)
{
    static const int acts[] = {FS_NN_ACT_NONE, FS_NN_ACT_RELU, FS_NN_ACT_CLAMP,
                               FS_NN_ACT_PRELU, FS_NN_ACT_SIGMOID};
    c->d.act = (fs_nn_act)acts[rnd(0, allow_sigmoid ? 4 : 3)];
    if (c->d.act == FS_NN_ACT_CLAMP) {
        const float a = rndf() * 2.0f, b = rndf() * 2.0f;
        c->d.clamp_min = a < b ? a : b;
        c->d.clamp_max = a < b ? b : a;
        if (rnd(0, 3) == 0) { /* Relu6 */
            c->d.clamp_min = 0.0f;
            c->d.clamp_max = 6.0f;
        }
    }
    if (c->d.act == FS_NN_ACT_PRELU) {
        c->alpha = new_tensor((size_t)c->d.out.c);
        c->d.alpha = c->alpha;
    }
}

/* Runs a kernel; returns its create status. Output gets a canary tail. */
static fs_status run_kernel(const fs_nn_kernel *k, const op_case *c, float **out)
{
    const size_t n = fs_nn_shape_size(c->d.out);
    *out = alloc_floats(n + SLACK_FLOATS);
    for (size_t i = 0; i < n + SLACK_FLOATS; i++)
        (*out)[i] = CANARY;
    void *st = NULL;
    const fs_status s = k->create(&c->d, &st);
    if (s != FS_OK) {
        ck_assert_ptr_null(st);
        return s;
    }
    /* A first run on other data: a kernel must not keep anything of one
     * run's input for the next (the runtime reuses states every inference). */
    float *other[FS_NN_MAX_INPUTS] = {NULL};
    for (int i = 0; i < c->d.num_inputs; i++) {
        const size_t len = fs_nn_shape_size(c->d.in[i]);
        other[i] = alloc_floats(len + SLACK_FLOATS);
        for (size_t j = 0; j < len + SLACK_FLOATS; j++)
            other[i][j] = j < len ? c->in[i][len - 1 - j] * -0.5f + 0.25f : NAN;
    }
    const float *pre[FS_NN_MAX_INPUTS] = {other[0], other[1], other[2], other[3]};
    FS_ASSERT_OK(k->run(FS_EXEC_SERIAL(NULL), st, pre, *out));
    const float *ins[FS_NN_MAX_INPUTS] = {c->in[0], c->in[1], c->in[2], c->in[3]};
    FS_ASSERT_OK(k->run(FS_EXEC_SERIAL(NULL), st, ins, *out));
    k->destroy(st);
    for (int i = 0; i < FS_NN_MAX_INPUTS; i++)
        free(other[i]);
    for (size_t i = n; i < n + SLACK_FLOATS; i++)
        if ((*out)[i] != CANARY) /* plain if: Check's asserts are slow in loops */
            ck_abort_msg("%s kernel wrote past its output", k->name);
    return FS_OK;
}

static float *abs_copy(const float *p, size_t n)
{
    if (!p)
        return NULL;
    float *q = alloc_floats(n + SLACK_FLOATS);
    for (size_t i = 0; i < n; i++)
        q[i] = fabsf(p[i]);
    return q;
}

/*
 * Per-output magnitude (|b| + sum|a w|, or mean|x| for MEAN): the reference
 * itself run on absolute values with no activation.
 */
static float *magnitudes(const op_case *c)
{
    const fs_nn_op_type t = c->d.type;
    if (t != FS_NN_CONV2D && t != FS_NN_CONV2D_ADD && t != FS_NN_DEPTHWISE_CONV2D &&
        t != FS_NN_MATMUL && t != FS_NN_MEAN)
        return NULL;
    op_case a;
    memset(&a, 0, sizeof(a));
    a.d = c->d;
    a.d.act = FS_NN_ACT_NONE;
    a.in[0] = abs_copy(c->in[0], fs_nn_shape_size(c->d.in[0]));
    if (t == FS_NN_CONV2D_ADD) /* the addend's size counts too */
        a.in[1] = abs_copy(c->in[1], fs_nn_shape_size(c->d.in[1]));
    size_t wn = 0;
    if (t == FS_NN_CONV2D || t == FS_NN_CONV2D_ADD)
        wn = (size_t)c->d.kernel_h * c->d.kernel_w * c->d.in[0].c * c->d.out.c;
    else if (t == FS_NN_DEPTHWISE_CONV2D)
        wn = (size_t)c->d.kernel_h * c->d.kernel_w * c->d.out.c;
    else if (t == FS_NN_MATMUL)
        wn = (size_t)c->d.in[0].c * c->d.out.c;
    a.w = abs_copy(c->d.weights, wn);
    a.b = abs_copy(c->d.bias, (size_t)c->d.out.c);
    a.d.weights = a.w;
    a.d.bias = a.b;
    float *out;
    FS_ASSERT_OK(run_kernel(&ref_ops.k[t], &a, &out));
    case_free(&a);
    return out;
}

static double tol_for(const op_case *c, size_t i, float ref, const float *mag)
{
    const fs_nn_op_desc *d = &c->d;
    const int ch = (int)(i % (size_t)d->out.c);
    double k = 0;
    switch (d->type) {
    case FS_NN_CONV2D:
        k = (double)d->kernel_h * d->kernel_w * d->in[0].c;
        break;
    case FS_NN_CONV2D_ADD:
        /* the conv's error, then the sum's rounding on either side, over
         * a magnitude that holds the addend's */
        k = (double)d->kernel_h * d->kernel_w * d->in[0].c + 2;
        break;
    case FS_NN_DEPTHWISE_CONV2D:
        k = (double)d->kernel_h * d->kernel_w;
        break;
    case FS_NN_MATMUL:
        k = d->in[0].c;
        break;
    case FS_NN_MEAN:
        return ((double)d->in[0].h * d->in[0].w + 3) * U_F32 * mag[i];
    case FS_NN_SOFTMAX: {
        /* x - max is rounded to float before exp(): |x - max| u more, relative */
        const float *row = c->in[0] + (i - (size_t)ch);
        float mx = row[0];
        for (int j = 1; j < d->out.c; j++)
            mx = row[j] > mx ? row[j] : mx;
        const double spread = fabs((double)row[ch] - mx);
        return ((double)d->out.c + 16 + spread) * U_F32 * fabs((double)ref) + 1e-37;
    }
    case FS_NN_ACTIVATION:
        return d->act == FS_NN_ACT_SIGMOID ? 1e-6 : 0.0;
    case FS_NN_BINARY:
        return d->act == FS_NN_ACT_SIGMOID ? 1e-6 : 0.0;
    default:
        return 0.0;
    }
    double t = (k + 2) * U_F32 * mag[i];
    if (d->act == FS_NN_ACT_PRELU)
        t = t * fmax(1.0, fabs(d->alpha[ch])) + 2 * U_F32 * fabs((double)ref);
    if (d->act == FS_NN_ACT_SIGMOID)
        t = t / 4 + 1e-6; /* sigmoid' <= 1/4, then its own error */
    return t;
}

typedef struct case_stats {
    int compared[5], declined[5];
} case_stats;

/* Compares every fast table's kernel for c->d.type with the reference. */
static void check_case(op_case *c, const char *what, int iter, case_stats *stats)
{
    float *ref;
    FS_ASSERT_OK(run_kernel(&ref_ops.k[c->d.type], c, &ref));
    float *mag = magnitudes(c);
    const size_t n = fs_nn_shape_size(c->d.out);
    for (int t = 0; t < n_tables; t++) {
        const fs_nn_kernel *k = &tables[t].ops.k[c->d.type];
        if (strcmp(k->name, "ref") == 0)
            continue;
        float *out;
        const fs_status s = run_kernel(k, c, &out);
        if (s == FS_ERR_UNSUPPORTED) {
            stats->declined[t]++;
            free(out);
            continue;
        }
        ck_assert_msg(s == FS_OK, "%s/%s case %d: create returned %s", tables[t].label, what,
                      iter, fs_status_name(s));
        stats->compared[t]++;
        for (size_t i = 0; i < n; i++) {
            const double tol = tol_for(c, i, ref[i], mag);
            const double diff = fabs((double)out[i] - (double)ref[i]);
            if (diff <= tol || (isnan(out[i]) && isnan(ref[i])))
                continue;
            ck_abort_msg("%s/%s (kernel %s) case %d seed 0x%llx: element %zu of %zu: fast %.9g "
                          "ref %.9g diff %.3g tol %.3g (in %dx%dx%dx%d out %dx%dx%dx%d k %dx%d "
                          "s %dx%d pad %d,%d,%d,%d act %d)",
                          tables[t].label, what, k->name, iter,
                          (unsigned long long)seed_base(), i, n, out[i], ref[i], diff, tol,
                          c->d.in[0].n, c->d.in[0].h, c->d.in[0].w, c->d.in[0].c, c->d.out.n,
                          c->d.out.h, c->d.out.w, c->d.out.c, c->d.kernel_h, c->d.kernel_w,
                          c->d.stride_h, c->d.stride_w, c->d.pad_top, c->d.pad_left,
                          c->d.pad_bottom, c->d.pad_right, (int)c->d.act);
        }
        free(out);
    }
    free(ref);
    free(mag);
}

/* Every fast table that overrides @p type compared at least once. */
static void assert_coverage(fs_nn_op_type type, const case_stats *stats, const char *what)
{
    for (int t = 0; t < n_tables; t++) {
        if (strcmp(tables[t].ops.k[type].name, "ref") == 0)
            continue;
        ck_assert_msg(stats->compared[t] > 0, "%s: table %s declined every case (%d)", what,
                      tables[t].label, stats->declined[t]);
    }
}

/* ---- random descs ---- */

static const int kernel_sizes[] = {1, 1, 2, 3, 3, 3, 5, 5};
static const int strides[] = {1, 1, 1, 2, 2, 3};

/* Window geometry: VALID, TF SAME (extra padding at the bottom/right) or
 * arbitrary asymmetric padding. Returns 0 if the output would be empty. */
static int gen_window(fs_nn_op_desc *d, int max_hw, int pool)
{
    d->kernel_h = pick(kernel_sizes, 8);
    d->kernel_w = rnd(0, 3) ? d->kernel_h : pick(kernel_sizes, 8);
    if (pool && d->kernel_h * d->kernel_w == 1)
        d->kernel_w = 2;
    d->stride_h = pick(strides, 6);
    d->stride_w = rnd(0, 3) ? d->stride_h : pick(strides, 6);
    d->dilation_h = d->dilation_w = rnd(0, 9) ? 1 : 2;
    d->in[0].h = rnd(1, max_hw);
    d->in[0].w = rnd(0, 3) ? rnd(1, max_hw) : d->in[0].h;
    const int eh = (d->kernel_h - 1) * d->dilation_h + 1;
    const int ew = (d->kernel_w - 1) * d->dilation_w + 1;
    const int mode = rnd(0, 2);
    if (mode == 0) {
        d->pad_top = d->pad_left = d->pad_bottom = d->pad_right = 0;
    } else if (mode == 1) {
        const int oh = (d->in[0].h + d->stride_h - 1) / d->stride_h;
        const int ow = (d->in[0].w + d->stride_w - 1) / d->stride_w;
        const int th = (oh - 1) * d->stride_h + eh - d->in[0].h;
        const int tw = (ow - 1) * d->stride_w + ew - d->in[0].w;
        d->pad_top = th > 0 ? th / 2 : 0;
        d->pad_bottom = th > 0 ? th - th / 2 : 0;
        d->pad_left = tw > 0 ? tw / 2 : 0;
        d->pad_right = tw > 0 ? tw - tw / 2 : 0;
    } else {
        d->pad_top = rnd(0, eh - 1);
        d->pad_bottom = rnd(0, eh - 1);
        d->pad_left = rnd(0, ew - 1);
        d->pad_right = rnd(0, ew - 1);
    }
    d->out.h = (int)fs_nn_window_out(d->in[0].h, d->pad_top, d->pad_bottom, d->kernel_h,
                                     d->stride_h, d->dilation_h);
    d->out.w = (int)fs_nn_window_out(d->in[0].w, d->pad_left, d->pad_right, d->kernel_w,
                                     d->stride_w, d->dilation_w);
    return d->out.h > 0 && d->out.w > 0;
}

static int rnd_channels(int max)
{
    static const int common[] = {1, 3, 8, 16, 24, 32, 48, 64};
    int c = rnd(0, 1) ? pick(common, 8) : rnd(1, max);
    return c > max ? max : c;
}

static int gen_conv(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_CONV2D;
    d->num_inputs = 1;
    if (!gen_window(d, big ? 20 : 12, 0))
        return 0;
    d->in[0].n = d->out.n = rnd(1, 2);
    d->in[0].c = big ? rnd_channels(128) : rnd_channels(40);
    d->out.c = big ? rnd_channels(128) : rnd_channels(40);
    if (big && d->kernel_h * d->kernel_w > 9) {
        d->in[0].c = rnd(1, 24); /* keeps the reference's work small */
    }
    const size_t wn = (size_t)d->kernel_h * d->kernel_w * d->in[0].c * d->out.c;
    c->w = new_tensor(wn);
    d->weights = c->w;
    if (rnd(0, 3)) {
        c->b = new_tensor((size_t)d->out.c);
        d->bias = c->b;
    }
    case_act(c, 1);
    case_inputs(c);
    return 1;
}

/* A conv with an addend of its output's shape (a residual block). */
static int gen_conv_add(op_case *c, int big)
{
    if (!gen_conv(c, big))
        return 0;
    c->d.type = FS_NN_CONV2D_ADD;
    c->d.num_inputs = 2;
    c->d.in[1] = c->d.out;
    c->in[1] = new_tensor(fs_nn_shape_size(c->d.out));
    return 1;
}

static int gen_depthwise(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_DEPTHWISE_CONV2D;
    d->num_inputs = 1;
    if (!gen_window(d, big ? 40 : 14, 0))
        return 0;
    d->in[0].n = d->out.n = rnd(1, 2);
    d->in[0].c = rnd_channels(big ? 128 : 70);
    d->depth_multiplier = rnd(0, 4) ? 1 : rnd(2, 3);
    d->out.c = d->in[0].c * d->depth_multiplier;
    c->w = new_tensor((size_t)d->kernel_h * d->kernel_w * d->out.c);
    d->weights = c->w;
    if (rnd(0, 1)) {
        c->b = new_tensor((size_t)d->out.c);
        d->bias = c->b;
    }
    case_act(c, 1);
    case_inputs(c);
    return 1;
}

static int gen_maxpool(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_MAX_POOL;
    d->num_inputs = 1;
    if (!gen_window(d, big ? 32 : 12, 1))
        return 0;
    d->in[0].n = d->out.n = rnd(1, 2);
    d->in[0].c = d->out.c = rnd_channels(big ? 128 : 40);
    case_inputs(c);
    /* windows of padding only are invalid descs (tested apart) */
    return fs_nn_desc_validate(d) == FS_OK;
}

static fs_nn_shape rnd_shape(int max_hw, int max_c)
{
    fs_nn_shape s = {rnd(1, 2), rnd(1, max_hw), rnd(1, max_hw), rnd_channels(max_c)};
    return s;
}

static int gen_binary(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_BINARY;
    d->binop = (fs_nn_binary_op)rnd(0, 3);
    d->out = rnd_shape(big ? 40 : 9, big ? 128 : 40);
    d->in[0] = d->out;
    const int form = rnd(0, 5);
    if (form <= 2) { /* equal shapes: the models' residual adds */
        d->num_inputs = 2;
        d->in[1] = d->out;
    } else if (form == 3) { /* broadcast tensor: per channel or per pixel */
        d->num_inputs = 2;
        d->in[1] = d->out;
        if (rnd(0, 1)) {
            d->in[1].n = d->in[1].h = d->in[1].w = 1;
        } else {
            d->in[1].c = 1;
        }
        if (rnd(0, 1)) { /* swap: the broadcast side first */
            const fs_nn_shape t = d->in[0];
            d->in[0] = d->in[1];
            d->in[1] = t;
        }
    } else { /* constant operand */
        d->num_inputs = 1;
        d->constant_len = form == 4 ? 1 : d->out.c;
        c->cst = new_tensor((size_t)d->constant_len);
        d->constant = c->cst;
    }
    case_act(c, 1);
    case_inputs(c);
    return 1;
}

static int gen_activation(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_ACTIVATION;
    d->num_inputs = 1;
    d->out = d->in[0] = rnd_shape(big ? 40 : 9, big ? 128 : 40);
    case_act(c, 1); /* wide values: sigmoid saturates to exactly 0 and 1 */
    case_inputs(c);
    return 1;
}

static int gen_pad(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_PAD;
    d->num_inputs = 1;
    d->in[0] = rnd_shape(big ? 30 : 8, big ? 96 : 30);
    memset(d->pads, 0, sizeof(d->pads));
    const int which = rnd(0, 3);
    for (int a = 1; a < 4; a++)
        if (which == 0 || which == a) {
            d->pads[a][0] = rnd(0, 3);
            d->pads[a][1] = rnd(0, a == 3 ? 40 : 3); /* channel padding of the models */
        }
    d->out = d->in[0];
    d->out.h += d->pads[1][0] + d->pads[1][1];
    d->out.w += d->pads[2][0] + d->pads[2][1];
    d->out.c += d->pads[3][0] + d->pads[3][1];
    case_inputs(c);
    return 1;
}

static int gen_concat(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_CONCAT;
    d->num_inputs = rnd(1, FS_NN_MAX_INPUTS);
    d->out = rnd_shape(big ? 20 : 8, 1);
    d->out.c = 0;
    for (int i = 0; i < d->num_inputs; i++) {
        d->in[i] = d->out;
        d->in[i].c = rnd_channels(big ? 64 : 20);
        d->out.c += d->in[i].c;
    }
    case_inputs(c);
    return 1;
}

static int gen_mean(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_MEAN;
    d->num_inputs = 1;
    d->in[0] = rnd_shape(big ? 30 : 8, big ? 256 : 40);
    d->out = d->in[0];
    d->out.h = d->out.w = 1;
    case_inputs(c);
    return 1;
}

static int gen_matmul(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_MATMUL;
    d->num_inputs = 1;
    d->in[0].n = d->out.n = rnd(1, 3);
    d->in[0].h = d->in[0].w = d->out.h = d->out.w = 1;
    d->in[0].c = big ? rnd(1, 1100) : rnd(1, 70);
    d->out.c = big ? rnd(1, 300) : rnd(1, 70);
    c->w = new_tensor((size_t)d->in[0].c * d->out.c);
    d->weights = c->w;
    if (rnd(0, 2)) {
        c->b = new_tensor((size_t)d->out.c);
        d->bias = c->b;
    }
    case_act(c, 1);
    case_inputs(c);
    return 1;
}

static int gen_softmax(op_case *c, int big)
{
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_SOFTMAX;
    d->num_inputs = 1;
    d->in[0] = rnd_shape(big ? 6 : 3, big ? 1100 : 40);
    d->out = d->in[0];
    case_inputs(c);
    if (rnd(0, 1)) /* logits far apart: exp underflows for all but the largest */
        for (size_t i = 0; i < fs_nn_shape_size(d->in[0]); i++)
            c->in[0][i] *= 100.0f;
    return 1;
}

typedef int (*gen_fn)(op_case *c, int big);

static void random_cases(fs_nn_op_type type, gen_fn gen, const char *what, int iters)
{
    rng_state = seed_base() * 2654435761ULL + (uint64_t)type * 97 + 1;
    case_stats stats;
    memset(&stats, 0, sizeof(stats));
    for (int it = 0; it < iters; it++) {
        op_case c;
        memset(&c, 0, sizeof(c));
        wide_values = it % 4 == 3;
        const int big = it % 5 == 4;
        if (!gen(&c, big)) {
            case_free(&c);
            continue;
        }
        check_case(&c, what, it, &stats);
        case_free(&c);
    }
    assert_coverage(type, &stats, what);
    printf("%s:", what);
    for (int t = 0; t < n_tables; t++)
        printf(" %s compared %d declined %d;", tables[t].label, stats.compared[t],
               stats.declined[t]);
    printf("\n");
}

START_TEST(random_conv2d)
{
    random_cases(FS_NN_CONV2D, gen_conv, "conv2d", 300);
}
END_TEST

START_TEST(random_conv2d_add)
{
    random_cases(FS_NN_CONV2D_ADD, gen_conv_add, "conv2d+add", 300);
}
END_TEST

START_TEST(random_depthwise)
{
    random_cases(FS_NN_DEPTHWISE_CONV2D, gen_depthwise, "depthwise", 400);
}
END_TEST

START_TEST(random_maxpool)
{
    random_cases(FS_NN_MAX_POOL, gen_maxpool, "maxpool", 300);
}
END_TEST

START_TEST(random_binary)
{
    random_cases(FS_NN_BINARY, gen_binary, "binary", 400);
}
END_TEST

START_TEST(random_activation)
{
    random_cases(FS_NN_ACTIVATION, gen_activation, "activation", 300);
}
END_TEST

START_TEST(random_pad)
{
    random_cases(FS_NN_PAD, gen_pad, "pad", 200);
}
END_TEST

START_TEST(random_concat)
{
    random_cases(FS_NN_CONCAT, gen_concat, "concat", 100);
}
END_TEST

START_TEST(random_mean)
{
    random_cases(FS_NN_MEAN, gen_mean, "mean", 100);
}
END_TEST

START_TEST(random_matmul)
{
    random_cases(FS_NN_MATMUL, gen_matmul, "matmul", 200);
}
END_TEST

START_TEST(random_softmax)
{
    random_cases(FS_NN_SOFTMAX, gen_softmax, "softmax", 100);
}
END_TEST

/* Shapes of the models' own layers (BlazeFace, FaceMesh, Iris), each
 * activation, through every fast table. */
START_TEST(model_shapes)
{
    static const struct {
        fs_nn_op_type type;
        int h, ic, oc, k, s;
    } layers[] = {
        {FS_NN_CONV2D, 256, 3, 24, 5, 2},   {FS_NN_CONV2D, 128, 24, 24, 1, 1},
        {FS_NN_CONV2D, 192, 3, 16, 3, 2},   {FS_NN_CONV2D, 64, 3, 64, 3, 2},
        {FS_NN_CONV2D, 16, 64, 64, 2, 2},   {FS_NN_CONV2D, 6, 128, 128, 1, 1},
        /* 1x1 to 24 channels: 9 / 18 / 25 / 50 pixels reach the 8-pixel, pair
         * and lone-pixel paths of the AVX-512 kernel */
        {FS_NN_CONV2D, 3, 40, 24, 1, 1},    {FS_NN_CONV2D, 5, 24, 24, 1, 1},
        {FS_NN_CONV2D, 64, 24, 24, 1, 1},
        /* unpadded, more than 4 input channels (the AVX2 GEMM): every split
         * of the output vectors (1, 2, 3+2, 3+3, 4+3, 4x4), pixel counts that
         * leave lone pixels, strides over 1 and windows over 1x1 */
        {FS_NN_CONV2D, 17, 8, 8, 1, 1},     {FS_NN_CONV2D, 13, 12, 16, 1, 1},
        {FS_NN_CONV2D, 11, 40, 40, 1, 1},   {FS_NN_CONV2D, 9, 5, 48, 1, 1},
        {FS_NN_CONV2D, 7, 64, 56, 1, 1},    {FS_NN_CONV2D, 10, 32, 128, 1, 1},
        {FS_NN_CONV2D, 10, 40, 56, 2, 2},   {FS_NN_CONV2D, 7, 16, 40, 1, 2},
        {FS_NN_CONV2D, 9, 8, 48, 3, 3},
        {FS_NN_DEPTHWISE_CONV2D, 128, 24, 24, 3, 1},
        {FS_NN_DEPTHWISE_CONV2D, 128, 24, 24, 5, 1},
        {FS_NN_DEPTHWISE_CONV2D, 64, 24, 24, 3, 2},
        {FS_NN_DEPTHWISE_CONV2D, 12, 128, 128, 3, 1},
        {FS_NN_DEPTHWISE_CONV2D, 8, 96, 96, 5, 2},
    };
    rng_state = seed_base() + 17;
    case_stats stats;
    memset(&stats, 0, sizeof(stats));
    for (size_t l = 0; l < sizeof(layers) / sizeof(layers[0]); l++)
        for (int act = FS_NN_ACT_NONE; act <= FS_NN_ACT_SIGMOID; act++) {
            op_case c;
            memset(&c, 0, sizeof(c));
            fs_nn_op_desc *d = &c.d;
            d->type = layers[l].type;
            d->num_inputs = 1;
            d->in[0] = (fs_nn_shape){1 + (act == 2), layers[l].h, layers[l].h, layers[l].ic};
            d->kernel_h = d->kernel_w = layers[l].k;
            d->stride_h = d->stride_w = layers[l].s;
            d->dilation_h = d->dilation_w = 1;
            const int o = (layers[l].h + layers[l].s - 1) / layers[l].s;
            const int tot = (o - 1) * layers[l].s + layers[l].k - layers[l].h;
            d->pad_top = d->pad_left = tot > 0 ? tot / 2 : 0;
            d->pad_bottom = d->pad_right = tot > 0 ? tot - tot / 2 : 0;
            d->out = (fs_nn_shape){d->in[0].n, o, o, layers[l].oc};
            d->depth_multiplier = 1;
            const size_t wn = (size_t)layers[l].k * layers[l].k *
                              (d->type == FS_NN_CONV2D ? (size_t)layers[l].ic : 1) * layers[l].oc;
            c.w = new_tensor(wn);
            c.b = new_tensor((size_t)layers[l].oc);
            d->weights = c.w;
            d->bias = c.b;
            case_act(&c, 1);
            d->act = (fs_nn_act)act;
            if (act == FS_NN_ACT_CLAMP) {
                d->clamp_min = -0.5f;
                d->clamp_max = 0.5f;
            }
            if (act == FS_NN_ACT_PRELU && !c.alpha) {
                c.alpha = new_tensor((size_t)layers[l].oc);
                d->alpha = c.alpha;
            }
            case_inputs(&c);
            check_case(&c, "model layer", (int)l, &stats);
            case_free(&c);
        }
    assert_coverage(FS_NN_CONV2D, &stats, "model layers");
}
END_TEST

/* An unpadded conv (stride = window or 1x1) of n images h x h x ic to oc
 * channels, with random weights and bias; inputs not yet made. */
static void unpadded_conv(op_case *c, int n, int h, int ic, int oc, int k, int s)
{
    memset(c, 0, sizeof(*c));
    fs_nn_op_desc *d = &c->d;
    d->type = FS_NN_CONV2D;
    d->num_inputs = 1;
    d->in[0] = (fs_nn_shape){n, h, h, ic};
    d->kernel_h = d->kernel_w = k;
    d->stride_h = d->stride_w = s;
    d->dilation_h = d->dilation_w = 1;
    d->out = (fs_nn_shape){n, h / s, h / s, oc};
    c->w = new_tensor((size_t)k * k * ic * oc);
    c->b = new_tensor((size_t)oc);
    d->weights = c->w;
    d->bias = c->b;
}

/* The fast conv splits a layer's pixels over the context's workers; the
 * bytes must not depend on the split (lib/exec.h). */
START_TEST(conv_threads_same_bytes)
{
    static const struct {
        int h, ic, oc, k, s;
    } layers[] = {{37, 64, 24, 1, 1}, {80, 32, 64, 2, 2}, {47, 24, 96, 1, 1}};
    fs_pool *pool = NULL;
    FS_ASSERT_OK(fs_pool_create(3, &pool));
    const fs_exec threaded = {pool, NULL, NULL, NULL};
    rng_state = seed_base() + 23;
    for (size_t l = 0; l < sizeof(layers) / sizeof(layers[0]); l++) {
        op_case c;
        unpadded_conv(&c, 2, layers[l].h, layers[l].ic, layers[l].oc, layers[l].k, layers[l].s);
        fs_nn_op_desc *d = &c.d;
        d->act = FS_NN_ACT_RELU;
        case_inputs(&c);
        const size_t n = fs_nn_shape_size(d->out);
        for (int t = 0; t < n_tables; t++) {
            const fs_nn_kernel *k = &tables[t].ops.k[FS_NN_CONV2D];
            void *st = NULL;
            if (k->create(d, &st) != FS_OK)
                continue;
            float *a = alloc_floats(n), *b = alloc_floats(n);
            const float *ins[FS_NN_MAX_INPUTS] = {c.in[0]};
            FS_ASSERT_OK(k->run(FS_EXEC_SERIAL(NULL), st, ins, a));
            FS_ASSERT_OK(k->run(&threaded, st, ins, b));
            ck_assert_msg(memcmp(a, b, n * sizeof(float)) == 0,
                          "%s: layer %zu differs with 3 workers", tables[t].label, l);
            k->destroy(st);
            free(a);
            free(b);
        }
        case_free(&c);
    }
    fs_pool_destroy(pool);
}
END_TEST

/* The planner fuses a conv and the Add after it only where the fast table
 * has a CONV2D_ADD kernel; its bytes must be those of that table's CONV2D
 * followed by its BINARY add (lib/nn/plan.c, fuse_residual_adds). */
START_TEST(conv_add_same_bytes_as_two_steps)
{
    static const struct {
        int h, ic, oc, k, s, act;
    } layers[] = {{128, 24, 24, 1, 1, FS_NN_ACT_RELU},  {16, 96, 96, 1, 1, FS_NN_ACT_RELU},
                  {32, 32, 64, 1, 1, FS_NN_ACT_PRELU}, {9, 40, 56, 1, 1, FS_NN_ACT_NONE},
                  {10, 16, 40, 2, 2, FS_NN_ACT_CLAMP}};
    rng_state = seed_base() + 29;
    int fused = 0;
    for (size_t l = 0; l < sizeof(layers) / sizeof(layers[0]); l++) {
        op_case c;
        unpadded_conv(&c, 1, layers[l].h, layers[l].ic, layers[l].oc, layers[l].k, layers[l].s);
        fs_nn_op_desc *d = &c.d;
        d->type = FS_NN_CONV2D_ADD;
        d->num_inputs = 2;
        d->in[1] = d->out;
        c.alpha = new_tensor((size_t)layers[l].oc);
        d->alpha = c.alpha;
        d->act = (fs_nn_act)layers[l].act;
        d->clamp_min = -0.25f;
        d->clamp_max = 0.75f;
        case_inputs(&c);
        const size_t n = fs_nn_shape_size(d->out);
        for (int t = 0; t < n_tables; t++) {
            const fs_nn_ops *ops = &tables[t].ops;
            if (strcmp(ops->k[FS_NN_CONV2D_ADD].name, "ref") == 0)
                continue;
            float *one;
            if (run_kernel(&ops->k[FS_NN_CONV2D_ADD], &c, &one) != FS_OK) {
                free(one);
                continue;
            }
            /* the same layer as the two ops the model holds */
            op_case cv = c, ad;
            cv.d.type = FS_NN_CONV2D;
            cv.d.num_inputs = 1;
            cv.d.act = FS_NN_ACT_NONE;
            float *conv, *two;
            FS_ASSERT_OK(run_kernel(&ops->k[FS_NN_CONV2D], &cv, &conv));
            memset(&ad, 0, sizeof(ad));
            ad.d.type = FS_NN_BINARY;
            ad.d.binop = FS_NN_ADD;
            ad.d.num_inputs = 2;
            ad.d.in[0] = ad.d.in[1] = ad.d.out = d->out;
            ad.d.act = d->act;
            ad.d.alpha = d->alpha;
            ad.d.clamp_min = d->clamp_min;
            ad.d.clamp_max = d->clamp_max;
            ad.in[0] = conv;
            ad.in[1] = c.in[1];
            FS_ASSERT_OK(run_kernel(&ops->k[FS_NN_BINARY], &ad, &two));
            ck_assert_msg(memcmp(one, two, n * sizeof(float)) == 0,
                          "%s: layer %zu: the fused step's bytes differ from conv + add",
                          tables[t].label, l);
            fused++;
            free(one);
            free(conv);
            free(two);
        }
        case_free(&c);
    }
    /* on a CPU with a fused kernel (AVX2), every layer above takes it */
    for (int t = 0; t < n_tables; t++)
        if (strcmp(tables[t].ops.k[FS_NN_CONV2D_ADD].name, "ref") != 0)
            ck_assert_int_ge(fused, (int)(sizeof(layers) / sizeof(layers[0])));
}
END_TEST

/* 1x1 images, one channel, a window larger than the image, windows of
 * padding only (conv: bias), large values. */
START_TEST(edge_cases)
{
    rng_state = seed_base() + 99;
    case_stats stats;
    memset(&stats, 0, sizeof(stats));
    for (int it = 0; it < 40; it++) {
        op_case c;
        memset(&c, 0, sizeof(c));
        fs_nn_op_desc *d = &c.d;
        wide_values = 1;
        d->type = it % 2 ? FS_NN_CONV2D : FS_NN_DEPTHWISE_CONV2D;
        d->num_inputs = 1;
        d->in[0] = (fs_nn_shape){1, rnd(1, 2), rnd(1, 2), rnd(1, 19)};
        d->kernel_h = d->kernel_w = pick(kernel_sizes, 8);
        d->stride_h = d->stride_w = pick(strides, 6);
        d->dilation_h = d->dilation_w = 1;
        d->pad_top = d->pad_left = rnd(0, d->kernel_h + 1);
        d->pad_bottom = d->pad_right = rnd(0, d->kernel_h + 1);
        d->out.n = 1;
        d->out.h = (int)fs_nn_window_out(d->in[0].h, d->pad_top, d->pad_bottom, d->kernel_h,
                                         d->stride_h, 1);
        d->out.w = (int)fs_nn_window_out(d->in[0].w, d->pad_left, d->pad_right, d->kernel_w,
                                         d->stride_w, 1);
        d->depth_multiplier = 1;
        d->out.c = d->type == FS_NN_CONV2D ? rnd(1, 19) : d->in[0].c;
        if (d->out.h < 1 || d->out.w < 1) {
            case_free(&c);
            continue;
        }
        c.w = new_tensor((size_t)d->kernel_h * d->kernel_w * d->out.c *
                         (d->type == FS_NN_CONV2D ? (size_t)d->in[0].c : 1));
        c.b = new_tensor((size_t)d->out.c);
        d->weights = c.w;
        d->bias = c.b;
        case_act(&c, 1);
        case_inputs(&c);
        check_case(&c, "edge", it, &stats);
        case_free(&c);
    }
    wide_values = 0;
}
END_TEST

/* ---- the reference against hand-computed cases ---- */

static void ref_run(const fs_nn_op_desc *d, const float *const *inputs, float *out)
{
    void *st = NULL;
    FS_ASSERT_OK(ref_ops.k[d->type].create(d, &st));
    FS_ASSERT_OK(ref_ops.k[d->type].run(FS_EXEC_SERIAL(NULL), st, inputs, out));
    ref_ops.k[d->type].destroy(st);
}

static void assert_floats(const float *got, const float *want, int n, double tol)
{
    for (int i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol))
            ck_abort_msg("element %d: got %.9g want %.9g", i, got[i], want[i]);
}

/* in = 1..16 row by row (4x4, one channel), w = 1..9 row by row (3x3). */
static void conv_4x4_desc(fs_nn_op_desc *d, float *in, float *w)
{
    memset(d, 0, sizeof(*d));
    for (int i = 0; i < 16; i++)
        in[i] = (float)(i + 1);
    for (int i = 0; i < 9; i++)
        w[i] = (float)(i + 1);
    d->type = FS_NN_CONV2D;
    d->num_inputs = 1;
    d->in[0] = (fs_nn_shape){1, 4, 4, 1};
    d->kernel_h = d->kernel_w = 3;
    d->stride_h = d->stride_w = 1;
    d->dilation_h = d->dilation_w = 1;
    d->weights = w;
}

START_TEST(ref_conv_by_hand)
{
    float in[16], w[9], out[16];
    const float *ins[1] = {in};
    fs_nn_op_desc d;

    /* VALID: out(0,0) = 1*1+2*2+3*3 + 5*4+6*5+7*6 + 9*7+10*8+11*9 = 348; one
     * column right adds sum(w) = 45, one row down adds 4 * 45 = 180. */
    conv_4x4_desc(&d, in, w);
    d.out = (fs_nn_shape){1, 2, 2, 1};
    const float bias = 0.5f;
    d.bias = &bias;
    ref_run(&d, ins, out);
    const float valid[4] = {348.5f, 393.5f, 528.5f, 573.5f};
    assert_floats(out, valid, 4, 0);

    /* SAME, stride 1 (pad 1 all round): corner (0,0) sees in[0][0..1] and
     * in[1][0..1] under w[1][1..2], w[2][1..2]: 1*5+2*6+5*8+6*9 = 111. */
    conv_4x4_desc(&d, in, w);
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
    d.out = (fs_nn_shape){1, 4, 4, 1};
    ref_run(&d, ins, out);
    ck_assert_float_eq(out[0], 111.0f);
    ck_assert_float_eq(out[5], 348.0f); /* interior (1,1) is VALID's (0,0) */
    /* (3,3): in[2][2..3], in[3][2..3] under w[0][0..1], w[1][0..1]: 11+24+60+80 */
    ck_assert_float_eq(out[15], 175.0f);

    /* TF SAME, stride 2: out 2x2, total padding 1 goes to the bottom/right
     * (top/left 0). (0,0) = 348; (0,1) = cols 2..4, col 4 padding:
     * 3*1+4*2 + 7*4+8*5 + 11*7+12*8 = 252; (1,1) = 11*1+12*2+15*4+16*5 = 175. */
    conv_4x4_desc(&d, in, w);
    d.stride_h = d.stride_w = 2;
    d.pad_bottom = d.pad_right = 1;
    d.out = (fs_nn_shape){1, 2, 2, 1};
    ref_run(&d, ins, out);
    ck_assert_float_eq(out[0], 348.0f);
    ck_assert_float_eq(out[1], 252.0f);
    ck_assert_float_eq(out[3], 175.0f);
    /* (1,0) = rows 2..4, cols 0..2: 9*1+10*2+11*3 + 13*4+14*5+15*6 = 274 */
    ck_assert_float_eq(out[2], 274.0f);

    /* Two input, two output channels, 1x1: a plain matrix product per pixel,
     * weights [ic][oc] = [[1, 2], [3, 4]]: (x0, x1) -> (x0 + 3 x1, 2 x0 + 4 x1). */
    const float px[4] = {1, 10, -2, 0.5f};
    const float w2[4] = {1, 2, 3, 4};
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_CONV2D;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 1, 2, 2};
    d.out = (fs_nn_shape){1, 1, 2, 2};
    d.kernel_h = d.kernel_w = d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = 1;
    d.weights = w2;
    const float *ins2[1] = {px};
    ref_run(&d, ins2, out);
    const float want2[4] = {31, 42, -0.5f, -2};
    assert_floats(out, want2, 4, 0);
}
END_TEST

START_TEST(ref_depthwise_by_hand)
{
    /* 2x2 input, 2 channels, 2x2 kernel VALID, multiplier 2: output 1x1x4,
     * out[c * 2 + m] = sum over the window of in[.][.][c] * w[.][.][c][m]. */
    const float in[8] = {1, 2, 3, 4, 5, 6, 7, 8}; /* (y,x,c) */
    float w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (float)(i % 3) - 1.0f; /* [ky][kx][c][m]: -1 0 1 -1 0 1 ... */
    fs_nn_op_desc d;
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_DEPTHWISE_CONV2D;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 2, 2, 2};
    d.out = (fs_nn_shape){1, 1, 1, 4};
    d.kernel_h = d.kernel_w = 2;
    d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = 1;
    d.depth_multiplier = 2;
    d.weights = w;
    float out[4];
    const float *ins[1] = {in};
    ref_run(&d, ins, out);
    /* tap t (0..3) of channel c, multiplier m: w[t*4 + c*2 + m]
     * c0 inputs 1,3,5,7; c1 inputs 2,4,6,8
     * m0 of c0: w[0],w[4],w[8],w[12] = -1,0,1,-1 -> -1+0+5-7 = -3
     * m1 of c0: w[1],w[5],w[9],w[13] = 0,1,-1,0 -> 0+3-5+0 = -2
     * m0 of c1: w[2],w[6],w[10],w[14] = 1,-1,0,1 -> 2-4+0+8 = 6
     * m1 of c1: w[3],w[7],w[11],w[15] = -1,0,1,-1 -> -2+0+6-8 = -4 */
    const float want[4] = {-3, -2, 6, -4};
    assert_floats(out, want, 4, 0);
}
END_TEST

START_TEST(ref_maxpool_by_hand)
{
    /* All negative 2x2 input, 3x3 window, padding 1 all round: a padded zero
     * must never win, every output is the largest real value, -3. */
    const float in[4] = {-5, -3, -4, -6};
    fs_nn_op_desc d;
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_MAX_POOL;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 2, 2, 1};
    d.out = (fs_nn_shape){1, 2, 2, 1};
    d.kernel_h = d.kernel_w = 3;
    d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = 1;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
    float out[4];
    const float *ins[1] = {in};
    ref_run(&d, ins, out);
    const float want[4] = {-3, -3, -3, -3};
    assert_floats(out, want, 4, 0);

    /* 3x3 input, 2x2 window stride 2, TF SAME: padding at the bottom/right;
     * the last row/column windows hold one real row/column. */
    const float in3[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
    d.in[0] = (fs_nn_shape){1, 3, 3, 1};
    d.kernel_h = d.kernel_w = 2;
    d.stride_h = d.stride_w = 2;
    d.pad_top = d.pad_left = 0;
    const float *ins3[1] = {in3};
    ref_run(&d, ins3, out);
    const float want3[4] = {-1, -3, -7, -9};
    assert_floats(out, want3, 4, 0);

    /* Same through every fast table. */
    for (int t = 0; t < n_tables; t++) {
        const fs_nn_kernel *k = &tables[t].ops.k[FS_NN_MAX_POOL];
        void *st = NULL;
        if (k->create(&d, &st) != FS_OK)
            continue;
        float o2[4] = {0};
        FS_ASSERT_OK(k->run(FS_EXEC_SERIAL(NULL), st, ins3, o2));
        k->destroy(st);
        assert_floats(o2, want3, 4, 0);
    }
}
END_TEST

START_TEST(ref_activations_by_hand)
{
    /* PReLU sign: x >= 0 passes, x < 0 scales by its channel's alpha (also a
     * negative alpha). Two channels, alpha = {0.25, -2}. */
    const float x[6] = {-4, -4, 3, 3, 0, -0.5f};
    const float alpha[2] = {0.25f, -2};
    fs_nn_op_desc d;
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_ACTIVATION;
    d.num_inputs = 1;
    d.in[0] = d.out = (fs_nn_shape){1, 1, 3, 2};
    d.act = FS_NN_ACT_PRELU;
    d.alpha = alpha;
    float out[6];
    const float *ins[1] = {x};
    ref_run(&d, ins, out);
    const float want[6] = {-1, 8, 3, 3, 0, 1};
    assert_floats(out, want, 6, 0);
    for (int t = 0; t < n_tables; t++) { /* and the fast kernels, also in place */
        const fs_nn_kernel *k = &tables[t].ops.k[FS_NN_ACTIVATION];
        void *st = NULL;
        FS_ASSERT_OK(k->create(&d, &st));
        float io[6];
        memcpy(io, x, sizeof(io));
        const float *ii[1] = {io};
        FS_ASSERT_OK(k->run(FS_EXEC_SERIAL(NULL), st, ii, io));
        k->destroy(st);
        assert_floats(io, want, 6, 0);
    }

    d.act = FS_NN_ACT_RELU;
    ref_run(&d, ins, out);
    const float relu[6] = {0, 0, 3, 3, 0, 0};
    assert_floats(out, relu, 6, 0);

    d.act = FS_NN_ACT_CLAMP; /* Relu6-like bounds */
    d.clamp_min = -1;
    d.clamp_max = 2;
    ref_run(&d, ins, out);
    const float clamp[6] = {-1, -1, 2, 2, 0, -0.5f};
    assert_floats(out, clamp, 6, 0);

    d.act = FS_NN_ACT_SIGMOID; /* 1 / (1 + e^4) = 0.01798621, 1/(1+e^-3) = 0.95257413 */
    ref_run(&d, ins, out);
    const float sig[6] = {0.01798621f, 0.01798621f, 0.95257413f, 0.95257413f, 0.5f, 0.37754067f};
    assert_floats(out, sig, 6, 1e-7);

    /* Softmax of (1, 2, 3): e^{-2}, e^{-1}, 1 over their sum 1.503214724 */
    const float l[3] = {1, 2, 3};
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_SOFTMAX;
    d.num_inputs = 1;
    d.in[0] = d.out = (fs_nn_shape){1, 1, 1, 3};
    const float *insl[1] = {l};
    ref_run(&d, insl, out);
    const float sm[3] = {0.09003057f, 0.24472847f, 0.66524096f};
    assert_floats(out, sm, 3, 1e-7);
}
END_TEST

START_TEST(ref_misc_by_hand)
{
    fs_nn_op_desc d;
    float out[16];

    /* Broadcast add: [1,2,1,1] (1, 2) + [1,1,1,3] (10, 20, 30) -> 1x2x1x3,
     * then the per-channel constant form with Minimum. */
    const float a[2] = {1, 2}, b[3] = {10, 20, 30};
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_BINARY;
    d.binop = FS_NN_ADD;
    d.num_inputs = 2;
    d.in[0] = (fs_nn_shape){1, 2, 1, 1};
    d.in[1] = (fs_nn_shape){1, 1, 1, 3};
    d.out = (fs_nn_shape){1, 2, 1, 3};
    const float *ins[2] = {a, b};
    ref_run(&d, ins, out);
    const float add[6] = {11, 21, 31, 12, 22, 32};
    assert_floats(out, add, 6, 0);

    const float x[6] = {5, -5, 25, 0, 15, 40};
    const float lim[3] = {1, 10, 30};
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_BINARY;
    d.binop = FS_NN_MIN;
    d.num_inputs = 1;
    d.in[0] = d.out = (fs_nn_shape){1, 1, 2, 3};
    d.constant = lim;
    d.constant_len = 3;
    const float *insx[1] = {x};
    ref_run(&d, insx, out);
    const float mn[6] = {1, -5, 25, 0, 10, 30};
    assert_floats(out, mn, 6, 0);

    /* Pad one channel after and one column before: (1,1,1,2) -> (1,1,2,3). */
    const float p[2] = {7, 8};
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_PAD;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 1, 1, 2};
    d.out = (fs_nn_shape){1, 1, 2, 3};
    d.pads[2][0] = 1;
    d.pads[3][1] = 1;
    const float *insp[1] = {p};
    ref_run(&d, insp, out);
    const float pad[6] = {0, 0, 0, 7, 8, 0};
    assert_floats(out, pad, 6, 0);

    /* Concat of 1 and 2 channels over 2 pixels. */
    const float c1[2] = {1, 2}, c2[4] = {3, 4, 5, 6};
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_CONCAT;
    d.num_inputs = 2;
    d.in[0] = (fs_nn_shape){1, 1, 2, 1};
    d.in[1] = (fs_nn_shape){1, 1, 2, 2};
    d.out = (fs_nn_shape){1, 1, 2, 3};
    const float *insc[2] = {c1, c2};
    ref_run(&d, insc, out);
    const float cat[6] = {1, 3, 4, 2, 5, 6};
    assert_floats(out, cat, 6, 0);

    /* Mean over 2x2 of two channels: (1+2+3+4)/4, (10+20+30+40)/4. */
    const float m[8] = {1, 10, 2, 20, 3, 30, 4, 40};
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_MEAN;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 2, 2, 2};
    d.out = (fs_nn_shape){1, 1, 1, 2};
    const float *insm[1] = {m};
    ref_run(&d, insm, out);
    const float mean[2] = {2.5f, 25};
    assert_floats(out, mean, 2, 0);

    /* MatMul [2,3] x [3,2] + bias, Relu: rows (1,2,3), (-1,0,1);
     * W = [[1,0],[0,1],[1,1]] -> (4, 5), (0, 1); bias (-4.5, 0) -> relu (0, 5), (0, 1). */
    const float r[6] = {1, 2, 3, -1, 0, 1};
    const float mw[6] = {1, 0, 0, 1, 1, 1};
    const float mb[2] = {-4.5f, 0};
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_MATMUL;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){2, 1, 1, 3};
    d.out = (fs_nn_shape){2, 1, 1, 2};
    d.weights = mw;
    d.bias = mb;
    d.act = FS_NN_ACT_RELU;
    const float *insr[1] = {r};
    ref_run(&d, insr, out);
    const float mm[4] = {0, 5, 0, 1};
    assert_floats(out, mm, 4, 0);
}
END_TEST

/* ---- nonsense descs are refused by every kernel, never crash ---- */

static void expect_invalid(const fs_nn_op_desc *d, const char *what)
{
    void *st = (void *)&st; /* must stay untouched */
    for (int t = -1; t < n_tables; t++) {
        const fs_nn_ops *ops = t < 0 ? &ref_ops : &tables[t].ops;
        for (int ty = 0; ty < FS_NN_OP_COUNT; ty++) {
            const fs_nn_kernel *k = &ops->k[ty];
            void *s2 = st;
            const fs_status s = k->create(d, &s2);
            ck_assert_msg(s == FS_ERR_INVALID_ARGUMENT,
                          "%s: kernel %s (type %d) returned %s for nonsense", what, k->name, ty,
                          fs_status_name(s));
            ck_assert_ptr_eq(s2, st);
        }
    }
}

START_TEST(invalid_descs)
{
    float w[64] = {0}, alpha[8] = {0};
    fs_nn_op_desc base;
    memset(&base, 0, sizeof(base));
    base.type = FS_NN_CONV2D;
    base.num_inputs = 1;
    base.in[0] = (fs_nn_shape){1, 4, 4, 2};
    base.out = (fs_nn_shape){1, 2, 2, 2};
    base.kernel_h = base.kernel_w = 3;
    base.stride_h = base.stride_w = base.dilation_h = base.dilation_w = 1;
    base.weights = w;
    {
        void *st = NULL; /* the base is valid */
        FS_ASSERT_OK(ref_ops.k[FS_NN_CONV2D].create(&base, &st));
        ref_ops.k[FS_NN_CONV2D].destroy(st);
    }
    fs_nn_op_desc d;

    expect_invalid(NULL, "NULL desc");
    d = base, d.type = (fs_nn_op_type)99, expect_invalid(&d, "unknown type");
    d = base, d.in[0].h = 0, expect_invalid(&d, "empty input");
    d = base, d.in[0].c = -3, expect_invalid(&d, "negative channels");
    d = base, d.out.h = 3, expect_invalid(&d, "output height disagrees");
    d = base, d.out.n = 2, expect_invalid(&d, "batch disagrees");
    d = base, d.weights = NULL, expect_invalid(&d, "no weights");
    d = base, d.stride_h = 0, expect_invalid(&d, "stride 0");
    d = base, d.dilation_w = 0, expect_invalid(&d, "dilation 0");
    d = base, d.pad_left = -1, expect_invalid(&d, "negative padding");
    d = base, d.kernel_w = 9, expect_invalid(&d, "window larger than the padded input");
    d = base, d.num_inputs = 0, expect_invalid(&d, "no input");
    d = base, d.num_inputs = 2, d.in[1] = d.in[0], expect_invalid(&d, "two inputs");
    d = base, d.act = FS_NN_ACT_PRELU, expect_invalid(&d, "prelu without alpha");
    d = base, d.act = (fs_nn_act)17, expect_invalid(&d, "unknown activation");
    d = base, d.act = FS_NN_ACT_CLAMP, d.clamp_min = 1, d.clamp_max = 0,
    expect_invalid(&d, "clamp min > max");
    d = base, d.act = FS_NN_ACT_CLAMP, d.clamp_min = NAN, d.clamp_max = 0,
    expect_invalid(&d, "clamp NaN");
    d = base, d.in[0] = (fs_nn_shape){1 << 20, 1 << 20, 1 << 20, 1 << 20},
    expect_invalid(&d, "size overflow");
    d = base, d.in[0].w = 1 << 30, expect_invalid(&d, "dimension beyond the limit");

    memset(&d, 0, sizeof(d)); /* DEPTHWISE: out.c != in.c * multiplier */
    d.type = FS_NN_DEPTHWISE_CONV2D;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 4, 4, 2};
    d.out = (fs_nn_shape){1, 4, 4, 3};
    d.kernel_h = d.kernel_w = 1;
    d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = 1;
    d.depth_multiplier = 1;
    d.weights = w;
    expect_invalid(&d, "depthwise channels");
    d.out.c = 2, d.depth_multiplier = 0, expect_invalid(&d, "multiplier 0");

    memset(&d, 0, sizeof(d)); /* MAX_POOL: a window of padding only */
    d.type = FS_NN_MAX_POOL;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 2, 2, 1};
    d.kernel_h = d.kernel_w = 2;
    d.stride_h = d.stride_w = d.dilation_h = d.dilation_w = 1;
    d.pad_bottom = 2;
    d.out = (fs_nn_shape){1, 3, 1, 1};
    expect_invalid(&d, "maxpool window of padding only");
    d.pad_bottom = 0, d.out.h = 1, d.act = FS_NN_ACT_RELU, expect_invalid(&d, "maxpool act");

    memset(&d, 0, sizeof(d)); /* BINARY */
    d.type = FS_NN_BINARY;
    d.num_inputs = 2;
    d.in[0] = d.out = (fs_nn_shape){1, 2, 2, 3};
    d.in[1] = (fs_nn_shape){1, 2, 2, 2};
    expect_invalid(&d, "binary shapes");
    d.in[1] = d.out, d.binop = (fs_nn_binary_op)9, expect_invalid(&d, "binary op");
    d.binop = FS_NN_ADD, d.num_inputs = 1, expect_invalid(&d, "binary no constant");
    d.constant = w, d.constant_len = 2, expect_invalid(&d, "binary constant length");

    memset(&d, 0, sizeof(d)); /* PAD on N, negative, mismatch */
    d.type = FS_NN_PAD;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 2, 2, 3};
    d.out = (fs_nn_shape){2, 2, 2, 3};
    d.pads[0][1] = 1;
    expect_invalid(&d, "pad on batch");
    d.pads[0][1] = 0, d.out.n = 1, d.out.c = 2, d.pads[3][1] = -1,
    expect_invalid(&d, "negative pad");
    d.pads[3][1] = 1, expect_invalid(&d, "pad mismatch");

    memset(&d, 0, sizeof(d)); /* CONCAT channels */
    d.type = FS_NN_CONCAT;
    d.num_inputs = 2;
    d.in[0] = d.in[1] = (fs_nn_shape){1, 2, 2, 3};
    d.out = (fs_nn_shape){1, 2, 2, 5};
    expect_invalid(&d, "concat channels");
    d.num_inputs = 5, expect_invalid(&d, "concat too many inputs");

    memset(&d, 0, sizeof(d)); /* MATMUL on a spatial tensor, MEAN, SOFTMAX shapes */
    d.type = FS_NN_MATMUL;
    d.num_inputs = 1;
    d.in[0] = (fs_nn_shape){1, 2, 1, 4};
    d.out = (fs_nn_shape){1, 1, 1, 4};
    d.weights = w;
    expect_invalid(&d, "matmul spatial");
    d.type = FS_NN_MEAN, d.in[0] = (fs_nn_shape){1, 2, 2, 4}, d.out.c = 3,
    expect_invalid(&d, "mean channels");
    d.type = FS_NN_SOFTMAX, d.out = (fs_nn_shape){1, 2, 2, 3}, expect_invalid(&d, "softmax");
    d.type = FS_NN_ACTIVATION, d.act = FS_NN_ACT_PRELU, d.alpha = alpha,
    expect_invalid(&d, "activation shape");
}
END_TEST

/* ---- --bench: timings of model-like layers, per table ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double time_kernel(const fs_nn_kernel *k, const op_case *c, float *out)
{
    void *st = NULL;
    if (k->create(&c->d, &st) != FS_OK)
        return -1;
    const float *ins[FS_NN_MAX_INPUTS] = {c->in[0], c->in[1], c->in[2], c->in[3]};
    FS_ASSERT_OK(k->run(FS_EXEC_SERIAL(NULL), st, ins, out));
    /* The best of 15 batches of ~20 ms: on a shared machine the minimum is
     * the figure least disturbed by other processes. */
    int reps = 1;
    for (;;) {
        const double t0 = now_s();
        for (int r = 0; r < reps; r++)
            FS_ASSERT_OK(k->run(FS_EXEC_SERIAL(NULL), st, ins, out));
        if (now_s() - t0 > 0.02 || reps > 1000000)
            break;
        reps *= 2;
    }
    double best = 1e30;
    for (int b = 0; b < 15; b++) {
        const double t0 = now_s();
        for (int r = 0; r < reps; r++)
            FS_ASSERT_OK(k->run(FS_EXEC_SERIAL(NULL), st, ins, out));
        const double t = (now_s() - t0) / reps;
        best = t < best ? t : best;
    }
    k->destroy(st);
    return best * 1e3;
}

static int bench(void)
{
    setup_tables();
    rng_state = 7;
    static const struct {
        const char *name;
        fs_nn_op_type type;
        int n, h, c_in, c_out, k, s;
        fs_nn_act act;
    } layers[] = {
        {"blazeface conv 5x5/2 3->24 @256", FS_NN_CONV2D, 1, 256, 3, 24, 5, 2, FS_NN_ACT_RELU},
        {"blazeface dw 3x3 24 @128", FS_NN_DEPTHWISE_CONV2D, 1, 128, 24, 24, 3, 1, FS_NN_ACT_NONE},
        {"blazeface conv 1x1 24->24 @128", FS_NN_CONV2D, 1, 128, 24, 24, 1, 1, FS_NN_ACT_NONE},
        {"blazeface add+relu 24 @128", FS_NN_BINARY, 1, 128, 24, 24, 0, 0, FS_NN_ACT_RELU},
        {"blazeface conv 1x1 96->96 @16", FS_NN_CONV2D, 1, 16, 96, 96, 1, 1, FS_NN_ACT_NONE},
        {"facemesh conv 3x3/2 3->16 @192", FS_NN_CONV2D, 1, 192, 3, 16, 3, 2, FS_NN_ACT_PRELU},
        {"facemesh dw 3x3 16 @96", FS_NN_DEPTHWISE_CONV2D, 1, 96, 16, 16, 3, 1, FS_NN_ACT_NONE},
        {"facemesh conv 1x1 16->16 @96", FS_NN_CONV2D, 1, 96, 16, 16, 1, 1, FS_NN_ACT_NONE},
        {"facemesh add+prelu 16 @96", FS_NN_BINARY, 1, 96, 16, 16, 0, 0, FS_NN_ACT_PRELU},
        {"iris conv 1x1 64->128 @16 x2", FS_NN_CONV2D, 2, 16, 64, 128, 1, 1, FS_NN_ACT_PRELU},
        {"iris dw 3x3 32 @32 x2", FS_NN_DEPTHWISE_CONV2D, 2, 32, 32, 32, 3, 1, FS_NN_ACT_NONE},
    };
    printf("%-36s %10s", "layer (ms per run)", "ref");
    for (int t = 0; t < n_tables; t++)
        printf(" %12s", tables[t].label);
    printf("\n");
    for (size_t l = 0; l < sizeof(layers) / sizeof(layers[0]); l++) {
        op_case c;
        memset(&c, 0, sizeof(c));
        fs_nn_op_desc *d = &c.d;
        d->type = layers[l].type;
        d->num_inputs = 1;
        d->in[0] = (fs_nn_shape){layers[l].n, layers[l].h, layers[l].h, layers[l].c_in};
        d->act = layers[l].act;
        if (d->type == FS_NN_BINARY) {
            d->num_inputs = 2;
            d->in[1] = d->out = d->in[0];
            d->binop = FS_NN_ADD;
        } else {
            const int k = layers[l].k, s = layers[l].s, h = layers[l].h;
            const int o = (h + s - 1) / s, tot = (o - 1) * s + k - h;
            d->kernel_h = d->kernel_w = k;
            d->stride_h = d->stride_w = s;
            d->dilation_h = d->dilation_w = 1;
            d->pad_top = d->pad_left = tot > 0 ? tot / 2 : 0;
            d->pad_bottom = d->pad_right = tot > 0 ? tot - tot / 2 : 0;
            d->depth_multiplier = 1;
            d->out = (fs_nn_shape){layers[l].n, o, o, layers[l].c_out};
            c.w = new_tensor((size_t)k * k * layers[l].c_out *
                             (d->type == FS_NN_CONV2D ? (size_t)layers[l].c_in : 1));
            c.b = new_tensor((size_t)layers[l].c_out);
            d->weights = c.w;
            d->bias = c.b;
        }
        if (d->act == FS_NN_ACT_PRELU) {
            c.alpha = new_tensor((size_t)d->out.c);
            d->alpha = c.alpha;
        }
        case_inputs(&c);
        float *out = alloc_floats(fs_nn_shape_size(d->out) + SLACK_FLOATS);
        printf("%-36s %10.3f", layers[l].name, time_kernel(&ref_ops.k[d->type], &c, out));
        for (int t = 0; t < n_tables; t++) {
            const fs_nn_kernel *k = &tables[t].ops.k[d->type];
            printf(" %12.4f", strcmp(k->name, "ref") ? time_kernel(k, &c, out) : -1.0);
        }
        printf("\n");
        free(out);
        case_free(&c);
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--bench") == 0)
            return bench();
    setup_tables();

    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, ref_conv_by_hand);
    tcase_add_test(tc, ref_depthwise_by_hand);
    tcase_add_test(tc, ref_maxpool_by_hand);
    tcase_add_test(tc, ref_activations_by_hand);
    tcase_add_test(tc, ref_misc_by_hand);
    tcase_add_test(tc, invalid_descs);
    suite_add_tcase(s, tc);

    tc = tcase_create("fast_vs_reference");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, random_conv2d);
    tcase_add_test(tc, random_conv2d_add);
    tcase_add_test(tc, conv_add_same_bytes_as_two_steps);
    tcase_add_test(tc, random_depthwise);
    tcase_add_test(tc, random_maxpool);
    tcase_add_test(tc, random_binary);
    tcase_add_test(tc, random_activation);
    tcase_add_test(tc, random_pad);
    tcase_add_test(tc, random_concat);
    tcase_add_test(tc, random_mean);
    tcase_add_test(tc, random_matmul);
    tcase_add_test(tc, random_softmax);
    tcase_add_test(tc, model_shapes);
    tcase_add_test(tc, conv_threads_same_bytes);
    tcase_add_test(tc, edge_cases);
    suite_add_tcase(s, tc);

    printf("ops: %d fast table(s):", n_tables);
    for (int t = 0; t < n_tables; t++)
        printf(" %s", tables[t].label);
    printf(", seed 0x%llx\n", (unsigned long long)seed_base());
    return fs_test_run_suite(s);
}
