/*
 * Planner: for one batch size, infers every tensor's shape (checking each
 * op's inputs), turns each node into a kernel step or an alias, fuses
 * element-wise tails into the op before them where that is exact, places
 * every buffer in one arena (buffers whose lifetimes do not overlap share
 * memory), and creates the kernels' states. Runs once per prepare; the
 * executor then only calls the kernels.
 */
#include "nn/graph.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 4096
/* Largest tensor accepted, in elements (8 GiB of float32). */
#define MAX_TENSOR_ELEMS ((int64_t)1 << 31)
/* Arena buffers start on cache lines; XNNPACK may also read up to 16 bytes
 * past the end of an input, so each buffer gets a spare line. */
#define ARENA_ALIGN 64
#define ARENA_SLACK 64

typedef struct planner {
    fs_nn_model *m;
    fs_error_buf *err;
} planner;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static fs_status pfail(const planner *p, int node, fs_status st, const char *fmt, ...)
{
    char msg[FS_ERROR_DETAIL_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fs_fail(p->err, st, "'%s': node '%.200s' (%s): %s", p->m->label,
                   p->m->nodes[node].name, p->m->nodes[node].op_name, msg);
}

static const char *dims_str(char *buf, size_t cap, int rank, const int64_t *dims)
{
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "[");
    for (int i = 0; i < rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
    return buf;
}

/* Sets a tensor's TF shape and its NHWC view. */
static fs_status set_shape(const planner *p, int node, int rank, const int64_t *dims)
{
    fs_nn_tensor *t = &p->m->tensors[node];
    if (rank < 0 || rank > 4)
        return pfail(p, node, FS_ERR_MODEL, "tensor of rank %d (at most 4 supported)", rank);
    int64_t total = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 1)
            return pfail(p, node, FS_ERR_SHAPE, "dimension %d is %lld", i, (long long)dims[i]);
        if (dims[i] > INT_MAX || total > MAX_TENSOR_ELEMS / dims[i])
            return pfail(p, node, FS_ERR_TOO_LARGE, "tensor too large");
        total *= dims[i];
        t->dims[i] = dims[i];
    }
    t->rank = rank;
    int64_t v[4] = {1, 1, 1, 1};
    switch (rank) {
    case 1: v[3] = dims[0]; break;
    case 2: v[0] = dims[0]; v[3] = dims[1]; break;
    case 3: v[0] = dims[0]; v[2] = dims[1]; v[3] = dims[2]; break;
    case 4: memcpy(v, dims, sizeof(v)); break;
    default: break;
    }
    t->shape.n = (int)v[0];
    t->shape.h = (int)v[1];
    t->shape.w = (int)v[2];
    t->shape.c = (int)v[3];
    return FS_OK;
}

static const fs_nn_node *const_node(const planner *p, int node)
{
    const fs_nn_tensor *t = &p->m->tensors[node];
    return t->kind == FS_NN_KIND_CONST ? &p->m->nodes[t->root] : NULL;
}

/* Input @p k of @p node as a constant of @p dtype, or an error naming it. */
static fs_status need_const(const planner *p, int node, int k, fs_nn_dtype dtype,
                            const fs_nn_node **out)
{
    const int src = p->m->nodes[node].inputs[k];
    const fs_nn_node *c = const_node(p, src);
    if (!c)
        return pfail(p, node, FS_ERR_MODEL, "input %d ('%.200s') must be a constant", k,
                     p->m->nodes[src].name);
    if (c->dtype != dtype)
        return pfail(p, node, FS_ERR_MODEL, "input %d ('%.200s') must be %s", k, c->name,
                     dtype == FS_NN_DT_FLOAT ? "float32" : "int32");
    *out = c;
    return FS_OK;
}

/* Input @p k of @p node as an activation (not a constant). */
static fs_status need_tensor(const planner *p, int node, int k, const fs_nn_tensor **out)
{
    const int src = p->m->nodes[node].inputs[k];
    const fs_nn_tensor *t = &p->m->tensors[src];
    if (t->kind == FS_NN_KIND_CONST)
        return pfail(p, node, FS_ERR_MODEL,
                     "input %d ('%.200s') is a constant (constant folding is not supported)", k,
                     p->m->nodes[src].name);
    *out = t;
    return FS_OK;
}

/* A per-channel vector for @p c channels: a constant of c values whose
 * other dimensions are all 1, or a scalar expanded into a planner-owned copy. */
static fs_status channel_vector(const planner *p, int node, const fs_nn_node *cn, int c,
                                const char *what, const float **out)
{
    fs_nn_model *m = p->m;
    int ok = cn->count == (size_t)c || cn->count == 1;
    for (int i = 0; ok && i + 1 < cn->rank; i++)
        ok = cn->dims[i] == 1;
    if (!ok) {
        char b[96];
        return pfail(p, node, FS_ERR_SHAPE, "%s '%.200s' of shape %s, expected %d values", what,
                     cn->name, dims_str(b, sizeof(b), cn->rank, cn->dims), c);
    }
    if (cn->count == (size_t)c) {
        *out = cn->f;
        return FS_OK;
    }
    float **d = realloc(m->derived, (size_t)(m->num_derived + 1) * sizeof(*d));
    if (!d)
        return pfail(p, node, FS_ERR_OUT_OF_MEMORY, "out of memory");
    m->derived = d;
    float *v = malloc((size_t)c * sizeof(float));
    if (!v)
        return pfail(p, node, FS_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < c; i++)
        v[i] = cn->f[0];
    d[m->num_derived++] = v;
    *out = v;
    return FS_OK;
}

static fs_nn_step *new_step(const planner *p, int node, fs_nn_op_type type)
{
    fs_nn_model *m = p->m;
    fs_nn_step *s = &m->steps[m->num_steps];
    memset(s, 0, sizeof(*s));
    s->node = node;
    s->desc.type = type;
    s->desc.dilation_h = s->desc.dilation_w = 1;
    s->desc.stride_h = s->desc.stride_w = 1;
    s->desc.kernel_h = s->desc.kernel_w = 1;
    s->desc.depth_multiplier = 1;
    fs_nn_tensor *t = &m->tensors[node];
    t->kind = FS_NN_KIND_COMPUTE;
    t->root = node;
    t->step = m->num_steps++;
    return s;
}

/* Records data input @p k of the node as arena input @p slot of its step. */
static void bind_input(const planner *p, fs_nn_step *s, int slot, int k)
{
    const fs_nn_model *m = p->m;
    const int src = m->nodes[s->node].inputs[k];
    s->in_nodes[slot] = m->tensors[src].root;
    s->desc.in[slot] = m->tensors[src].shape;
    if (slot + 1 > s->desc.num_inputs)
        s->desc.num_inputs = slot + 1;
}

