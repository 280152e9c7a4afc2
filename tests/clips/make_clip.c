/*
 * make_clip: a test video whose true face motion is known. Still photos are
 * moved along a smooth path (pan, zoom, in-plane turn, pauses, cuts) on a
 * canvas, drawn bilinearly over a plain or blurred-photo background, piped
 * as raw RGB to an `ffmpeg` child that encodes them (with a sine tone), and
 * the map from photo to canvas of every frame is written to a truth file
 * (temporal.h). A test tool, not part of the library.
 *
 *   make_clip [options] OUT.mp4 OUT_TRUTH.txt
 *
 * See usage() and tests/clips/README.md.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "faceswap/faceswap.h"
#include "temporal.h"

#define PI 3.14159265358979323846
#define MAX_STEPS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: make_clip [options] OUT_VIDEO OUT_TRUTH\n"
            "  --scenario NAME     motion | bench | short (default short)\n"
            "  --path SPEC         a path instead of the scenario's, e.g.\n"
            "                      'at -300 0; pause 1s; pan 300px/s 2s; zoom 0.8->1.2 2s;\n"
            "                       turn 20deg/s 1.5s; cut to photo 2; move 1fw 0 0.3s'\n"
            "  --photo FILE        a photo (repeat; photo 1 is the first); default the\n"
            "                      scenario's, found in $FS_TESTDATA_DIR\n"
            "  --face PX           face size on the canvas at zoom 1 (larger side of the\n"
            "                      landmarks' box), default 250\n"
            "  --size WxH          canvas, default 1280x720\n"
            "  --fps N[/D]         default 25\n"
            "  --seconds S         clip length (the path is cut or its end held)\n"
            "  --background KIND   blur (the shot's photo, blurred; default) | plain\n"
            "  --noise SIGMA       grey levels of per-frame sensor-like noise (same seed\n"
            "                      each run); default the scenario's (motion, bench 3;\n"
            "                      short 0)\n"
            "  --no-audio          no sine tone\n"
            "  --codec NAME        libx264 (default) | libx265 | libvpx-vp9 | mpeg4\n"
            "  --container FMT     ffmpeg muxer (mp4, mov, matroska, webm, avi); default\n"
            "                      from the output's extension\n"
            "  --pix-fmt FMT       encoder pixel format, default yuv420p\n"
            "  --no-faststart      leave the MP4/MOV index (moov) at the end\n"
            "  --truth-only        write the truth file only (no ffmpeg)\n"
            "Path steps (';' between): pause T | pan|move DX [DY] T | zoom [A->]B T |\n"
            "  turn DEG T | cut [to photo] N | at DX DY (shot start only; offset of the\n"
            "  face from the canvas centre) | zoom B, turn DEG (no T: shot start only).\n"
            "  Units: s; px, fw (face widths: --face x zoom), px/s, fw/s; deg, deg/s.\n"
            "  Every timed step eases in and out (smoothstep: the path is C1).\n");
}

/* ----------------------------------------------------------------- photos */

typedef struct photo {
    fs_image img;
    double anchor[2]; /* face centre (landmark box centre), photo edge coordinates */
    double face;      /* larger side of the 468 landmarks' box, photo pixels */
    double crop[4];   /* drawn part of the photo: x0, y0, x1, y1 (edge coordinates) */
    uint8_t *background;
} photo;

/* Finds the photo's best face and where it is; the same detector and fitter
 * calls as the tests make, so the anchor sits on their landmarks. */
static int locate_face(fs_detector *det, fs_fitter *fit, const char *path, photo *ph)
{
    fs_face_box boxes[10];
    int n = 0;
    fs_status st = fs_detector_run(det, &ph->img, boxes, 10, &n);
    if (st != FS_OK || n < 1) {
        fprintf(stderr, "make_clip: %s: no face found (%s %s)\n", path, fs_status_name(st),
                fs_detector_last_error(det));
        return -1;
    }
    fs_face_landmarks lm;
    st = fs_fitter_run(fit, &ph->img, &boxes[0], &lm);
    if (st != FS_OK) {
        fprintf(stderr, "make_clip: %s: landmarks failed (%s %s)\n", path, fs_status_name(st),
                fs_fitter_last_error(fit));
        return -1;
    }
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int k = 0; k < FS_MESH_LANDMARKS; k++) {
        x0 = fmin(x0, lm.points[k][0]), x1 = fmax(x1, lm.points[k][0]);
        y0 = fmin(y0, lm.points[k][1]), y1 = fmax(y1, lm.points[k][1]);
    }
    ph->anchor[0] = 0.5 * (x0 + x1);
    ph->anchor[1] = 0.5 * (y0 + y1);
    ph->face = fmax(x1 - x0, y1 - y0);
    /* Only a square of 2.6 face sizes around the face is drawn, so a group
     * photo shows one face: the truth describes one. */
    const double half = 1.3 * ph->face;
    ph->crop[0] = fmax(0.0, ph->anchor[0] - half);
    ph->crop[1] = fmax(0.0, ph->anchor[1] - half);
    ph->crop[2] = fmin((double)ph->img.width, ph->anchor[0] + half);
    ph->crop[3] = fmin((double)ph->img.height, ph->anchor[1] + half);
    return ph->face > 4.0 ? 0 : -1;
}

