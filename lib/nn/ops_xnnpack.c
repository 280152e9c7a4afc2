/*
 * Fast CPU kernels through XNNPACK (Debian's libxnnpack-dev, the 2022-02
 * snapshot: its operator API, xnn_create_* / xnn_setup_* / xnn_run_operator).
 *
 * XNNPACK runs CONV2D (its GEMM / IGEMM kernels, AVX-512 where the CPU has
 * it), MAX_POOL, MATMUL, MEAN, SOFTMAX, SIGMOID, and what the own SIMD
 * kernels (ops_simd.c) decline: depthwise convolutions with a multiplier
 * above 1, broadcasting BINARY ops. DEPTHWISE_CONV2D, BINARY, ACTIVATION and
 * CONV2D with 1-4 input channels go to the own kernels first: they are
 * faster here and fuse PReLU.
 * Activations XNNPACK cannot fuse (PReLU, Sigmoid, min/max after
 * Minimum/Maximum) run as a second pass in place on the output.
 *
 * Inputs: XNNPACK may read up to XNN_EXTRA_BYTES (16) past the end of an
 * input tensor (never writes there); the runtime's arena keeps that slack.
 * Threads: run() hands XNNPACK the pthreadpool of the caller's worker pool
 * (lib/pool.h; none for one thread). A state's run() must not be called
 * from two threads at once: an XNNPACK operator keeps its setup pointers.
 */
#include "nn/ops_kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <xnnpack.h>

#include "internal.h"
#include "pool.h"

typedef enum xk_kind {
    XK_CONV = 0, /* CONV2D and XNNPACK's DEPTHWISE_CONV2D */
    XK_MAXPOOL,
    XK_MATMUL,
    XK_MEAN,
    XK_SOFTMAX,
    XK_SIGMOID,
    XK_CLAMP,
    XK_PRELU,
    XK_ADD,
    XK_MUL,
    XK_MIN,
    XK_MAX,
    XK_INNER /* delegated to an own SIMD kernel */
} xk_kind;

typedef struct xk_state {
    fs_nn_op_desc d;
    xk_kind kind;
    xnn_operator_t op;
    xnn_operator_t sigmoid; /* Sigmoid after the op, in place */
    fs_nn_kernel post;      /* another activation after the op, in place */
    void *post_state;
    fs_nn_kernel inner; /* XK_INNER */
    void *inner_state;
    float *cst;    /* BINARY constant operand, padded for XNNPACK's over-reads */
    size_t dims_a[4], dims_b[4];
} xk_state;

static pthread_once_t xk_once = PTHREAD_ONCE_INIT;
static int xk_ready;
static fs_nn_ops xk_simd_ops; /* reference + own SIMD at the CPU's best level */

static void xk_init(void)
{
    xk_ready = xnn_initialize(NULL) == xnn_status_success;
    fs_nn_ops_ref_register(&xk_simd_ops);
    fs_nn_ops_simd_register(&xk_simd_ops, fs_nn_simd_level());
}

static fs_status xk_status(enum xnn_status s)
{
    switch (s) {
    case xnn_status_success:
        return FS_OK;
    case xnn_status_out_of_memory:
        return FS_ERR_OUT_OF_MEMORY;
    default:
        /* invalid / unsupported parameter or hardware: the reference runs it */
        return FS_ERR_UNSUPPORTED;
    }
}

static void xk_destroy(void *state)
{
    xk_state *st = state;
    if (!st)
        return;
    if (st->op)
        xnn_delete_operator(st->op);
    if (st->sigmoid)
        xnn_delete_operator(st->sigmoid);
    if (st->post_state)
        st->post.destroy(st->post_state);
    if (st->inner_state)
        st->inner.destroy(st->inner_state);
    free(st->cst);
    free(st);
}

