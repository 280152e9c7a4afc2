/*
 * faceswap: the command-line tool over the public libfaceswap API.
 *
 *   faceswap detect IMAGE [--json] [--overlay OUT.png] [options]
 *   faceswap swap --source PHOTO --target IMAGE --output OUT [options]
 *   faceswap analyse VIDEO --output TEMPLATE.fst [--track N|all] [--json]
 *   faceswap video --source PHOTO --video VIDEO [--template TEMPLATE.fst] --output OUT.mp4
 *   faceswap check PHOTO [--json]
 *   faceswap --version | --help
 *
 * Only include/faceswap/ is used, so this file is also the reference for how
 * an embedding program drives the library. Exit codes are part of the tool's
 * interface (doc/cli.md); keep them stable.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <faceswap/faceswap.h>

#include "cli.h"


static const char usage_text[] =
    "usage: faceswap detect IMAGE [options]\n"
    "       faceswap swap --source PHOTO --target IMAGE --output OUT [swap options]\n"
    "       faceswap analyse VIDEO --output TEMPLATE.fst [analyse options]\n"
    "       faceswap video --source PHOTO --video VIDEO [--template TEMPLATE.fst]\n"
    "                      --output OUT.mp4 [video options]\n"
    "       faceswap check PHOTO [--json] [--face N|largest]\n"
    "       faceswap --version\n"
    "       faceswap --help\n"
    "\n"
    "detect: finds the faces in IMAGE (JPEG with EXIF orientation, PNG, BMP, binary PPM)\n"
    "and fits 478 3D landmarks and the head pose to each.\n"
    "\n"
    "options:\n"
    "  --json                        print one JSON object to stdout instead of a summary\n"
    "  --overlay OUT.png             write the image with boxes, keypoints and mesh\n"
    "                                (.png, .jpg, .bmp or .ppm, by extension)\n"
    "  --detector-input squash|letterbox\n"
    "                                how the image is fitted into the detector input\n"
    "                                (default: the library's, letterbox in 0.1)\n"
    "  --align none|roll             orient the landmark crop by the face's roll or not\n"
    "                                (default: the library's, roll in 0.1)\n"
    "  --max-faces N                 at most N faces (1..100, default 10)\n"
    "  --min-score F                 detector score threshold (0..1, default 0.2)\n"
    "  --min-confidence F            landmark confidence threshold (0..1, default 0.2)\n"
    "  --models DIR                  model folder (default: $FS_MODEL_DIR or the installed one)\n"
    "  --max-pixels N                largest image accepted, width * height (default 50000000)\n"
    "  --threads N                   CPU worker threads (1..256, default: every core)\n"
    "  --backend auto|cpu|cuda       compute backend (default auto)\n"
    "  --reference                   force the plain-C reference path (slow)\n"
    "\n"
    ;
static const char usage_swap[] =
    "swap: puts the largest face of PHOTO onto faces of IMAGE and writes OUT\n"
    "(.png, .jpg, .bmp or .ppm by extension; written atomically).\n"
    "  --faces all|largest|N         target faces to swap (default all; N: detector order)\n"
    "  --blend alpha|multiband|poisson  (default multiband)\n"
    "  --color none|meanstd|full     colour correction (default full)\n"
    "  --shape F                     how far the face takes the source's shape inside its\n"
    "                                outline, 0..1 (default 0.5)\n"
    "  --detail on|off               match sharpness and grain to the target (default on)\n"
    "  --skin-guard on|off           keep hair and grazing-angle texels out (default on)\n"
    "  --eyes-mouth target|gaze|source  whose eyes and mouth interior show (default target:\n"
    "                                the target's whole eye openings, lashes included, and\n"
    "                                teeth; gaze: the target's irises and teeth, the source's\n"
    "                                eye whites and lash line, a little more likeness)\n"
    "  --min-face PX                 skip target faces under PX pixels (8..4096, default 24)\n"
    "  --max-yaw DEG                 skip target faces turned beyond DEG degrees (0..90,\n"
    "                                default 75)\n"
    "  --json                        print one JSON object (source face taken, one entry per\n"
    "                                target face) to stdout instead of the summary; without\n"
    "                                it each target face gets a line on stderr: swapped, or\n"
    "                                skipped and why\n"
    "  --debug DIR                   also write the intermediate images into DIR (made if\n"
    "                                missing): source_crop.png, atlas.png, face<K>_render.png,\n"
    "                                face<K>_mask.png (K: each target face swapped), before.png,\n"
    "                                after.png, before_after.jpg, faces.json (where each\n"
    "                                face's images lie in the target) and identity.fsid\n"
    "  --strict-source               refuse a source photo that fails the selfie check\n"
    "                                (exit 8; without it a warning on stderr)\n"
    "  --models DIR, --max-pixels N, --threads N, --reference  as for detect\n"
    "\n"
    ;
static const char usage_check[] =
    "check: the selfie check of PHOTO as a source: face size, head pose, exposure, colour\n"
    "of the light, sharpness, eyes, mask or hand, border, other faces. Prints each\n"
    "criterion's quality (0..1; below 0.5 fails), the score (the lowest) and the measures.\n"
    "  --json                        one JSON object instead of the summary\n"
    "  --face N|largest              the face to check (default largest, as swap takes it)\n"
    "  --models DIR, --max-pixels N, --threads N, --reference  as for detect\n"
    "\n"
    ;
static const char usage_video[] =
    "analyse: decodes VIDEO (MP4, MOV, MKV, WebM, AVI; H.264, HEVC, VP9, MPEG-4), finds and\n"
    "tracks its faces, smooths them and writes the template file (atomically).\n"
    "  --output TEMPLATE.fst         the template file to write\n"
    "  --track main|all|N            which faces a render swaps by default (main: the\n"
    "                                protagonist, the track present in most frames)\n"
    "  --json                        print one JSON object (size, frames, tracks) to stdout\n"
    "  --progress on|off             progress bar on stderr (default: on a terminal)\n"
    "  --models DIR, --max-pixels N, --threads N, --reference  as for detect (--max-pixels:\n"
    "                                the largest frame)\n"
    "\n"
    "video: puts the largest face of PHOTO onto the chosen track of VIDEO and writes an\n"
    "MP4 (H.264, yuv420p, moov first, the video's timing, colour tags, rotation and\n"
    "audio kept; written atomically). Without --template, VIDEO is analysed first.\n"
    "  --template TEMPLATE.fst       the analysis of VIDEO (faceswap analyse)\n"
    "  --poster OUT.jpg              also write the frame where the face is largest and\n"
    "                                most frontal, swapped\n"
    "  --crf N                       x264 quality, 0..51 (default 23)\n"
    "  --preset NAME                 x264 preset, ultrafast..veryslow (default veryfast)\n"
    "  --max-kbitrate N              bit rate cap, kbit/s (default none)\n"
    "  --encoder auto|x264|nvenc     H.264 encoder (default auto: nvenc where a GPU has one)\n"
    "  --track main|all|N            faces to swap (default: the template's choice)\n"
    "  --json, --progress on|off     as for analyse\n"
    "  the swap options (--blend, --color, --shape, --detail, --skin-guard, --eyes-mouth,\n"
    "  --min-face, --max-yaw, --strict-source), --models DIR, --max-pixels N, --threads N,\n"
    "  --reference                   as for swap\n"
    "\n"
    ;
static const char usage_exit[] =
    "exit status:\n"
    "  0  success (also when no face is found: \"faces\" is empty)\n"
    "  1  usage error (unknown option, bad or out-of-range value)\n"
    "  2  input image error (not found, unreadable, corrupt, unsupported, too large)\n"
    "  3  model error (model files missing, altered or invalid)\n"
    "  4  output error (overlay, swap output, debug folder or stdout could not be written)\n"
    "  5  other run-time error (out of memory, backend unavailable, internal)\n"
    "  6  swap: no face in the source photo, or none to swap in the target (all too small,\n"
    "     turned too far, rejected by the fitter, or no face N for --faces N); video: no\n"
    "     face in the source photo; check: no face in PHOTO (or not the face asked)\n"
    "  7  analyse, video: the video or the template file is unreadable, unsupported, too\n"
    "     long, altered, or the template is not that of the video\n"
    "  8  check: PHOTO fails the selfie check; swap, video: the source photo fails it\n"
    "     and --strict-source is given\n"
    "Errors are reported on stderr as: faceswap: WHAT: FS_ERR_NAME: detail\n";

/* In parts: C99 promises string literals of 4095 bytes only. */
static int print_usage(FILE *out)
{
    fputs(usage_text, out);
    fputs(usage_swap, out);
    fputs(usage_check, out);
    fputs(usage_video, out);
    fputs(usage_exit, out);
    return out == stdout ? finish_stdout() : EXIT_OK;
}

