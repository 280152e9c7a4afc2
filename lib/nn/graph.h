/*
 * The graph runtime's private structures, shared by its loader (model.c),
 * planner (plan.c) and executor (exec.c). Not part of any API.
 */
#ifndef FS_NN_GRAPH_H
#define FS_NN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

/* Rank limit for constants and the input declaration; activations are at most rank 4. */
#define FS_NN_MAX_RANK 6
/* Limits against hostile model files (the largest shipped model has 600
 * nodes, 7 MB of weights); planning is quadratic in the node count. */
#define FS_NN_MAX_NODES 10000
#define FS_NN_MAX_WEIGHT_BYTES ((size_t)1 << 30)

/* The TensorFlow ops the runtime understands (graph level, before planning). */
typedef enum fs_nn_tfop {
    FS_TF_PLACEHOLDER = 0,
    FS_TF_CONST,
    FS_TF_CONV2D,     /* Conv2D, _FusedConv2D */
    FS_TF_DEPTHWISE,  /* DepthwiseConv2dNative */
    FS_TF_ADD,        /* Add, AddV2 */
    FS_TF_MUL,
    FS_TF_MINIMUM,
    FS_TF_MAXIMUM,
    FS_TF_RELU,
    FS_TF_RELU6,
    FS_TF_PRELU,
    FS_TF_SIGMOID,
    FS_TF_MAXPOOL,
    FS_TF_PAD,
    FS_TF_RESHAPE,
    FS_TF_IDENTITY,
    FS_TF_CONCAT,     /* ConcatV2 */
    FS_TF_MEAN,
    FS_TF_MATMUL,     /* MatMul, _FusedMatMul */
    FS_TF_SOFTMAX
} fs_nn_tfop;

typedef enum fs_nn_padding {
    FS_NN_PADDING_VALID = 0,
    FS_NN_PADDING_SAME,
    FS_NN_PADDING_EXPLICIT
} fs_nn_padding;

typedef enum fs_nn_dtype {
    FS_NN_DT_FLOAT = 0,
    FS_NN_DT_INT32
} fs_nn_dtype;

typedef struct fs_nn_node {
    char *name;
    char *op_name;            /* as written in the graph, for messages */
    fs_nn_tfop op;
    int orig_index;           /* position in model.json (graph order) */
    int num_inputs;           /* data inputs (control inputs "^x" dropped) */
    int *inputs;              /* indices into fs_nn_model.nodes */

    /* Conv2D, DepthwiseConv2dNative, MaxPool */
    int stride_h, stride_w;
    int dilation_h, dilation_w;
    int ksize_h, ksize_w;     /* MaxPool */
    fs_nn_padding padding;
    int explicit_pads[4];     /* EXPLICIT: top, bottom, left, right */

    /* _FusedConv2D, _FusedMatMul: input 2 is the bias, input 3 the PReLU alpha */
    int has_bias;
    fs_nn_act fused_act;      /* NONE, RELU, CLAMP (Relu6), PRELU */
    int keep_dims;            /* Mean */
    int transpose_a, transpose_b; /* MatMul */

    /* Const (values from the weights) and Placeholder (declared shape, -1 = any) */
    fs_nn_dtype dtype;
    int rank;
    int64_t dims[FS_NN_MAX_RANK];
    size_t count;
    const float *f;           /* Const FLOAT: in fs_nn_model.fdata */
    const int32_t *i32;       /* Const INT32: in fs_nn_model.idata */
} fs_nn_node;

/* What the planner made of a node. */
typedef enum fs_nn_kind {
    FS_NN_KIND_CONST = 0,
    FS_NN_KIND_INPUT,
    FS_NN_KIND_COMPUTE,       /* one step: runs a kernel into its own buffer */
    FS_NN_KIND_ALIAS          /* Reshape, Identity, or an op fused into its producer */
} fs_nn_kind;

typedef struct fs_nn_tensor {
    fs_nn_kind kind;
    int rank;                 /* TF rank, 0..4 */
    int64_t dims[4];
    fs_nn_shape shape;        /* NHWC view: [a,b,c] -> a x 1 x b x c, [a,b] -> a x 1 x 1 x b */
    int root;                 /* node whose buffer holds this value */
    int step;                 /* COMPUTE: its step */
    int consumers;            /* data-input references from other nodes */
    int is_output;
    int fused;                /* ALIAS made by fusing this op into its producer's step */
    int first_def;            /* root only: step that writes the buffer (-1: before the first) */
    int last_use;             /* root only: last step that reads the buffer */
    size_t offset, bytes;     /* root only: place in the arena */
} fs_nn_tensor;

typedef struct fs_nn_step {
    int node;
    fs_nn_op_desc desc;
    int in_nodes[FS_NN_MAX_INPUTS]; /* root nodes of the arena inputs */
    const fs_nn_kernel *kernel;
    void *state;
    const float *in[FS_NN_MAX_INPUTS];
    float *out;
    unsigned external;        /* bit i: in[i] is the caller's input */
} fs_nn_step;

struct fs_nn_model {
    fs_nn_ops ops;            /* copied at load: the model needs nothing else of the engine */
    fs_nn_ops ref_ops;        /* fallback when a fast kernel declines */
    char *label;              /* model.json path, for messages */

    int num_nodes;
    fs_nn_node *nodes;        /* topological order */
    float *fdata;             /* every float constant, dequantised */
    int32_t *idata;           /* every int32 constant */
    int input;                /* the Placeholder */
    int num_outputs;
    int *outputs;             /* graph outputs, graph order */

    /* Plan (fs_nn_model_prepare) */
    int prepared;
    int batch;
    fs_nn_tensor *tensors;    /* one per node */
    int num_steps;
    fs_nn_step *steps;
    float *arena;
    size_t arena_bytes;
    int input_in_arena;       /* the input is also an output: copied into the arena */
    int num_derived;
    float **derived;          /* constants made at planning (broadcast biases) */
};

/* Frees the plan (kernel states, arena); the model returns to unprepared. */
void fs_nn_plan_free(fs_nn_model *m);

#endif /* FS_NN_GRAPH_H */
