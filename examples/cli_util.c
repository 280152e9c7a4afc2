/*
 * Helpers the faceswap tool's commands share (examples/cli.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("faceswap: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'faceswap --help'.\n", stderr);
}

int parse_threads(const char *value, int64_t *out)
{
    if (!parse_int64(value, out)) {
        usage_error("--threads: '%s' is not an integer", value);
        return 0;
    }
    return check_context_bound("--threads", FS_CONTEXT_THREADS, *out);
}

int parse_max_pixels(const char *value, int64_t *out)
{
    if (!parse_int64(value, out)) {
        usage_error("--max-pixels: '%s' is not an integer", value);
        return 0;
    }
    return check_context_bound("--max-pixels", FS_CONTEXT_MAX_PIXELS, *out);
}

int split_option(int argc, char **argv, int *i, char name[64], const char **value)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    if (eq) {
        const size_t len = (size_t)(eq - arg);
        if (len >= 64) {
            usage_error("unknown option '%s'", arg);
            return 0;
        }
        memcpy(name, arg, len);
        name[len] = 0;
        *value = eq + 1;
        return 1;
    }
    snprintf(name, 64, "%s", arg);
    if (*i + 1 >= argc) {
        usage_error("option '%s' needs a value", name);
        return 0;
    }
    *value = argv[++*i];
    return 1;
}

/* JSON has no NaN or infinity: such a value (a library bug) becomes null. */
void put_num(FILE *out, double v, int digits)
{
    if (isfinite(v))
        fprintf(out, "%.*f", digits, v);
    else
        fputs("null", out);
}

/* Reports a library failure: what we tried, the status name, the handle's detail. */
void report(const char *what, fs_status st, const char *detail)
{
    fprintf(stderr, "faceswap: %s: %s: %s\n", what, fs_status_name(st),
            detail && *detail ? detail : fs_status_message(st));
}

int exit_for_image_status(fs_status st)
{
    return st == FS_ERR_OUT_OF_MEMORY || st == FS_ERR_INTERNAL || st == FS_ERR_GPU ||
                   st == FS_ERR_BACKEND_UNAVAILABLE
               ? EXIT_RUNTIME
               : EXIT_INPUT;
}

int exit_for_model_status(fs_status st)
{
    switch (st) {
    case FS_ERR_TOO_LARGE: /* a model file above the library's limit */
    case FS_ERR_NOT_FOUND:
    case FS_ERR_IO:
    case FS_ERR_TRUNCATED:
    case FS_ERR_CORRUPT:
    case FS_ERR_CHECKSUM:
    case FS_ERR_MODEL:
    case FS_ERR_SHAPE:
    case FS_ERR_UNSUPPORTED:
    case FS_ERR_VERSION:
        return EXIT_MODEL;
    default:
        return EXIT_RUNTIME;
    }
}

/* Creates, then drops, the handles that read @p what's model files: so
 * that a failure can be told from one of the models. */
static fs_status try_load(fs_context *ctx, int what)
{
    fs_status st;
    if (what == 0) {
        fs_detector *det = NULL;
        st = fs_detector_create(ctx, &det);
        fs_detector_destroy(det);
    } else if (what == 1) {
        fs_fitter *fit = NULL;
        st = fs_fitter_create(ctx, &fit);
        fs_fitter_destroy(fit);
    } else {
        fs_renderer *r = NULL;
        st = fs_renderer_create(ctx, &r);
        fs_renderer_destroy(r);
    }
    return st;
}

int check_models_after(fs_context *ctx, fs_status failed)
{
    if (exit_for_model_status(failed) != EXIT_MODEL)
        return -1;
    static const char *const names[3] = {"detector", "landmark fitter", "renderer"};
    for (int k = 0; k < 3; k++) {
        const fs_status st = try_load(ctx, k);
        if (st == FS_OK)
            continue;
        char what[4160];
        snprintf(what, sizeof(what), "cannot load the %s (models in '%s')", names[k],
                 fs_context_model_dir(ctx));
        report(what, st, fs_context_last_error(ctx));
        return exit_for_model_status(st);
    }
    return -1;
}

