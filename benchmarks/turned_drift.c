/*
 * Landmark drift on turned targets (issue 10, item 5): the landmarks found
 * again on a swap's result (detector + fitter, the result's detection that
 * best overlaps the target's) against the ones the swap rendered on, mean
 * and max distance over the 468 mesh points in % of the diagonal of their
 * bounding box, per target face with its yaw, then by yaw bucket; there also
 * split into the face moved as a whole (the length of the mean displacement,
 * "shift") and its shape changed (the mean distance left once that is taken
 * off, "shape"). On a turned face most of the drift is a shift: the
 * detector's box moves on the result, and the fitter, given another crop,
 * moves every landmark together (the track column shows how far).
 *
 * Targets: every face of the given photos and of every STEP-th frame of the
 * given videos, each also mirrored left-right (a face turned the other
 * way). Per face it prints:
 *   floor  the untouched target found again the same way (the same pixels
 *          give the same detection and the same fit: 0 unless the
 *          detector or fitter stops being repeatable);
 *   track  the untouched target fitted again from its own landmarks
 *          (fs_fitter_track: another crop of the same pixels), how far the
 *          fitter moves when only its crop moves: the noise any change of
 *          the detection brings;
 *   self   the target's own face captured and swapped onto itself (with
 *          --refine the capture's fit is not refined, so self drifts more);
 *   one column per source, the swap with the renderer's defaults.
 *
 *   turned_drift [options] [TARGET ...]
 *     --source PATH      a source (repeatable; default astronaut.png and
 *                        faceapi_sample3.jpg)
 *     --step N           every N-th video frame (default 15)
 *     --no-flip          the targets as they are only
 *     --min-yaw D        only faces turned at least D degrees
 *     --refine N         every fit (the target's and the result's) followed by N
 *                        more from its own landmarks (fs_fitter_track): the crop
 *                        then comes from the landmarks, not the detection
 *     --delight 0|1      the sources' atlases unwrapped again with their light
 *                        kept (0) or divided out and the target's put on (1);
 *                        by default the library's own (1 since the light stage)
 *     --steady 1         the targets and the faces found again fitted as the still
 *                        swap fits its targets (fs_fitter_run_steady: the crop and
 *                        the crop mirrored, five crops under 160 px), not with the
 *                        reference pipeline's single crop
 *     --same-box 1       found again from the target's detection (no detector on
 *                        the result: the quality benchmark's measure)
 *     --shape F, --erode F, --feather F, --skin-guard 0|1, --colour 0|1|2,
 *     --eyes-mouth 0|1|2  override the renderer's settings (fs_renderer_param)
 *     --out DIR          DIR/<face>_<source>.png per swap: target | result |
 *                        both landmark sets (green: the swap's, red: found
 *                        again) | the blend weight
 *   Default targets: astronaut.png, messi5.jpg, faceapi_sample1..6.jpg and
 *   Megamind.avi, looked up in $FS_TESTDATA_DIR when not found as given.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "image/draw.h"
#include "swap/swap.h"
#include "video/video_io.h"

#define MAX_SOURCES 4
#define MAX_FACES 16
#define N_BUCKETS 5
/* Columns of a face's row: floor, track, self, then the sources. */
#define COL_FLOOR 0
#define COL_TRACK 1
#define COL_SELF 2
#define N_COLS (3 + MAX_SOURCES)
/* A target whose fit moves more than this (% of the diagonal, mean) when
 * only its crop moves (the track column) has no landmarks to hold: the
 * fitter guesses (a profile fitted as a frontal face, the back of a head).
 * It is listed, marked '*', but left out of the table. */
#define UNSTEADY 3.0

typedef struct drift {
    double mean, max; /* % of the face diagonal; mean < 0: not measured (lost) */
    double shift;     /* the length of the mean displacement: the face moved as a whole */
    double shape;     /* the mean distance left once that is taken off: the face changed */
} drift;