typedef struct options {
    const char *image;
    const char *overlay;
    const char *models;
    int json;
    int reference;
    int detector_input; /* -1: library default */
    int align;          /* -1: library default */
    int backend;        /* -1: library default */
    double max_faces;   /* < 0: library default */
    double min_score;
    double min_confidence;
    int64_t max_pixels; /* < 0: library default */
    int64_t threads;
} options;

/* Options of `detect` that take a value; both "--opt value" and "--opt=value" work. */
static const char *const value_options[] = {
    "--overlay", "--detector-input", "--align", "--max-faces", "--min-score",
    "--min-confidence", "--models", "--max-pixels", "--threads", "--backend",
};

static int takes_value(const char *name)
{
    for (size_t i = 0; i < sizeof(value_options) / sizeof(value_options[0]); i++)
        if (strcmp(name, value_options[i]) == 0)
            return 1;
    return 0;
}

/* Returns -1 on success, otherwise the exit code to leave with. */
static int apply_option(options *o, const char *name, const char *value)
{
    static const char *const inputs[] = {"squash", "letterbox"};
    static const char *const aligns[] = {"none", "roll"};
    static const char *const backends[] = {"auto", "cpu", "cuda"};

    if (strcmp(name, "--overlay") == 0) {
        if (!*value) {
            usage_error("--overlay: empty file name");
            return EXIT_USAGE;
        }
        o->overlay = value;
    } else if (strcmp(name, "--models") == 0) {
        o->models = value;
    } else if (strcmp(name, "--detector-input") == 0) {
        /* the enum values follow the order of the names */
        if (!parse_choice(name, value, inputs, 2, &o->detector_input))
            return EXIT_USAGE;
    } else if (strcmp(name, "--align") == 0) {
        if (!parse_choice(name, value, aligns, 2, &o->align))
            return EXIT_USAGE;
    } else if (strcmp(name, "--backend") == 0) {
        if (!parse_choice(name, value, backends, 3, &o->backend))
            return EXIT_USAGE;
    } else if (strcmp(name, "--max-faces") == 0) {
        int64_t n = 0;
        if (!parse_int64(value, &n)) {
            usage_error("--max-faces: '%s' is not an integer", value);
            return EXIT_USAGE;
        }
        if (!check_detector_bound(name, FS_DETECTOR_MAX_FACES, (double)n))
            return EXIT_USAGE;
        o->max_faces = (double)n;
    } else if (strcmp(name, "--min-score") == 0) {
        if (!parse_number(name, value, &o->min_score) ||
            !check_detector_bound(name, FS_DETECTOR_SCORE_THRESHOLD, o->min_score))
            return EXIT_USAGE;
    } else if (strcmp(name, "--min-confidence") == 0) {
        if (!parse_number(name, value, &o->min_confidence) ||
            !check_fitter_bound(name, FS_FITTER_MIN_CONFIDENCE, o->min_confidence))
            return EXIT_USAGE;
    } else if (strcmp(name, "--max-pixels") == 0) {
        if (!parse_max_pixels(value, &o->max_pixels))
            return EXIT_USAGE;
    } else if (strcmp(name, "--threads") == 0) {
        if (!parse_threads(value, &o->threads))
            return EXIT_USAGE;
    }
    return -1;
}

/* Returns -1 to go on, otherwise the exit code (0 for --help). */
static int parse_detect_args(int argc, char **argv, options *o)
{
    int only_positional = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (o->image) {
                usage_error("detect takes one IMAGE, got '%s' and '%s'", o->image, arg);
                return EXIT_USAGE;
            }
            o->image = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            return print_usage(stdout);
        } else if (strcmp(arg, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(arg, "--reference") == 0) {
            o->reference = 1;
        } else {
            /* split "--name=value" without copying: compare the name part by length */
            char name[32];
            const char *eq = strchr(arg, '=');
            const size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
            if (len >= sizeof(name)) {
                usage_error("unknown option '%s'", arg);
                return EXIT_USAGE;
            }
            memcpy(name, arg, len);
            name[len] = '\0';
            if (!takes_value(name)) {
                usage_error(eq ? "option '%s' takes no value" : "unknown option '%s'",
                            eq ? name : arg);
                return EXIT_USAGE;
            }
            const char *value = eq ? eq + 1 : NULL;
            if (!value) {
                if (i + 1 >= argc) {
                    usage_error("option '%s' needs a value", name);
                    return EXIT_USAGE;
                }
                value = argv[++i];
            }
            const int rc = apply_option(o, name, value);
            if (rc >= 0)
                return rc;
        }
    }
    if (!o->image) {
        usage_error("detect needs an IMAGE");
        return EXIT_USAGE;
    }
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Overlay drawing on an RGB8 image. Coordinates may be anything the library
 * returned, so every conversion to int is guarded. */

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

static int to_pixel(float v, int *out)
{
    if (!isfinite(v) || v < -1.0e6f || v > 1.0e6f)
        return 0;
    *out = (int)floorf(v);
    return 1;
}

static void blend_pixel(const fs_image *img, int x, int y, rgb c, int alpha256)
{
    if (x < 0 || y < 0 || x >= img->width || y >= img->height)
        return;
    uint8_t *p = (uint8_t *)img->data + (size_t)y * (size_t)img->stride + (size_t)x * 3;
    p[0] = (uint8_t)((p[0] * (256 - alpha256) + c.r * alpha256) >> 8);
    p[1] = (uint8_t)((p[1] * (256 - alpha256) + c.g * alpha256) >> 8);
    p[2] = (uint8_t)((p[2] * (256 - alpha256) + c.b * alpha256) >> 8);
}

static void fill_rect(const fs_image *img, int x0, int y0, int x1, int y1, rgb c)
{
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > img->width)
        x1 = img->width;
    if (y1 > img->height)
        y1 = img->height;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            blend_pixel(img, x, y, c, 256);
}

static void draw_disc(const fs_image *img, float fx, float fy, int radius, rgb c)
{
    int cx = 0, cy = 0;
    if (!to_pixel(fx, &cx) || !to_pixel(fy, &cy))
        return;
    for (int dy = -radius; dy <= radius; dy++)
        for (int dx = -radius; dx <= radius; dx++)
            if (dx * dx + dy * dy <= radius * radius + radius)
                blend_pixel(img, cx + dx, cy + dy, c, 256);
}

static void draw_box(const fs_image *img, const fs_face_box *b, int thick, rgb c)
{
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    if (!to_pixel(b->x, &x0) || !to_pixel(b->y, &y0) || !to_pixel(b->x + b->width, &x1) ||
        !to_pixel(b->y + b->height, &y1))
        return;
    fill_rect(img, x0, y0, x1 + 1, y0 + thick, c);
    fill_rect(img, x0, y1 - thick + 1, x1 + 1, y1 + 1, c);
    fill_rect(img, x0, y0, x0 + thick, y1 + 1, c);
    fill_rect(img, x1 - thick + 1, y0, x1 + 1, y1 + 1, c);
}

/* Bresenham; pixels outside the image are skipped. Endpoints are bounded by
 * to_pixel(), so a line is at most a few million steps. */