static fs_status xk_new(const fs_nn_op_desc *desc, fs_nn_op_type type, void **state,
                        xk_state **out)
{
    if (!state)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_status s = fs_nn_desc_validate(desc);
    if (s != FS_OK)
        return s;
    if (desc->type != type)
        return FS_ERR_INVALID_ARGUMENT;
    pthread_once(&xk_once, xk_init);
    if (!xk_ready)
        return FS_ERR_UNSUPPORTED;
    xk_state *st = calloc(1, sizeof(*st));
    if (!st)
        return FS_ERR_OUT_OF_MEMORY;
    st->d = *desc;
    *out = st;
    return FS_OK;
}

/* Tries the own SIMD kernel for the desc; FS_OK if it took it. */
static fs_status xk_try_inner(xk_state *st)
{
    const fs_nn_kernel k = xk_simd_ops.k[st->d.type];
    if (strcmp(k.name, "ref") == 0)
        return FS_ERR_UNSUPPORTED; /* no SIMD level on this CPU */
    const fs_status s = k.create(&st->d, &st->inner_state);
    if (s == FS_OK) {
        st->inner = k;
        st->kind = XK_INNER;
    }
    return s;
}

/*
 * The fused activation: RELU / CLAMP become the op's output range when
 * @p fusable; anything else becomes a pass after the op, in place: the own
 * SIMD kernel when @p own, else XNNPACK's.
 */
static fs_status xk_activation_create_alone(const fs_nn_op_desc *desc, void **state);
static fs_status xk_run(const fs_exec *ex, void *state, const float *const *inputs,
                        float *output);

static fs_status xk_activation(xk_state *st, int own, int fusable, float *lo, float *hi)
{
    const fs_nn_op_desc *d = &st->d;
    *lo = -INFINITY;
    *hi = INFINITY;
    if (d->act == FS_NN_ACT_NONE)
        return FS_OK;
    if (fusable && d->act == FS_NN_ACT_RELU) {
        *lo = 0.0f;
        return FS_OK;
    }
    if (fusable && d->act == FS_NN_ACT_CLAMP) {
        *lo = d->clamp_min;
        *hi = d->clamp_max;
        return FS_OK;
    }
    if (d->act == FS_NN_ACT_SIGMOID) {
        const size_t c = (size_t)d->out.c;
        return xk_status(xnn_create_sigmoid_nc_f32(c, c, c, 0, &st->sigmoid));
    }
    /* PReLU, or RELU / CLAMP after an op without an output range. */
    fs_nn_op_desc a;
    memset(&a, 0, sizeof(a));
    a.type = FS_NN_ACTIVATION;
    a.num_inputs = 1;
    a.in[0] = d->out;
    a.out = d->out;
    a.act = d->act;
    a.alpha = d->alpha;
    a.clamp_min = d->clamp_min;
    a.clamp_max = d->clamp_max;
    st->post = own ? xk_simd_ops.k[FS_NN_ACTIVATION]
                   : (fs_nn_kernel){xk_activation_create_alone, xk_run, xk_destroy, "xnnpack"};
    return st->post.create(&a, &st->post_state);
}

static fs_status xk_finish(xk_state *st, fs_status s, void **state)
{
    if (s != FS_OK) {
        xk_destroy(st);
        return s;
    }
    *state = st;
    return FS_OK;
}

/* ---- create ---- */