typedef struct tool {
    fs_context *ctx;
    fs_detector *det;
    fs_fitter *fit;
    fs_renderer *ren;
    fs_swap_params params;
    const char *outdir;
    double min_yaw; /* faces turned less are skipped */
    int refine;     /* extra fits from the fit's own landmarks */
    int same_box;   /* 1: found again from the target's detection, not the result's */
    int steady;     /* 1: every fit as the still swap fits its targets (fs_fitter_run_steady) */
    const char *source_name[MAX_SOURCES];
    fs_identity *source[MAX_SOURCES];
    fs_identity_data *data[MAX_SOURCES]; /* what each source swaps from (swap_data) */
    int delight;    /* -1: the library's atlases; 0/1: unwrapped again with the light kept/out */
    int n_sources;
    /* per bucket and column: sums of means, max of maxes, counts, faces over 2% */
    double sum[N_BUCKETS][N_COLS], worst_mean[N_BUCKETS][N_COLS], worst_max[N_BUCKETS][N_COLS];
    double shift[N_BUCKETS][N_COLS], shape[N_BUCKETS][N_COLS];
    int n[N_BUCKETS][N_COLS], over[N_BUCKETS][N_COLS], lost[N_BUCKETS][N_COLS];
    int faces, unsteady[N_BUCKETS];
} tool;

static const double bucket_edge[N_BUCKETS + 1] = {0, 15, 30, 45, 60, 90};

static int fail(fs_status st, const char *what, const char *detail)
{
    fprintf(stderr, "turned_drift: %s: %s (%s)\n", what, fs_status_name(st), detail ? detail : "");
    return 1;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Opens @p path as given, else under $FS_TESTDATA_DIR, into @p buf. */
static const char *find_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f && getenv("FS_TESTDATA_DIR")) {
        snprintf(buf, cap, "%s/%s", getenv("FS_TESTDATA_DIR"), path);
        f = fopen(buf, "rb");
        if (f)
            path = buf;
    }
    if (f)
        fclose(f);
    return path;
}

static int is_video(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && (strcmp(dot, ".avi") == 0 || strcmp(dot, ".mp4") == 0 ||
                   strcmp(dot, ".mov") == 0 || strcmp(dot, ".mkv") == 0);
}

/* A malloc'd RGB8 copy of @p src, mirrored left-right when @p flip. */
static int copy_image(const fs_image *src, int flip, fs_image *out)
{
    *out = *src;
    out->stride = src->width * 3;
    out->data = malloc((size_t)out->stride * (size_t)src->height);
    if (!out->data)
        return 1;
    for (int y = 0; y < src->height; y++) {
        const uint8_t *s = (const uint8_t *)src->data + (size_t)y * (size_t)src->stride;
        uint8_t *d = (uint8_t *)out->data + (size_t)y * (size_t)out->stride;
        if (!flip) {
            memcpy(d, s, (size_t)out->stride);
            continue;
        }
        for (int x = 0; x < src->width; x++)
            memcpy(d + 3 * (size_t)x, s + 3 * (size_t)(src->width - 1 - x), 3);
    }
    return 0;
}

static double box_iou(const fs_face_box *a, const fs_face_box *b)
{
    const double x0 = fmax(a->x, b->x), y0 = fmax(a->y, b->y);
    const double x1 = fmin(a->x + a->width, b->x + b->width);
    const double y1 = fmin(a->y + a->height, b->y + b->height);
    const double i = fmax(0, x1 - x0) * fmax(0, y1 - y0);
    const double u = (double)a->width * a->height + (double)b->width * b->height - i;
    return u > 0 ? i / u : 0;
}

static double face_diagonal(const float (*p)[3])
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        x0 = fmin(x0, p[i][0]);
        y0 = fmin(y0, p[i][1]);
        x1 = fmax(x1, p[i][0]);
        y1 = fmax(y1, p[i][1]);
    }
    return hypot(x1 - x0, y1 - y0);
}

/* The drift, and how much of it is the face moved as a whole: a fit from a
 * crop placed elsewhere (the detector's box moves on a changed face) moves
 * the landmarks of a turned face together, the fitter's own noise, while a
 * swap that redraws the features changes the shape. */