static void draw_line(const fs_image *img, float fx0, float fy0, float fx1, float fy1, rgb c,
                      int alpha256)
{
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    if (!to_pixel(fx0, &x0) || !to_pixel(fy0, &y0) || !to_pixel(fx1, &x1) || !to_pixel(fy1, &y1))
        return;
    const int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    const int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        blend_pixel(img, x0, y0, c, alpha256);
        if (x0 == x1 && y0 == y1)
            break;
        const int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Mesh triangles: TRI468 of facemeshcoords.ts in the model folder, turned
 * into a list of unique edges. Optional: without it the overlay shows points. */

typedef struct mesh_edges {
    uint16_t (*pairs)[2];
    size_t count;
} mesh_edges;

static int compare_edge(const void *a, const void *b)
{
    const uint16_t *ea = a, *eb = b;
    if (ea[0] != eb[0])
        return ea[0] < eb[0] ? -1 : 1;
    return ea[1] < eb[1] ? -1 : ea[1] > eb[1];
}

/* A regular file of at most @p limit bytes, NUL-terminated; NULL for
 * anything else (a FIFO or a device is not waited on nor read). */
static char *read_small_file(const char *path, size_t limit, size_t *size)
{
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return NULL;
    FILE *const f = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? fdopen(fd, "rb") : NULL;
    if (!f) {
        close(fd);
        return NULL;
    }
    char *buf = malloc(limit + 1);
    size_t n = buf ? fread(buf, 1, limit + 1, f) : 0;
    fclose(f);
    if (!buf || n > limit) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *size = n;
    return buf;
}

/* Loads the edges; leaves e empty when the file is absent or does not parse. */
static void load_mesh_edges(const char *model_dir, mesh_edges *e)
{
    enum { MAX_INDICES = 3 * 4096 };
    e->pairs = NULL;
    e->count = 0;
    if (!model_dir)
        return;
    const size_t plen = strlen(model_dir) + sizeof("/facemeshcoords.ts");
    char *path = malloc(plen);
    if (!path)
        return;
    snprintf(path, plen, "%s/facemeshcoords.ts", model_dir);
    size_t size = 0;
    char *text = read_small_file(path, 4u << 20, &size);
    free(path);
    if (!text)
        return;

    uint16_t *idx = malloc(MAX_INDICES * sizeof(*idx));
    size_t n = 0;
    /* "export const TRI468: number[] = [ ... ]": the array starts after the '=' */
    const char *p = strstr(text, "TRI468");
    p = p ? strchr(p, '=') : NULL;
    p = p ? strchr(p, '[') : NULL;
    int ok = idx && p;
    if (ok) {
        p++;
        while (*p && *p != ']') {
            if (*p >= '0' && *p <= '9') {
                long v = 0;
                while (*p >= '0' && *p <= '9' && v < 100000)
                    v = v * 10 + (*p++ - '0');
                if (v >= FS_MESH_LANDMARKS || n >= MAX_INDICES) {
                    ok = 0;
                    break;
                }
                idx[n++] = (uint16_t)v;
            } else if (*p == ',' || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
                p++;
            } else {
                ok = 0; /* anything else (comments, names): not the array we expect */
                break;
            }
        }
        ok = ok && *p == ']' && n > 0 && n % 3 == 0;
    }
    free(text);
    if (ok) {
        e->pairs = malloc(n * sizeof(*e->pairs)); /* 3 edges per triangle of 3 indices */
        if (e->pairs) {
            for (size_t t = 0; t < n; t += 3) {
                for (int k = 0; k < 3; k++) {
                    uint16_t a = idx[t + (size_t)k], b = idx[t + (size_t)(k + 1) % 3];
                    if (a > b) {
                        const uint16_t tmp = a;
                        a = b;
                        b = tmp;
                    }
                    e->pairs[e->count][0] = a;
                    e->pairs[e->count][1] = b;
                    e->count++;
                }
            }
            qsort(e->pairs, e->count, sizeof(*e->pairs), compare_edge);
            size_t u = 0;
            for (size_t i = 0; i < e->count; i++)
                if (u == 0 || compare_edge(e->pairs[u - 1], e->pairs[i]) != 0)
                    memcpy(e->pairs[u++], e->pairs[i], sizeof(e->pairs[0]));
            e->count = u;
        }
    }
    free(idx);
}

typedef struct result {
    fs_face_box box;
    fs_face_landmarks lm;
} result;

static void draw_overlay(const fs_image *img, const result *faces, int n, const mesh_edges *edges)
{
    /* fs_image_read_file() documents RGB8 host pixels; anything else is not ours to draw on */
    if (img->format != FS_PIXEL_RGB8 || img->memory != FS_MEMORY_HOST || !img->data ||
        img->stride < img->width * 3)
        return;
    const int side = img->width < img->height ? img->width : img->height;
    const int thick = side / 400 > 1 ? side / 400 : 1;
    const rgb box_c = {0, 255, 0}, kp_c = {255, 40, 40}, mesh_c = {80, 220, 255},
              edge_c = {255, 255, 255}, iris_c = {255, 230, 0};

    for (int f = 0; f < n; f++) {
        const fs_face_landmarks *lm = &faces[f].lm;
        for (size_t i = 0; i < edges->count; i++) {
            const float *a = lm->points[edges->pairs[i][0]], *b = lm->points[edges->pairs[i][1]];
            draw_line(img, a[0], a[1], b[0], b[1], edge_c, 96);
        }
        const int pr = thick > 1 ? thick / 2 : 0;
        for (int i = 0; i < FS_MESH_LANDMARKS; i++)
            draw_disc(img, lm->points[i][0], lm->points[i][1], pr, mesh_c);
        for (int i = FS_MESH_LANDMARKS; i < FS_LANDMARKS; i++)
            draw_disc(img, lm->points[i][0], lm->points[i][1], pr, iris_c);
    }
    for (int f = 0; f < n; f++) {
        const fs_face_box *b = &faces[f].box;
        draw_box(img, b, thick, box_c);
        for (int k = 0; k < FS_FACE_KEYPOINTS; k++)
            draw_disc(img, b->keypoints[k][0], b->keypoints[k][1], 2 * thick, kp_c);
    }
}

/* ---------------------------------------------------------------------- */
/* Output. */

static void put_box(FILE *out, const fs_face_box *b)
{
    fputc('[', out);
    put_num(out, b->x, 3);
    fputc(',', out);
    put_num(out, b->y, 3);
    fputc(',', out);
    put_num(out, b->width, 3);
    fputc(',', out);
    put_num(out, b->height, 3);
    fputc(']', out);
}

static void print_json(FILE *out, const fs_image *img, const result *faces, int n)
{
    fprintf(out, "{\"image\":{\"width\":%d,\"height\":%d},\"faces\":[", (int)img->width,
            (int)img->height);
    for (int f = 0; f < n; f++) {
        const fs_face_box *b = &faces[f].box;
        const fs_face_landmarks *lm = &faces[f].lm;
        fputs(f ? ",\n{\"box\":" : "\n{\"box\":", out);
        put_box(out, b);
        fputs(",\"score\":", out);
        put_num(out, b->score, 6);
        fputs(",\"keypoints\":[", out);
        for (int k = 0; k < FS_FACE_KEYPOINTS; k++) {
            fputs(k ? ",[" : "[", out);
            put_num(out, b->keypoints[k][0], 3);
            fputc(',', out);
            put_num(out, b->keypoints[k][1], 3);
            fputc(']', out);
        }
        fputs("],\"confidence\":", out);
        put_num(out, lm->confidence, 6);
        fputs(",\"landmarks\":[", out);
        for (int i = 0; i < FS_LANDMARKS; i++) {
            fputs(i ? ",[" : "[", out);
            put_num(out, lm->points[i][0], 3);
            fputc(',', out);
            put_num(out, lm->points[i][1], 3);
            fputc(',', out);
            put_num(out, lm->points[i][2], 3);
            fputc(']', out);
        }
        fputs("],\"pose\":{\"yaw\":", out);
        put_num(out, lm->pose.yaw, 3);
        fputs(",\"pitch\":", out);
        put_num(out, lm->pose.pitch, 3);
        fputs(",\"roll\":", out);
        put_num(out, lm->pose.roll, 3);
        fputs("}}", out);
    }
    fputs(n ? "\n]}\n" : "]}\n", out);
}

static void print_summary(FILE *out, const char *path, const fs_image *img, const result *faces,
                          int n, int detected)
{
    fprintf(out, "%s: %dx%d, %d face%s", path, (int)img->width, (int)img->height, n,
            n == 1 ? "" : "s");
    if (detected != n)
        fprintf(out, " (%d detected, %d rejected by the landmark fit)", detected, detected - n);
    fputc('\n', out);
    for (int f = 0; f < n; f++) {
        const fs_face_box *b = &faces[f].box;
        const fs_face_landmarks *lm = &faces[f].lm;
        fprintf(out,
                "  face %d: box %.1f,%.1f %.1fx%.1f  score %.3f  confidence %.3f  "
                "yaw %.1f pitch %.1f roll %.1f\n",
                f, b->x, b->y, b->width, b->height, b->score, lm->confidence, lm->pose.yaw,
                lm->pose.pitch, lm->pose.roll);
    }
}

/* ---------------------------------------------------------------------- */

typedef struct session {
    fs_context *ctx;
    fs_detector *det;
    fs_fitter *fit;
    fs_image img;
    fs_face_box *boxes;
    result *faces;
    mesh_edges edges;
} session;

static void session_close(session *s)
{
    free(s->edges.pairs);
    free(s->faces);
    free(s->boxes);
    fs_fitter_destroy(s->fit);
    fs_detector_destroy(s->det);
    fs_image_free(&s->img);
    fs_context_destroy(s->ctx);
}

static int configure_context(session *s, const options *o)
{
    fs_status st = fs_context_create(&s->ctx);
    if (st != FS_OK) {
        report("cannot create a context", st, NULL);
        return EXIT_RUNTIME;
    }
    struct {
        fs_context_param param;
        int64_t value;
        int set;
        const char *what;
    } const params[] = {
        {FS_CONTEXT_BACKEND, o->backend, o->backend >= 0, "--backend"},
        {FS_CONTEXT_THREADS, o->threads > 0 ? o->threads : default_threads(), 1, "--threads"},
        {FS_CONTEXT_FORCE_REFERENCE, 1, o->reference, "--reference"},
        {FS_CONTEXT_MAX_PIXELS, o->max_pixels, o->max_pixels >= 0, "--max-pixels"},
    };
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        if (!params[i].set)
            continue;
        st = fs_context_set(s->ctx, params[i].param, params[i].value);
        if (st != FS_OK) {
            report(params[i].what, st, fs_context_last_error(s->ctx));
            return st == FS_ERR_OUT_OF_RANGE || st == FS_ERR_INVALID_ARGUMENT ? EXIT_USAGE
                                                                              : EXIT_RUNTIME;
        }
    }
    if (o->models) {
        st = fs_context_set_model_dir(s->ctx, o->models);
        if (st != FS_OK) {
            report("--models", st, fs_context_last_error(s->ctx));
            return EXIT_RUNTIME;
        }
    }
    return -1;
}