static fs_status xk_conv_create_impl(const fs_nn_op_desc *desc, void **state, int own)
{
    xk_state *st;
    fs_status s = xk_new(desc, FS_NN_CONV2D, state, &st);
    if (s != FS_OK)
        return s;
    s = own ? xk_try_inner(st) : FS_ERR_UNSUPPORTED; /* 1-4 input channels, 1x1 to 24 */
    if (s != FS_ERR_UNSUPPORTED)
        return xk_finish(st, s, state);
    float lo, hi;
    s = xk_activation(st, own, 1, &lo, &hi);
    if (s != FS_OK)
        return xk_finish(st, s, state);
    /* TF [kh][kw][ic][oc] -> XNNPACK [oc][kh][kw][ic] */
    const size_t kh = (size_t)desc->kernel_h, kw = (size_t)desc->kernel_w;
    const size_t ic = (size_t)desc->in[0].c, oc = (size_t)desc->out.c;
    const size_t taps = kh * kw; /* validated: no overflow */
    float *packed = malloc(taps * ic * oc * sizeof(float));
    if (!packed)
        return xk_finish(st, FS_ERR_OUT_OF_MEMORY, state);
    for (size_t t = 0; t < taps; t++)
        for (size_t i = 0; i < ic; i++)
            for (size_t o = 0; o < oc; o++)
                packed[(o * taps + t) * ic + i] = desc->weights[(t * ic + i) * oc + o];
    st->kind = XK_CONV;
    s = xk_status(xnn_create_convolution2d_nhwc_f32(
        (uint32_t)desc->pad_top, (uint32_t)desc->pad_right, (uint32_t)desc->pad_bottom,
        (uint32_t)desc->pad_left, (uint32_t)kh, (uint32_t)kw, (uint32_t)desc->stride_h,
        (uint32_t)desc->stride_w, (uint32_t)desc->dilation_h, (uint32_t)desc->dilation_w, 1, ic,
        oc, ic, oc, packed, desc->bias, lo, hi, 0, &st->op));
    free(packed); /* XNNPACK keeps its own packed copy */
    return xk_finish(st, s, state);
}

static fs_status xk_depthwise_create_impl(const fs_nn_op_desc *desc, void **state, int own)
{
    xk_state *st;
    fs_status s = xk_new(desc, FS_NN_DEPTHWISE_CONV2D, state, &st);
    if (s != FS_OK)
        return s;
    s = own ? xk_try_inner(st) : FS_ERR_UNSUPPORTED;
    if (s != FS_ERR_UNSUPPORTED)
        return xk_finish(st, s, state);
    float lo, hi;
    s = xk_activation(st, own, 1, &lo, &hi);
    if (s != FS_OK)
        return xk_finish(st, s, state);
    /* With XNN_FLAG_DEPTHWISE_CONVOLUTION the kernel is [kh][kw][ic * mult]:
     * TF's layout as it is, output channel c * mult + m. */
    const size_t ic = (size_t)desc->in[0].c, mult = (size_t)desc->depth_multiplier;
    st->kind = XK_CONV;
    s = xk_status(xnn_create_convolution2d_nhwc_f32(
        (uint32_t)desc->pad_top, (uint32_t)desc->pad_right, (uint32_t)desc->pad_bottom,
        (uint32_t)desc->pad_left, (uint32_t)desc->kernel_h, (uint32_t)desc->kernel_w,
        (uint32_t)desc->stride_h, (uint32_t)desc->stride_w, (uint32_t)desc->dilation_h,
        (uint32_t)desc->dilation_w, (uint32_t)ic, 1, mult, ic, ic * mult, desc->weights,
        desc->bias, lo, hi, XNN_FLAG_DEPTHWISE_CONVOLUTION, &st->op));
    return xk_finish(st, s, state);
}

static fs_status xk_maxpool_create(const fs_nn_op_desc *desc, void **state)
{
    xk_state *st;
    fs_status s = xk_new(desc, FS_NN_MAX_POOL, state, &st);
    if (s != FS_OK)
        return s;
    /* XNNPACK points a padded tap at the nearest real pixel: inside the
     * window for a dense window, so a padded cell never wins (tests/test_ops.c
     * checks it on all-negative input), but with dilation that pixel may lie
     * between the taps (TF's MaxPool has no dilation anyway). */
    if ((desc->dilation_h > 1 || desc->dilation_w > 1) &&
        (desc->pad_top || desc->pad_left || desc->pad_bottom || desc->pad_right))
        return xk_finish(st, FS_ERR_UNSUPPORTED, state);
    const size_t c = (size_t)desc->out.c;
    st->kind = XK_MAXPOOL;
    s = xk_status(xnn_create_max_pooling2d_nhwc_f32(
        (uint32_t)desc->pad_top, (uint32_t)desc->pad_right, (uint32_t)desc->pad_bottom,
        (uint32_t)desc->pad_left, (uint32_t)desc->kernel_h, (uint32_t)desc->kernel_w,
        (uint32_t)desc->stride_h, (uint32_t)desc->stride_w, (uint32_t)desc->dilation_h,
        (uint32_t)desc->dilation_w, c, c, c, -INFINITY, INFINITY, 0, &st->op));
    return xk_finish(st, s, state);
}