static drift compare(const float (*ref)[3], const float (*got)[3])
{
    const double diag = face_diagonal(ref);
    double sum = 0, mx = 0, sx = 0, sy = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const double d = hypot(got[i][0] - ref[i][0], got[i][1] - ref[i][1]);
        sum += d;
        mx = fmax(mx, d);
        sx += got[i][0] - ref[i][0];
        sy += got[i][1] - ref[i][1];
    }
    sx /= FS_MESH_LANDMARKS;
    sy /= FS_MESH_LANDMARKS;
    double rest = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        rest += hypot(got[i][0] - ref[i][0] - sx, got[i][1] - ref[i][1] - sy);
    const double k = 100.0 / diag;
    return (drift){k * sum / FS_MESH_LANDMARKS, k * mx, k * hypot(sx, sy), k * rest / FS_MESH_LANDMARKS};
}

/* --refine: @p lm fitted again from its own landmarks, T->refine times. */
static int refine(tool *T, const fs_image *img, fs_face_landmarks *lm)
{
    for (int k = 0; k < T->refine; k++)
        if (fs_fitter_track(T->fit, img, lm, lm) != FS_OK)
            return 0;
    return 1;
}

/* One fit of a detection: the reference pipeline's single crop, or with
 * --steady 1 the still swap's own (its crop and the crop mirrored). */
static fs_status fit_one(tool *T, const fs_image *img, const fs_face_box *box, fs_face_landmarks *out)
{
    return T->steady ? fs_fitter_run_steady(T->fit, img, box, out) : fs_fitter_run(T->fit, img, box, out);
}

/* The face found again on @p img: the detection that best overlaps @p box
 * (IoU at least 0.3), fitted. Returns 0 when lost. */
static int find_again(tool *T, const fs_image *img, const fs_face_box *box, fs_face_landmarks *out)
{
    if (T->same_box)
        return fit_one(T, img, box, out) == FS_OK && refine(T, img, out);
    fs_face_box faces[MAX_FACES];
    int n = 0;
    if (fs_detector_run(T->det, img, faces, MAX_FACES, &n) != FS_OK)
        return 0;
    int best = -1;
    double best_iou = 0.3;
    for (int i = 0; i < n && i < MAX_FACES; i++) {
        const double iou = box_iou(&faces[i], box);
        if (iou >= best_iou) {
            best_iou = iou;
            best = i;
        }
    }
    return best >= 0 && fit_one(T, img, &faces[best], out) == FS_OK &&
           refine(T, img, out);
}

/* The face's outline, nose line and brows (MediaPipe's numbering), drawn as
 * lines with the eye and mouth rings: easier to compare than 468 dots. */
static const int outline[] = {10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
                              397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
                              172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109, 10};
static const int nose[] = {168, 6, 197, 195, 5, 4, 1, 19, 94, 2};
static const int brows[2][5] = {{70, 63, 105, 66, 107}, {336, 296, 334, 293, 300}};

static void draw_path(fs_image *im, const float (*p)[3], const int *idx, int n, int dx, fs_rgb c)
{
    for (int i = 0; i + 1 < n; i++)
        fs_draw_line(im, p[idx[i]][0] + dx, p[idx[i]][1], p[idx[i + 1]][0] + dx, p[idx[i + 1]][1], 1, c);
}

static void draw_face(fs_image *im, const fs_atlas_mesh *mesh, const float (*p)[3], int dx, fs_rgb c)
{
    draw_path(im, p, outline, (int)(sizeof(outline) / sizeof(outline[0])), dx, c);
    draw_path(im, p, nose, (int)(sizeof(nose) / sizeof(nose[0])), dx, c);
    for (int b = 0; b < 2; b++)
        draw_path(im, p, brows[b], 5, dx, c);
    for (int r = 0; r < FS_ATLAS_REGIONS; r++) {
        int ring[FS_ATLAS_RING_MAX + 1];
        for (int i = 0; i < mesh->ring_len[r]; i++)
            ring[i] = mesh->ring[r][i];
        ring[mesh->ring_len[r]] = ring[0];
        draw_path(im, p, ring, mesh->ring_len[r] + 1, dx, c);
    }
}