/* TF window arithmetic along one axis. */
static fs_status window(const planner *p, int node, int64_t in, int k, int stride, int dil,
                        int *pad0, int *pad1, int64_t *out)
{
    const fs_nn_node *nd = &p->m->nodes[node];
    const int64_t eff = (int64_t)(k - 1) * dil + 1;
    if (nd->padding == FS_NN_PADDING_SAME) {
        *out = (in + stride - 1) / stride;
        int64_t total = (*out - 1) * stride + eff - in;
        if (total < 0)
            total = 0;
        if (total > INT_MAX)
            return pfail(p, node, FS_ERR_SHAPE, "window too large");
        *pad0 = (int)(total / 2);
        *pad1 = (int)(total - total / 2);
        return FS_OK;
    }
    /* VALID, or EXPLICIT with the pads already in *pad0 / *pad1 */
    const int64_t span = in + *pad0 + *pad1;
    if (span < eff)
        return pfail(p, node, FS_ERR_SHAPE, "window of %lld exceeds the padded input of %lld",
                     (long long)eff, (long long)span);
    *out = (span - eff) / stride + 1;
    return FS_OK;
}

/* Conv2D, DepthwiseConv2dNative and MaxPool: the window fields of the desc and the output shape. */
static fs_status plan_window_op(const planner *p, int node, fs_nn_step *s, const fs_nn_tensor *x,
                                int kh, int kw, int oc)
{
    const fs_nn_node *nd = &p->m->nodes[node];
    fs_nn_op_desc *d = &s->desc;
    d->kernel_h = kh;
    d->kernel_w = kw;
    d->stride_h = nd->stride_h;
    d->stride_w = nd->stride_w;
    d->dilation_h = nd->dilation_h;
    d->dilation_w = nd->dilation_w;
    if (nd->padding == FS_NN_PADDING_EXPLICIT) {
        d->pad_top = nd->explicit_pads[0];
        d->pad_bottom = nd->explicit_pads[1];
        d->pad_left = nd->explicit_pads[2];
        d->pad_right = nd->explicit_pads[3];
    }
    int64_t dims[4] = {x->shape.n, 0, 0, oc};
    fs_status st;
    if ((st = window(p, node, x->shape.h, kh, nd->stride_h, nd->dilation_h, &d->pad_top,
                     &d->pad_bottom, &dims[1])) != FS_OK ||
        (st = window(p, node, x->shape.w, kw, nd->stride_w, nd->dilation_w, &d->pad_left,
                     &d->pad_right, &dims[2])) != FS_OK)
        return st;
    if ((st = set_shape(p, node, 4, dims)) != FS_OK)
        return st;
    d->out = p->m->tensors[node].shape;
    return FS_OK;
}

/* Bias and fused activation of _FusedConv2D / _FusedDepthwiseConv2dNative / _FusedMatMul. */
static fs_status plan_fused(const planner *p, int node, fs_nn_step *s, int oc)
{
    const fs_nn_node *nd = &p->m->nodes[node];
    fs_nn_op_desc *d = &s->desc;
    fs_status st;
    const fs_nn_node *c;
    if (nd->has_bias) {
        if ((st = need_const(p, node, 2, FS_NN_DT_FLOAT, &c)) != FS_OK ||
            (st = channel_vector(p, node, c, oc, "bias", &d->bias)) != FS_OK)
            return st;
    }
    d->act = nd->fused_act;
    if (d->act == FS_NN_ACT_CLAMP) { /* Relu6 */
        d->clamp_min = 0.0f;
        d->clamp_max = 6.0f;
    } else if (d->act == FS_NN_ACT_PRELU) {
        if ((st = need_const(p, node, 3, FS_NN_DT_FLOAT, &c)) != FS_OK ||
            (st = channel_vector(p, node, c, oc, "alpha", &d->alpha)) != FS_OK)
            return st;
    }
    return FS_OK;
}

static fs_status plan_conv(const planner *p, int node)
{
    const fs_nn_node *nd = &p->m->nodes[node];
    const fs_nn_tensor *x;
    const fs_nn_node *w;
    fs_status st;
    const int dw = nd->op == FS_TF_DEPTHWISE;
    if ((st = need_tensor(p, node, 0, &x)) != FS_OK ||
        (st = need_const(p, node, 1, FS_NN_DT_FLOAT, &w)) != FS_OK)
        return st;
    char b[96];
    if (x->rank != 4)
        return pfail(p, node, FS_ERR_SHAPE, "input of rank %d, expected 4 (NHWC)", x->rank);
    if (w->rank != 4 || w->dims[2] != x->shape.c)
        return pfail(p, node, FS_ERR_SHAPE, "filter '%.200s' of shape %s does not fit %d input channels",
                     w->name, dims_str(b, sizeof(b), w->rank, w->dims), x->shape.c);
    if (w->count == 0)
        return pfail(p, node, FS_ERR_SHAPE, "filter '%.200s' is empty", w->name);
    const int64_t oc64 = dw ? w->dims[2] * w->dims[3] : w->dims[3];
    if (oc64 > INT_MAX)
        return pfail(p, node, FS_ERR_TOO_LARGE, "too many output channels");
    fs_nn_step *s = new_step(p, node, dw ? FS_NN_DEPTHWISE_CONV2D : FS_NN_CONV2D);
    bind_input(p, s, 0, 0);
    s->desc.weights = w->f;
    s->desc.depth_multiplier = dw ? (int)w->dims[3] : 1;
    if ((st = plan_window_op(p, node, s, x, (int)w->dims[0], (int)w->dims[1], (int)oc64)) != FS_OK)
        return st;
    return plan_fused(p, node, s, (int)oc64);
}