/* Bilinear sample of an RGB8 image at edge coordinates (x, y), edges clamped. */
static void sample(const fs_image *im, double x, double y, uint8_t *out)
{
    double u = x - 0.5, v = y - 0.5;
    u = fmin(fmax(u, 0.0), im->width - 1.0);
    v = fmin(fmax(v, 0.0), im->height - 1.0);
    const int x0 = (int)u, y0 = (int)v;
    const int x1 = x0 + 1 < im->width ? x0 + 1 : x0, y1 = y0 + 1 < im->height ? y0 + 1 : y0;
    const double fx = u - x0, fy = v - y0;
    const uint8_t *r0 = (const uint8_t *)im->data + (size_t)y0 * im->stride;
    const uint8_t *r1 = (const uint8_t *)im->data + (size_t)y1 * im->stride;
    for (int c = 0; c < 3; c++) {
        const double top = r0[3 * x0 + c] + fx * (r0[3 * x1 + c] - r0[3 * x0 + c]);
        const double bot = r1[3 * x0 + c] + fx * (r1[3 * x1 + c] - r1[3 * x0 + c]);
        out[c] = (uint8_t)lrint(top + fy * (bot - top));
    }
}

/* Three box blurs (about a Gaussian) of one row or column of RGB8 pixels,
 * @p step bytes apart, in place. */
static void box3(uint8_t *p, int n, size_t step, int r, double *tmp)
{
    for (int pass = 0; pass < 3; pass++)
        for (int c = 0; c < 3; c++) {
            double sum = 0.0;
            for (int i = -r; i <= r; i++)
                sum += p[(size_t)(i < 0 ? 0 : i >= n ? n - 1 : i) * step + c];
            for (int i = 0; i < n; i++) {
                tmp[i] = sum / (2 * r + 1);
                const int out = i - r < 0 ? 0 : i - r, in = i + r + 1 >= n ? n - 1 : i + r + 1;
                sum += p[(size_t)in * step + c] - p[(size_t)out * step + c];
            }
            for (int i = 0; i < n; i++)
                p[(size_t)i * step + c] = (uint8_t)lrint(tmp[i]);
        }
}

/* The photo scaled to cover the canvas and blurred past recognition (a
 * background face must not be detected). */
static uint8_t *blurred_background(const fs_image *im, int w, int h)
{
    uint8_t *bg = malloc((size_t)w * h * 3);
    double *tmp = malloc(sizeof(double) * (size_t)(w > h ? w : h));
    if (!bg || !tmp) {
        free(bg);
        free(tmp);
        return NULL;
    }
    const double s = fmax((double)w / im->width, (double)h / im->height);
    const double ox = (im->width - w / s) / 2, oy = (im->height - h / s) / 2;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            sample(im, ox + (x + 0.5) / s, oy + (y + 0.5) / s, bg + ((size_t)y * w + x) * 3);
    const int r = w / 40 > 4 ? w / 40 : 4;
    for (int y = 0; y < h; y++)
        box3(bg + (size_t)y * w * 3, w, 3, r, tmp);
    for (int x = 0; x < w; x++)
        box3(bg + (size_t)x * 3, h, (size_t)w * 3, r, tmp);
    free(tmp);
    return bg;
}

/* ------------------------------------------------------------------- path */

typedef enum { STEP_MOVE, STEP_ZOOM, STEP_TURN, STEP_CUT, STEP_AT } step_kind;

/* One step, resolved to absolute deltas (face widths and speeds applied). */
typedef struct step {
    step_kind kind;
    double t;      /* duration, seconds; 0 for instant steps */
    double d[2];   /* move: canvas pixels; zoom: d[0] the new zoom; turn: d[0] degrees; at: offset */
    int photo;     /* cut: 0-based photo */
} step;

typedef struct state {
    double c[2]; /* face centre offset from the canvas centre, pixels */
    double zoom;
    double turn; /* degrees, clockwise as seen */
    int photo;
    int shot;
} state;

