/*
 * The contract between the graph runtime (lib/nn: loader, planner, executor)
 * and the neural-network kernels of each backend.
 *
 * The planner turns every TensorFlow graph node into one fs_nn_op_desc with
 * all shapes known, then asks the backend's kernel for that op type to
 * create a state once (weights may be repacked there), and calls run() once
 * per inference. All tensors are float32, NHWC, dense (no strides); rank-2
 * tensors [n, c] are described as n x 1 x 1 x c.
 */
#ifndef FS_NN_KERNEL_H
#define FS_NN_KERNEL_H

#include <stddef.h>

#include "exec.h"
#include "faceswap/common.h"

typedef enum fs_nn_op_type {
    FS_NN_CONV2D = 0,        /* _FusedConv2D, Conv2D: weights [kh][kw][ic][oc] */
    FS_NN_DEPTHWISE_CONV2D,  /* DepthwiseConv2dNative: weights [kh][kw][ic][mult], oc = ic * mult */
    FS_NN_MAX_POOL,          /* MaxPool: padded cells never win */
    FS_NN_BINARY,            /* AddV2, Add, Mul, Minimum, Maximum: in[0] (op) in[1] or a constant */
    FS_NN_ACTIVATION,        /* Relu, Prelu, Sigmoid, clamp: applied on in[0] */
    FS_NN_PAD,               /* Pad with zeros on any of H, W, C */
    FS_NN_CONCAT,            /* ConcatV2 along channels (last axis) of num_inputs tensors */
    FS_NN_MEAN,              /* Mean over H and W -> n x 1 x 1 x c */
    FS_NN_MATMUL,            /* _FusedMatMul, MatMul: [n, k] x weights [k][c] -> [n, c] */
    FS_NN_SOFTMAX,           /* Softmax over the last axis */
    FS_NN_CONV2D_ADD,        /* CONV2D of in[0] plus in[1] (the output's shape), then the
                              * activation: a residual block's 1x1 and its Add, fused by the
                              * planner only where the fast table has a kernel for it */
    FS_NN_OP_COUNT
} fs_nn_op_type;

/* Activation fused after CONV2D, DEPTHWISE_CONV2D, BINARY, MATMUL, or the op of ACTIVATION. */
typedef enum fs_nn_act {
    FS_NN_ACT_NONE = 0,
    FS_NN_ACT_RELU,    /* max(x, 0) */
    FS_NN_ACT_CLAMP,   /* min(max(x, clamp_min), clamp_max): Relu6 and Minimum/Maximum pairs */
    FS_NN_ACT_PRELU,   /* x >= 0 ? x : alpha[c] * x (TF Prelu: alpha per channel) */
    FS_NN_ACT_SIGMOID  /* 1 / (1 + exp(-x)) */
} fs_nn_act;

typedef enum fs_nn_binary_op {
    FS_NN_ADD = 0,
    FS_NN_MUL,
    FS_NN_MIN,
    FS_NN_MAX
} fs_nn_binary_op;

typedef struct fs_nn_shape {
    int n, h, w, c;
} fs_nn_shape;

#define FS_NN_MAX_INPUTS 4

typedef struct fs_nn_op_desc {
    fs_nn_op_type type;
    int num_inputs;                     /* tensors read from the arena (constants excluded) */
    fs_nn_shape in[FS_NN_MAX_INPUTS];
    fs_nn_shape out;

    /* CONV2D, DEPTHWISE_CONV2D, MAX_POOL: window, TF "SAME"/"VALID" already
     * turned into explicit padding (pad_bottom/pad_right may exceed pad_top/pad_left). */
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int dilation_h, dilation_w;
    int pad_top, pad_left, pad_bottom, pad_right;
    int depth_multiplier;               /* DEPTHWISE_CONV2D */

    const float *weights;               /* CONV2D, DEPTHWISE_CONV2D, MATMUL; owned by the model */
    const float *bias;                  /* [out.c] or NULL */

    fs_nn_act act;                      /* fused activation */
    const float *alpha;                 /* PRELU: [out.c] */
    float clamp_min, clamp_max;         /* CLAMP */

    fs_nn_binary_op binop;              /* BINARY */
    /* BINARY with one constant operand: num_inputs == 1 and constant has
     * constant_len elements, 1 (scalar) or out.c (per channel), broadcast. */
    const float *constant;
    int constant_len;

    int pads[4][2];                     /* PAD: before/after for N, H, W, C (N must be 0) */
} fs_nn_op_desc;

/*
 * A backend's implementation of one op type.
 * create: validates the desc for this backend (FS_ERR_UNSUPPORTED if it
 *         cannot run it: the caller then falls back to the reference), may
 *         copy or repack weights; *state is freed by destroy.
 * run:    inputs[i] points at in[i]-shaped data, output at out-shaped data;
 *         output never aliases an input. FS_OK, or an error with its detail
 *         in ex->err (a device failure, an out-of-memory): the executor
 *         stops there and returns it, so the output of a failed step is
 *         never read. run() may be called from several threads at once on
 *         one state only if the kernel says so; models are not shared
 *         between threads (each detector or fitter owns its own).
 * create and destroy are set-up calls, made once per plan: they take no
 * execution context (nothing they do depends on the pool or a stream).
 */
typedef struct fs_nn_kernel {
    fs_status (*create)(const fs_nn_op_desc *desc, void **state);
    fs_status (*run)(const fs_exec *ex, void *state, const float *const *inputs, float *output);
    void (*destroy)(void *state);
    const char *name; /* "ref", "xnnpack", "cuda", for logs and tests */
} fs_nn_kernel;

/* The nn family of the engine: one kernel per op type. A model keeps its
 * own copy (lib/nn/graph.h), which is all it needs of the engine. */
typedef struct fs_nn_ops {
    fs_nn_kernel k[FS_NN_OP_COUNT];
} fs_nn_ops;

static inline size_t fs_nn_shape_size(fs_nn_shape s)
{
    return (size_t)s.n * (size_t)s.h * (size_t)s.w * (size_t)s.c;
}

#endif /* FS_NN_KERNEL_H */