static fs_status plan_matmul(const planner *p, int node)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    const fs_nn_tensor *x;
    const fs_nn_node *w;
    fs_status st;
    if ((st = need_tensor(p, node, 0, &x)) != FS_OK ||
        (st = need_const(p, node, 1, FS_NN_DT_FLOAT, &w)) != FS_OK)
        return st;
    char b[96];
    if (x->rank != 2)
        return pfail(p, node, FS_ERR_SHAPE, "input of rank %d, expected 2", x->rank);
    const int64_t k = nd->transpose_b ? w->dims[1] : w->dims[0];
    const int64_t c = nd->transpose_b ? w->dims[0] : w->dims[1];
    if (w->rank != 2 || k != x->dims[1])
        return pfail(p, node, FS_ERR_SHAPE, "weights '%.200s' of shape %s do not fit an input of %lld",
                     w->name, dims_str(b, sizeof(b), w->rank, w->dims), (long long)x->dims[1]);
    if (c < 1)
        return pfail(p, node, FS_ERR_SHAPE, "weights '%.200s' are empty", w->name);
    const float *wt = w->f;
    if (nd->transpose_b) { /* the kernel reads [k][c]: keep a transposed copy */
        float **d = realloc(m->derived, (size_t)(m->num_derived + 1) * sizeof(*d));
        if (!d)
            return pfail(p, node, FS_ERR_OUT_OF_MEMORY, "out of memory");
        m->derived = d;
        float *t = malloc(w->count * sizeof(float));
        if (!t)
            return pfail(p, node, FS_ERR_OUT_OF_MEMORY, "out of memory");
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < c; j++)
                t[i * c + j] = w->f[j * k + i];
        d[m->num_derived++] = t;
        wt = t;
    }
    fs_nn_step *s = new_step(p, node, FS_NN_MATMUL);
    bind_input(p, s, 0, 0);
    s->desc.weights = wt;
    const int64_t dims[2] = {x->dims[0], c};
    if ((st = set_shape(p, node, 2, dims)) != FS_OK)
        return st;
    s->desc.out = m->tensors[node].shape;
    return plan_fused(p, node, s, (int)c);
}

static fs_status plan_maxpool(const planner *p, int node)
{
    const fs_nn_node *nd = &p->m->nodes[node];
    const fs_nn_tensor *x;
    fs_status st;
    if ((st = need_tensor(p, node, 0, &x)) != FS_OK)
        return st;
    if (x->rank != 4)
        return pfail(p, node, FS_ERR_SHAPE, "input of rank %d, expected 4 (NHWC)", x->rank);
    fs_nn_step *s = new_step(p, node, FS_NN_MAX_POOL);
    bind_input(p, s, 0, 0);
    return plan_window_op(p, node, s, x, nd->ksize_h, nd->ksize_w, x->shape.c);
}

/* ---------------------------------------------------------------- fusion */

/*
 * An element-wise op that follows a step can often run inside it: the
 * step's output is rewritten in place of the op's. This is only allowed
 * when nothing else reads the step's own result (one consumer, not a graph
 * output), and only in the exact cases below.
 */
static int fusable_producer(const planner *p, int node, int src)
{
    const fs_nn_model *m = p->m;
    const fs_nn_tensor *t = &m->tensors[src];
    (void)node;
    if (t->consumers != 1 || t->is_output)
        return 0;
    if (t->kind == FS_NN_KIND_COMPUTE)
        return 1;
    return t->kind == FS_NN_KIND_ALIAS && t->fused;
}

static void make_fused_alias(const planner *p, int node, int src)
{
    fs_nn_tensor *t = &p->m->tensors[node];
    const fs_nn_tensor *s = &p->m->tensors[src];
    t->kind = FS_NN_KIND_ALIAS;
    t->fused = 1;
    t->root = s->root;
    t->rank = s->rank;
    memcpy(t->dims, s->dims, sizeof(t->dims));
    t->shape = s->shape;
}

static int accepts_act(fs_nn_op_type type)
{
    return type == FS_NN_CONV2D || type == FS_NN_DEPTHWISE_CONV2D || type == FS_NN_BINARY ||
           type == FS_NN_MATMUL || type == FS_NN_ACTIVATION;
}

/*
 * Composes min(max(x, lo), hi) with a following max(., a) (is_max) or
 * min(., a). Exact for every non-NaN x:
 *   max(clamp(x, lo, hi), a) = clamp(x, max(lo, a), max(hi, a))
 *   min(clamp(x, lo, hi), a) = clamp(x, min(lo, a), min(hi, a))
 */
static void clamp_compose(float *lo, float *hi, int is_max, float a)
{
    if (is_max) {
        *lo = fmaxf(*lo, a);
        *hi = fmaxf(*hi, a);
    } else {
        *lo = fminf(*lo, a);
        *hi = fminf(*hi, a);
    }
}

/* Tries to fuse an activation-like node (Relu, Relu6, Minimum/Maximum with a
 * scalar, Prelu, Sigmoid) into the step that produces its input. */
static int try_fuse_act(const planner *p, int node, int src, fs_nn_tfop op, float scalar,
                        const float *alpha)
{
    fs_nn_model *m = p->m;
    if (!fusable_producer(p, node, src))
        return 0;
    fs_nn_step *s = &m->steps[m->tensors[m->tensors[src].root].step];
    fs_nn_op_desc *d = &s->desc;
    if (!accepts_act(d->type))
        return 0;
    if (op == FS_TF_PRELU || op == FS_TF_SIGMOID) {
        if (d->act != FS_NN_ACT_NONE)
            return 0;
        d->act = op == FS_TF_PRELU ? FS_NN_ACT_PRELU : FS_NN_ACT_SIGMOID;
        d->alpha = alpha;
    } else {
        float lo, hi;
        if (d->act == FS_NN_ACT_NONE) {
            lo = -INFINITY;
            hi = INFINITY;
        } else if (d->act == FS_NN_ACT_RELU) {
            lo = 0.0f;
            hi = INFINITY;
        } else if (d->act == FS_NN_ACT_CLAMP) {
            lo = d->clamp_min;
            hi = d->clamp_max;
        } else {
            return 0;
        }
        if (op == FS_TF_RELU || op == FS_TF_RELU6)
            clamp_compose(&lo, &hi, 1, 0.0f);
        if (op == FS_TF_RELU6)
            clamp_compose(&lo, &hi, 0, 6.0f);
        if (op == FS_TF_MINIMUM || op == FS_TF_MAXIMUM)
            clamp_compose(&lo, &hi, op == FS_TF_MAXIMUM, scalar);
        if (lo == 0.0f && hi == INFINITY) {
            d->act = FS_NN_ACT_RELU;
        } else {
            d->act = FS_NN_ACT_CLAMP;
            d->clamp_min = lo;
            d->clamp_max = hi;
        }
    }
    make_fused_alias(p, node, src);
    return 1;
}

/* The step a fusable producer's value comes from, if it is a convolution or
 * matrix product with no bias and no activation yet. */
static fs_nn_op_desc *linear_producer(const planner *p, int node, int src)
{
    fs_nn_model *m = p->m;
    if (!fusable_producer(p, node, src))
        return NULL;
    fs_nn_op_desc *d = &m->steps[m->tensors[m->tensors[src].root].step].desc;
    if ((d->type != FS_NN_CONV2D && d->type != FS_NN_DEPTHWISE_CONV2D && d->type != FS_NN_MATMUL) ||
        d->bias || d->act != FS_NN_ACT_NONE)
        return NULL;
    return d;
}

