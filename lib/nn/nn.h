/*
 * Graph-model runtime: loads a TensorFlow.js graph model (model.json and its
 * weight shards) directly, plans the buffers once for a fixed input shape and
 * runs it with the kernels of an nn family table (fs_nn_ops, lib/nn/kernel.h).
 *
 * Typical use:
 *   fs_nn_model *m;
 *   fs_nn_model_load(ops, "dir/facemesh.json", &err, &m);
 *   fs_nn_model_prepare(m, batch, &err);          // shapes inferred, arena allocated, kernels created
 *   fs_nn_model_run(m, ex, input_nhwc);           // ex: lib/exec.h
 *   fs_nn_model_output(m, "Identity_2", &data, &shape);
 *
 * Shapes: activations are float32 of TF rank 0..4; fs_nn_shape is their
 * NHWC view: [n,h,w,c] as is, [a,b,c] -> a x 1 x b x c, [a,b] -> a x 1 x 1 x b,
 * [a] -> 1 x 1 x 1 x a (fs_nn_model_output_dims() gives the TF shape).
 *
 * Threads: a model may be shared read-only, but prepare and run write its
 * plan and arena: one thread at a time per model (one model per worker).
 */
#ifndef FS_NN_H
#define FS_NN_H

#include <stddef.h>

#include "faceswap/common.h"
#include "internal.h"
#include "nn/kernel.h"

typedef struct fs_nn_model fs_nn_model;

/*
 * Reads @p json_path and the weight files its manifest names (relative to
 * the same folder). Supports float32 weights, float16- and uint8-quantised
 * weights (dequantised to float32 at load) and int32 constants.
 * Errors name the file or the node: FS_ERR_NOT_FOUND, FS_ERR_IO,
 * FS_ERR_TRUNCATED (shard shorter than the manifest, empty model.json),
 * FS_ERR_CORRUPT (bad JSON or manifest, shard longer than the manifest, a
 * shard path leaving the folder), FS_ERR_MODEL (unknown op, bad attribute or
 * input), FS_ERR_SHAPE (manifest and graph disagree on a constant's shape),
 * FS_ERR_TOO_LARGE (limits in lib/nn/graph.h), FS_ERR_OUT_OF_MEMORY.
 * Ops are checked here, shapes at prepare. The model copies @p ops;
 * *out is untouched on failure.
 */
fs_status fs_nn_model_load(const fs_nn_ops *ops, const char *json_path, fs_error_buf *err,
                           fs_nn_model **out);

/* As fs_nn_model_load() from memory: the JSON text and the concatenated weight bytes. */
fs_status fs_nn_model_load_memory(const fs_nn_ops *ops, const char *json, size_t json_size,
                                  const void *weights, size_t weights_size, fs_error_buf *err,
                                  fs_nn_model **out);

void fs_nn_model_destroy(fs_nn_model *m);

/* Input shape declared by the graph's Placeholder (batch -1 reads as 0). */
fs_nn_shape fs_nn_model_input_shape(const fs_nn_model *m);

/*
 * Infers every shape for @p batch, allocates one arena with buffers reused
 * once their last reader ran, and creates a kernel state per node (fast
 * kernel first, reference if the fast one declines). Call again to change
 * the batch. FS_ERR_SHAPE names the node whose shapes disagree.
 */
fs_status fs_nn_model_prepare(fs_nn_model *m, int batch, fs_error_buf *err);

/*
 * Runs the prepared graph on @p input (NHWC, input shape with the prepared
 * batch), each kernel with @p ex (its pool; its err receives the detail).
 * Allocates nothing. Fails on NULL arguments, an unprepared model, or the
 * first kernel that fails (its status; the outputs are then undefined).
 */
fs_status fs_nn_model_run(fs_nn_model *m, const fs_exec *ex, const float *input);

/*
 * An output by node name (e.g. "Identity_2"), valid until the next run or
 * prepare. Returns FS_ERR_INVALID_ARGUMENT if the name is not a graph output.
 */
fs_status fs_nn_model_output(const fs_nn_model *m, const char *name, const float **data,
                             fs_nn_shape *shape);

/* The TF shape of an output (rank 0..4; dims beyond the rank read 1). Same errors. */
fs_status fs_nn_model_output_dims(const fs_nn_model *m, const char *name, int *rank,
                                  int64_t dims[4]);

/*
 * Graph outputs: the Identity nodes, the nodes no other node reads, and the
 * outputs the model.json's signature lists (e.g. faceres' "global_pooling/Mean").
 * Number of graph outputs and their names in graph (model.json) order.
 */
int fs_nn_model_output_count(const fs_nn_model *m);
const char *fs_nn_model_output_name(const fs_nn_model *m, int index);

/* Bytes of the planned arena (for tests and benchmarks). */
size_t fs_nn_model_arena_bytes(const fs_nn_model *m);

/* Kernel steps of the prepared plan (Reshape, Identity and fused ops take
 * none), and how many of them run the kernel named @p kernel_name ("ref",
 * "xnnpack", ...): for tests, logs and benchmarks. 0 when unprepared. */
int fs_nn_model_step_count(const fs_nn_model *m);
int fs_nn_model_steps_using(const fs_nn_model *m, const char *kernel_name);

#endif /* FS_NN_H */
