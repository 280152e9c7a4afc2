/*
 * Plain-C reference kernels for every fs_nn_op_type: straightforward loops,
 * written to be checked by reading. Every fast kernel is tested against
 * these (tests/test_ops.c).
 *
 * Precision: the sums of CONV2D, DEPTHWISE_CONV2D, MATMUL, MEAN and the
 * normaliser of SOFTMAX are accumulated in double, and SIGMOID and the
 * exponentials of SOFTMAX are evaluated in double, each result rounded to
 * float once. Every float product a*w is exact in double and the double sum
 * of a few thousand of them is exact to ~1e-13 relative, so the reference is
 * within half a float ulp (plus that) of the exact result: a test may then
 * charge the whole measured difference to the fast kernel.
 * MAX_POOL, BINARY, PAD, CONCAT, RELU, CLAMP, PRELU are exact in float
 * (one rounding at most, as any kernel does it).
 *
 * run() uses a scratch row kept in the state: one state must not run on
 * two threads at once (the runtime never does).
 */
#include "nn/ops_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- desc validation, shared by every backend ---- */

long long fs_nn_window_out(long long in, int pad_before, int pad_after, int kernel, int stride,
                           int dilation)
{
    const long long span = (long long)(kernel - 1) * dilation + 1;
    const long long padded = in + pad_before + pad_after;
    if (stride < 1 || padded < span)
        return 0;
    return (padded - span) / stride + 1;
}

static int shape_ok(fs_nn_shape s)
{
    /* 2^24 per axis keeps every index expression of the kernels inside int. */
    const int max_dim = 1 << 24;
    if (s.n < 1 || s.h < 1 || s.w < 1 || s.c < 1 || s.n > max_dim || s.h > max_dim ||
        s.w > max_dim || s.c > max_dim)
        return 0;
    size_t t = (size_t)s.n;
    /* Elements and bytes must both fit a size_t. */
    return fs_mul_size(t, (size_t)s.h, &t) && fs_mul_size(t, (size_t)s.w, &t) &&
           fs_mul_size(t, (size_t)s.c, &t) && fs_mul_size(t, sizeof(float), &t);
}

static int shape_eq(fs_nn_shape a, fs_nn_shape b)
{
    return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c;
}

/* Every output position along one axis sees at least one real input cell,
 * so that a max pool never returns a value made only of padding. */
static int every_window_hits(int in, int out, int pad_before, int kernel, int stride,
                             int dilation)
{
    for (int o = 0; o < out; o++) {
        const long long start = (long long)o * stride - pad_before;
        int hit = 0;
        for (int k = 0; k < kernel && !hit; k++) {
            const long long i = start + (long long)k * dilation;
            hit = i >= 0 && i < in;
        }
        if (!hit)
            return 0;
    }
    return 1;
}

static int window_ok(const fs_nn_op_desc *d)
{
    if (d->kernel_h < 1 || d->kernel_w < 1 || d->stride_h < 1 || d->stride_w < 1 ||
        d->dilation_h < 1 || d->dilation_w < 1 || d->pad_top < 0 || d->pad_left < 0 ||
        d->pad_bottom < 0 || d->pad_right < 0)
        return 0;
    /* Keep every index computation of the kernels far inside int64 and int. */
    if (d->kernel_h > 4096 || d->kernel_w > 4096 || d->dilation_h > 4096 ||
        d->dilation_w > 4096 || d->pad_top > (1 << 24) || d->pad_left > (1 << 24) ||
        d->pad_bottom > (1 << 24) || d->pad_right > (1 << 24))
        return 0;
    const fs_nn_shape in = d->in[0], out = d->out;
    return out.n == in.n &&
           out.h == fs_nn_window_out(in.h, d->pad_top, d->pad_bottom, d->kernel_h, d->stride_h,
                                     d->dilation_h) &&
           out.w == fs_nn_window_out(in.w, d->pad_left, d->pad_right, d->kernel_w, d->stride_w,
                                     d->dilation_w);
}

static int weights_fit(size_t a, size_t b, size_t c, size_t e)
{
    size_t t;
    return fs_mul_size(a, b, &t) && fs_mul_size(t, c, &t) && fs_mul_size(t, e, &t) &&
           fs_mul_size(t, sizeof(float), &t);
}