/* Add(conv-like, per-channel constant) -> the conv's bias. The sum is then
 * formed inside the kernel, as _FusedConv2D does. */
static int try_fuse_bias(const planner *p, int node, int src, const float *bias)
{
    fs_nn_op_desc *d = linear_producer(p, node, src);
    if (!d)
        return 0;
    d->bias = bias;
    make_fused_alias(p, node, src);
    return 1;
}

/*
 * Mul(conv-like, per-channel or scalar constant) -> weights scaled per
 * output channel (a batch-norm fold, as TF's converter does for the other
 * models): (sum x w) s and sum x (w s) differ by float32 rounding only.
 * In all three weight layouts ([kh][kw][ic][oc], [kh][kw][ic][mult] with
 * oc = ic * mult + m, [k][c]) the output channel of flat index i is i % oc.
 */
static fs_status try_fuse_scale(const planner *p, int node, int src, const fs_nn_node *cn,
                                int *fused)
{
    fs_nn_model *m = p->m;
    fs_nn_op_desc *d = linear_producer(p, node, src);
    *fused = 0;
    if (!d)
        return FS_OK;
    const size_t oc = (size_t)d->out.c;
    const size_t n = d->type == FS_NN_CONV2D ? (size_t)d->kernel_h * d->kernel_w * d->in[0].c * oc
                     : d->type == FS_NN_DEPTHWISE_CONV2D ? (size_t)d->kernel_h * d->kernel_w * oc
                                                         : (size_t)d->in[0].c * oc;
    float **list = realloc(m->derived, (size_t)(m->num_derived + 1) * sizeof(*list));
    if (!list)
        return pfail(p, node, FS_ERR_OUT_OF_MEMORY, "out of memory");
    m->derived = list;
    float *w = malloc(n * sizeof(float));
    if (!w)
        return pfail(p, node, FS_ERR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++)
        w[i] = d->weights[i] * cn->f[cn->count == 1 ? 0 : i % oc];
    list[m->num_derived++] = w;
    d->weights = w;
    make_fused_alias(p, node, src);
    *fused = 1;
    return FS_OK;
}

/* ---------------------------------------------------------------- element-wise */

static fs_status plan_binary(const planner *p, int node)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    const fs_nn_node *c0 = const_node(p, nd->inputs[0]), *c1 = const_node(p, nd->inputs[1]);
    fs_status st;
    char b1[96], b2[96];
    if (c0 && c1)
        return pfail(p, node, FS_ERR_MODEL, "both operands are constants (constant folding is not supported)");
    const fs_nn_binary_op binop = nd->op == FS_TF_ADD       ? FS_NN_ADD
                                  : nd->op == FS_TF_MUL     ? FS_NN_MUL
                                  : nd->op == FS_TF_MINIMUM ? FS_NN_MIN
                                                            : FS_NN_MAX;
    if (c0 || c1) {
        /* Every supported op is commutative: the constant may sit on either side. */
        const fs_nn_node *cn = c0 ? c0 : c1;
        const int k = c0 ? 1 : 0;
        const fs_nn_tensor *x = &m->tensors[nd->inputs[k]];
        if (cn->dtype != FS_NN_DT_FLOAT)
            return pfail(p, node, FS_ERR_MODEL, "constant '%.200s' is not float32", cn->name);
        int per_channel = cn->count == (size_t)x->shape.c;
        for (int i = 0; per_channel && i + 1 < cn->rank; i++)
            per_channel = cn->dims[i] == 1;
        if ((cn->count != 1 && !per_channel) || cn->rank > x->rank)
            return pfail(p, node, FS_ERR_SHAPE,
                         "constant '%.200s' of shape %s does not broadcast per channel over %s",
                         cn->name, dims_str(b1, sizeof(b1), cn->rank, cn->dims),
                         dims_str(b2, sizeof(b2), x->rank, x->dims));
        if ((nd->op == FS_TF_MINIMUM || nd->op == FS_TF_MAXIMUM) && cn->count == 1 &&
            try_fuse_act(p, node, nd->inputs[k], nd->op, cn->f[0], NULL))
            return FS_OK;
        if (nd->op == FS_TF_MUL) {
            int fused;
            if ((st = try_fuse_scale(p, node, nd->inputs[k], cn, &fused)) != FS_OK || fused)
                return st;
        }
        if (nd->op == FS_TF_ADD && linear_producer(p, node, nd->inputs[k])) {
            const float *bias;
            if ((st = channel_vector(p, node, cn, x->shape.c, "addend", &bias)) != FS_OK)
                return st;
            if (try_fuse_bias(p, node, nd->inputs[k], bias))
                return FS_OK;
        }
        if ((st = set_shape(p, node, x->rank, x->dims)) != FS_OK)
            return st;
        fs_nn_step *s = new_step(p, node, FS_NN_BINARY);
        bind_input(p, s, 0, k);
        s->desc.binop = binop;
        s->desc.constant = cn->f;
        s->desc.constant_len = (int)cn->count;
        s->desc.out = m->tensors[node].shape;
        return FS_OK;
    }
    const fs_nn_tensor *a = &m->tensors[nd->inputs[0]], *bt = &m->tensors[nd->inputs[1]];
    int same = a->rank == bt->rank;
    for (int i = 0; same && i < a->rank; i++)
        same = a->dims[i] == bt->dims[i];
    if (!same)
        return pfail(p, node, FS_ERR_SHAPE, "operands of shapes %s and %s differ (broadcasting is not supported)",
                     dims_str(b1, sizeof(b1), a->rank, a->dims),
                     dims_str(b2, sizeof(b2), bt->rank, bt->dims));
    if ((st = set_shape(p, node, a->rank, a->dims)) != FS_OK)
        return st;
    fs_nn_step *s = new_step(p, node, FS_NN_BINARY);
    bind_input(p, s, 0, 0);
    bind_input(p, s, 1, 1);
    s->desc.binop = binop;
    s->desc.out = m->tensors[node].shape;
    return FS_OK;
}