static fs_status xk_matmul_create_impl(const fs_nn_op_desc *desc, void **state, int own)
{
    xk_state *st;
    fs_status s = xk_new(desc, FS_NN_MATMUL, state, &st);
    if (s != FS_OK)
        return s;
    float lo, hi;
    s = xk_activation(st, own, 1, &lo, &hi);
    if (s != FS_OK)
        return xk_finish(st, s, state);
    const size_t k = (size_t)desc->in[0].c, c = (size_t)desc->out.c;
    st->kind = XK_MATMUL;
    /* weights [k][c]: XNNPACK calls that layout "transposed" */
    s = xk_status(xnn_create_fully_connected_nc_f32(k, c, k, c, desc->weights, desc->bias, lo,
                                                    hi, XNN_FLAG_TRANSPOSE_WEIGHTS, &st->op));
    return xk_finish(st, s, state);
}

static fs_status xk_mean_create(const fs_nn_op_desc *desc, void **state)
{
    xk_state *st;
    fs_status s = xk_new(desc, FS_NN_MEAN, state, &st);
    if (s != FS_OK)
        return s;
    const size_t c = (size_t)desc->out.c;
    st->kind = XK_MEAN;
    s = xk_status(
        xnn_create_global_average_pooling_nwc_f32(c, c, c, -INFINITY, INFINITY, 0, &st->op));
    return xk_finish(st, s, state);
}

static fs_status xk_softmax_create(const fs_nn_op_desc *desc, void **state)
{
    xk_state *st;
    fs_status s = xk_new(desc, FS_NN_SOFTMAX, state, &st);
    if (s != FS_OK)
        return s;
    const size_t c = (size_t)desc->out.c;
    st->kind = XK_SOFTMAX;
    s = xk_status(xnn_create_softmax_nc_f32(c, c, c, 0, &st->op));
    return xk_finish(st, s, state);
}

static fs_status xk_activation_create_impl(const fs_nn_op_desc *desc, void **state, int own)
{
    xk_state *st;
    fs_status s = xk_new(desc, FS_NN_ACTIVATION, state, &st);
    if (s != FS_OK)
        return s;
    if (desc->act != FS_NN_ACT_SIGMOID) {
        s = own ? xk_try_inner(st) : FS_ERR_UNSUPPORTED;
        if (s != FS_ERR_UNSUPPORTED)
            return xk_finish(st, s, state);
    }
    const size_t c = (size_t)desc->out.c;
    switch (desc->act) {
    case FS_NN_ACT_SIGMOID:
        st->kind = XK_SIGMOID;
        s = xk_status(xnn_create_sigmoid_nc_f32(c, c, c, 0, &st->op));
        break;
    case FS_NN_ACT_PRELU:
        st->kind = XK_PRELU;
        s = xk_status(xnn_create_prelu_nc_f32(c, c, c, desc->alpha, 0, &st->op));
        break;
    case FS_NN_ACT_RELU:
    case FS_NN_ACT_CLAMP:
        st->kind = XK_CLAMP;
        s = xk_status(xnn_create_clamp_nc_f32(
            c, c, c, desc->act == FS_NN_ACT_RELU ? 0.0f : desc->clamp_min,
            desc->act == FS_NN_ACT_RELU ? INFINITY : desc->clamp_max, 0, &st->op));
        break;
    default:
        s = FS_ERR_UNSUPPORTED; /* a copy: the reference does it */
        break;
    }
    return xk_finish(st, s, state);
}

static void xk_dims(fs_nn_shape s, size_t dims[4])
{
    dims[0] = (size_t)s.n;
    dims[1] = (size_t)s.h;
    dims[2] = (size_t)s.w;
    dims[3] = (size_t)s.c;
}

