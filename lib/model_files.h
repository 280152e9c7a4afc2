/*
 * Model files, for every part of the library that reads one (detector,
 * fitter, embedder, canonical face): existence and pinned-checksum checks
 * before anything parses them.
 */
#ifndef FS_MODEL_FILES_H
#define FS_MODEL_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "nn/nn.h"

/* Pinned sha256 (hex) of a model file name, as in scripts/data.sha256; NULL if not pinned. */
const char *fs_model_pinned_sha256(const char *file);

/* Number of pinned files and the i-th name (for the test that compares the
 * table with scripts/data.sha256). */
int fs_model_pinned_count(void);
const char *fs_model_pinned_name(int index);

/*
 * Checks that @p file exists in the context's model folder and, when
 * FS_CONTEXT_VERIFY_MODELS is 1, that its sha256 is the pinned one.
 * FS_ERR_NOT_FOUND, FS_ERR_IO, FS_ERR_CHECKSUM (detail names the file),
 * FS_ERR_OUT_OF_MEMORY.
 */
fs_status fs_model_file_check(const fs_context *ctx, const char *file, fs_error_buf *err);

/*
 * Reads a whole model file (at most @p max_size bytes, else FS_ERR_TOO_LARGE),
 * checked as fs_model_file_check() does, into a new malloc'd buffer.
 */
fs_status fs_model_file_read(const fs_context *ctx, const char *file, size_t max_size,
                             fs_error_buf *err, uint8_t **data, size_t *size);

/* Checks <base>.json and <base>.bin, then loads the graph model with @p ops. */
fs_status fs_model_load_checked(const fs_context *ctx, const fs_nn_ops *ops, const char *base,
                                fs_error_buf *err, fs_nn_model **out);

#endif /* FS_MODEL_FILES_H */
