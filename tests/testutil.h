/* Helpers shared by the Check tests. */
#ifndef FS_TESTUTIL_H
#define FS_TESTUTIL_H

#include <check.h>
#include <stdio.h>

#include "faceswap/faceswap.h"

/* $FS_MODEL_DIR, $FS_TESTDATA_DIR, $FS_GOLDEN_DIR joined with a file name, in a static buffer
 * (one per call site is not needed: the returned pointer stays valid until the 8th next call). */
const char *fs_test_model_path(const char *file);
const char *fs_test_data_path(const char *file);
const char *fs_test_golden_path(const char *file);

/* 1 if the file exists. Tests that need fetched data call this and fail with
 * a message naming scripts/fetch-data.sh when it is missing. */
int fs_test_file_exists(const char *path);

/* A temporary file path unique to this process: <tmpdir>/fs_test_<pid>_<tag>. */
const char *fs_test_tmp_path(const char *tag);

/* A context, detector or fitter with default settings; fail the test (naming
 * the status and the context's detail) when they cannot be created. */
/* A whole file into a new malloc'd buffer (one byte more than *n), or NULL. */
uint8_t *fs_test_slurp(const char *path, size_t *n);
/* Writes @p n bytes to @p path: 0, or -1 on any failure. */
int fs_test_spit(const char *path, const uint8_t *b, size_t n);

/* A context with a detector, a fitter and a renderer, each asserted to
 * open; emb stays NULL for a test to create where it needs one (faceres
 * takes a while to load). Close releases whatever is set. */
typedef struct fs_embedder fs_embedder; /* lib/embed/embed.h */
typedef struct fs_test_swap_env {
    fs_context *ctx;
    fs_detector *det;
    fs_fitter *fit;
    fs_renderer *ren;
    fs_embedder *emb;
} fs_test_swap_env;
void fs_test_swap_env_open(fs_test_swap_env *e);
void fs_test_swap_env_close(fs_test_swap_env *e);

fs_context *fs_test_new_context(void);
fs_detector *fs_test_new_detector(fs_context *ctx);
fs_fitter *fs_test_new_fitter(fs_context *ctx);

/* Decodes $FS_TESTDATA_DIR/<file> into @p img; fails the test, naming
 * scripts/fetch-data.sh, when the file is missing. JPEGs are decoded with
 * Debian's stb, not lib/image's libjpeg-turbo: the golden files and the
 * tests' calibrations were made on stb's pixels (tests/golden/README.md);
 * the two decoders differ by a level or two on a few percent of the bytes.
 * Other formats go through fs_image_read_file. Release with fs_image_free(). */
void fs_test_load_image(fs_context *ctx, const char *file, fs_image *img);

/* As fs_test_load_image, for a full @p path. */
void fs_test_load_path(fs_context *ctx, const char *path, fs_image *img);

/* As fs_test_load_image, and asserts that the image decoded as RGB8. */
void fs_test_load_rgb8(fs_context *ctx, const char *file, fs_image *img);

/* A packed deep copy of an 8-bit image of @p channels channels; release
 * with free(copy.data). */
fs_image fs_test_copy_image(const fs_image *src, int channels);

/* Copies a file byte for byte; fails the test on any error. */
void fs_test_copy_file(const char *from, const char *to);

/* Runs a Check suite and returns the process exit status. */
int fs_test_run_suite(Suite *s);

#define FS_ASSERT_OK(expr)                                                                   \
    do {                                                                                     \
        fs_status st_ = (expr);                                                              \
        ck_assert_msg(st_ == FS_OK, "%s returned %s", #expr, fs_status_name(st_));           \
    } while (0)

#define FS_ASSERT_STATUS(expr, want)                                                         \
    do {                                                                                     \
        fs_status st_ = (expr);                                                              \
        ck_assert_msg(st_ == (want), "%s returned %s, want %s", #expr, fs_status_name(st_),  \
                      fs_status_name(want));                                                 \
    } while (0)

#endif
