/*
 * Helpers shared by the benchmarks: a monotonic clock in ms, the median of a
 * sample (sorted in place, so its first element is then the minimum), and
 * loading a photo named on the command line.
 */
#ifndef FS_BENCH_UTIL_H
#define FS_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faceswap/faceswap.h"

static inline double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Loads the RGB8 photo of @p spec, "PATH[:FACE]" (FACE: a detector index,
 * into *face; -1 when none is given), looking in $FS_TESTDATA_DIR too when
 * PATH is not found. 0 on success; else 1, with "PROG: PATH: STATUS (detail)"
 * on stderr. */
static inline int bench_load_photo(fs_context *ctx, const char *prog, const char *spec,
                                   fs_image *img, int *face)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", spec);
    char *colon = strrchr(path, ':');
    *face = -1;
    if (colon && colon[1] >= '0' && colon[1] <= '9') {
        *face = atoi(colon + 1);
        *colon = '\0';
    }
    memset(img, 0, sizeof(*img));
    fs_status st = fs_image_read_file(ctx, path, img);
    if (st == FS_ERR_NOT_FOUND && getenv("FS_TESTDATA_DIR")) {
        char alt[8192];
        snprintf(alt, sizeof(alt), "%s/%s", getenv("FS_TESTDATA_DIR"), path);
        st = fs_image_read_file(ctx, alt, img);
    }
    if (st == FS_OK && img->format != FS_PIXEL_RGB8) {
        fs_image_free(img);
        st = FS_ERR_UNSUPPORTED;
    }
    if (st == FS_OK)
        return 0;
    const char *detail = fs_context_last_error(ctx);
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, path, fs_status_name(st), detail ? detail : "");
    return 1;
}

#endif /* FS_BENCH_UTIL_H */