typedef struct token {
    double v;
    char unit[32]; /* "" for a bare number */
    int is_num;
    char word[32];
} token;

static int tokenize(const char *s, token *tok, int max)
{
    int n = 0;
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        if (n == max)
            return -1;
        token *t = &tok[n];
        memset(t, 0, sizeof(*t));
        if (s[0] == '-' && s[1] == '>') {
            snprintf(t->word, sizeof(t->word), "->");
            s += 2;
            n++;
            continue;
        }
        char *end;
        errno = 0;
        const double v = strtod(s, &end);
        if (end != s && (isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.') &&
            isfinite(v) && errno == 0) {
            t->is_num = 1;
            t->v = v;
            int k = 0;
            while (*end && !isspace((unsigned char)*end) && !(end[0] == '-' && end[1] == '>')) {
                if (k + 1 >= (int)sizeof(t->unit))
                    return -1;
                t->unit[k++] = *end++;
            }
            s = end;
        } else {
            int k = 0;
            while (*s && !isspace((unsigned char)*s)) {
                if (k + 1 >= (int)sizeof(t->word))
                    return -1;
                t->word[k++] = (char)tolower((unsigned char)*s++);
            }
        }
        n++;
    }
    /* "1 face width": a bare number followed by the words takes the unit fw;
     * "300 px/s" likewise takes the next word as its unit. */
    int out = 0;
    for (int i = 0; i < n; i++) {
        if (out > 0 && tok[out - 1].is_num && !tok[out - 1].unit[0] && !tok[i].is_num) {
            const char *w = tok[i].word;
            if (!strcmp(w, "face") && i + 1 < n &&
                (!strcmp(tok[i + 1].word, "width") || !strcmp(tok[i + 1].word, "widths"))) {
                snprintf(tok[out - 1].unit, sizeof(tok[0].unit), "fw");
                i++;
                continue;
            }
            if (!strcmp(w, "s") || !strcmp(w, "px") || !strcmp(w, "px/s") || !strcmp(w, "fw") ||
                !strcmp(w, "fw/s") || !strcmp(w, "deg") || !strcmp(w, "deg/s")) {
                snprintf(tok[out - 1].unit, sizeof(tok[0].unit), "%s", w);
                continue;
            }
        }
        tok[out++] = tok[i];
    }
    return out;
}

