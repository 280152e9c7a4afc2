/*
 * Model files: existence and pinned-checksum checks before the graph
 * runtime reads them (lib/model_files.h).
 */
#include "model_files.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "nn/graph.h"
#include "sha256.h"

/* The sums of scripts/data.sha256 (models/ part). tests/test_detect.c
 * checks that this table and the script's file agree. */
static const struct pinned {
    const char *file;
    const char *sha256;
} pinned[] = {
    {"blazeface.bin", "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72"},
    {"blazeface.json", "cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f"},
    {"face_geometry.binarypb", "bdbcda96dfcb7da883da124aaa2c55dee49770d934f0fcc71747f8c21bdc75b4"},
    {"facemesh.bin", "3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b"},
    {"facemesh.json", "b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7"},
    {"facemeshcoords.ts", "f4a1c3d9426a5db3574c99a7e00631eea80b5c1a150d2f74295a7005964478f2"},
    {"faceres.bin", "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b"},
    {"faceres.json", "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df"},
    {"iris.bin", "d7f296d184274213d4642681ae186112cbbec77fd2ab066257d3c56a1940bc71"},
    {"iris.json", "49038ac9dcc09aa05474d91d98e9db5b47af4830929bcf102ed5a56bfbabb465"},
};
#define N_PINNED ((int)(sizeof(pinned) / sizeof(pinned[0])))

const char *fs_model_pinned_sha256(const char *file)
{
    for (int i = 0; file && i < N_PINNED; i++)
        if (strcmp(pinned[i].file, file) == 0)
            return pinned[i].sha256;
    return NULL;
}

int fs_model_pinned_count(void)
{
    return N_PINNED;
}

const char *fs_model_pinned_name(int index)
{
    return index >= 0 && index < N_PINNED ? pinned[index].file : NULL;
}

static int verify_on(const fs_context *ctx)
{
    return ctx->params[FS_CONTEXT_VERIFY_MODELS] != 0;
}

/* Model files are read whole or hashed; none is larger than the weights' limit. */
#define MODEL_MAX_BYTES FS_NN_MAX_WEIGHT_BYTES

/* Opens a model file that is a regular file (never a FIFO or a device: a
 * link to /dev/zero would be hashed without end) of at most @p max_size bytes. */
static fs_status open_model(const fs_context *ctx, const char *file, size_t max_size,
                            fs_error_buf *err, char **path, int *fd, size_t *size)
{
    char *p = fs_model_path(ctx, file);
    if (!p)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "model file %s: out of memory", file);
    uint64_t n = 0;
    fs_status st = fs_file_open_regular(p, "model file", fd, &n, err);
    if (st == FS_OK && n > max_size) {
        close(*fd);
        st = fs_fail(err, FS_ERR_TOO_LARGE, "model file %s: %llu bytes, above %zu", p,
                     (unsigned long long)n, max_size);
    }
    if (st != FS_OK) {
        free(p);
        return st;
    }
    *path = p;
    *size = (size_t)n;
    return FS_OK;
}

static fs_status compare_sum(const char *path, const char *file, const uint8_t digest[32],
                             fs_error_buf *err)
{
    const char *want = fs_model_pinned_sha256(file);
    char got[FS_SHA256_HEX_SIZE];
    fs_sha256_hex(digest, got);
    if (!want)
        return fs_fail(err, FS_ERR_CHECKSUM, "model file %s has no pinned sha256", path);
    if (strcmp(want, got) != 0)
        return fs_fail(err, FS_ERR_CHECKSUM,
                       "model file %s: sha256 %s differs from the pinned %s (altered or "
                       "another version)", path, got, want);
    return FS_OK;
}

fs_status fs_model_file_check(const fs_context *ctx, const char *file, fs_error_buf *err)
{
    char *path = NULL;
    int fd = -1;
    size_t size = 0;
    fs_status st = open_model(ctx, file, MODEL_MAX_BYTES, err, &path, &fd, &size);
    if (st != FS_OK)
        return st;
    if (verify_on(ctx)) {
        /* The st_size bytes fstat saw, no more: a file growing meanwhile
         * cannot keep the pass going. */
        uint8_t digest[FS_SHA256_SIZE];
        uint64_t hashed = 0;
        const int e = fs_fd_sha256(fd, size, digest, &hashed);
        st = e != 0 ? fs_fail(err, FS_ERR_IO, "model file %s: %s", path, strerror(e))
                    : compare_sum(path, file, digest, err);
    }
    close(fd);
    free(path);
    return st;
}

fs_status fs_model_file_read(const fs_context *ctx, const char *file, size_t max_size,
                             fs_error_buf *err, uint8_t **data, size_t *size)
{
    char *path = NULL;
    int fd = -1;
    size_t n = 0;
    fs_status st = open_model(ctx, file, max_size, err, &path, &fd, &n);
    if (st != FS_OK)
        return st;
    uint8_t *buf = malloc(n + 1);
    size_t used = 0;
    if (!buf) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "model file %s: out of memory", path);
    } else {
        const int e = fs_fd_read_full(fd, buf, n, &used);
        if (e != 0)
            st = fs_fail(err, FS_ERR_IO, "model file %s: %s", path, strerror(e));
    }
    if (st == FS_OK && verify_on(ctx)) {
        uint8_t digest[FS_SHA256_SIZE];
        fs_sha256(buf, used, digest);
        st = compare_sum(path, file, digest, err);
    }
    close(fd);
    free(path);
    if (st != FS_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = used;
    return FS_OK;
}

fs_status fs_model_load_checked(const fs_context *ctx, const fs_nn_ops *ops, const char *base,
                                fs_error_buf *err, fs_nn_model **out)
{
    char json[64], bin[64];
    snprintf(json, sizeof(json), "%s.json", base);
    snprintf(bin, sizeof(bin), "%s.bin", base);
    fs_status st = fs_model_file_check(ctx, json, err);
    if (st == FS_OK)
        st = fs_model_file_check(ctx, bin, err);
    if (st != FS_OK)
        return st;
    char *path = fs_model_path(ctx, json);
    if (!path)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "model file %s: out of memory", json);
    st = fs_nn_model_load(ops, path, err, out);
    free(path);
    return st;
}
