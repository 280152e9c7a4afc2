#include "testutil.h"
#include "embed/embed.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>

static const char *join(const char *env, const char *fallback, const char *file)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    const char *dir = getenv(env);
    snprintf(b, sizeof(bufs[0]), "%s/%s", dir && *dir ? dir : fallback, file);
    return b;
}

const char *fs_test_model_path(const char *file)
{
    return join("FS_MODEL_DIR", "data/models", file);
}

const char *fs_test_data_path(const char *file)
{
    return join("FS_TESTDATA_DIR", "data/testdata", file);
}

const char *fs_test_golden_path(const char *file)
{
    return join("FS_GOLDEN_DIR", "tests/golden", file);
}

int fs_test_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

const char *fs_test_tmp_path(const char *tag)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    const char *dir = getenv("TMPDIR");
    snprintf(b, sizeof(bufs[0]), "%s/fs_test_%ld_%s", dir && *dir ? dir : "/tmp", (long)getpid(), tag);
    return b;
}

void fs_test_copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    ck_assert_msg(a && b, "copy %s -> %s", from, to);
    char buf[1 << 15];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
        ck_assert(fwrite(buf, 1, n, b) == n);
    fclose(a);
    ck_assert(fclose(b) == 0);
}

uint8_t *fs_test_slurp(const char *path, size_t *n)
{
    FILE *const f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *b = NULL;
    long sz = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        *n = (size_t)sz;
    return b;
}

int fs_test_spit(const char *path, const uint8_t *b, size_t n)
{
    FILE *const f = fopen(path, "wb");
    if (!f)
        return -1;
    const int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

fs_context *fs_test_new_context(void)
{
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    return ctx;
}

fs_detector *fs_test_new_detector(fs_context *ctx)
{
    fs_detector *det = NULL;
    const fs_status st = fs_detector_create(ctx, &det);
    ck_assert_msg(st == FS_OK, "fs_detector_create: %s (%s)", fs_status_name(st),
                  fs_context_last_error(ctx));
    return det;
}

fs_fitter *fs_test_new_fitter(fs_context *ctx)
{
    fs_fitter *fit = NULL;
    const fs_status st = fs_fitter_create(ctx, &fit);
    ck_assert_msg(st == FS_OK, "fs_fitter_create: %s (%s)", fs_status_name(st),
                  fs_context_last_error(ctx));
    return fit;
}

void fs_test_load_path(fs_context *ctx, const char *path, fs_image *img)
{
    ck_assert_msg(fs_test_file_exists(path), "missing %s: run scripts/fetch-data.sh", path);
    memset(img, 0, sizeof(*img));
    const size_t len = strlen(path);
    if (len < 4 || strcmp(path + len - 4, ".jpg") != 0) {
        FS_ASSERT_OK(fs_image_read_file(ctx, path, img));
        return;
    }
    int w = 0, h = 0, comp = 0;
    stbi_uc *const px = stbi_load(path, &w, &h, &comp, 3);
    ck_assert_msg(px != NULL, "%s: stb: %s", path, stbi_failure_reason());
    const size_t bytes = (size_t)w * (size_t)h * 3;
    img->data = malloc(bytes); /* fs_image_free releases it */
    ck_assert_ptr_nonnull(img->data);
    memcpy(img->data, px, bytes);
    stbi_image_free(px);
    img->width = w;
    img->height = h;
    img->stride = w * 3;
    img->format = FS_PIXEL_RGB8;
    img->memory = FS_MEMORY_HOST;
}

void fs_test_load_image(fs_context *ctx, const char *file, fs_image *img)
{
    fs_test_load_path(ctx, fs_test_data_path(file), img);
}

void fs_test_load_rgb8(fs_context *ctx, const char *file, fs_image *img)
{
    fs_test_load_image(ctx, file, img);
    ck_assert_int_eq(img->format, FS_PIXEL_RGB8);
}

fs_image fs_test_copy_image(const fs_image *src, int channels)
{
    fs_image d = *src;
    d.stride = src->width * channels;
    d.data = malloc((size_t)d.stride * (size_t)d.height);
    ck_assert_ptr_nonnull(d.data);
    for (int y = 0; y < src->height; y++)
        memcpy((uint8_t *)d.data + (size_t)y * (size_t)d.stride,
               (const uint8_t *)src->data + (size_t)y * (size_t)src->stride, (size_t)d.stride);
    return d;
}

int fs_test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void fs_test_swap_env_open(fs_test_swap_env *e)
{
    memset(e, 0, sizeof(*e));
    FS_ASSERT_OK(fs_context_create(&e->ctx));
    FS_ASSERT_OK(fs_detector_create(e->ctx, &e->det));
    FS_ASSERT_OK(fs_fitter_create(e->ctx, &e->fit));
    FS_ASSERT_OK(fs_renderer_create(e->ctx, &e->ren));
}

void fs_test_swap_env_close(fs_test_swap_env *e)
{
    fs_embedder_destroy(e->emb);
    fs_renderer_destroy(e->ren);
    fs_fitter_destroy(e->fit);
    fs_detector_destroy(e->det);
    fs_context_destroy(e->ctx);
}