/* target | result | both point sets on the result | blend weight, around
 * the swap's window. */
static void write_sheet(tool *T, const char *name, const fs_image *tgt, const fs_image *res,
                        const fs_swap_info *info, const float (*ref)[3], const float (*got)[3])
{
    const int w = info->w, h = info->h;
    fs_image s = *tgt;
    s.width = 4 * w;
    s.height = h;
    s.stride = s.width * 3;
    s.data = calloc((size_t)s.stride, (size_t)h);
    if (!s.data)
        return;
    uint8_t *d = s.data;
    for (int y = 0; y < h; y++) {
        const size_t off = (size_t)(info->y0 + y) * (size_t)tgt->stride + (size_t)info->x0 * 3;
        uint8_t *row = d + (size_t)y * (size_t)s.stride;
        memcpy(row, (const uint8_t *)tgt->data + off, (size_t)w * 3);
        memcpy(row + (size_t)w * 3, (const uint8_t *)res->data + off, (size_t)w * 3);
        memcpy(row + (size_t)w * 6, (const uint8_t *)res->data + off, (size_t)w * 3);
        for (int x = 0; x < w; x++) {
            const uint8_t a = (uint8_t)lrintf(255.0f * info->alpha[(size_t)y * w + x]);
            memset(row + (size_t)(3 * w + x) * 3, a, 3);
        }
    }
    float shifted[2][FS_MESH_LANDMARKS][3];
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        for (int k = 0; k < 2; k++) {
            const float(*p)[3] = k ? got : ref;
            shifted[k][i][0] = p[i][0] - (float)info->x0;
            shifted[k][i][1] = p[i][1] - (float)info->y0;
        }
    const fs_atlas_mesh *mesh = &fs_renderer_internal_mesh(T->ren)->atlas;
    draw_face(&s, mesh, (const float(*)[3])shifted[0], 2 * w, (fs_rgb){0, 255, 0});
    draw_face(&s, mesh, (const float(*)[3])shifted[1], 2 * w, (fs_rgb){255, 0, 0});
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.png", T->outdir, name);
    if (fs_image_write_file(T->ctx, &s, path) != FS_OK)
        fprintf(stderr, "turned_drift: cannot write %s\n", path);
    free(s.data);
}

static int bucket_of(double yaw)
{
    const double a = fabs(yaw);
    for (int b = 0; b < N_BUCKETS; b++)
        if (a < bucket_edge[b + 1])
            return b;
    return N_BUCKETS - 1;
}

static void account(tool *T, int b, int col, drift d)
{
    if (d.mean < 0) {
        T->lost[b][col]++;
        return;
    }
    T->sum[b][col] += d.mean;
    T->shift[b][col] += d.shift;
    T->shape[b][col] += d.shape;
    T->worst_mean[b][col] = fmax(T->worst_mean[b][col], d.mean);
    T->worst_max[b][col] = fmax(T->worst_max[b][col], d.max);
    T->over[b][col] += d.mean > 2.0;
    T->n[b][col]++;
}

/* A copy of @p id's data to swap from; with --delight 0|1 its atlas unwrapped
 * again from @p photo with the light kept or divided out.
 * NULL when out of memory or the unwrap fails. Release with release_data. */
static fs_identity_data *swap_data(const tool *T, const fs_identity *id, const fs_image *photo)
{
    fs_identity_data *d = malloc(sizeof(*d));
    if (!d)
        return NULL;
    *d = *fs_identity_internal_data(id);
    if (T->delight < 0)
        return d;
    fs_atlas_params ap;
    fs_atlas_params_default(&ap);
    ap.size = d->atlas.size;
    ap.delight = T->delight;
    fs_error_buf err;
    memset(&d->atlas, 0, sizeof(d->atlas));
    if (fs_atlas_build(photo, (const float(*)[3])d->landmarks, &fs_renderer_internal_mesh(T->ren)->atlas,
                       &ap, &d->atlas, &err) != FS_OK) {
        fprintf(stderr, "turned_drift: atlas: %s\n", err.text);
        free(d);
        return NULL;
    }
    return d;
}