/* Loads both models before any work, so that a broken install is reported
 * the same way whether or not the image shows a face. */
static int load_models(session *s, const options *o)
{
    char what[4160];
    fs_status st = fs_detector_create(s->ctx, &s->det);
    if (st == FS_OK)
        st = fs_fitter_create(s->ctx, &s->fit);
    if (st != FS_OK) {
        snprintf(what, sizeof(what), "cannot load the %s (models in '%s')",
                 s->det ? "landmark fitter" : "detector", fs_context_model_dir(s->ctx));
        report(what, st, fs_context_last_error(s->ctx));
        return exit_for_model_status(st);
    }
    struct {
        fs_detector_param param;
        double value;
        int set;
        const char *what;
    } const dparams[] = {
        {FS_DETECTOR_MAX_FACES, o->max_faces, o->max_faces >= 0, "--max-faces"},
        {FS_DETECTOR_SCORE_THRESHOLD, o->min_score, o->min_score >= 0, "--min-score"},
        {FS_DETECTOR_INPUT_MODE, o->detector_input, o->detector_input >= 0, "--detector-input"},
    };
    for (size_t i = 0; i < sizeof(dparams) / sizeof(dparams[0]); i++) {
        if (dparams[i].set &&
            (st = fs_detector_set(s->det, dparams[i].param, dparams[i].value)) != FS_OK) {
            report(dparams[i].what, st, fs_detector_last_error(s->det));
            return EXIT_USAGE;
        }
    }
    struct {
        fs_fitter_param param;
        double value;
        int set;
        const char *what;
    } const fparams[] = {
        {FS_FITTER_ALIGN, o->align, o->align >= 0, "--align"},
        {FS_FITTER_MIN_CONFIDENCE, o->min_confidence, o->min_confidence >= 0,
         "--min-confidence"},
    };
    for (size_t i = 0; i < sizeof(fparams) / sizeof(fparams[0]); i++) {
        if (fparams[i].set &&
            (st = fs_fitter_set(s->fit, fparams[i].param, fparams[i].value)) != FS_OK) {
            report(fparams[i].what, st, fs_fitter_last_error(s->fit));
            return EXIT_USAGE;
        }
    }
    return -1;
}

static int run_detect(const options *o)
{
    session s;
    memset(&s, 0, sizeof(s));
    char what[64 + 4096];
    /* before any work: a name that cannot be written fails fast */
    int rc = o->overlay ? check_image_extension("--overlay", o->overlay) : -1;
    if (rc >= 0 || (rc = configure_context(&s, o)) >= 0)
        goto done;

    fs_status st = fs_image_read_file(s.ctx, o->image, &s.img);
    if (st != FS_OK) {
        snprintf(what, sizeof(what), "cannot read image '%s'", o->image);
        report(what, st, fs_context_last_error(s.ctx));
        rc = exit_for_image_status(st);
        goto done;
    }
    rc = load_models(&s, o);
    if (rc >= 0)
        goto done;

    double max_faces = 0;
    st = fs_detector_get(s.det, FS_DETECTOR_MAX_FACES, &max_faces);
    if (st != FS_OK || !(max_faces >= 1 && max_faces <= 100000)) {
        report("cannot read the detector's face limit", st != FS_OK ? st : FS_ERR_INTERNAL,
               fs_detector_last_error(s.det));
        rc = EXIT_RUNTIME;
        goto done;
    }
    const int capacity = (int)max_faces;
    s.faces = calloc((size_t)capacity, sizeof(*s.faces));
    s.boxes = calloc((size_t)capacity, sizeof(*s.boxes));
    if (!s.faces || !s.boxes) {
        report("cannot allocate the results", FS_ERR_OUT_OF_MEMORY, NULL);
        rc = EXIT_RUNTIME;
        goto done;
    }
    int detected = 0;
    st = fs_detector_run(s.det, &s.img, s.boxes, capacity, &detected);
    if (st != FS_OK) {
        snprintf(what, sizeof(what), "detection failed on '%s'", o->image);
        report(what, st, fs_detector_last_error(s.det));
        rc = exit_for_run_status(st);
        goto done;
    }
    if (detected > capacity)
        detected = capacity;
    if (detected < 0)
        detected = 0;

    int n = 0;
    for (int f = 0; f < detected; f++) {
        st = fs_fitter_run(s.fit, &s.img, &s.boxes[f], &s.faces[n].lm);
        if (st == FS_ERR_NO_FACE)
            continue; /* the detection was not a face after all */
        if (st != FS_OK) {
            snprintf(what, sizeof(what), "landmark fit of face %d failed", f);
            report(what, st, fs_fitter_last_error(s.fit));
            rc = exit_for_run_status(st);
            goto done;
        }
        s.faces[n].box = s.boxes[f];
        n++;
    }

    if (o->overlay) {
        load_mesh_edges(fs_context_model_dir(s.ctx), &s.edges);
        draw_overlay(&s.img, s.faces, n, &s.edges);
        st = fs_image_write_file(s.ctx, &s.img, o->overlay);
        if (st != FS_OK) {
            snprintf(what, sizeof(what), "cannot write overlay '%s'", o->overlay);
            report(what, st, fs_context_last_error(s.ctx));
            rc = st == FS_ERR_OUT_OF_MEMORY ? EXIT_RUNTIME : EXIT_OUTPUT;
            goto done;
        }
    }

    if (o->json)
        print_json(stdout, &s.img, s.faces, n);
    else
        print_summary(stdout, o->image, &s.img, s.faces, n, detected);
    rc = finish_stdout();
done:
    session_close(&s);
    return rc;
}

/* ---------------------------------------------------------------------- swap */