/* Parses a path into steps; @p fw is the face width at zoom 1 in canvas pixels. */
static int parse_path(const char *spec, double fw, int photo_count, step *steps, int *nsteps)
{
    char buf[4096];
    if (strlen(spec) >= sizeof(buf)) {
        fprintf(stderr, "make_clip: path too long\n");
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    int n = 0, timed_in_shot = 0;
    double zoom = 1.0;
    char *save = NULL;
    for (char *part = strtok_r(buf, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
        token tok[16];
        const int nt = tokenize(part, tok, 16);
        if (nt < 0) {
            fprintf(stderr, "make_clip: step '%s': too many or too long words\n", part);
            return -1;
        }
        if (nt == 0)
            continue;
        if (n == MAX_STEPS) {
            fprintf(stderr, "make_clip: more than %d steps\n", MAX_STEPS);
            return -1;
        }
        int i = 0;
        while (i < nt && !tok[i].is_num &&
               (!strcmp(tok[i].word, "fast") || !strcmp(tok[i].word, "slow")))
            i++;
        if (i == nt || tok[i].is_num) {
            fprintf(stderr, "make_clip: step '%s': no verb\n", part);
            return -1;
        }
        const char *verb = tok[i++].word;
        double t = -1.0, vals[2] = {0, 0}, from = NAN;
        int nv = 0, per_s[2] = {0, 0}, arrow = 0;
        for (; i < nt; i++) {
            if (!tok[i].is_num) {
                if (!strcmp(tok[i].word, "->") && nv == 1) {
                    from = vals[0];
                    nv = 0;
                    arrow = 1;
                    continue;
                }
                if (!strcmp(tok[i].word, "to") || !strcmp(tok[i].word, "photo") ||
                    !strcmp(tok[i].word, "in") || !strcmp(tok[i].word, "by"))
                    continue;
                fprintf(stderr, "make_clip: step '%s': unknown word '%s'\n", part, tok[i].word);
                return -1;
            }
            const char *u = tok[i].unit;
            if (!strcmp(u, "s")) {
                if (t >= 0.0 || !(tok[i].v >= 0.0 && tok[i].v <= 3600.0)) {
                    fprintf(stderr, "make_clip: step '%s': bad duration\n", part);
                    return -1;
                }
                t = tok[i].v;
                continue;
            }
            if (nv == 2) {
                fprintf(stderr, "make_clip: step '%s': too many values\n", part);
                return -1;
            }
            double v = tok[i].v;
            int ps = 0;
            if (!strcmp(u, "fw") || !strcmp(u, "fw/s"))
                v *= fw * zoom;
            if (!strcmp(u, "px/s") || !strcmp(u, "fw/s") || !strcmp(u, "deg/s"))
                ps = 1;
            else if (u[0] && strcmp(u, "px") && strcmp(u, "fw") && strcmp(u, "deg")) {
                fprintf(stderr, "make_clip: step '%s': unknown unit '%s'\n", part, u);
                return -1;
            }
            per_s[nv] = ps;
            vals[nv++] = v;
        }
        step *st = &steps[n];
        memset(st, 0, sizeof(*st));
        st->t = t < 0.0 ? 0.0 : t;
        for (int k = 0; k < nv; k++)
            if (per_s[k])
                vals[k] *= st->t;
        int ok = 1;
        if (!strcmp(verb, "pause")) {
            st->kind = STEP_MOVE;
            ok = nv == 0 && t > 0.0;
        } else if (!strcmp(verb, "pan") || !strcmp(verb, "move")) {
            st->kind = STEP_MOVE;
            st->d[0] = vals[0];
            st->d[1] = nv > 1 ? vals[1] : 0.0;
            ok = nv >= 1 && t > 0.0;
        } else if (!strcmp(verb, "zoom")) {
            st->kind = STEP_ZOOM;
            st->d[0] = vals[0];
            ok = nv == 1 && vals[0] > 0.05 && vals[0] < 20.0;
            if (ok && arrow && fabs(from - zoom) > 1e-9) {
                fprintf(stderr, "make_clip: step '%s': the zoom is %g here, not %g (set it at "
                                "the shot's start: 'zoom %g')\n", part, zoom, from, from);
                return -1;
            }
            zoom = vals[0];
        } else if (!strcmp(verb, "turn")) {
            st->kind = STEP_TURN;
            st->d[0] = vals[0];
            ok = nv == 1;
        } else if (!strcmp(verb, "cut")) {
            st->kind = STEP_CUT;
            st->photo = (int)vals[0] - 1;
            ok = nv == 1 && t < 0.0 && vals[0] == floor(vals[0]) && st->photo >= 0 &&
                 st->photo < photo_count;
            zoom = 1.0;
            timed_in_shot = 0;
        } else if (!strcmp(verb, "at")) {
            st->kind = STEP_AT;
            st->d[0] = vals[0];
            st->d[1] = vals[1];
            ok = nv == 2 && t < 0.0;
        } else {
            fprintf(stderr, "make_clip: step '%s': unknown verb '%s'\n", part, verb);
            return -1;
        }
        if (!ok) {
            fprintf(stderr, "make_clip: step '%s': wrong values, duration or photo number\n",
                    part);
            return -1;
        }
        if (st->kind != STEP_CUT && st->t == 0.0 && timed_in_shot) {
            fprintf(stderr, "make_clip: step '%s': an instant step only at a shot's start "
                            "(it would jump)\n", part);
            return -1;
        }
        timed_in_shot |= st->t > 0.0;
        n++;
    }
    *nsteps = n;
    return 0;
}

/* Smoothstep: zero speed at both ends, so consecutive steps join C1. */
static double ease(double u)
{
    u = fmin(fmax(u, 0.0), 1.0);
    return u * u * (3.0 - 2.0 * u);
}

static void apply(state *s, const step *st, double u)
{
    const double e = ease(u);
    switch (st->kind) {
    case STEP_MOVE:
        s->c[0] += e * st->d[0];
        s->c[1] += e * st->d[1];
        break;
    case STEP_ZOOM:
        s->zoom += e * (st->d[0] - s->zoom);
        break;
    case STEP_TURN:
        s->turn += e * st->d[0];
        break;
    case STEP_CUT:
        s->c[0] = s->c[1] = 0.0;
        s->turn = 0.0;
        s->zoom = 1.0;
        s->photo = st->photo;
        s->shot++;
        break;
    case STEP_AT:
        s->c[0] = st->d[0];
        s->c[1] = st->d[1];
        break;
    }
}

/* The state at time @p t: every step that started by then, the running one
 * partly. */
static state state_at(const step *steps, int n, double t)
{
    state s = {{0.0, 0.0}, 1.0, 0.0, 0, 0};
    double t0 = 0.0;
    for (int i = 0; i < n; i++) {
        const step *st = &steps[i];
        if (t < t0)
            break;
        if (st->t == 0.0) {
            apply(&s, st, 1.0);
            continue;
        }
        if (t < t0 + st->t) {
            apply(&s, st, (t - t0) / st->t);
            break;
        }
        apply(&s, st, 1.0);
        t0 += st->t;
    }
    return s;
}

static double path_length(const step *steps, int n)
{
    double t = 0.0;
    for (int i = 0; i < n; i++)
        t += steps[i].t;
    return t;
}

/* --------------------------------------------------------------- drawing */

static void matrix_of(const state *s, const photo *ph, double base, int w, int h, double m[6])
{
    const double sc = base * s->zoom, a = s->turn * PI / 180.0;
    m[0] = sc * cos(a);
    m[1] = -sc * sin(a);
    m[3] = sc * sin(a);
    m[4] = sc * cos(a);
    m[2] = w / 2.0 + s->c[0] - (m[0] * ph->anchor[0] + m[1] * ph->anchor[1]);
    m[5] = h / 2.0 + s->c[1] - (m[3] * ph->anchor[0] + m[4] * ph->anchor[1]);
}

static void draw(uint8_t *canvas, int w, int h, const photo *ph, const double m[6],
                 const uint8_t plain[3])
{
    const double det = m[0] * m[4] - m[1] * m[3];
    const double i0 = m[4] / det, i1 = -m[1] / det, i3 = -m[3] / det, i4 = m[0] / det;
    for (int y = 0; y < h; y++) {
        uint8_t *row = canvas + (size_t)y * w * 3;
        const uint8_t *bg = ph->background ? ph->background + (size_t)y * w * 3 : NULL;
        const double qy = y + 0.5 - m[5];
        for (int x = 0; x < w; x++) {
            const double qx = x + 0.5 - m[2];
            const double px = i0 * qx + i1 * qy, py = i3 * qx + i4 * qy;
            if (px >= ph->crop[0] && px < ph->crop[2] && py >= ph->crop[1] && py < ph->crop[3])
                sample(&ph->img, px, py, row + 3 * x);
            else
                memcpy(row + 3 * x, bg ? bg + 3 * x : plain, 3);
        }
    }
}

/* Camera-like noise: the same offset on the three channels of a pixel
 * (mostly luma, as a sensor's after demosaicing), triangular with standard
 * deviation @p sigma, a fixed sequence per frame index, so that still frames
 * differ as a real camera's do and the raw per-frame fits jitter in pauses. */
static void add_noise(uint8_t *canvas, int w, int h, double sigma, uint64_t frame)
{
    uint64_t x = 0x9e3779b97f4a7c15ull ^ (frame * 0xbf58476d1ce4e5b9ull + 1);
    /* the sum of two uniforms on [-1, 1] has variance 2/3 */
    const double k = sigma / sqrt(2.0 / 3.0) / 2147483648.0;
    const size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        const double u = (double)(int32_t)(uint32_t)x + (double)(int32_t)(uint32_t)(x >> 32);
        const int d = (int)lrint(u * k);
        uint8_t *p = canvas + 3 * i;
        for (int c = 0; c < 3; c++) {
            const int v = p[c] + d;
            p[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

/* ---------------------------------------------------------------- ffmpeg */

/* Appends @p s single-quoted for sh. */
static int append_quoted(char *cmd, size_t size, const char *s)
{
    size_t n = strlen(cmd);
    if (n + 3 >= size)
        return -1;
    cmd[n++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            if (n + 5 >= size)
                return -1;
            memcpy(cmd + n, "'\\''", 4);
            n += 4;
        } else {
            if (n + 2 >= size)
                return -1;
            cmd[n++] = *s;
        }
    }
    cmd[n++] = '\'';
    cmd[n] = '\0';
    return 0;
}

typedef struct options {
    const char *scenario;
    const char *path;
    const char *photos[FS_CLIP_MAX_PHOTOS];
    int photo_count;
    double face;
    int w, h, fps_num, fps_den;
    double seconds;
    double noise; /* < 0: the scenario's */
    int blur, audio, faststart, truth_only;
    const char *codec, *container, *pix_fmt;
    const char *out_video, *out_truth;
} options;

static int ffmpeg_command(const options *o, char *cmd, size_t size)
{
    const char *ext = strrchr(o->out_video, '.');
    const char *fmt = o->container ? o->container : "";
    const int webm = !strcmp(fmt, "webm") || (!o->container && ext && !strcmp(ext, ".webm"));
    const int avi = !strcmp(fmt, "avi") || (!o->container && ext && !strcmp(ext, ".avi"));
    const int mkv = !strcmp(fmt, "matroska") || (!o->container && ext && !strcmp(ext, ".mkv"));
    const int mp4 = !webm && !avi && !mkv;
    char v[256];
    if (!strcmp(o->codec, "libx264"))
        snprintf(v, sizeof(v), "-c:v libx264 -crf 18 -preset veryfast");
    else if (!strcmp(o->codec, "libx265"))
        snprintf(v, sizeof(v), "-c:v libx265 -crf 20 -preset veryfast -x265-params log-level=error%s",
                 mp4 ? " -tag:v hvc1" : "");
    else if (!strcmp(o->codec, "libvpx-vp9"))
        snprintf(v, sizeof(v), "-c:v libvpx-vp9 -crf 32 -b:v 0 -deadline realtime -cpu-used 8");
    else if (!strcmp(o->codec, "mpeg4"))
        snprintf(v, sizeof(v), "-c:v mpeg4 -q:v 3");
    else {
        fprintf(stderr, "make_clip: codec %s not one of libx264, libx265, libvpx-vp9, mpeg4\n",
                o->codec);
        return -1;
    }
    /* PCM in AVI: with MP3 the AVI muxer leaves an empty slot after frame 0,
     * so frame 1 would carry pts 2. */
    const char *a = webm ? "libopus" : avi ? "pcm_s16le" : "aac";
    snprintf(cmd, size,
             "ffmpeg -hide_banner -loglevel error -nostdin -y -f rawvideo -pix_fmt rgb24 -s %dx%d "
             "-r %d/%d -i - %s%s -fps_mode passthrough -pix_fmt %s %s%s%s%s%s%s ",
             o->w, o->h, o->fps_num, o->fps_den,
             o->audio ? "-f lavfi -i sine=frequency=440:sample_rate=48000 -shortest " : "", v,
             o->pix_fmt, o->audio ? "-c:a " : "", o->audio ? a : "", o->audio ? " " : "",
             mp4 && o->faststart ? "-movflags +faststart " : "", o->container ? "-f " : "",
             o->container ? o->container : "");
    return append_quoted(cmd, size, o->out_video);
}

/* ------------------------------------------------------------------ main */

typedef struct scenario {
    const char *name;
    const char *photos[2];
    double seconds;
    double noise;
    const char *path;
} scenario;

static const scenario scenarios[] = {
    {"motion", {"astronaut.png", "faceapi_sample1.jpg"}, 10.0, 3.0,
     "at -300 0; zoom 0.8; pause 1s; pan 300px/s 2s; zoom 0.8->1.2 2s; turn 20deg/s 1.5s; "
     "pause 1s; cut to photo 2; pause 0.5s; fast move 1 face width in 0.3s; pause 1s; "
     "move -200 60 0.7s"},
    {"bench", {"astronaut.png", NULL}, 15.0, 3.0,
     "pause 2s; pan 120 0 3s; pause 2s; zoom 1.1 2s; pause 1.5s; turn 10deg 2s; pause 1.5s; "
     "move -120 30 1s"},
    {"short", {"astronaut.png", NULL}, 2.0, 0.0, "pause 0.5s; pan 80 0 1s; pause 0.5s"},
};

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof(*o));
    o->scenario = "short";
    o->face = 250.0;
    o->w = 1280, o->h = 720, o->fps_num = 25, o->fps_den = 1;
    o->seconds = -1.0;
    o->noise = -1.0;
    o->blur = 1, o->audio = 1, o->faststart = 1;
    o->codec = "libx264";
    o->pix_fmt = "yuv420p";
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        int took = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--no-audio"))
            o->audio = 0, took = 0;
        else if (!strcmp(a, "--no-faststart"))
            o->faststart = 0, took = 0;
        else if (!strcmp(a, "--truth-only"))
            o->truth_only = 1, took = 0;
        else if (a[0] == '-' && a[1] == '-') {
            if (!next) {
                fprintf(stderr, "make_clip: %s needs a value\n", a);
                return -1;
            }
            char *end = NULL;
            if (!strcmp(a, "--scenario"))
                o->scenario = next;
            else if (!strcmp(a, "--path"))
                o->path = next;
            else if (!strcmp(a, "--photo")) {
                if (o->photo_count == FS_CLIP_MAX_PHOTOS) {
                    fprintf(stderr, "make_clip: at most %d photos\n", FS_CLIP_MAX_PHOTOS);
                    return -1;
                }
                o->photos[o->photo_count++] = next;
            } else if (!strcmp(a, "--face")) {
                o->face = strtod(next, &end);
                if (*end || !(o->face >= 16.0 && o->face <= 4000.0)) {
                    fprintf(stderr, "make_clip: --face %s: want 16..4000 pixels\n", next);
                    return -1;
                }
            } else if (!strcmp(a, "--size")) {
                if (sscanf(next, "%dx%d", &o->w, &o->h) != 2 || o->w < 16 || o->h < 16 ||
                    o->w > 8192 || o->h > 8192) {
                    fprintf(stderr, "make_clip: --size %s: want WxH, 16..8192 each\n", next);
                    return -1;
                }
            } else if (!strcmp(a, "--fps")) {
                const int k = sscanf(next, "%d/%d", &o->fps_num, &o->fps_den);
                if (k == 1)
                    o->fps_den = 1;
                if (k < 1 || o->fps_num < 1 || o->fps_den < 1 || o->fps_num > 240 * o->fps_den) {
                    fprintf(stderr, "make_clip: --fps %s: want N or N/D, at most 240\n", next);
                    return -1;
                }
            } else if (!strcmp(a, "--noise")) {
                o->noise = strtod(next, &end);
                if (*end || !(o->noise >= 0.0 && o->noise <= 64.0)) {
                    fprintf(stderr, "make_clip: --noise %s: want 0..64 grey levels\n", next);
                    return -1;
                }
            } else if (!strcmp(a, "--seconds")) {
                o->seconds = strtod(next, &end);
                if (*end || !(o->seconds > 0.0 && o->seconds <= 3600.0)) {
                    fprintf(stderr, "make_clip: --seconds %s: want 0..3600\n", next);
                    return -1;
                }
            } else if (!strcmp(a, "--background")) {
                if (strcmp(next, "blur") && strcmp(next, "plain")) {
                    fprintf(stderr, "make_clip: --background %s: blur or plain\n", next);
                    return -1;
                }
                o->blur = !strcmp(next, "blur");
            } else if (!strcmp(a, "--codec"))
                o->codec = next;
            else if (!strcmp(a, "--container"))
                o->container = next;
            else if (!strcmp(a, "--pix-fmt"))
                o->pix_fmt = next;
            else {
                fprintf(stderr, "make_clip: unknown option %s\n", a);
                return -1;
            }
            i++;
            took = 0;
        }
        if (took) {
            if (pos == 0)
                o->out_video = a;
            else if (pos == 1)
                o->out_truth = a;
            else {
                fprintf(stderr, "make_clip: too many arguments\n");
                return -1;
            }
            pos++;
        }
    }
    /* Names reach a shell command line only quoted, but keep them plain. */
    const char *words[] = {o->codec, o->container, o->pix_fmt};
    for (int k = 0; k < 3; k++)
        for (const char *c = words[k]; c && *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_') {
                fprintf(stderr, "make_clip: '%s' is not a codec, muxer or pixel format name\n",
                        words[k]);
                return -1;
            }
    if (pos != 2) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    const scenario *sc = NULL;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
        if (!strcmp(scenarios[i].name, o.scenario))
            sc = &scenarios[i];
    if (!sc && !o.path) {
        fprintf(stderr, "make_clip: unknown scenario %s (motion, bench, short)\n", o.scenario);
        return 2;
    }
    const char *spec = o.path ? o.path : sc->path;
    char photo_paths[FS_CLIP_MAX_PHOTOS][1024];
    if (o.photo_count == 0 && sc) {
        const char *dir = getenv("FS_TESTDATA_DIR");
        for (int k = 0; k < 2 && sc->photos[k]; k++) {
            snprintf(photo_paths[k], sizeof(photo_paths[k]), "%s/%s",
                     dir && *dir ? dir : "data/testdata", sc->photos[k]);
            o.photos[o.photo_count++] = photo_paths[k];
        }
    }
    if (o.photo_count == 0) {
        fprintf(stderr, "make_clip: no photo (--photo)\n");
        return 2;
    }
    step steps[MAX_STEPS];
    int nsteps = 0;
    if (parse_path(spec, o.face, o.photo_count, steps, &nsteps) != 0)
        return 2;
    const double seconds = o.seconds > 0.0 ? o.seconds : sc && !o.path ? sc->seconds
                                                                        : path_length(steps, nsteps);
    const long frames = lround(seconds * o.fps_num / o.fps_den);
    const double noise = o.noise >= 0.0 ? o.noise : sc && !o.path ? sc->noise : 0.0;
    if (frames < 1 || frames > FS_CLIP_MAX_FRAMES) {
        fprintf(stderr, "make_clip: %ld frames: want 1..%d\n", frames, FS_CLIP_MAX_FRAMES);
        return 2;
    }

    int rc = 1;
    fs_context *ctx = NULL;
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    photo ph[FS_CLIP_MAX_PHOTOS];
    memset(ph, 0, sizeof(ph));
    uint8_t *canvas = NULL;
    FILE *pipe = NULL;
    int started = 0;
    fs_clip_truth truth;
    memset(&truth, 0, sizeof(truth));
    fs_status st = fs_context_create(&ctx);
    if (st == FS_OK)
        st = fs_detector_create(ctx, &det);
    if (st == FS_OK)
        st = fs_fitter_create(ctx, &fit);
    if (st != FS_OK) {
        fprintf(stderr, "make_clip: models: %s %s (set FS_MODEL_DIR)\n", fs_status_name(st),
                ctx ? fs_context_last_error(ctx) : "");
        goto done;
    }
    for (int k = 0; k < o.photo_count; k++) {
        st = fs_image_read_file(ctx, o.photos[k], &ph[k].img);
        if (st != FS_OK) {
            fprintf(stderr, "make_clip: %s: %s %s\n", o.photos[k], fs_status_name(st),
                    fs_context_last_error(ctx));
            goto done;
        }
        if (locate_face(det, fit, o.photos[k], &ph[k]) != 0)
            goto done;
        if (o.blur && !o.truth_only && !(ph[k].background = blurred_background(&ph[k].img, o.w, o.h))) {
            fprintf(stderr, "make_clip: out of memory\n");
            goto done;
        }
    }
    truth.width = o.w, truth.height = o.h;
    truth.fps_num = o.fps_num, truth.fps_den = o.fps_den;
    truth.frame_count = (int)frames;
    truth.photo_count = o.photo_count;
    for (int k = 0; k < o.photo_count; k++)
        snprintf(truth.photos[k], sizeof(truth.photos[k]), "%s", o.photos[k]);
    truth.frames = calloc((size_t)frames, sizeof(*truth.frames));
    canvas = malloc((size_t)o.w * o.h * 3);
    if (!truth.frames || !canvas) {
        fprintf(stderr, "make_clip: out of memory\n");
        goto done;
    }
    if (!o.truth_only) {
        char cmd[4096];
        if (ffmpeg_command(&o, cmd, sizeof(cmd)) != 0)
            goto done;
        /* A dead ffmpeg shows as a short write and its exit status, not a signal. */
        signal(SIGPIPE, SIG_IGN);
        pipe = popen(cmd, "w");
        if (!pipe) {
            fprintf(stderr, "make_clip: cannot start ffmpeg: %s\n", strerror(errno));
            goto done;
        }
        started = 1;
    }
    const uint8_t plain[3] = {96, 104, 112};
    for (long i = 0; i < frames; i++) {
        /* The epsilon puts a frame that falls exactly on a cut after it. */
        const state s = state_at(steps, nsteps, (double)i * o.fps_den / o.fps_num + 1e-9);
        fs_clip_frame *fr = &truth.frames[i];
        fr->photo = s.photo;
        fr->shot = s.shot;
        matrix_of(&s, &ph[s.photo], o.face / ph[s.photo].face, o.w, o.h, fr->m);
        if (!pipe)
            continue;
        draw(canvas, o.w, o.h, &ph[s.photo], fr->m, plain);
        if (noise > 0.0)
            add_noise(canvas, o.w, o.h, noise, (uint64_t)i);
        if (fwrite(canvas, 1, (size_t)o.w * o.h * 3, pipe) != (size_t)o.w * o.h * 3) {
            fprintf(stderr, "make_clip: ffmpeg stopped reading at frame %ld\n", i);
            goto done;
        }
    }
    if (pipe) {
        const int status = pclose(pipe);
        pipe = NULL;
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "make_clip: ffmpeg failed (status %d%s)\n",
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                    WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": not installed?" : "");
            goto done;
        }
    }
    char err[512];
    if (fs_clip_truth_write(&truth, o.out_truth, err, sizeof(err)) != 0) {
        fprintf(stderr, "make_clip: %s\n", err);
        goto done;
    }
    rc = 0;
done:
    if (pipe)
        pclose(pipe);
    if (rc != 0 && started)
        remove(o.out_video); /* no half-written clip */
    free(canvas);
    fs_clip_truth_free(&truth);
    for (int k = 0; k < FS_CLIP_MAX_PHOTOS; k++) {
        fs_image_free(&ph[k].img);
        free(ph[k].background);
    }
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    return rc;
}