static void release_data(const tool *T, fs_identity_data *d)
{
    if (d && T->delight >= 0)
        fs_atlas_free(&d->atlas);
    free(d);
}

/* @p id swapped onto the face @p lm of @p img; the drift of the face found
 * again on the result ({-1, -1} when lost or the swap failed). */
static drift swap_drift(tool *T, const fs_image *img, const fs_face_box *box,
                        const fs_face_landmarks *lm, const fs_identity_data *id, const char *sheet)
{
    drift d = {-1, -1, -1, -1};
    fs_image res;
    fs_face_landmarks *again = malloc(sizeof(*again));
    if (!id || !again || copy_image(img, 0, &res)) {
        free(again);
        return d;
    }
    fs_swap_info info;
    memset(&info, 0, sizeof(info));
    info.keep_debug = T->outdir != NULL;
    fs_error_buf err;
    const fs_status st = fs_swap_face_rgb8(fs_context_engine(T->ctx), FS_EXEC_SERIAL(&err),
                                           fs_renderer_internal_mesh(T->ren), &T->params,
                                           id, &res,
                                           (const float(*)[3])lm->points, &info);
    if (st != FS_OK)
        fprintf(stderr, "turned_drift: %s: swap: %s (%s)\n", sheet, fs_status_name(st), err.text);
    else if (find_again(T, &res, box, again)) {
        d = compare((const float(*)[3])lm->points, (const float(*)[3])again->points);
        if (T->outdir)
            write_sheet(T, sheet, img, &res, &info, (const float(*)[3])lm->points,
                        (const float(*)[3])again->points);
    }
    fs_swap_info_free(&info);
    free(res.data);
    free(again);
    return d;
}

static void print_drift(drift d)
{
    if (d.mean < 0)
        printf("   lost      ");
    else
        printf(" %5.2f (%5.2f)", d.mean, d.max);
}