/* Video options; 0 when @p name is none of them, 1 when taken, -1 on a usage error. */
static int parse_video_option(const char *name, const char *value, swap_options *o)
{
    static const char *const presets[] = {"ultrafast", "superfast", "veryfast",
                                          "faster",    "fast",      "medium",
                                          "slow",      "slower",    "veryslow"};
    static const char *const encoders[] = {"auto", "x264", "nvenc"};
    if (strcmp(name, "--video") == 0) {
        o->video = value;
    } else if (strcmp(name, "--template") == 0 || (o->mode == CMD_ANALYSE && strcmp(name, "--output") == 0)) {
        o->template_file = value;
    } else if (strcmp(name, "--poster") == 0 && o->mode == CMD_VIDEO) {
        o->poster = value;
    } else if (strcmp(name, "--track") == 0) {
        int64_t n = 0;
        if (strcmp(value, "all") == 0) {
            o->track = FS_TRACK_ALL;
        } else if (strcmp(value, "main") == 0 || strcmp(value, "protagonist") == 0) {
            o->track = FS_TRACK_PROTAGONIST;
        } else if (parse_int64(value, &n) && n >= 0 && n < 65536) {
            o->track = (int)n;
        } else {
            usage_error("--track: '%s' is not all, main or a track id 0..65535", value);
            return -1;
        }
    } else if (o->mode == CMD_VIDEO && (strcmp(name, "--crf") == 0 || strcmp(name, "--max-kbitrate") == 0)) {
        const int crf = strcmp(name, "--crf") == 0;
        double v = 0, lo = 0, hi = 0;
        if (!parse_number(name, value, &v) ||
            !check_range(name, fs_video_param_bounds(crf ? FS_VIDEO_CRF : FS_VIDEO_MAX_KBITRATE, &lo, &hi), lo, hi, v))
            return -1;
        *(crf ? &o->crf : &o->max_kbitrate) = v;
    } else if (o->mode == CMD_VIDEO && strcmp(name, "--preset") == 0) {
        if (!parse_choice(name, value, presets, 9, &o->preset))
            return -1;
    } else if (o->mode == CMD_VIDEO && strcmp(name, "--encoder") == 0) {
        if (!parse_choice(name, value, encoders, 3, &o->encoder))
            return -1;
    } else if (strcmp(name, "--progress") == 0) {
        static const char *const off_on[] = {"off", "on"};
        if (!parse_choice(name, value, off_on, 2, &o->progress))
            return -1;
    } else {
        return 0;
    }
    return 1;
}

int parse_swap_args(int argc, char **argv, swap_options *o)
{
    static const char *const blends[] = {"alpha", "multiband", "poisson"};
    static const char *const colors[] = {"none", "meanstd", "full"};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            return print_usage(stdout);
        }
        if (strcmp(arg, "--reference") == 0) {
            o->reference = 1;
            continue;
        }
        if (strcmp(arg, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(arg, "--strict-source") == 0 && o->mode != CMD_ANALYSE) {
            o->strict_source = 1;
            continue;
        }
        char name[64];
        const char *value = NULL;
        if (strncmp(arg, "--", 2) != 0) {
            if (o->mode == CMD_ANALYSE && !o->video) { /* faceswap analyse VIDEO */
                o->video = arg;
                continue;
            }
            usage_error("%s: unexpected argument '%s'",
                        o->mode == CMD_SWAP ? "swap" : o->mode == CMD_VIDEO ? "video" : "analyse", arg);
            return EXIT_USAGE;
        }
        if (!split_option(argc, argv, &i, name, &value))
            return EXIT_USAGE;
        const int vo = o->mode != CMD_SWAP ? parse_video_option(name, value, o) : 0;
        if (vo < 0)
            return EXIT_USAGE;
        if (vo > 0)
            continue;
        if (o->mode == CMD_ANALYSE && strcmp(name, "--threads") != 0 &&
            strcmp(name, "--models") != 0 && strcmp(name, "--max-yaw") != 0 &&
            strcmp(name, "--max-pixels") != 0) {
            usage_error("analyse: unknown option '%s'", name);
            return EXIT_USAGE;
        }
        if (strcmp(name, "--source") == 0) {
            o->source = value;
        } else if (strcmp(name, "--target") == 0 && o->mode == CMD_SWAP) {
            o->target = value;
        } else if (strcmp(name, "--output") == 0) {
            o->output = value;
        } else if (strcmp(name, "--debug") == 0) {
            o->debug = value;
        } else if (strcmp(name, "--models") == 0) {
            o->models = value;
        } else if (strcmp(name, "--blend") == 0) {
            if (!parse_choice(name, value, blends, 3, &o->blend))
                return EXIT_USAGE;
        } else if (strcmp(name, "--color") == 0) {
            if (!parse_choice(name, value, colors, 3, &o->color))
                return EXIT_USAGE;
        } else if (strcmp(name, "--faces") == 0) {
            int64_t n = 0;
            if (strcmp(value, "all") == 0) {
                o->faces = FS_SWAP_FACES_ALL;
            } else if (strcmp(value, "largest") == 0) {
                o->faces = FS_SWAP_FACES_LARGEST;
            } else if (parse_int64(value, &n) && n >= 0 && n < 100) {
                o->faces = (int)n;
            } else {
                usage_error("--faces: '%s' is not all, largest or an index 0..99", value);
                return EXIT_USAGE;
            }
        } else if (strcmp(name, "--max-pixels") == 0) {
            if (!parse_max_pixels(value, &o->max_pixels))
                return EXIT_USAGE;
        } else if (strcmp(name, "--threads") == 0) {
            if (!parse_threads(value, &o->threads))
                return EXIT_USAGE;
        } else if (strcmp(name, "--shape") == 0) {
            if (!parse_number(name, value, &o->shape) ||
                !check_renderer_bound(name, FS_RENDERER_SHAPE, o->shape))
                return EXIT_USAGE;
        } else if (strcmp(name, "--detail") == 0 || strcmp(name, "--skin-guard") == 0 ||
                   strcmp(name, "--eyes-mouth") == 0) {
            static const char *const off_on[] = {"off", "on"};
            static const char *const target_source[] = {"target", "source", "gaze"};
            const int em = strcmp(name, "--eyes-mouth") == 0;
            int *dst = em ? &o->eyes_mouth : strcmp(name, "--detail") == 0 ? &o->detail
                                                                             : &o->skin_guard;
            if (!parse_choice(name, value, em ? target_source : off_on, em ? 3 : 2, dst))
                return EXIT_USAGE;
        } else if (strcmp(name, "--min-face") == 0 || strcmp(name, "--max-yaw") == 0) {
            const int min = strcmp(name, "--min-face") == 0;
            double v = 0;
            if (!parse_number(name, value, &v) ||
                !check_renderer_bound(name, min ? FS_RENDERER_MIN_FACE : FS_RENDERER_MAX_YAW, v))
                return EXIT_USAGE;
            *(min ? &o->min_face : &o->max_yaw) = v;
        } else {
            usage_error("unknown option '%s'", name);
            return EXIT_USAGE;
        }
    }
    if (o->mode == CMD_SWAP && (!o->source || !o->target || !o->output)) {
        usage_error("swap needs --source, --target and --output");
        return EXIT_USAGE;
    }
    if (o->mode == CMD_VIDEO && (!o->source || !o->video || !o->output)) {
        usage_error("video needs --source, --video and --output (and --template, or the video "
                    "is analysed first)");
        return EXIT_USAGE;
    }
    if (o->mode == CMD_ANALYSE && (!o->video || !o->template_file)) {
        usage_error("analyse needs a VIDEO and --output TEMPLATE.fst");
        return EXIT_USAGE;
    }
    if (o->mode != CMD_SWAP && o->debug) {
        usage_error("--debug is for swap only");
        return EXIT_USAGE;
    }
    return -1;
}

static int write_debug(fs_context *ctx, const char *dir, const char *file, const fs_image *img,
                       const fs_identity *id)
{
    char path[4160];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    const fs_status st = img ? fs_image_write_file(ctx, img, path) : fs_identity_save_file(id, path);
    if (st != FS_OK) {
        char what[4200];
        snprintf(what, sizeof(what), "cannot write debug file '%s'", path);
        report(what, st, fs_context_last_error(ctx));
        return EXIT_OUTPUT;
    }
    return -1;
}