static fs_status xk_binary_create_impl(const fs_nn_op_desc *desc, void **state, int own)
{
    xk_state *st;
    fs_status s = xk_new(desc, FS_NN_BINARY, state, &st);
    if (s != FS_OK)
        return s;
    s = own ? xk_try_inner(st) : FS_ERR_UNSUPPORTED;
    if (s != FS_ERR_UNSUPPORTED)
        return xk_finish(st, s, state);

    float lo, hi;
    const int ranged = desc->binop == FS_NN_ADD || desc->binop == FS_NN_MUL;
    s = xk_activation(st, own, ranged, &lo, &hi);
    if (s != FS_OK)
        return xk_finish(st, s, state);
    xk_dims(desc->in[0], st->dims_a);
    if (desc->num_inputs == 2) {
        xk_dims(desc->in[1], st->dims_b);
    } else {
        const size_t len = (size_t)desc->constant_len;
        st->dims_b[0] = st->dims_b[1] = st->dims_b[2] = 1;
        st->dims_b[3] = len;
        st->cst = calloc(len + XNN_EXTRA_BYTES / sizeof(float), sizeof(float));
        if (!st->cst)
            return xk_finish(st, FS_ERR_OUT_OF_MEMORY, state);
        memcpy(st->cst, desc->constant, len * sizeof(float));
    }
    switch (desc->binop) {
    case FS_NN_ADD:
        st->kind = XK_ADD;
        s = xk_status(xnn_create_add_nd_f32(lo, hi, 0, &st->op));
        break;
    case FS_NN_MUL:
        st->kind = XK_MUL;
        s = xk_status(xnn_create_multiply_nd_f32(lo, hi, 0, &st->op));
        break;
    case FS_NN_MIN:
        st->kind = XK_MIN;
        s = xk_status(xnn_create_minimum_nd_f32(0, &st->op));
        break;
    default:
        st->kind = XK_MAX;
        s = xk_status(xnn_create_maximum_nd_f32(0, &st->op));
        break;
    }
    return xk_finish(st, s, state);
}

/* ---- run ---- */

typedef enum xnn_status (*xk_setup_nd_fn)(xnn_operator_t, size_t, const size_t *, size_t,
                                          const size_t *, const float *, const float *, float *,
                                          pthreadpool_t);

static fs_status xk_run(const fs_exec *ex, void *state, const float *const *inputs,
                        float *output)
{
    xk_state *st = state;
    /* The context's thread count, as XNNPACK wants it: each output element
     * is computed by the same micro-kernel whatever the tiling, so the
     * bytes do not depend on it. */
    pthreadpool_t tp = ex ? (pthreadpool_t)fs_pool_pthreadpool(ex->pool) : NULL;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0];
    const size_t pixels = fs_nn_shape_size(d->out) / (size_t)d->out.c;
    enum xnn_status s = xnn_status_success;

    switch (st->kind) {
    case XK_INNER:
        return st->inner.run(ex, st->inner_state, inputs, output);
    case XK_CONV:
        s = xnn_setup_convolution2d_nhwc_f32(st->op, (size_t)is.n, (size_t)is.h, (size_t)is.w,
                                             inputs[0], output, NULL);
        break;
    case XK_MAXPOOL:
        s = xnn_setup_max_pooling2d_nhwc_f32(st->op, (size_t)is.n, (size_t)is.h, (size_t)is.w,
                                             inputs[0], output, NULL);
        break;
    case XK_MATMUL:
        s = xnn_setup_fully_connected_nc_f32(st->op, (size_t)is.n, inputs[0], output, NULL);
        break;
    case XK_MEAN:
        s = xnn_setup_global_average_pooling_nwc_f32(st->op, (size_t)is.n,
                                                     (size_t)is.h * (size_t)is.w, inputs[0],
                                                     output, NULL);
        break;
    case XK_SOFTMAX:
        s = xnn_setup_softmax_nc_f32(st->op, pixels, inputs[0], output, NULL);
        break;
    case XK_SIGMOID:
        s = xnn_setup_sigmoid_nc_f32(st->op, pixels, inputs[0], output, NULL);
        break;
    case XK_CLAMP:
        s = xnn_setup_clamp_nc_f32(st->op, pixels, inputs[0], output, NULL);
        break;
    case XK_PRELU:
        s = xnn_setup_prelu_nc_f32(st->op, pixels, inputs[0], output, NULL);
        break;
    case XK_ADD:
    case XK_MUL:
    case XK_MIN:
    case XK_MAX: {
        const float *b = d->num_inputs == 2 ? inputs[1] : st->cst;
        const xk_setup_nd_fn setup = st->kind == XK_ADD   ? xnn_setup_add_nd_f32
                                     : st->kind == XK_MUL ? xnn_setup_multiply_nd_f32
                                     : st->kind == XK_MIN ? xnn_setup_minimum_nd_f32
                                                          : xnn_setup_maximum_nd_f32;
        s = setup(st->op, 4, st->dims_a, 4, st->dims_b, inputs[0], b, output, NULL);
        break;
    }
    }
    if (s == xnn_status_success)
        s = xnn_run_operator(st->op, tp);
    if (s == xnn_status_success && st->sigmoid) {
        s = xnn_setup_sigmoid_nc_f32(st->sigmoid, pixels, output, output, NULL);
        if (s == xnn_status_success)
            s = xnn_run_operator(st->sigmoid, tp);
    }
    /* setup cannot fail for a shape create accepted; if it ever does, the
     * executor stops on the status and never reads the output */
    if (s != xnn_status_success)
        return fs_fail(ex ? ex->err : NULL,
                       s == xnn_status_out_of_memory ? FS_ERR_OUT_OF_MEMORY : FS_ERR_INTERNAL,
                       "XNNPACK kernel failed (status %d)", (int)s);
    if (st->post_state) {
        const float *in[1] = {output};
        return st->post.run(ex, st->post_state, in, output); /* in place: see ops_kernels.h */
    }
    return FS_OK;
}