/* Every face of @p img (an RGB8 copy the caller owns), named @p label. */
static int measure_image(tool *T, const fs_image *img, const char *label, const char *src_file)
{
    fs_face_box faces[MAX_FACES];
    int n = 0;
    fs_status st = fs_detector_run(T->det, img, faces, MAX_FACES, &n);
    if (st != FS_OK)
        return fail(st, label, fs_detector_last_error(T->det));
    double min_face = 0, max_yaw = 0;
    fs_renderer_internal_limits(T->ren, &min_face, &max_yaw);
    fs_face_landmarks *lm = malloc(2 * sizeof(*lm));
    if (!lm)
        return fail(FS_ERR_OUT_OF_MEMORY, label, NULL);
    for (int f = 0; f < n && f < MAX_FACES; f++) {
        if (fit_one(T, img, &faces[f], &lm[0]) != FS_OK)
            continue;
        if (!refine(T, img, &lm[0]))
            continue;
        double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
            x0 = fmin(x0, lm[0].points[i][0]);
            x1 = fmax(x1, lm[0].points[i][0]);
            y0 = fmin(y0, lm[0].points[i][1]);
            y1 = fmax(y1, lm[0].points[i][1]);
        }
        const double size = fmax(x1 - x0, y1 - y0), yaw = lm[0].pose.yaw;
        if (size < min_face || fabs(yaw) > max_yaw || fabs(yaw) < T->min_yaw)
            continue;
        const int b = bucket_of(yaw);
        drift col[N_COLS];
        col[COL_FLOOR] = find_again(T, img, &faces[f], &lm[1])
                             ? compare((const float(*)[3])lm[0].points, (const float(*)[3])lm[1].points)
                             : (drift){-1, -1, -1, -1};
        col[COL_TRACK] = fs_fitter_track(T->fit, img, &lm[0], &lm[1]) == FS_OK
                             ? compare((const float(*)[3])lm[0].points, (const float(*)[3])lm[1].points)
                             : (drift){-1, -1, -1, -1};
        char sheet[512];
        fs_identity *self = NULL;
        col[COL_SELF] = (drift){-1, -1, -1, -1};
        if (fs_identity_create_from_image(T->ctx, img, f, &self) == FS_OK) {
            snprintf(sheet, sizeof(sheet), "%s_f%d_self", label, f);
            fs_identity_data *d = swap_data(T, self, img);
            col[COL_SELF] = swap_drift(T, img, &faces[f], &lm[0], d, sheet);
            release_data(T, d);
        }
        fs_identity_destroy(self);
        for (int s = 0; s < T->n_sources; s++) {
            /* A photo onto itself is the self column's job. */
            if (src_file && strcmp(base_name(T->source_name[s]), src_file) == 0) {
                col[3 + s] = (drift){-2, -2, -2, -2};
                continue;
            }
            snprintf(sheet, sizeof(sheet), "%s_f%d_s%d", label, f, s);
            col[3 + s] = swap_drift(T, img, &faces[f], &lm[0], T->data[s], sheet);
        }
        const int steady = col[COL_TRACK].mean >= 0 && col[COL_TRACK].mean <= UNSTEADY;
        printf("%-27s%c %2d %+6.1f %5.0f", label, steady ? ' ' : '*', f, yaw, size);
        for (int c = 0; c < 3 + T->n_sources; c++) {
            if (col[c].mean == -2) {
                printf("      -      ");
                continue;
            }
            print_drift(col[c]);
            if (steady)
                account(T, b, c, col[c]);
        }
        printf("\n");
        T->unsteady[b] += !steady;
        fflush(stdout);
        T->faces++;
    }
    free(lm);
    return 0;
}

/* The photo and its mirror image. */
static int measure_photo(tool *T, const char *path, int flips)
{
    char buf[4096];
    path = find_file(path, buf, sizeof(buf));
    fs_image raw;
    memset(&raw, 0, sizeof(raw));
    fs_status st = fs_image_read_file(T->ctx, path, &raw);
    if (st != FS_OK)
        return fail(st, path, fs_context_last_error(T->ctx));
    int rc = 0;
    for (int flip = 0; flip <= flips && rc == 0; flip++) {
        fs_image img;
        if (copy_image(&raw, flip, &img)) {
            rc = fail(FS_ERR_OUT_OF_MEMORY, path, NULL);
            break;
        }
        char label[256];
        snprintf(label, sizeof(label), "%.200s%s", base_name(path), flip ? "~flip" : "");
        rc = measure_image(T, &img, label, flip ? NULL : base_name(path));
        free(img.data);
    }
    fs_image_free(&raw);
    return rc;
}

/* Every @p step-th frame of a video and its mirror image. */
static int measure_video(tool *T, const char *path, int step, int flips)
{
    char buf[4096];
    path = find_file(path, buf, sizeof(buf));
    fs_error_buf err;
    fs_video_reader *r = NULL;
    fs_video_props p;
    fs_status st = fs_video_reader_open(path, NULL, &r, &p, &err);
    if (st != FS_OK)
        return fail(st, path, err.text);
    fs_video_frame f;
    if ((st = fs_video_frame_alloc(&f, p.width, p.height, &err)) != FS_OK) {
        fs_video_reader_close(r);
        return fail(st, path, err.text);
    }
    const fs_yuv_desc yd = fs_yuv_desc_from(p.color_space, p.color_range, p.height);
    fs_image rgb = {.width = p.width, .height = p.height, .stride = 3 * p.width,
                    .format = FS_PIXEL_RGB8, .memory = FS_MEMORY_HOST};
    rgb.data = malloc((size_t)rgb.stride * (size_t)p.height);
    int rc = rgb.data ? 0 : fail(FS_ERR_OUT_OF_MEMORY, path, NULL);
    for (int64_t k = 0; rc == 0; k++) {
        int eof = 0;
        if ((st = fs_video_reader_read(r, &f, &eof, &err)) != FS_OK) {
            rc = fail(st, path, err.text);
            break;
        }
        if (eof)
            break;
        if (k % step != 0)
            continue;
        fs_yuv420_to_rgb(&f, &yd, rgb.data, rgb.stride);
        for (int flip = 0; flip <= flips && rc == 0; flip++) {
            fs_image img;
            if (copy_image(&rgb, flip, &img)) {
                rc = fail(FS_ERR_OUT_OF_MEMORY, path, NULL);
                break;
            }
            char label[256];
            snprintf(label, sizeof(label), "%.200s#%03d%s", base_name(path), (int)k, flip ? "~flip" : "");
            rc = measure_image(T, &img, label, NULL);
            free(img.data);
        }
    }
    free(rgb.data);
    fs_video_frame_free(&f);
    fs_video_reader_close(r);
    return rc;
}