static fs_status plan_activation(const planner *p, int node)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    const fs_nn_tensor *x;
    fs_status st;
    if ((st = need_tensor(p, node, 0, &x)) != FS_OK)
        return st;
    const float *alpha = NULL;
    if (nd->op == FS_TF_PRELU) {
        const fs_nn_node *c;
        if ((st = need_const(p, node, 1, FS_NN_DT_FLOAT, &c)) != FS_OK ||
            (st = channel_vector(p, node, c, x->shape.c, "alpha", &alpha)) != FS_OK)
            return st;
    }
    if (nd->op != FS_TF_SOFTMAX && try_fuse_act(p, node, nd->inputs[0], nd->op, 0.0f, alpha))
        return FS_OK;
    if ((st = set_shape(p, node, x->rank, x->dims)) != FS_OK)
        return st;
    fs_nn_step *s = new_step(p, node, nd->op == FS_TF_SOFTMAX ? FS_NN_SOFTMAX : FS_NN_ACTIVATION);
    bind_input(p, s, 0, 0);
    s->desc.out = m->tensors[node].shape;
    switch (nd->op) {
    case FS_TF_RELU: s->desc.act = FS_NN_ACT_RELU; break;
    case FS_TF_RELU6:
        s->desc.act = FS_NN_ACT_CLAMP;
        s->desc.clamp_min = 0.0f;
        s->desc.clamp_max = 6.0f;
        break;
    case FS_TF_PRELU:
        s->desc.act = FS_NN_ACT_PRELU;
        s->desc.alpha = alpha;
        break;
    case FS_TF_SIGMOID: s->desc.act = FS_NN_ACT_SIGMOID; break;
    default: break; /* Softmax */
    }
    return FS_OK;
}

/* ---------------------------------------------------------------- layout ops */

static void make_alias(const planner *p, int node, int src)
{
    fs_nn_tensor *t = &p->m->tensors[node];
    const fs_nn_tensor *s = &p->m->tensors[src];
    t->kind = s->kind == FS_NN_KIND_CONST ? FS_NN_KIND_CONST : FS_NN_KIND_ALIAS;
    t->root = s->root;
}

static fs_status plan_pad(const planner *p, int node)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    const fs_nn_tensor *x;
    const fs_nn_node *c;
    fs_status st;
    if ((st = need_tensor(p, node, 0, &x)) != FS_OK ||
        (st = need_const(p, node, 1, FS_NN_DT_INT32, &c)) != FS_OK)
        return st;
    if (c->rank != 2 || c->dims[0] != x->rank || c->dims[1] != 2)
        return pfail(p, node, FS_ERR_SHAPE, "paddings '%.200s' must be [%d,2]", c->name, x->rank);
    /* The rank-r paddings placed on the NHWC view (same mapping as set_shape). */
    static const int axis_of[5][4] = {{0}, {3}, {0, 3}, {0, 2, 3}, {0, 1, 2, 3}};
    int pads[4][2] = {{0}};
    int64_t dims[4];
    int any = 0;
    for (int i = 0; i < x->rank; i++) {
        const int32_t lo = c->i32[2 * i], hi = c->i32[2 * i + 1];
        if (lo < 0 || hi < 0)
            return pfail(p, node, FS_ERR_MODEL, "negative padding is not supported");
        pads[axis_of[x->rank][i]][0] = lo;
        pads[axis_of[x->rank][i]][1] = hi;
        dims[i] = x->dims[i] + lo + hi;
        any |= lo | hi;
    }
    if (pads[0][0] || pads[0][1])
        return pfail(p, node, FS_ERR_MODEL, "padding the batch axis is not supported");
    if ((st = set_shape(p, node, x->rank, dims)) != FS_OK)
        return st;
    if (!any) {
        make_alias(p, node, nd->inputs[0]);
        return FS_OK;
    }
    fs_nn_step *s = new_step(p, node, FS_NN_PAD);
    bind_input(p, s, 0, 0);
    memcpy(s->desc.pads, pads, sizeof(pads));
    s->desc.out = m->tensors[node].shape;
    return FS_OK;
}

static fs_status plan_reshape(const planner *p, int node)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    const fs_nn_tensor *x;
    const fs_nn_node *c;
    fs_status st;
    if ((st = need_tensor(p, node, 0, &x)) != FS_OK ||
        (st = need_const(p, node, 1, FS_NN_DT_INT32, &c)) != FS_OK)
        return st;
    if (c->rank != 1 || c->count > 4)
        return pfail(p, node, FS_ERR_MODEL, "shape '%.200s' must be a list of at most 4 sizes", c->name);
    int64_t in_total = 1, known = 1, dims[4];
    for (int i = 0; i < x->rank; i++)
        in_total *= x->dims[i];
    int infer = -1, ok = 1;
    for (size_t i = 0; i < c->count && ok; i++) {
        const int64_t v = c->i32[i];
        if (v == -1 && infer < 0) {
            infer = (int)i;
            continue;
        }
        if (v < 1)
            return pfail(p, node, FS_ERR_MODEL, "shape '%.200s' holds %lld", c->name, (long long)v);
        dims[i] = v;
        ok = known <= in_total / v; /* also keeps the product from overflowing */
        known *= v;
    }
    if (ok && infer >= 0) {
        ok = in_total % known == 0;
        dims[infer] = in_total / known;
    } else if (ok) {
        ok = known == in_total;
    }
    if (!ok) {
        char b1[96], b2[96];
        int64_t shown[4];
        for (size_t i = 0; i < c->count; i++)
            shown[i] = c->i32[i];
        return pfail(p, node, FS_ERR_SHAPE, "cannot reshape %s into %s",
                     dims_str(b1, sizeof(b1), x->rank, x->dims),
                     dims_str(b2, sizeof(b2), (int)c->count, shown));
    }
    if ((st = set_shape(p, node, (int)c->count, dims)) != FS_OK)
        return st;
    make_alias(p, node, nd->inputs[0]);
    return FS_OK;
}

static fs_status plan_concat(const planner *p, int node)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    const int n = nd->num_inputs - 1;
    const fs_nn_node *ax;
    fs_status st;
    if ((st = need_const(p, node, n, FS_NN_DT_INT32, &ax)) != FS_OK)
        return st;
    if (ax->count != 1)
        return pfail(p, node, FS_ERR_MODEL, "axis '%.200s' is not a scalar", ax->name);
    if (n > FS_NN_MAX_INPUTS)
        return pfail(p, node, FS_ERR_MODEL, "%d inputs (at most %d supported)", n, FS_NN_MAX_INPUTS);
    const fs_nn_tensor *first;
    if ((st = need_tensor(p, node, 0, &first)) != FS_OK)
        return st;
    int64_t axis = ax->i32[0];
    if (axis < 0)
        axis += first->rank;
    if (axis != first->rank - 1 || first->rank == 0)
        return pfail(p, node, FS_ERR_MODEL, "concatenation along axis %d (only the last axis is supported)",
                     (int)ax->i32[0]);
    int64_t dims[4];
    memcpy(dims, first->dims, sizeof(dims));
    dims[axis] = 0;
    for (int k = 0; k < n; k++) {
        const fs_nn_tensor *x;
        if ((st = need_tensor(p, node, k, &x)) != FS_OK)
            return st;
        int same = x->rank == first->rank;
        for (int i = 0; same && i < x->rank; i++)
            same = i == axis || x->dims[i] == first->dims[i];
        if (!same) {
            char b1[96], b2[96];
            return pfail(p, node, FS_ERR_SHAPE, "inputs of shapes %s and %s",
                         dims_str(b1, sizeof(b1), first->rank, first->dims),
                         dims_str(b2, sizeof(b2), x->rank, x->dims));
        }
        dims[axis] += x->dims[axis];
    }
    if ((st = set_shape(p, node, first->rank, dims)) != FS_OK)
        return st;
    if (n == 1) {
        make_alias(p, node, nd->inputs[0]);
        return FS_OK;
    }
    fs_nn_step *s = new_step(p, node, FS_NN_CONCAT);
    for (int k = 0; k < n; k++)
        bind_input(p, s, k, k);
    s->desc.out = m->tensors[node].shape;
    return FS_OK;
}