/* --debug DIR: made when missing (one level, like mkdir), so that a typo in
 * a deeper path fails instead of growing a tree. */
static int make_debug_dir(const char *dir)
{
    struct stat sb;
    if (mkdir(dir, 0777) == 0)
        return -1;
    const int err = errno;
    if (err == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return -1;
    char what[4200];
    snprintf(what, sizeof(what), "cannot create debug folder '%s'", dir);
    report(what, FS_ERR_IO, err == EEXIST ? "exists and is not a folder" : strerror(err));
    return EXIT_OUTPUT;
}

/* DIR/source_crop.png: the source photo around the captured face's
 * landmarks, with a margin of a quarter of the face's size. */
static int write_source_crop(fs_context *ctx, const char *dir, const fs_image *src,
                             const fs_identity *id)
{
    static fs_face_landmarks lm; /* 6 KB: off the stack; the tool is single-threaded */
    const fs_status st = fs_identity_get_landmarks(id, &lm);
    if (st != FS_OK) {
        report("--debug: source crop", st, NULL);
        return EXIT_RUNTIME;
    }
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FS_LANDMARKS; i++) {
        const float x = lm.points[i][0], y = lm.points[i][1];
        if (!isfinite(x) || !isfinite(y))
            continue;
        x0 = fminf(x0, x);
        y0 = fminf(y0, y);
        x1 = fmaxf(x1, x);
        y1 = fmaxf(y1, y);
    }
    const float margin = 0.25f * fmaxf(x1 - x0, y1 - y0);
    /* clamped in float first: the landmarks may lie far outside the photo */
    const int cx0 = (int)fmaxf(0.0f, fminf(x0 - margin, (float)src->width));
    const int cy0 = (int)fmaxf(0.0f, fminf(y0 - margin, (float)src->height));
    const int cx1 = (int)fmaxf(0.0f, fminf(ceilf(x1 + margin), (float)src->width));
    const int cy1 = (int)fmaxf(0.0f, fminf(ceilf(y1 + margin), (float)src->height));
    fs_image crop = *src;
    if (cx1 > cx0 && cy1 > cy0) { /* else (no finite point) the whole photo */
        crop.width = cx1 - cx0;
        crop.height = cy1 - cy0;
        crop.data = (uint8_t *)src->data + (size_t)cy0 * (size_t)src->stride +
                    (size_t)cx0 * (size_t)fs_pixel_format_channels((fs_pixel_format)src->format);
    }
    return write_debug(ctx, dir, "source_crop.png", &crop, NULL);
}

/* Area-average downscale of an RGB8 image by @p scale (<= 1) into @p dst at
 * column offset @p dx of a buffer @p dst_stride bytes wide. */
static void downscale_rgb8(const fs_image *src, int ow, int oh, uint8_t *dst, size_t dst_stride,
                           int dx)
{
    const int w = src->width, h = src->height;
    for (int oy = 0; oy < oh; oy++) {
        const int sy0 = (int)((int64_t)oy * h / oh);
        int sy1 = (int)((int64_t)(oy + 1) * h / oh);
        sy1 = sy1 > sy0 ? sy1 : sy0 + 1;
        for (int ox = 0; ox < ow; ox++) {
            const int sx0 = (int)((int64_t)ox * w / ow);
            int sx1 = (int)((int64_t)(ox + 1) * w / ow);
            sx1 = sx1 > sx0 ? sx1 : sx0 + 1;
            uint32_t sum[3] = {0, 0, 0};
            for (int y = sy0; y < sy1; y++) {
                const uint8_t *p = (const uint8_t *)src->data + (size_t)y * (size_t)src->stride;
                for (int x = sx0; x < sx1; x++)
                    for (int c = 0; c < 3; c++)
                        sum[c] += p[(size_t)x * 3 + (size_t)c];
            }
            const uint32_t n = (uint32_t)((sy1 - sy0) * (sx1 - sx0));
            uint8_t *d = dst + (size_t)oy * dst_stride + ((size_t)dx + (size_t)ox) * 3;
            for (int c = 0; c < 3; c++)
                d[c] = (uint8_t)((sum[c] + n / 2) / n);
        }
    }
}

/* DIR/before_after.jpg: the target before and after, side by side, each
 * scaled down to at most 1024 px a side, so that it stays a quick preview. */
static int write_before_after(fs_context *ctx, const char *dir, const fs_image *before,
                              const fs_image *after)
{
    enum { SIDE = 1024, GAP = 8 };
    const int w = before->width, h = before->height;
    const double s = fmin(1.0, (double)SIDE / (w > h ? w : h));
    const int ow = (int)fmax(1.0, floor(w * s + 0.5)), oh = (int)fmax(1.0, floor(h * s + 0.5));
    const int tw = 2 * ow + GAP;
    const size_t stride = (size_t)tw * 3;
    uint8_t *px = malloc(stride * (size_t)oh);
    if (!px) {
        report("--debug: before_after.jpg", FS_ERR_OUT_OF_MEMORY, NULL);
        return EXIT_RUNTIME;
    }
    memset(px, 255, stride * (size_t)oh); /* the gap stays white */
    downscale_rgb8(before, ow, oh, px, stride, 0);
    downscale_rgb8(after, ow, oh, px, stride, ow + GAP);
    const fs_image both = {.width = tw, .height = oh, .stride = (int32_t)stride,
                           .format = FS_PIXEL_RGB8, .memory = FS_MEMORY_HOST, .data = px};
    const int rc = write_debug(ctx, dir, "before_after.jpg", &both, NULL);
    free(px);
    return rc;
}

/* DIR/faces.json: where each face<K> window lies in the target, so that
 * tools can put the render and mask over before.png / after.png. Written
 * to a temporary name and renamed, like the images. */
static int write_faces_json(const char *dir, const fs_renderer *ren, const int *face_of, int kept)
{
    char path[4160], tmp[4176], what[4200];
    snprintf(path, sizeof(path), "%s/faces.json", dir);
    snprintf(tmp, sizeof(tmp), "%s/.faces.json.tmp", dir);
    FILE *f = fopen(tmp, "w");
    int err = f ? 0 : errno;
    if (f) {
        fputs("[", f);
        fs_image v;
        int x0, y0;
        for (int k = 0; k < kept && fs_renderer_debug_image(ren, k, FS_DEBUG_RENDER, &v, &x0, &y0) == FS_OK; k++)
            fprintf(f, "%s\n  {\"face\": %d, \"x\": %d, \"y\": %d, \"width\": %d, \"height\": %d}",
                    k ? "," : "", face_of[k], x0, y0, (int)v.width, (int)v.height);
        fputs("\n]\n", f);
        if (ferror(f))
            err = errno ? errno : EIO;
        if (fclose(f) != 0 && !err)
            err = errno;
        if (!err && rename(tmp, path) != 0)
            err = errno;
        if (err)
            remove(tmp);
    }
    if (!err)
        return -1;
    snprintf(what, sizeof(what), "cannot write debug file '%s'", path);
    report(what, FS_ERR_IO, strerror(err));
    return EXIT_OUTPUT;
}

/* DIR/face<K>_render.png and face<K>_mask.png for every face swapped, K
 * its target face index (as on stderr and in --json), and DIR/faces.json.
 * The renderer keeps the swapped faces in report order. */
static int write_face_debug(fs_context *ctx, const char *dir, const fs_renderer *ren,
                            const fs_swap_face_report *rep, int n)
{
    static const char *const names[2] = {"render", "mask"};
    static const fs_renderer_debug_kind kinds[2] = {FS_DEBUG_RENDER, FS_DEBUG_MASK};
    int face_of[FS_SWAP_MAX_FACES], kept = 0;
    for (int i = 0; i < n && i < FS_SWAP_MAX_FACES; i++) {
        if (rep[i].outcome != FS_SWAP_SWAPPED)
            continue;
        for (int j = 0; j < 2; j++) {
            fs_image view;
            if (fs_renderer_debug_image(ren, kept, kinds[j], &view, NULL, NULL) != FS_OK) {
                report("--debug: face images", FS_ERR_INTERNAL, "fewer faces kept than swapped");
                return EXIT_RUNTIME;
            }
            char file[64];
            snprintf(file, sizeof(file), "face%d_%s.png", i, names[j]);
            const int rc = write_debug(ctx, dir, file, &view, NULL);
            if (rc >= 0)
                return rc;
        }
        face_of[kept++] = i;
    }
    return write_faces_json(dir, ren, face_of, kept);
}