static int broadcast_dim_ok(int a, int b, int out)
{
    return (a == out || a == 1) && (b == out || b == 1) && out == (a > b ? a : b);
}

fs_status fs_nn_desc_validate(const fs_nn_op_desc *d)
{
    if (!d || (unsigned)d->type >= FS_NN_OP_COUNT)
        return FS_ERR_INVALID_ARGUMENT;

    const int max_inputs = d->type == FS_NN_CONCAT                                ? FS_NN_MAX_INPUTS
                           : d->type == FS_NN_BINARY || d->type == FS_NN_CONV2D_ADD ? 2
                                                                                    : 1;
    if (d->num_inputs < 1 || d->num_inputs > max_inputs ||
        (d->type == FS_NN_CONV2D_ADD && d->num_inputs != 2))
        return FS_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < d->num_inputs; i++)
        if (!shape_ok(d->in[i]))
            return FS_ERR_INVALID_ARGUMENT;
    if (!shape_ok(d->out))
        return FS_ERR_INVALID_ARGUMENT;

    /* Activation: only where an op applies one. */
    const int takes_act = d->type == FS_NN_CONV2D || d->type == FS_NN_CONV2D_ADD ||
                          d->type == FS_NN_DEPTHWISE_CONV2D ||
                          d->type == FS_NN_BINARY || d->type == FS_NN_MATMUL ||
                          d->type == FS_NN_ACTIVATION;
    if ((unsigned)d->act > FS_NN_ACT_SIGMOID || (!takes_act && d->act != FS_NN_ACT_NONE))
        return FS_ERR_INVALID_ARGUMENT;
    if (d->act == FS_NN_ACT_PRELU && !d->alpha)
        return FS_ERR_INVALID_ARGUMENT;
    if (d->act == FS_NN_ACT_CLAMP && !(d->clamp_min <= d->clamp_max)) /* also rejects NaN */
        return FS_ERR_INVALID_ARGUMENT;

    const fs_nn_shape in = d->in[0], out = d->out;
    switch (d->type) {
    case FS_NN_CONV2D:
    case FS_NN_CONV2D_ADD:
        if (!d->weights || !window_ok(d) ||
            !weights_fit((size_t)d->kernel_h, (size_t)d->kernel_w, (size_t)in.c, (size_t)out.c) ||
            (d->type == FS_NN_CONV2D_ADD && !shape_eq(d->in[1], out)))
            return FS_ERR_INVALID_ARGUMENT;
        return FS_OK;
    case FS_NN_DEPTHWISE_CONV2D:
        if (!d->weights || !window_ok(d) || d->depth_multiplier < 1 ||
            (long long)in.c * d->depth_multiplier != out.c ||
            !weights_fit((size_t)d->kernel_h, (size_t)d->kernel_w, (size_t)in.c,
                         (size_t)d->depth_multiplier))
            return FS_ERR_INVALID_ARGUMENT;
        return FS_OK;
    case FS_NN_MAX_POOL:
        if (!window_ok(d) || out.c != in.c ||
            !every_window_hits(in.h, out.h, d->pad_top, d->kernel_h, d->stride_h,
                               d->dilation_h) ||
            !every_window_hits(in.w, out.w, d->pad_left, d->kernel_w, d->stride_w,
                               d->dilation_w))
            return FS_ERR_INVALID_ARGUMENT;
        return FS_OK;
    case FS_NN_BINARY:
        if ((unsigned)d->binop > FS_NN_MAX)
            return FS_ERR_INVALID_ARGUMENT;
        if (d->num_inputs == 1) {
            if (!d->constant || (d->constant_len != 1 && d->constant_len != out.c) ||
                !shape_eq(in, out))
                return FS_ERR_INVALID_ARGUMENT;
            return FS_OK;
        }
        if (!broadcast_dim_ok(in.n, d->in[1].n, out.n) ||
            !broadcast_dim_ok(in.h, d->in[1].h, out.h) ||
            !broadcast_dim_ok(in.w, d->in[1].w, out.w) ||
            !broadcast_dim_ok(in.c, d->in[1].c, out.c))
            return FS_ERR_INVALID_ARGUMENT;
        return FS_OK;
    case FS_NN_ACTIVATION:
    case FS_NN_SOFTMAX:
        return shape_eq(in, out) ? FS_OK : FS_ERR_INVALID_ARGUMENT;
    case FS_NN_PAD: {
        const int dims_in[4] = {in.n, in.h, in.w, in.c};
        const int dims_out[4] = {out.n, out.h, out.w, out.c};
        if (d->pads[0][0] != 0 || d->pads[0][1] != 0)
            return FS_ERR_INVALID_ARGUMENT;
        for (int a = 0; a < 4; a++)
            if (d->pads[a][0] < 0 || d->pads[a][1] < 0 ||
                (long long)dims_in[a] + d->pads[a][0] + d->pads[a][1] != dims_out[a])
                return FS_ERR_INVALID_ARGUMENT;
        return FS_OK;
    }
    case FS_NN_CONCAT: {
        long long c = 0;
        for (int i = 0; i < d->num_inputs; i++) {
            const fs_nn_shape s = d->in[i];
            if (s.n != out.n || s.h != out.h || s.w != out.w)
                return FS_ERR_INVALID_ARGUMENT;
            c += s.c;
        }
        return c == out.c ? FS_OK : FS_ERR_INVALID_ARGUMENT;
    }
    case FS_NN_MEAN:
        return out.n == in.n && out.h == 1 && out.w == 1 && out.c == in.c
                   ? FS_OK
                   : FS_ERR_INVALID_ARGUMENT;
    case FS_NN_MATMUL:
        if (!d->weights || in.h != 1 || in.w != 1 || out.n != in.n || out.h != 1 ||
            out.w != 1 || !weights_fit((size_t)in.c, (size_t)out.c, 1, 1))
            return FS_ERR_INVALID_ARGUMENT;
        return FS_OK;
    default:
        return FS_ERR_INVALID_ARGUMENT;
    }
}