static fs_status plan_mean(const planner *p, int node)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    const fs_nn_tensor *x;
    const fs_nn_node *ax;
    fs_status st;
    if ((st = need_tensor(p, node, 0, &x)) != FS_OK ||
        (st = need_const(p, node, 1, FS_NN_DT_INT32, &ax)) != FS_OK)
        return st;
    int mask = 0;
    for (size_t i = 0; i < ax->count && x->rank == 4; i++) {
        int a = ax->i32[i] < 0 ? ax->i32[i] + 4 : ax->i32[i];
        mask |= (a >= 0 && a < 4) ? 1 << a : 16;
    }
    if (x->rank != 4 || mask != 6)
        return pfail(p, node, FS_ERR_MODEL, "mean over other axes than H and W of a rank-4 tensor");
    const int64_t d4[4] = {x->dims[0], 1, 1, x->dims[3]}, d2[2] = {x->dims[0], x->dims[3]};
    if ((st = nd->keep_dims ? set_shape(p, node, 4, d4) : set_shape(p, node, 2, d2)) != FS_OK)
        return st;
    fs_nn_step *s = new_step(p, node, FS_NN_MEAN);
    bind_input(p, s, 0, 0);
    s->desc.out = m->tensors[node].shape;
    return FS_OK;
}

static fs_status plan_input(const planner *p, int node, int batch)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    int64_t dims[FS_NN_MAX_RANK];
    memcpy(dims, nd->dims, sizeof(dims));
    if (nd->rank < 1)
        return pfail(p, node, FS_ERR_MODEL, "input without a batch axis");
    if (dims[0] >= 0 && dims[0] != batch)
        return pfail(p, node, FS_ERR_SHAPE, "the graph fixes the batch to %lld, %d asked",
                     (long long)dims[0], batch);
    dims[0] = batch;
    fs_status st = set_shape(p, node, nd->rank, dims);
    if (st != FS_OK)
        return st;
    m->tensors[node].kind = FS_NN_KIND_INPUT;
    m->tensors[node].root = node;
    return FS_OK;
}

static fs_status plan_node(const planner *p, int node, int batch)
{
    fs_nn_model *m = p->m;
    const fs_nn_node *nd = &m->nodes[node];
    fs_nn_tensor *t = &m->tensors[node];
    switch (nd->op) {
    case FS_TF_PLACEHOLDER:
        return plan_input(p, node, batch);
    case FS_TF_CONST:
        t->kind = FS_NN_KIND_CONST;
        t->root = node;
        return FS_OK;
    case FS_TF_CONV2D:
    case FS_TF_DEPTHWISE:
        return plan_conv(p, node);
    case FS_TF_MATMUL:
        return plan_matmul(p, node);
    case FS_TF_MAXPOOL:
        return plan_maxpool(p, node);
    case FS_TF_ADD:
    case FS_TF_MUL:
    case FS_TF_MINIMUM:
    case FS_TF_MAXIMUM:
        return plan_binary(p, node);
    case FS_TF_RELU:
    case FS_TF_RELU6:
    case FS_TF_PRELU:
    case FS_TF_SIGMOID:
    case FS_TF_SOFTMAX:
        return plan_activation(p, node);
    case FS_TF_PAD:
        return plan_pad(p, node);
    case FS_TF_RESHAPE:
        return plan_reshape(p, node);
    case FS_TF_IDENTITY: {
        const int src = nd->inputs[0];
        const fs_nn_tensor *s = &m->tensors[src];
        if (s->kind != FS_NN_KIND_CONST) {
            fs_status st = set_shape(p, node, s->rank, s->dims);
            if (st != FS_OK)
                return st;
        }
        make_alias(p, node, src);
        return FS_OK;
    }
    case FS_TF_CONCAT:
        return plan_concat(p, node);
    case FS_TF_MEAN:
        return plan_mean(p, node);
    }
    return pfail(p, node, FS_ERR_INTERNAL, "op without a planner");
}

/* ---------------------------------------------------------------- arena */

typedef struct interval {
    int root;
    int first, last;
    size_t bytes;
    size_t offset;
    int placed;
} interval;

static int by_size_desc(const void *a, const void *b)
{
    const interval *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x->first - y->first;
}

static int by_offset(const void *a, const void *b)
{
    const interval *const *x = a, *const *y = b;
    return (*x)->offset < (*y)->offset ? -1 : (*x)->offset > (*y)->offset;
}

/*
 * Greedy by size (largest first), each buffer at the lowest offset that
 * does not overlap a placed buffer alive at the same time. Near-optimal on
 * chains of convolutions and simple: O(n^2 log n) for n buffers, once.
 */