static void print_table(const tool *T)
{
    static const char *const col_name[3] = {"floor", "track", "self"};
    printf("\nby |yaw|: faces, mean drift (%% of the face diagonal; of it the mean displacement's "
           "length, the face moved as a whole, and the mean distance left without it, the face "
           "changed), worst face's mean, worst point, faces over 2%% mean, lost; without the faces "
           "marked '*' (track drift over %.0f%% or lost:", UNSTEADY);
    for (int b = 0; b < N_BUCKETS; b++)
        printf(" %d", T->unsteady[b]);
    printf(" by bucket)\n");
    for (int c = 0; c < 3 + T->n_sources; c++) {
        printf("%s%s\n", c < 3 ? col_name[c] : "source ", c < 3 ? "" : base_name(T->source_name[c - 3]));
        for (int b = 0; b < N_BUCKETS; b++) {
            const int n = T->n[b][c];
            if (!n && !T->lost[b][c])
                continue;
            const double k = n ? 1.0 / n : 0.0;
            printf("  %2.0f-%2.0f deg: %3d faces  mean %5.2f (shift %5.2f, shape %5.2f)  worst %5.2f  "
                   "max %5.2f  over 2%% %d  lost %d\n",
                   bucket_edge[b], bucket_edge[b + 1], n, k * T->sum[b][c], k * T->shift[b][c],
                   k * T->shape[b][c], T->worst_mean[b][c], T->worst_max[b][c], T->over[b][c],
                   T->lost[b][c]);
        }
    }
}