static const char *const outcome_names[] = {"swapped",      "not_chosen",     "skipped_fit",
                                             "skipped_small", "skipped_turned", "failed"};

static const char *outcome_name(int outcome)
{
    return outcome >= 0 && outcome <= FS_SWAP_FAILED ? outcome_names[outcome] : "unknown";
}

/* One line per target face on stderr: what happened to it and why. */
static void print_swap_lines(const swap_options *o, const fs_renderer *ren,
                             const fs_swap_face_report *rep, int n)
{
    double min_face = 0, max_yaw = 0;
    fs_renderer_get(ren, FS_RENDERER_MIN_FACE, &min_face);
    fs_renderer_get(ren, FS_RENDERER_MAX_YAW, &max_yaw);
    for (int i = 0; i < n; i++) {
        const fs_swap_face_report *r = &rep[i];
        fprintf(stderr, "faceswap: target face %d at %.0f,%.0f %.0fx%.0f: ", i, r->box.x, r->box.y,
                r->box.width, r->box.height);
        switch (r->outcome) {
        case FS_SWAP_SWAPPED:
            fprintf(stderr, "swapped (%.0f px, yaw %.0f deg)\n", r->face_size, r->yaw);
            break;
        case FS_SWAP_NOT_CHOSEN:
            fprintf(stderr, "not chosen (--faces %s)\n",
                    o->faces == FS_SWAP_FACES_LARGEST ? "largest: a larger face was swapped"
                                                      : "names another face");
            break;
        case FS_SWAP_SKIPPED_FIT:
            if (r->status == FS_ERR_NO_FACE)
                fputs("skipped: fit rejected (landmark confidence too low: probably no face)\n",
                      stderr);
            else
                fprintf(stderr, "skipped: fit failed: %s\n", fs_status_name((fs_status)r->status));
            break;
        case FS_SWAP_SKIPPED_SMALL:
            fprintf(stderr, "skipped: too small: %.1f px < --min-face %g\n", r->face_size, min_face);
            break;
        case FS_SWAP_SKIPPED_TURNED:
            fprintf(stderr, "skipped: turned: yaw %.1f deg, beyond --max-yaw %g\n", r->yaw, max_yaw);
            break;
        default:
            fprintf(stderr, "failed: %s\n", fs_status_name((fs_status)r->status));
            break;
        }
    }
}

/* --json: the source face taken and one object per target face. */
static void print_swap_json(FILE *out, const fs_identity *id, const fs_image *tgt, int swapped,
                            const fs_swap_face_report *rep, int n)
{
    int src_faces = 0, src_index = -1;
    fs_face_box src_box;
    memset(&src_box, 0, sizeof(src_box));
    fs_identity_source_face(id, &src_faces, &src_index, &src_box);
    fprintf(out, "{\"source\":{\"faces\":%d,\"index\":%d,\"box\":", src_faces, src_index);
    put_box(out, &src_box);
    fprintf(out, "},\"target\":{\"width\":%d,\"height\":%d},\"swapped\":%d,\"faces\":[",
            (int)tgt->width, (int)tgt->height, swapped);
    const int m = n < FS_SWAP_MAX_FACES ? n : FS_SWAP_MAX_FACES;
    for (int i = 0; i < m; i++) {
        const fs_swap_face_report *r = &rep[i];
        fprintf(out, "%s{\"index\":%d,\"box\":", i ? ",\n" : "\n", i);
        put_box(out, &r->box);
        fputs(",\"score\":", out);
        put_num(out, r->box.score, 6);
        fprintf(out, ",\"outcome\":\"%s\",\"status\":\"%s\",\"face_size\":", outcome_name(r->outcome),
                fs_status_name((fs_status)r->status));
        put_num(out, r->face_size, 3);
        fputs(",\"yaw\":", out);
        put_num(out, r->yaw, 3);
        fputs(",\"confidence\":", out);
        put_num(out, r->confidence, 6);
        fputc('}', out);
    }
    fputs(m ? "\n]}\n" : "]}\n", out);
}

int make_context(const swap_options *o, fs_context **out)
{
    fs_context *ctx = NULL;
    fs_status st = fs_context_create(&ctx);
    if (st != FS_OK) {
        report("cannot create a context", st, NULL);
        return EXIT_RUNTIME;
    }
    int rc = -1;
    const int64_t threads = o->threads > 0 ? o->threads : default_threads();
    if ((st = fs_context_set(ctx, FS_CONTEXT_THREADS, threads)) != FS_OK) {
        report("--threads", st, fs_context_last_error(ctx));
        rc = EXIT_USAGE;
    } else if (o->reference && (st = fs_context_set(ctx, FS_CONTEXT_FORCE_REFERENCE, 1)) != FS_OK) {
        report("--reference", st, fs_context_last_error(ctx));
        rc = EXIT_RUNTIME;
    } else if (o->max_pixels >= 0 &&
               (st = fs_context_set(ctx, FS_CONTEXT_MAX_PIXELS, o->max_pixels)) != FS_OK) {
        report("--max-pixels", st, fs_context_last_error(ctx));
        rc = EXIT_USAGE;
    } else if (o->models && (st = fs_context_set_model_dir(ctx, o->models)) != FS_OK) {
        report("--models", st, fs_context_last_error(ctx));
        rc = EXIT_RUNTIME;
    }
    if (rc >= 0) {
        fs_context_destroy(ctx);
        return rc;
    }
    *out = ctx;
    return -1;
}

int make_renderer(fs_context *ctx, const swap_options *o, fs_renderer **out)
{
    char what[4160];
    fs_renderer *ren = NULL;
    fs_status st = fs_renderer_create(ctx, &ren);
    if (st != FS_OK) {
        snprintf(what, sizeof(what), "cannot load the renderer (models in '%s')",
                 fs_context_model_dir(ctx));
        report(what, st, fs_context_last_error(ctx));
        return exit_for_model_status(st);
    }
    if ((st = fs_renderer_set(ren, FS_RENDERER_BLEND, o->blend)) != FS_OK ||
        (st = fs_renderer_set(ren, FS_RENDERER_COLOR, o->color)) != FS_OK ||
        (st = fs_renderer_set(ren, FS_RENDERER_KEEP_DEBUG, o->debug != NULL)) != FS_OK ||
        (o->min_face >= 0 && (st = fs_renderer_set(ren, FS_RENDERER_MIN_FACE, o->min_face)) != FS_OK) ||
        (o->max_yaw >= 0 && (st = fs_renderer_set(ren, FS_RENDERER_MAX_YAW, o->max_yaw)) != FS_OK) ||
        (o->shape >= 0 && (st = fs_renderer_set(ren, FS_RENDERER_SHAPE, o->shape)) != FS_OK) ||
        (o->detail >= 0 && (st = fs_renderer_set(ren, FS_RENDERER_MATCH_DETAIL, o->detail)) != FS_OK) ||
        (o->skin_guard >= 0 &&
         (st = fs_renderer_set(ren, FS_RENDERER_SKIN_GUARD, o->skin_guard)) != FS_OK) ||
        (o->eyes_mouth >= 0 &&
         (st = fs_renderer_set(ren, FS_RENDERER_SWAP_EYES_MOUTH, o->eyes_mouth)) != FS_OK)) {
        report("renderer options", st, fs_renderer_last_error(ren));
        fs_renderer_destroy(ren);
        return EXIT_USAGE;
    }
    *out = ren;
    return -1;
}

int capture_source(fs_context *ctx, const swap_options *o, fs_image *src, fs_identity **out)
{
    char what[4160];
    fs_status st = fs_image_read_file(ctx, o->source, src);
    if (st != FS_OK) {
        snprintf(what, sizeof(what), "cannot read image '%s'", o->source);
        report(what, st, fs_context_last_error(ctx));
        return exit_for_image_status(st);
    }
    st = fs_identity_create_from_image(ctx, src, FS_IDENTITY_LARGEST_FACE, out);
    if (st != FS_OK) {
        /* the models load at the first capture: a broken folder is said as detect says it */
        const int rc = check_models_after(ctx, st);
        if (rc >= 0)
            return rc;
        snprintf(what, sizeof(what), st == FS_ERR_NO_FACE ? "no face in the source photo '%s'"
                                                          : "cannot capture the face of '%s'",
                 o->source);
        report(what, st, fs_context_last_error(ctx));
        return st == FS_ERR_NO_FACE ? EXIT_NO_FACE : exit_for_run_status(st);
    }
    return judge_source(o, *out);
}