static fs_status place_buffers(const planner *p)
{
    fs_nn_model *m = p->m;
    const int n = m->num_nodes;
    interval *iv = calloc((size_t)n + 1, sizeof(*iv));
    interval **live = calloc((size_t)n + 1, sizeof(*live));
    if (!iv || !live) {
        free(iv);
        free(live);
        return fs_fail(p->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", m->label);
    }
    int count = 0;
    for (int i = 0; i < n; i++) {
        const fs_nn_tensor *t = &m->tensors[i];
        const int in_arena = t->kind == FS_NN_KIND_COMPUTE ||
                             (t->kind == FS_NN_KIND_INPUT && m->input_in_arena);
        if (!in_arena)
            continue;
        const size_t bytes = fs_nn_shape_size(t->shape) * sizeof(float);
        iv[count].root = i;
        iv[count].first = t->first_def;
        iv[count].last = t->last_use;
        iv[count].bytes = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN + ARENA_SLACK;
        count++;
    }
    qsort(iv, (size_t)count, sizeof(*iv), by_size_desc);
    size_t end = 0;
    for (int i = 0; i < count; i++) {
        int nl = 0;
        for (int j = 0; j < i; j++)
            if (iv[j].first <= iv[i].last && iv[i].first <= iv[j].last)
                live[nl++] = &iv[j];
        qsort(live, (size_t)nl, sizeof(*live), by_offset);
        size_t off = 0;
        for (int j = 0; j < nl; j++) {
            if (live[j]->offset >= off + iv[i].bytes)
                break;
            if (live[j]->offset + live[j]->bytes > off)
                off = live[j]->offset + live[j]->bytes;
        }
        iv[i].offset = off;
        if (off + iv[i].bytes > end)
            end = off + iv[i].bytes;
    }
    for (int i = 0; i < count; i++) {
        m->tensors[iv[i].root].offset = iv[i].offset;
        m->tensors[iv[i].root].bytes = iv[i].bytes;
    }
    free(iv);
    free(live);
    m->arena_bytes = end;
    if (end) {
        m->arena = aligned_alloc(ARENA_ALIGN, end);
        if (!m->arena)
            return fs_fail(p->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory for a %zu-byte arena",
                           m->label, end);
        /* Kernels may read the slack past a buffer: keep it defined. */
        memset(m->arena, 0, end);
    }
    return FS_OK;
}

/* ---------------------------------------------------------------- prepare */

void fs_nn_plan_free(fs_nn_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->num_steps; i++)
        if (m->steps[i].kernel)
            m->steps[i].kernel->destroy(m->steps[i].state);
    free(m->steps);
    free(m->tensors);
    free(m->arena);
    for (int i = 0; i < m->num_derived; i++)
        free(m->derived[i]);
    free(m->derived);
    m->steps = NULL;
    m->tensors = NULL;
    m->arena = NULL;
    m->derived = NULL;
    m->num_steps = 0;
    m->num_derived = 0;
    m->arena_bytes = 0;
    m->input_in_arena = 0;
    m->prepared = 0;
    m->batch = 0;
}

/* The slot of step i + 1's Add that reads conv step i's output, if the pair
 * can run as one FS_NN_CONV2D_ADD step; -1 if not. */
static int residual_slot(const fs_nn_model *m, int i)
{
    if (i + 1 >= m->num_steps)
        return -1;
    const fs_nn_step *c = &m->steps[i], *a = &m->steps[i + 1];
    const fs_nn_op_desc *cd = &c->desc, *ad = &a->desc;
    if (cd->type != FS_NN_CONV2D || cd->act != FS_NN_ACT_NONE || ad->type != FS_NN_BINARY ||
        ad->binop != FS_NN_ADD || ad->num_inputs != 2 ||
        memcmp(&ad->in[0], &ad->out, sizeof(ad->out)) != 0 ||
        memcmp(&ad->in[1], &ad->out, sizeof(ad->out)) != 0 ||
        memcmp(&cd->out, &ad->out, sizeof(ad->out)) != 0)
        return -1;
    const int slot = a->in_nodes[0] == c->node ? 0 : a->in_nodes[1] == c->node ? 1 : -1;
    if (slot < 0 || a->in_nodes[1 - slot] == c->node)
        return -1;
    /* The conv's result read by the Add alone: not a graph output (those
     * live to INT_MAX), read by no later step. */
    return m->tensors[c->node].last_use == i + 1 ? slot : -1;
}

static void residual_desc(const fs_nn_model *m, int i, int slot, fs_nn_op_desc *d)
{
    const fs_nn_op_desc *ad = &m->steps[i + 1].desc;
    *d = m->steps[i].desc;
    d->type = FS_NN_CONV2D_ADD;
    d->num_inputs = 2;
    d->in[1] = ad->in[1 - slot];
    d->act = ad->act;
    d->alpha = ad->alpha;
    d->clamp_min = ad->clamp_min;
    d->clamp_max = ad->clamp_max;
}

/* Whether [a, a + an) and [b, b + bn) floats share a byte. */
static int floats_overlap(const float *a, size_t an, const float *b, size_t bn)
{
    const uintptr_t a0 = (uintptr_t)a, a1 = a0 + an * sizeof(float);
    const uintptr_t b0 = (uintptr_t)b, b1 = b0 + bn * sizeof(float);
    return a0 < b1 && b0 < a1;
}

/* The fused step writes the Add's output while it reads the conv's input
 * and the addend: the input must lie apart from it, the addend apart or
 * exactly on it (each element is read before its own write). */
static int residual_buffers_ok(const fs_nn_model *m, int i, int slot)
{
    const fs_nn_step *c = &m->steps[i], *a = &m->steps[i + 1];
    const size_t n_out = fs_nn_shape_size(a->desc.out);
    if (!(c->external & 1u) &&
        floats_overlap(c->in[0], fs_nn_shape_size(c->desc.in[0]), a->out, n_out))
        return 0;
    const float *r = a->in[1 - slot];
    return ((a->external >> (1 - slot)) & 1u) || r == a->out ||
           !floats_overlap(r, n_out, a->out, n_out);
}

/*
 * A residual block's convolution and the Add after it run as one step
 * (FS_NN_CONV2D_ADD) where the fast table has a kernel that takes the pair:
 * the Add's own pass (two tensors read, one written: 0.11-0.15 ms of each
 * BlazeFace block at 128 x 128 x 24 on an AVX2 core) goes. Each output is
 * the conv's float result plus the addend, then the Add's activation: the
 * bytes of the two steps unfused.
 *
 * First, before the buffers are placed: the kernel is made for each pair
 * it takes (states[i]), and the conv's input is kept alive through the
 * Add's step, so that the Add's output cannot take its buffer.
 */
static fs_status plan_residual_adds(const planner *p, void **states)
{
    fs_nn_model *m = p->m;
    const fs_nn_kernel *k = &m->ops.k[FS_NN_CONV2D_ADD];
    if (!k->create || !k->name || strcmp(k->name, "ref") == 0)
        return FS_OK; /* the reference runs the two steps as written */
    for (int i = 0; i + 1 < m->num_steps; i++) {
        const int slot = residual_slot(m, i);
        if (slot < 0)
            continue;
        fs_nn_op_desc d;
        residual_desc(m, i, slot, &d);
        const fs_status st = k->create(&d, &states[i]);
        if (st == FS_ERR_UNSUPPORTED) {
            states[i] = NULL;
            continue;
        }
        if (st != FS_OK)
            return pfail(p, m->steps[i + 1].node, st,
                         "fusing the Add into its convolution failed (%s)", fs_status_name(st));
        fs_nn_tensor *x = &m->tensors[m->steps[i].in_nodes[0]];
        if (x->last_use < i + 1)
            x->last_use = i + 1;
        i++; /* the Add is taken */
    }
    return FS_OK;
}