/* ---- reference kernels ---- */

typedef struct ref_state {
    fs_nn_op_desc d;
    double *acc; /* CONV2D, MATMUL: one double per output channel */
} ref_state;

static float act_apply(const fs_nn_op_desc *d, float x, int c)
{
    switch (d->act) {
    case FS_NN_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case FS_NN_ACT_CLAMP:
        return x < d->clamp_min ? d->clamp_min : x > d->clamp_max ? d->clamp_max : x;
    case FS_NN_ACT_PRELU:
        return x >= 0.0f ? x : d->alpha[c] * x;
    case FS_NN_ACT_SIGMOID:
        return (float)(1.0 / (1.0 + exp(-(double)x)));
    default:
        return x;
    }
}

static size_t at(fs_nn_shape s, int n, int y, int x)
{
    return (((size_t)n * (size_t)s.h + (size_t)y) * (size_t)s.w + (size_t)x) * (size_t)s.c;
}

static fs_status conv2d_run(const fs_exec *ex, void *state, const float *const *inputs,
                            float *output)
{
    (void)ex;
    ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0], os = d->out;
    const int ic = is.c, oc = os.c;
    double *acc = st->acc;

    for (int n = 0; n < os.n; n++)
        for (int oy = 0; oy < os.h; oy++)
            for (int ox = 0; ox < os.w; ox++) {
                for (int o = 0; o < oc; o++)
                    acc[o] = d->bias ? d->bias[o] : 0.0;
                for (int ky = 0; ky < d->kernel_h; ky++) {
                    const int iy = oy * d->stride_h - d->pad_top + ky * d->dilation_h;
                    if (iy < 0 || iy >= is.h)
                        continue; /* zero padding */
                    for (int kx = 0; kx < d->kernel_w; kx++) {
                        const int ix = ox * d->stride_w - d->pad_left + kx * d->dilation_w;
                        if (ix < 0 || ix >= is.w)
                            continue;
                        const float *px = inputs[0] + at(is, n, iy, ix);
                        /* weights [kh][kw][ic][oc] */
                        const float *wk =
                            d->weights + ((size_t)ky * d->kernel_w + kx) * (size_t)ic * oc;
                        for (int i = 0; i < ic; i++) {
                            const double v = px[i];
                            const float *wr = wk + (size_t)i * oc;
                            for (int o = 0; o < oc; o++)
                                acc[o] += v * wr[o];
                        }
                    }
                }
                float *po = output + at(os, n, oy, ox);
                /* CONV2D_ADD: the sum of the conv's float result and the
                 * addend, as the two ops unfused would round it. */
                const float *add = d->type == FS_NN_CONV2D_ADD ? inputs[1] + at(os, n, oy, ox) : NULL;
                for (int o = 0; o < oc; o++)
                    po[o] = act_apply(d, add ? (float)acc[o] + add[o] : (float)acc[o], o);
            }
    return FS_OK;
}