static int run_swap(const swap_options *o)
{
    char what[4160];
    fs_context *ctx = NULL;
    fs_identity *id = NULL;
    fs_renderer *ren = NULL;
    uint8_t *before_px = NULL; /* --debug: the target before the swap */
    fs_image src, tgt;
    memset(&src, 0, sizeof(src));
    memset(&tgt, 0, sizeof(tgt));
    /* before any work: a name that cannot be written fails fast */
    int rc = check_image_extension("--output", o->output);
    if (rc >= 0 || (rc = make_context(o, &ctx)) >= 0)
        return rc;
    fs_status st;
    /* before any work, so that an unusable folder fails fast */
    if ((o->debug && (rc = make_debug_dir(o->debug)) >= 0) ||
        (rc = make_renderer(ctx, o, &ren)) >= 0)
        goto done;
    rc = EXIT_RUNTIME;
    st = fs_image_read_file(ctx, o->target, &tgt);
    if (st != FS_OK) {
        snprintf(what, sizeof(what), "cannot read image '%s'", o->target);
        report(what, st, fs_context_last_error(ctx));
        rc = exit_for_image_status(st);
        goto done;
    }
    if ((rc = capture_source(ctx, o, &src, &id)) >= 0)
        goto done;
    rc = EXIT_RUNTIME;
    if (o->debug) {
        fs_image atlas;
        before_px = malloc((size_t)tgt.stride * (size_t)tgt.height);
        if (!before_px) {
            report("--debug", FS_ERR_OUT_OF_MEMORY, NULL);
            rc = EXIT_RUNTIME;
            goto done;
        }
        memcpy(before_px, tgt.data, (size_t)tgt.stride * (size_t)tgt.height);
        if ((rc = write_debug(ctx, o->debug, "before.png", &tgt, NULL)) >= 0 ||
            (rc = write_source_crop(ctx, o->debug, &src, id)) >= 0)
            goto done;
        if ((st = fs_identity_get_atlas(id, &atlas)) != FS_OK) {
            report("--debug: atlas", st, NULL);
            rc = EXIT_RUNTIME;
            goto done;
        }
        if ((rc = write_debug(ctx, o->debug, "atlas.png", &atlas, NULL)) >= 0)
            goto done;
    }
    int n_src = 0, src_index = -1;
    fs_face_box src_box;
    if (!o->json && fs_identity_source_face(id, &n_src, &src_index, &src_box) == FS_OK &&
        n_src > 1)
        fprintf(stderr, "faceswap: source: %d faces in '%s', took face %d (the largest the "
                        "fitter accepts, %.0fx%.0f px)\n",
                n_src, o->source, src_index, src_box.width, src_box.height);
    fs_swap_face_report rep[FS_SWAP_MAX_FACES];
    int n_tgt = 0, swapped = 0;
    st = fs_renderer_swap_image_report(ren, id, &tgt, o->faces, rep, FS_SWAP_MAX_FACES, &n_tgt);
    for (int i = 0; i < n_tgt && i < FS_SWAP_MAX_FACES; i++)
        swapped += rep[i].outcome == FS_SWAP_SWAPPED;
    /* --faces N beyond the faces found: there is no face N to swap */
    const int no_such = st == FS_ERR_OUT_OF_RANGE && o->faces >= 0 && o->faces >= n_tgt;
    if (!o->json)
        print_swap_lines(o, ren, rep, n_tgt);
    else if ((st == FS_ERR_NO_FACE || no_such) && n_tgt > 0) /* the reports say why */
        print_swap_json(stdout, id, &tgt, 0, rep, n_tgt);
    if (st != FS_OK) {
        if ((rc = check_models_after(ctx, st)) >= 0)
            goto done;
        if (no_such)
            snprintf(what, sizeof(what), "no face %d to swap in the target '%s' (%d found; "
                     "--faces counts from 0)", o->faces, o->target, n_tgt);
        else
            snprintf(what, sizeof(what), st == FS_ERR_NO_FACE ? "no face to swap in the target '%s'"
                                                              : "swap failed on '%s'",
                     o->target);
        report(what, st, fs_renderer_last_error(ren));
        rc = st == FS_ERR_NO_FACE || no_such ? EXIT_NO_FACE : exit_for_run_status(st);
        goto done;
    }
    st = fs_image_write_file(ctx, &tgt, o->output);
    if (st != FS_OK) {
        snprintf(what, sizeof(what), "cannot write '%s'", o->output);
        report(what, st, fs_context_last_error(ctx));
        rc = st == FS_ERR_OUT_OF_MEMORY ? EXIT_RUNTIME : EXIT_OUTPUT;
        goto done;
    }
    if (o->debug) {
        fs_image before = tgt;
        before.data = before_px;
        if ((rc = write_face_debug(ctx, o->debug, ren, rep, n_tgt)) >= 0 ||
            (rc = write_debug(ctx, o->debug, "after.png", &tgt, NULL)) >= 0 ||
            (rc = write_before_after(ctx, o->debug, &before, &tgt)) >= 0 ||
            (rc = write_debug(ctx, o->debug, "identity.fsid", NULL, id)) >= 0)
            goto done;
    }
    if (o->json)
        print_swap_json(stdout, id, &tgt, swapped, rep, n_tgt);
    else
        printf("%s: %d face%s swapped from %s\n", o->output, swapped, swapped == 1 ? "" : "s",
               o->source);
    rc = finish_stdout();
done:
    free(before_px);
    fs_identity_destroy(id);
    fs_renderer_destroy(ren);
    fs_image_free(&tgt);
    fs_image_free(&src);
    fs_context_destroy(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        return print_usage(stdout);
    }
    if (strcmp(cmd, "--version") == 0) {
        /* the tool's version is the one it was built with; the library's may be newer */
        printf("faceswap %d.%d.%d (libfaceswap %s)\n", FS_VERSION_MAJOR, FS_VERSION_MINOR,
               FS_VERSION_PATCH, fs_version_string());
        return finish_stdout();
    }
    swap_options so = {.faces = FS_SWAP_FACES_ALL, .blend = FS_BLEND_MULTIBAND,
                       .color = FS_COLOR_FULL, .threads = -1, .max_pixels = -1, .min_face = -1,
                       .max_yaw = -1, .shape = -1, .detail = -1, .skin_guard = -1,
                       .eyes_mouth = -1, .track = -3, .crf = -1, .preset = -1,
                       .max_kbitrate = -1, .encoder = -1, .progress = -1};
    if (strcmp(cmd, "swap") == 0) {
        const int prc = parse_swap_args(argc - 2, argv + 2, &so);
        return prc >= 0 ? prc : run_swap(&so);
    }
    if (strcmp(cmd, "video") == 0 || strcmp(cmd, "analyse") == 0 ||
        strcmp(cmd, "analyze") == 0) {
        so.mode = cmd[0] == 'v' ? CMD_VIDEO : CMD_ANALYSE;
        const int prc = parse_swap_args(argc - 2, argv + 2, &so);
        return prc >= 0 ? prc : so.mode == CMD_VIDEO ? run_video(&so) : run_analyse(&so);
    }
    if (strcmp(cmd, "check") == 0) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                return print_usage(stdout);
        return run_check(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "detect") != 0) {
        usage_error(cmd[0] == '-' ? "unknown option '%s'" : "unknown command '%s'", cmd);
        return EXIT_USAGE;
    }
    options o = {
        .detector_input = -1, .align = -1, .backend = -1, .max_faces = -1,
        .min_score = -1, .min_confidence = -1, .max_pixels = -1, .threads = -1,
    };
    const int rc = parse_detect_args(argc - 2, argv + 2, &o);
    if (rc >= 0)
        return rc;
    return run_detect(&o);
}