int main(int argc, char **argv)
{
    static tool T;
    T.delight = -1;
    const char *targets[64];
    int n_targets = 0, step = 15, flips = 1;
    double shape = -1, erode = -1, feather = -1;
    int skin_guard = -1, colour = -1, eyes = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-flip") == 0) {
            flips = 0;
            continue;
        }
        if (strncmp(a, "--", 2) == 0 && !v) {
            fprintf(stderr, "turned_drift: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--source") == 0 && T.n_sources < MAX_SOURCES)
            T.source_name[T.n_sources++] = v;
        else if (strcmp(a, "--step") == 0)
            step = atoi(v) > 0 ? atoi(v) : 1;
        else if (strcmp(a, "--shape") == 0)
            shape = atof(v);
        else if (strcmp(a, "--erode") == 0)
            erode = atof(v);
        else if (strcmp(a, "--feather") == 0)
            feather = atof(v);
        else if (strcmp(a, "--skin-guard") == 0)
            skin_guard = atoi(v);
        else if (strcmp(a, "--colour") == 0)
            colour = atoi(v);
        else if (strcmp(a, "--eyes-mouth") == 0)
            eyes = atoi(v);
        else if (strcmp(a, "--refine") == 0)
            T.refine = atoi(v) > 0 ? atoi(v) : 0;
        else if (strcmp(a, "--delight") == 0)
            T.delight = atoi(v) != 0;
        else if (strcmp(a, "--same-box") == 0)
            T.same_box = atoi(v) != 0;
        else if (strcmp(a, "--steady") == 0)
            T.steady = atoi(v) != 0;
        else if (strcmp(a, "--min-yaw") == 0)
            T.min_yaw = atof(v);
        else if (strcmp(a, "--out") == 0)
            T.outdir = v;
        else if (strncmp(a, "--", 2) == 0) {
            fprintf(stderr, "turned_drift: unknown option %s\n", a);
            return 2;
        } else {
            if (n_targets < 64)
                targets[n_targets++] = a;
            continue;
        }
        i++;
    }
    if (T.n_sources == 0) {
        T.source_name[T.n_sources++] = "astronaut.png";
        T.source_name[T.n_sources++] = "faceapi_sample3.jpg";
    }
    if (n_targets == 0) {
        static const char *const def[] = {"astronaut.png",       "messi5.jpg",
                                          "faceapi_sample1.jpg", "faceapi_sample2.jpg",
                                          "faceapi_sample3.jpg", "faceapi_sample4.jpg",
                                          "faceapi_sample5.jpg", "faceapi_sample6.jpg",
                                          "Megamind.avi"};
        for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++)
            targets[n_targets++] = def[i];
    }

    fs_status st = fs_context_create(&T.ctx);
    if (st == FS_OK)
        st = fs_detector_create(T.ctx, &T.det);
    if (st == FS_OK)
        st = fs_fitter_create(T.ctx, &T.fit);
    if (st == FS_OK)
        st = fs_renderer_create(T.ctx, &T.ren);
    if (st != FS_OK)
        return fail(st, "set-up", T.ctx ? fs_context_last_error(T.ctx) : NULL);
    T.params = *fs_renderer_internal_params(T.ren);
    if (shape >= 0)
        T.params.shape = shape;
    if (erode >= 0)
        T.params.erode = erode;
    if (feather >= 0)
        T.params.feather = feather;
    if (skin_guard >= 0)
        T.params.skin_guard = skin_guard;
    if (colour >= 0)
        T.params.colour = colour;
    if (eyes >= 0)
        T.params.eyes = eyes;
    if (T.delight >= 0)
        T.params.relight = T.delight;

    int rc = 0;
    for (int s = 0; s < T.n_sources && rc == 0; s++) {
        char buf[4096];
        const char *path = find_file(T.source_name[s], buf, sizeof(buf));
        fs_image img;
        memset(&img, 0, sizeof(img));
        st = fs_image_read_file(T.ctx, path, &img);
        if (st == FS_OK)
            st = fs_identity_create_from_image(T.ctx, &img, FS_IDENTITY_LARGEST_FACE, &T.source[s]);
        if (st != FS_OK)
            rc = fail(st, path, fs_context_last_error(T.ctx));
        else if (!(T.data[s] = swap_data(&T, T.source[s], &img)))
            rc = fail(FS_ERR_OUT_OF_MEMORY, path, "the source's swap data");
        fs_image_free(&img);
    }
    if (rc == 0) {
        printf("drift of the landmarks found again, %% of the face diagonal: mean (max)\n");
        printf("%-28s %2s %6s %5s %-13s %-13s %-13s", "target", "f", "yaw", "px", " floor",
               " track", " self");
        for (int s = 0; s < T.n_sources; s++)
            printf(" %-13.13s", base_name(T.source_name[s]));
        printf("\n");
    }
    for (int t = 0; t < n_targets && rc == 0; t++)
        rc = is_video(targets[t]) ? measure_video(&T, targets[t], step, flips)
                                  : measure_photo(&T, targets[t], flips);
    if (rc == 0) {
        print_table(&T);
        printf("%d faces\n", T.faces);
    }
    for (int s = 0; s < T.n_sources; s++) {
        release_data(&T, T.data[s]);
        fs_identity_destroy(T.source[s]);
    }
    fs_renderer_destroy(T.ren);
    fs_fitter_destroy(T.fit);
    fs_detector_destroy(T.det);
    fs_context_destroy(T.ctx);
    return rc;
}