static fs_status depthwise_run(const fs_exec *ex, void *state, const float *const *inputs,
                               float *output)
{
    (void)ex;
    const ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0], os = d->out;
    const int mult = d->depth_multiplier;

    for (int n = 0; n < os.n; n++)
        for (int oy = 0; oy < os.h; oy++)
            for (int ox = 0; ox < os.w; ox++)
                for (int c = 0; c < is.c; c++)
                    for (int m = 0; m < mult; m++) {
                        const int o = c * mult + m; /* TF's output channel order */
                        double acc = d->bias ? d->bias[o] : 0.0;
                        for (int ky = 0; ky < d->kernel_h; ky++) {
                            const int iy = oy * d->stride_h - d->pad_top + ky * d->dilation_h;
                            if (iy < 0 || iy >= is.h)
                                continue;
                            for (int kx = 0; kx < d->kernel_w; kx++) {
                                const int ix =
                                    ox * d->stride_w - d->pad_left + kx * d->dilation_w;
                                if (ix < 0 || ix >= is.w)
                                    continue;
                                /* weights [kh][kw][ic][mult] */
                                const float w =
                                    d->weights[(((size_t)ky * d->kernel_w + kx) * is.c + c) *
                                                   mult +
                                               m];
                                acc += (double)inputs[0][at(is, n, iy, ix) + c] * w;
                            }
                        }
                        output[at(os, n, oy, ox) + o] = act_apply(d, (float)acc, o);
                    }
    return FS_OK;
}

static fs_status maxpool_run(const fs_exec *ex, void *state, const float *const *inputs,
                             float *output)
{
    (void)ex;
    const ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0], os = d->out;

    for (int n = 0; n < os.n; n++)
        for (int oy = 0; oy < os.h; oy++)
            for (int ox = 0; ox < os.w; ox++)
                for (int c = 0; c < os.c; c++) {
                    /* Padded cells are skipped, not read as 0: a window of
                     * negative values keeps its largest negative value. create()
                     * ensured every window holds a real cell. */
                    float best = -INFINITY;
                    for (int ky = 0; ky < d->kernel_h; ky++) {
                        const int iy = oy * d->stride_h - d->pad_top + ky * d->dilation_h;
                        if (iy < 0 || iy >= is.h)
                            continue;
                        for (int kx = 0; kx < d->kernel_w; kx++) {
                            const int ix = ox * d->stride_w - d->pad_left + kx * d->dilation_w;
                            if (ix < 0 || ix >= is.w)
                                continue;
                            const float v = inputs[0][at(is, n, iy, ix) + c];
                            if (v > best)
                                best = v;
                        }
                    }
                    output[at(os, n, oy, ox) + c] = best;
                }
    return FS_OK;
}

static float binop_apply(fs_nn_binary_op op, float a, float b)
{
    switch (op) {
    case FS_NN_ADD:
        return a + b;
    case FS_NN_MUL:
        return a * b;
    case FS_NN_MIN:
        return a < b ? a : b;
    default:
        return a > b ? a : b;
    }
}

/* Index of a broadcast operand's element for output position (n, y, x, c). */
static size_t bcast_at(fs_nn_shape s, int n, int y, int x, int c)
{
    return at(s, s.n == 1 ? 0 : n, s.h == 1 ? 0 : y, s.w == 1 ? 0 : x) + (s.c == 1 ? 0 : c);
}

