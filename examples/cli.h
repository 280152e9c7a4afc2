/*
 * What the faceswap tool's commands share: exit codes, error reports,
 * option parsing, and the swap options that `swap` and `video` both take.
 */
#ifndef FACESWAP_CLI_H
#define FACESWAP_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <faceswap/faceswap.h>

/* Exit codes are part of the tool's interface (doc/cli.md); keep them stable. */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,   /* bad command line */
    EXIT_INPUT = 2,   /* the image: missing, unreadable, corrupt, unsupported, too large */
    EXIT_MODEL = 3,   /* the model files: missing, altered, invalid */
    EXIT_OUTPUT = 4,  /* the overlay or stdout could not be written */
    EXIT_RUNTIME = 5, /* anything else: out of memory, backend unavailable, internal */
    EXIT_NO_FACE = 6, /* swap: the source photo (or the target) shows no usable face */
    EXIT_VIDEO = 7,   /* analyse, video: the video or the template file is unreadable,
                       * unsupported, too long, or not the template's video */
    EXIT_CHECK = 8    /* check: the photo fails the selfie check; swap, video: the
                       * source fails it and --strict-source was given */
};

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void usage_error(const char *fmt, ...);
/* A library failure: what we tried, the status name, the handle's detail. */
void report(const char *what, fs_status st, const char *detail);
int exit_for_image_status(fs_status st);
int exit_for_model_status(fs_status st);
int exit_for_run_status(fs_status st);
/*
 * After a call that loads the models on first use (a capture, a swap, an
 * analysis) failed with @p failed, a status a model file may cause: loads
 * the models as detect does and, when one fails, reports it as detect does
 * and returns its exit code (EXIT_MODEL), so that every command reports a
 * broken model folder alike; -1 when they load (the failure was another).
 * Costs a model load on that error path only.
 */
int check_models_after(fs_context *ctx, fs_status failed);
/* Flushes stdout; on a write error (a full disk, /dev/full, a closed pipe)
 * says so on stderr and returns EXIT_OUTPUT, else EXIT_OK. */
int finish_stdout(void);
/* -1 when @p path ends in an extension fs_image_write_file() writes, else
 * reports it for option @p opt and returns EXIT_OUTPUT: checked before any work. */
int check_image_extension(const char *opt, const char *path);
/* Whole-string number parsing: "12abc", "", "nan" and overflow are rejected. */
int parse_double(const char *s, double *out);
int parse_int64(const char *s, int64_t *out);
int parse_number(const char *opt, const char *value, double *out);
int parse_choice(const char *opt, const char *value, const char *const *names, int n, int *out);
int check_range(const char *opt, fs_status st, double lo, double hi, double v);
int check_detector_bound(const char *opt, fs_detector_param param, double v);
int check_fitter_bound(const char *opt, fs_fitter_param param, double v);
int check_context_bound(const char *opt, fs_context_param param, int64_t v);
int check_renderer_bound(const char *opt, fs_renderer_param param, double v);
/* --threads N: an integer within FS_CONTEXT_THREADS' bounds; 0 after a usage error. */
int parse_threads(const char *value, int64_t *out);
/* --max-pixels: an integer within the context's bounds; 0 after a usage error. */
int parse_max_pixels(const char *value, int64_t *out);
/* The name and value of option argv[*i], "--opt value" (advancing *i) or
 * "--opt=value"; 0 after a usage error (a name of 64 bytes or more, a
 * missing value). */
int split_option(int argc, char **argv, int *i, char name[64], const char **value);
/* A number with @p digits decimals; null when not finite (JSON has no NaN). */
void put_num(FILE *out, double v, int digits);
/* A JSON string (quotes, escapes), or null for NULL. */
void put_json_string(FILE *out, const char *s);
/* The tool's default for --threads: every online core, as ffmpeg and x264 do. */
int64_t default_threads(void);

/* `swap` and `video` (mode CMD_VIDEO; CMD_ANALYSE takes the video options only). */
enum { CMD_SWAP = 0, CMD_VIDEO = 1, CMD_ANALYSE = 2 };

typedef struct swap_options {
    int mode;
    const char *source, *target, *output, *debug, *models;
    int faces; /* FS_SWAP_FACES_ALL, FS_SWAP_FACES_LARGEST or an index */
    int blend, color;
    int64_t threads;
    int64_t max_pixels; /* < 0: the library's default */
    int reference;
    int json;
    double min_face, max_yaw; /* < 0: the library's default */
    double shape;             /* < 0: the library's default */
    int detail, skin_guard, eyes_mouth; /* < 0: the library's default; else 0 off, 1 on */
    /* video and analyse */
    const char *video, *template_file, *poster;
    int track;          /* -3: the template's; FS_TRACK_PROTAGONIST, FS_TRACK_ALL, or an id */
    double crf;         /* < 0: the library's default */
    int preset;         /* < 0: the library's default */
    double max_kbitrate; /* < 0: the library's default */
    int encoder;        /* < 0: the library's default */
    int progress;       /* -1: on when stderr is a terminal; 0 off; 1 on */
    int strict_source;  /* swap, video: 1 refuses a source that fails the selfie check */
} swap_options;

int parse_swap_args(int argc, char **argv, swap_options *o);
/* Creates the renderer with the options' settings; -1 or an exit code. */
int make_renderer(fs_context *ctx, const swap_options *o, fs_renderer **out);
/* Reads PHOTO and captures its largest face; -1 or an exit code. */
int capture_source(fs_context *ctx, const swap_options *o, fs_image *src, fs_identity **out);
/* Context with --threads, --reference and --models applied; -1 or an exit code. */
int make_context(const swap_options *o, fs_context **out);

/* `faceswap check PHOTO`: argv after the command. */
int run_check(int argc, char **argv);
/* The selfie check of a captured source: a warning on stderr when it fails,
 * or, with --strict-source, an error; -1 to go on, else EXIT_CHECK. */
int judge_source(const swap_options *o, const fs_identity *id);

int run_analyse(const swap_options *o);
int run_video(const swap_options *o);

#endif /* FACESWAP_CLI_H */