/* Then, on the placed buffers: each pair with a kernel becomes one step. */
static void fuse_residual_adds(fs_nn_model *m, void **states)
{
    const fs_nn_kernel *k = &m->ops.k[FS_NN_CONV2D_ADD];
    int kept = 0;
    for (int i = 0; i < m->num_steps; i++) {
        const int slot = states[i] ? residual_slot(m, i) : -1;
        if (slot >= 0 && residual_buffers_ok(m, i, slot)) {
            const fs_nn_step *c = &m->steps[i], *a = &m->steps[i + 1];
            fs_nn_step f = *c;
            residual_desc(m, i, slot, &f.desc);
            f.node = a->node;
            f.in_nodes[1] = a->in_nodes[1 - slot];
            f.in[1] = a->in[1 - slot];
            f.external = (c->external & 1u) | ((a->external >> (1 - slot)) & 1u) << 1;
            f.out = a->out;
            f.kernel = k;
            f.state = states[i];
            states[i] = NULL;
            m->steps[kept++] = f;
            i++;
            continue;
        }
        m->steps[kept++] = m->steps[i];
    }
    for (int i = kept; i < m->num_steps; i++)
        memset(&m->steps[i], 0, sizeof(m->steps[i]));
    m->num_steps = kept;
}

static fs_status create_kernels(const planner *p)
{
    fs_nn_model *m = p->m;
    for (int i = 0; i < m->num_steps; i++) {
        fs_nn_step *s = &m->steps[i];
        if (s->kernel)
            continue; /* made when fused (fuse_residual_adds) */
        const fs_nn_kernel *k = &m->ops.k[s->desc.type];
        const fs_nn_kernel *ref = &m->ref_ops.k[s->desc.type];
        fs_status st = FS_ERR_UNSUPPORTED;
        if (k->create)
            st = k->create(&s->desc, &s->state);
        if (st == FS_ERR_UNSUPPORTED && k != ref && ref->create && ref->create != k->create) {
            k = ref;
            st = k->create(&s->desc, &s->state);
        }
        if (st != FS_OK)
            return pfail(p, s->node, st, "no kernel accepts this op (%s kernel: %s)",
                         k->name ? k->name : "no", fs_status_name(st));
        s->kernel = k;
    }
    return FS_OK;
}

static fs_status prepare(const planner *p, int batch)
{
    fs_nn_model *m = p->m;
    const int n = m->num_nodes;
    m->tensors = calloc((size_t)n, sizeof(*m->tensors));
    m->steps = calloc((size_t)n, sizeof(*m->steps));
    if (!m->tensors || !m->steps)
        return fs_fail(p->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", m->label);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < m->nodes[i].num_inputs; k++)
            m->tensors[m->nodes[i].inputs[k]].consumers++;
    for (int i = 0; i < m->num_outputs; i++)
        m->tensors[m->outputs[i]].is_output = 1;

    fs_status st;
    for (int i = 0; i < n; i++)
        if ((st = plan_node(p, i, batch)) != FS_OK)
            return st;

    /* Lifetimes, in steps: a buffer lives from the step writing it to the
     * last step reading it; graph outputs live to the end. */
    for (int i = 0; i < n; i++) {
        fs_nn_tensor *t = &m->tensors[i];
        t->first_def = t->kind == FS_NN_KIND_COMPUTE ? t->step : -1;
        t->last_use = t->first_def;
    }
    for (int i = 0; i < m->num_steps; i++)
        for (int k = 0; k < m->steps[i].desc.num_inputs; k++) {
            fs_nn_tensor *r = &m->tensors[m->steps[i].in_nodes[k]];
            if (r->last_use < i)
                r->last_use = i;
        }
    for (int i = 0; i < m->num_outputs; i++) {
        const int o = m->outputs[i];
        fs_nn_tensor *r = &m->tensors[m->tensors[o].root];
        if (r->kind == FS_NN_KIND_CONST)
            return pfail(p, o, FS_ERR_MODEL, "a graph output that is a constant");
        if (r->kind == FS_NN_KIND_INPUT)
            m->input_in_arena = 1;
        r->last_use = INT_MAX;
    }
    /* One slot per step for the fused pairs' kernels (plan_residual_adds). */
    void **fused = calloc((size_t)m->num_steps + 1, sizeof(*fused));
    if (!fused)
        return fs_fail(p->err, FS_ERR_OUT_OF_MEMORY, "'%s': out of memory", m->label);
    const int planned_steps = m->num_steps;
    st = plan_residual_adds(p, fused);
    if (st == FS_OK)
        st = place_buffers(p);
    if (st != FS_OK) {
        for (int i = 0; i < planned_steps; i++)
            if (fused[i])
                m->ops.k[FS_NN_CONV2D_ADD].destroy(fused[i]);
        free(fused);
        return st;
    }

    for (int i = 0; i < m->num_steps; i++) {
        fs_nn_step *s = &m->steps[i];
        for (int k = 0; k < s->desc.num_inputs; k++) {
            const fs_nn_tensor *r = &m->tensors[s->in_nodes[k]];
            if (r->kind == FS_NN_KIND_INPUT && !m->input_in_arena)
                s->external |= 1u << k;
            else
                s->in[k] = m->arena + r->offset / sizeof(float);
        }
        s->out = m->arena + m->tensors[s->node].offset / sizeof(float);
    }
    fuse_residual_adds(m, fused);
    for (int i = 0; i < planned_steps; i++) /* pairs whose buffers would not do */
        if (fused[i])
            m->ops.k[FS_NN_CONV2D_ADD].destroy(fused[i]);
    free(fused);
    return create_kernels(p);
}

fs_status fs_nn_model_prepare(fs_nn_model *m, int batch, fs_error_buf *err)
{
    if (!m)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_nn_model_prepare: NULL model");
    if (batch < 1 || batch > MAX_BATCH)
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "'%s': batch %d outside 1..%d", m->label, batch,
                       MAX_BATCH);
    fs_nn_plan_free(m);
    const planner p = {m, err};
    const fs_status st = prepare(&p, batch);
    if (st != FS_OK) {
        fs_nn_plan_free(m);
        return st;
    }
    m->batch = batch;
    m->prepared = 1;
    return FS_OK;
}

size_t fs_nn_model_arena_bytes(const fs_nn_model *m)
{
    return m ? m->arena_bytes : 0;
}