static fs_status binary_run(const fs_exec *ex, void *state, const float *const *inputs,
                            float *output)
{
    (void)ex;
    const ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape os = d->out;

    for (int n = 0; n < os.n; n++)
        for (int y = 0; y < os.h; y++)
            for (int x = 0; x < os.w; x++)
                for (int c = 0; c < os.c; c++) {
                    const float a = inputs[0][bcast_at(d->in[0], n, y, x, c)];
                    float b;
                    if (d->num_inputs == 2)
                        b = inputs[1][bcast_at(d->in[1], n, y, x, c)];
                    else
                        b = d->constant[d->constant_len == 1 ? 0 : c];
                    output[at(os, n, y, x) + c] = act_apply(d, binop_apply(d->binop, a, b), c);
                }
    return FS_OK;
}

static fs_status activation_run(const fs_exec *ex, void *state, const float *const *inputs,
                                float *output)
{
    (void)ex;
    const ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const size_t pixels = fs_nn_shape_size(d->out) / (size_t)d->out.c;

    for (size_t p = 0; p < pixels; p++)
        for (int c = 0; c < d->out.c; c++) {
            const size_t i = p * (size_t)d->out.c + (size_t)c;
            output[i] = act_apply(d, inputs[0][i], c);
        }
    return FS_OK;
}

static fs_status pad_run(const fs_exec *ex, void *state, const float *const *inputs, float *output)
{
    (void)ex;
    const ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0], os = d->out;

    memset(output, 0, fs_nn_shape_size(os) * sizeof(float));
    for (int n = 0; n < is.n; n++)
        for (int y = 0; y < is.h; y++)
            for (int x = 0; x < is.w; x++)
                for (int c = 0; c < is.c; c++)
                    output[at(os, n, y + d->pads[1][0], x + d->pads[2][0]) + c +
                           d->pads[3][0]] = inputs[0][at(is, n, y, x) + c];
    return FS_OK;
}

static fs_status concat_run(const fs_exec *ex, void *state, const float *const *inputs,
                            float *output)
{
    (void)ex;
    const ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const size_t pixels = fs_nn_shape_size(d->out) / (size_t)d->out.c;

    for (size_t p = 0; p < pixels; p++) {
        float *po = output + p * (size_t)d->out.c;
        for (int i = 0; i < d->num_inputs; i++) {
            const size_t c = (size_t)d->in[i].c;
            memcpy(po, inputs[i] + p * c, c * sizeof(float));
            po += c;
        }
    }
    return FS_OK;
}

static fs_status mean_run(const fs_exec *ex, void *state, const float *const *inputs, float *output)
{
    (void)ex;
    const ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0];
    const double count = (double)is.h * (double)is.w;

    for (int n = 0; n < is.n; n++)
        for (int c = 0; c < is.c; c++) {
            double sum = 0.0;
            for (int y = 0; y < is.h; y++)
                for (int x = 0; x < is.w; x++)
                    sum += inputs[0][at(is, n, y, x) + c];
            output[(size_t)n * is.c + c] = (float)(sum / count);
        }
    return FS_OK;
}

static fs_status matmul_run(const fs_exec *ex, void *state, const float *const *inputs,
                            float *output)
{
    (void)ex;
    ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const int k = d->in[0].c, oc = d->out.c;
    double *acc = st->acc;

    for (int n = 0; n < d->out.n; n++) {
        const float *row = inputs[0] + (size_t)n * k;
        for (int o = 0; o < oc; o++)
            acc[o] = d->bias ? d->bias[o] : 0.0;
        for (int i = 0; i < k; i++) {
            const double v = row[i];
            const float *wr = d->weights + (size_t)i * oc; /* weights [k][c] */
            for (int o = 0; o < oc; o++)
                acc[o] += v * wr[o];
        }
        for (int o = 0; o < oc; o++)
            output[(size_t)n * oc + o] = act_apply(d, (float)acc[o], o);
    }
    return FS_OK;
}

static fs_status softmax_run(const fs_exec *ex, void *state, const float *const *inputs,
                             float *output)
{
    (void)ex;
    const ref_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const size_t c = (size_t)d->out.c, rows = fs_nn_shape_size(d->out) / c;

    for (size_t r = 0; r < rows; r++) {
        const float *x = inputs[0] + r * c;
        float *y = output + r * c;
        /* Subtracting the row maximum keeps exp() finite for any input. */
        float mx = x[0];
        for (size_t i = 1; i < c; i++)
            if (x[i] > mx)
                mx = x[i];
        double sum = 0.0;
        for (size_t i = 0; i < c; i++)
            sum += exp((double)x[i] - mx);
        for (size_t i = 0; i < c; i++)
            y[i] = (float)(exp((double)x[i] - mx) / sum);
    }
    return FS_OK;
}