#define XK_WRAP(name)                                                                    \
    static fs_status xk_##name##_create(const fs_nn_op_desc *desc, void **state)         \
    {                                                                                    \
        return xk_##name##_create_impl(desc, state, 1);                                  \
    }                                                                                    \
    static fs_status xk_##name##_create_alone(const fs_nn_op_desc *desc, void **state)   \
    {                                                                                    \
        return xk_##name##_create_impl(desc, state, 0);                                  \
    }
XK_WRAP(conv)
XK_WRAP(depthwise)
XK_WRAP(activation)
XK_WRAP(binary)
XK_WRAP(matmul)
#undef XK_WRAP

int fs_nn_ops_xnnpack_alone_register(fs_nn_ops *ops)
{
    ops->k[FS_NN_CONV2D] = (fs_nn_kernel){xk_conv_create_alone, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_DEPTHWISE_CONV2D] =
        (fs_nn_kernel){xk_depthwise_create_alone, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_MAX_POOL] = (fs_nn_kernel){xk_maxpool_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_BINARY] =
        (fs_nn_kernel){xk_binary_create_alone, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_ACTIVATION] =
        (fs_nn_kernel){xk_activation_create_alone, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_MATMUL] =
        (fs_nn_kernel){xk_matmul_create_alone, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_MEAN] = (fs_nn_kernel){xk_mean_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_SOFTMAX] = (fs_nn_kernel){xk_softmax_create, xk_run, xk_destroy, "xnnpack"};
    return 1;
}

void fs_nn_ops_xnnpack_register(fs_nn_ops *ops)
{
    ops->k[FS_NN_CONV2D] = (fs_nn_kernel){xk_conv_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_DEPTHWISE_CONV2D] =
        (fs_nn_kernel){xk_depthwise_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_MAX_POOL] = (fs_nn_kernel){xk_maxpool_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_BINARY] = (fs_nn_kernel){xk_binary_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_ACTIVATION] =
        (fs_nn_kernel){xk_activation_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_MATMUL] = (fs_nn_kernel){xk_matmul_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_MEAN] = (fs_nn_kernel){xk_mean_create, xk_run, xk_destroy, "xnnpack"};
    ops->k[FS_NN_SOFTMAX] = (fs_nn_kernel){xk_softmax_create, xk_run, xk_destroy, "xnnpack"};
}