int finish_stdout(void)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return EXIT_OK;
    const int e = errno ? errno : EIO;
    fprintf(stderr, "faceswap: cannot write to standard output: %s\n", strerror(e));
    return EXIT_OUTPUT;
}

int check_image_extension(const char *opt, const char *path)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".bmp", ".ppm"};
    const char *const slash = strrchr(path, '/');
    const char *const dot = strrchr(slash ? slash + 1 : path, '.');
    for (size_t i = 0; dot && i < sizeof(exts) / sizeof(exts[0]); i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return -1;
    char what[4160];
    snprintf(what, sizeof(what), "cannot write %s '%s'", opt, path);
    report(what, FS_ERR_UNSUPPORTED, "unknown extension (use .png, .jpg, .jpeg, .bmp or .ppm)");
    return EXIT_OUTPUT;
}

/* A run-time failure of detect/fit: input-shaped problems are the image's fault. */
int exit_for_run_status(fs_status st)
{
    return st == FS_ERR_TOO_LARGE || st == FS_ERR_UNSUPPORTED ? EXIT_INPUT : EXIT_RUNTIME;
}

/* Whole-string number parsing: "12abc", "", "nan" and overflow are rejected. */
int parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return 0;
    char *end = NULL;
    errno = 0;
    const double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return 0;
    char *end = NULL;
    errno = 0;
    const long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    *out = (int64_t)v;
    return 1;
}

/* parse_double for option @p opt, with the usage error when it is no number. */
int parse_number(const char *opt, const char *value, double *out)
{
    if (parse_double(value, out))
        return 1;
    usage_error("%s: '%s' is not a number", opt, value);
    return 0;
}

int parse_choice(const char *opt, const char *value, const char *const *names, int n,
                        int *out)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(value, names[i]) == 0) {
            *out = i;
            return 1;
        }
    }
    usage_error("%s: unknown value '%s'", opt, value);
    return 0;
}

/* 1 when v lies in the bounds a *_param_bounds() call gave; when that call
 * failed (st != FS_OK) the library judges the value at its set() call. */
int check_range(const char *opt, fs_status st, double lo, double hi, double v)
{
    if (st == FS_OK && !(v >= lo && v <= hi)) {
        usage_error("%s: %g is outside [%g, %g]", opt, v, lo, hi);
        return 0;
    }
    return 1;
}

int check_detector_bound(const char *opt, fs_detector_param param, double v)
{
    double lo = 0, hi = 0;
    const fs_status st = fs_detector_param_bounds(param, &lo, &hi);
    return check_range(opt, st, lo, hi, v);
}

int check_fitter_bound(const char *opt, fs_fitter_param param, double v)
{
    double lo = 0, hi = 0;
    const fs_status st = fs_fitter_param_bounds(param, &lo, &hi);
    return check_range(opt, st, lo, hi, v);
}

int check_context_bound(const char *opt, fs_context_param param, int64_t v)
{
    int64_t lo = 0, hi = 0;
    if (fs_context_param_bounds(param, &lo, &hi) != FS_OK)
        return 1;
    if (v < lo || v > hi) {
        usage_error("%s: %" PRId64 " is outside [%" PRId64 ", %" PRId64 "]", opt, v, lo, hi);
        return 0;
    }
    return 1;
}

int check_renderer_bound(const char *opt, fs_renderer_param param, double v)
{
    double lo = 0, hi = 0;
    const fs_status st = fs_renderer_param_bounds(param, &lo, &hi);
    return check_range(opt, st, lo, hi, v);
}

/* The cores this process may run on, as ffmpeg counts them: its affinity
 * mask (taskset, a container's cpuset), else every online core. */
int64_t default_threads(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
    if (n < 1)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int64_t)n;
}

void put_json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}