static fs_status ref_create_typed(const fs_nn_op_desc *desc, void **state, fs_nn_op_type type)
{
    if (!state)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_status s = fs_nn_desc_validate(desc);
    if (s != FS_OK)
        return s;
    if (desc->type != type)
        return FS_ERR_INVALID_ARGUMENT;
    ref_state *st = calloc(1, sizeof(*st));
    if (!st)
        return FS_ERR_OUT_OF_MEMORY;
    st->d = *desc;
    if (type == FS_NN_CONV2D || type == FS_NN_CONV2D_ADD || type == FS_NN_MATMUL) {
        st->acc = malloc((size_t)desc->out.c * sizeof(double));
        if (!st->acc) {
            free(st);
            return FS_ERR_OUT_OF_MEMORY;
        }
    }
    *state = st;
    return FS_OK;
}

static void ref_destroy(void *state)
{
    ref_state *st = state;
    if (!st)
        return;
    free(st->acc);
    free(st);
}

#define REF_CREATE(fn, type)                                          \
    static fs_status fn(const fs_nn_op_desc *desc, void **state)      \
    {                                                                 \
        return ref_create_typed(desc, state, type);                   \
    }
REF_CREATE(conv2d_create, FS_NN_CONV2D)
REF_CREATE(depthwise_create, FS_NN_DEPTHWISE_CONV2D)
REF_CREATE(maxpool_create, FS_NN_MAX_POOL)
REF_CREATE(binary_create, FS_NN_BINARY)
REF_CREATE(activation_create, FS_NN_ACTIVATION)
REF_CREATE(pad_create, FS_NN_PAD)
REF_CREATE(concat_create, FS_NN_CONCAT)
REF_CREATE(mean_create, FS_NN_MEAN)
REF_CREATE(matmul_create, FS_NN_MATMUL)
REF_CREATE(softmax_create, FS_NN_SOFTMAX)
REF_CREATE(conv2d_add_create, FS_NN_CONV2D_ADD)
#undef REF_CREATE

void fs_nn_ops_ref_register(fs_nn_ops *ops)
{
    static const fs_nn_kernel table[FS_NN_OP_COUNT] = {
        [FS_NN_CONV2D] = {conv2d_create, conv2d_run, ref_destroy, "ref"},
        [FS_NN_DEPTHWISE_CONV2D] = {depthwise_create, depthwise_run, ref_destroy, "ref"},
        [FS_NN_MAX_POOL] = {maxpool_create, maxpool_run, ref_destroy, "ref"},
        [FS_NN_BINARY] = {binary_create, binary_run, ref_destroy, "ref"},
        [FS_NN_ACTIVATION] = {activation_create, activation_run, ref_destroy, "ref"},
        [FS_NN_PAD] = {pad_create, pad_run, ref_destroy, "ref"},
        [FS_NN_CONCAT] = {concat_create, concat_run, ref_destroy, "ref"},
        [FS_NN_MEAN] = {mean_create, mean_run, ref_destroy, "ref"},
        [FS_NN_MATMUL] = {matmul_create, matmul_run, ref_destroy, "ref"},
        [FS_NN_SOFTMAX] = {softmax_create, softmax_run, ref_destroy, "ref"},
        [FS_NN_CONV2D_ADD] = {conv2d_add_create, conv2d_run, ref_destroy, "ref"},
    };
    for (int t = 0; t < FS_NN_OP_COUNT; t++)
        ops->k[t] = table[t];
}

void fs_nn_ops_init_reference(fs_nn_ops *ops)
{
    memset(ops, 0, sizeof(*ops));
    fs_nn_ops_ref_register(ops);
}

void fs_nn_ops_init_fast(fs_nn_ops *ops)
{
    fs_nn_ops_simd_register(ops, fs_nn_simd_level());
#if defined(FS_HAVE_XNNPACK)
    fs_nn_ops_xnnpack_register(ops); /* after SIMD: it hands some ops back to it */
#endif
}
