/*
 * The selfie check (include/faceswap/check.h): what a fitted face on its
 * photo measures, and how the measures become qualities, flags and a score.
 * Thresholds: doc/check.md, measured by tests/test_check.c.
 */
#include "identity/selfie.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "identity/atlas.h"

/*
 * hopeless / threshold / good of every measure, set between the figures of
 * the test photos and of their degraded copies (doc/check.md).
 */
const fs_check_limits fs_check_default_limits = {
    .face_size = {24.0f, 64.0f, 160.0f},
    .yaw = {60.0f, 30.0f, 10.0f},
    .pitch = {50.0f, 25.0f, 10.0f},
    .roll = {70.0f, 35.0f, 10.0f},
    .luma_dark = {15.0f, 55.0f, 100.0f},
    .luma_bright = {250.0f, 220.0f, 180.0f},
    .clipped = {0.7f, 0.25f, 0.03f},
    .cast = {15.0f, 4.0f, 1.0f},
    .chroma = {1.0f, 3.0f, 5.0f},
    .sharpness = {0.15f, 0.35f, 0.5f},
    .eye_openness = {0.03f, 0.12f, 0.22f},
    .covered = {0.95f, 0.6f, 0.25f},
    .outside = {0.3f, 0.02f, 0.0f},
    .crowd = {1.0f, 0.7f, 0.4f},
};

float fs_check_quality(const fs_check_ramp *r, float m)
{
    if (!isfinite(m))
        return 0.0f;
    /* Mirror a lower-is-better ramp so that one formula serves both. */
    const float s = r->good >= r->bad ? 1.0f : -1.0f;
    const float x = s * m, bad = s * r->bad, thr = s * r->thr, good = s * r->good;
    float q;
    if (x >= thr)
        q = good > thr ? 0.5f + 0.5f * (x - thr) / (good - thr) : 1.0f;
    else
        q = thr > bad ? 0.5f * (x - bad) / (thr - bad) : 0.0f;
    return q < 0.0f ? 0.0f : q > 1.0f ? 1.0f : q;
}

static float minf(float a, float b)
{
    return a < b ? a : b;
}

void fs_check_judge(fs_source_check *c, const fs_check_limits *l)
{
    float q[FS_CHECK_CRITERIA];
    q[0] = fs_check_quality(&l->face_size, c->face_size);
    q[1] = minf(fs_check_quality(&l->yaw, fabsf(c->yaw)),
                minf(fs_check_quality(&l->pitch, fabsf(c->pitch)),
                     fs_check_quality(&l->roll, fabsf(c->roll))));
    q[2] = fs_check_quality(&l->luma_dark, c->luma);
    q[3] = minf(fs_check_quality(&l->luma_bright, c->luma), fs_check_quality(&l->clipped, c->clipped));
    q[4] = minf(fs_check_quality(&l->cast, c->cast),
                fs_check_quality(&l->chroma, hypotf(c->skin_a, c->skin_b)));
    q[5] = fs_check_quality(&l->sharpness, c->sharpness);
    q[6] = fs_check_quality(&l->eye_openness, c->eye_openness);
    q[7] = fs_check_quality(&l->covered, c->covered);
    q[8] = fs_check_quality(&l->outside, c->outside);
    q[9] = fs_check_quality(&l->crowd, c->crowd);
    c->flags = 0;
    c->score = 1.0f;
    for (int i = 0; i < 16; i++)
        c->quality[i] = 1.0f;
    for (int i = 0; i < FS_CHECK_CRITERIA; i++) {
        c->quality[i] = q[i];
        if (q[i] < 0.5f)
            c->flags |= 1u << i;
        c->score = minf(c->score, q[i]);
    }
}

float fs_check_face_size(const fs_face_landmarks *lm)
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const float x = lm->points[i][0], y = lm->points[i][1];
        if (!isfinite(x) || !isfinite(y))
            return 0.0f;
        x0 = fminf(x0, x);
        y0 = fminf(y0, y);
        x1 = fmaxf(x1, x);
        y1 = fmaxf(y1, y);
    }
    return fmaxf(x1 - x0, y1 - y0);
}

/* ------------------------------------------------------------ pixels */

typedef struct pixels {
    const uint8_t *data;
    int w, h, stride, ch;
    int r, g, b; /* channel offsets */
} pixels;

static void pixels_init(const fs_image *im, pixels *p)
{
    p->data = im->data;
    p->w = im->width;
    p->h = im->height;
    p->stride = im->stride;
    p->r = 0;
    p->g = 1;
    p->b = 2;
    switch (im->format) {
    case FS_PIXEL_RGBA8: p->ch = 4; break;
    case FS_PIXEL_BGR8: p->ch = 3; p->r = 2; p->b = 0; break;
    case FS_PIXEL_BGRA8: p->ch = 4; p->r = 2; p->b = 0; break;
    case FS_PIXEL_GRAY8: p->ch = 1; p->g = 0; p->b = 0; break;
    default: p->ch = 3; break;
    }
}

static void pixel_rgb(const pixels *p, int x, int y, uint8_t rgb[3])
{
    const uint8_t *px = p->data + (size_t)y * (size_t)p->stride + (size_t)x * (size_t)p->ch;
    rgb[0] = px[p->r];
    rgb[1] = px[p->g];
    rgb[2] = px[p->b];
}

static float luma_of(const uint8_t rgb[3])
{
    return 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
}

/* ------------------------------------------------------------ regions */

/* MediaPipe FaceMesh rings (closed polygons of landmark indices). */
static const uint16_t face_oval[] = {10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
                                     397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
                                     172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109};
static const uint16_t eye_r[] = {33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7};
static const uint16_t eye_l[] = {263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249};
static const uint16_t brow_r[] = {70, 63, 105, 66, 107, 55, 65, 52, 53, 46};
static const uint16_t brow_l[] = {300, 293, 334, 296, 336, 285, 295, 282, 283, 276};
static const uint16_t lips[] = {61,  185, 40,  39,  37, 0,   267, 269, 270, 409,
                                291, 375, 321, 405, 314, 17, 84,  181, 91,  146};

typedef struct ring {
    const uint16_t *idx;
    int n;
} ring;

#define RING(a) {a, (int)(sizeof(a) / sizeof(a[0]))}

static int in_ring(const fs_face_landmarks *lm, ring r, float x, float y)
{
    int in = 0;
    for (int i = 0, j = r.n - 1; i < r.n; j = i++) {
        const float xi = lm->points[r.idx[i]][0], yi = lm->points[r.idx[i]][1];
        const float xj = lm->points[r.idx[j]][0], yj = lm->points[r.idx[j]][1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
            in = !in;
    }
    return in;
}

/* Skin of the face: inside the oval, off the eyes, brows and lips. */
static int on_skin(const fs_face_landmarks *lm, float x, float y)
{
    static const ring holes[] = {RING(eye_r), RING(eye_l), RING(brow_r), RING(brow_l), RING(lips)};
    const ring oval = RING(face_oval);
    if (!in_ring(lm, oval, x, y))
        return 0;
    for (size_t i = 0; i < sizeof(holes) / sizeof(holes[0]); i++)
        if (in_ring(lm, holes[i], x, y))
            return 0;
    return 1;
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (n >= 1), reordering v. */
static float quantile(float *v, int n, float q)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_float);
    int k = (int)(q * (float)(n - 1) + 0.5f);
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* ------------------------------------------------------------ colour */

/*
 * Skin under white light, in CIELAB: its hue lies between a reddish and a
 * yellowish bound and its chroma below that of deeply tanned skin (a grey
 * photo has no cast; its chroma, under the limits' chroma ramp, is judged
 * beside the cast: a black-and-white selfie swapped onto a colour target
 * came back a greyish olive face without red lips).
 * cast = distance of the face's (a*, b*) from that sector. Warm white
 * balance moves skin along it, a coloured light off it.
 *
 * Two lights of different colours, one on each side (a warm lamp and a
 * blue screen), can leave the whole face's median inside the sector while
 * each half is far from it: faceapi_sample3's largest face measures (19.8,
 * -1.5) over the face, (26.3, 33.8) left of the nose and (17.5, -11.1)
 * right of it. The light model (lib/light/shading.h) holds one smooth light
 * and leaves such a face's atlas striped orange and blue. So each half
 * (left and right of the nose tip) is measured too, where it holds at
 * least HALF_MIN of the samples (the far side of a profile is a sliver),
 * and cast is the largest of the three distances.
 */
#define HALF_MIN 0.1f
#define SKIN_HUE_MIN (-5.0f) /* degrees */
#define SKIN_HUE_MAX 85.0f
#define SKIN_CHROMA_MIN 0.0f
#define SKIN_CHROMA_MAX 45.0f

float fs_check_skin_cast(float a, float b)
{
    const float deg = 3.14159265f / 180.0f;
    const float c = hypotf(a, b);
    const float h = atan2f(b, a) / deg;
    if (h >= SKIN_HUE_MIN && h <= SKIN_HUE_MAX)
        return c < SKIN_CHROMA_MIN ? SKIN_CHROMA_MIN - c : c > SKIN_CHROMA_MAX ? c - SKIN_CHROMA_MAX : 0.0f;
    /* Outside the hue range: distance to the nearer bounding ray's segment. */
    float best = INFINITY;
    const float hues[2] = {SKIN_HUE_MIN, SKIN_HUE_MAX};
    for (int i = 0; i < 2; i++) {
        const float ux = cosf(hues[i] * deg), uy = sinf(hues[i] * deg);
        float t = a * ux + b * uy;
        t = t < SKIN_CHROMA_MIN ? SKIN_CHROMA_MIN : t > SKIN_CHROMA_MAX ? SKIN_CHROMA_MAX : t;
        best = fminf(best, hypotf(a - t * ux, b - t * uy));
    }
    return best;
}

/* A pixel's colour for the skin comparison: CIELAB with the lightness at a
 * third of its weight, since shade changes L* across a face more than it
 * changes a* and b*. */
static void skin_colour(const uint8_t rgb[3], float v[3])
{
    fs_srgb_to_lab(rgb, v);
    v[0] /= 3.0f;
}

static float dist3(const float a[3], const float b[3])
{
    const float d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
    return sqrtf(d0 * d0 + d1 * d1 + d2 * d2);
}

/* ------------------------------------------------------------ covered */

/* Forehead and glabella: the face's own skin colour, above the line where
 * a mask ends (a mask reaches up to the cheekbones). */
static const uint16_t ref_points[] = {151, 108, 337, 9, 69, 299};
/* Nose, upper lip and chin: what a mask or a hand covers first. */
static const uint16_t low_points[] = {1,   4,   5,   195, 45,  275, 164, 167, 393,
                                      199, 175, 200, 208, 428, 171, 396, 206, 426};
#define DISC_MAX_SAMPLES 64
#define SKIN_SPREAD 14.0f

/* Colours (skin_colour) of pixels in a disc of radius @p r around landmark
 * @p i, at most DISC_MAX_SAMPLES; returns the count. */
static int disc_samples(const pixels *px, const fs_face_landmarks *lm, int i, float r, float (*v)[3])
{
    const float cx = lm->points[i][0], cy = lm->points[i][1];
    const float step = fmaxf(1.0f, r / 3.5f);
    int n = 0;
    for (float dy = -r; dy <= r && n < DISC_MAX_SAMPLES; dy += step)
        for (float dx = -r; dx <= r && n < DISC_MAX_SAMPLES; dx += step) {
            if (dx * dx + dy * dy > r * r)
                continue;
            const float x = floorf(cx + dx), y = floorf(cy + dy);
            if (!(x >= 0.0f && y >= 0.0f && x < (float)px->w && y < (float)px->h))
                continue;
            uint8_t rgb[3];
            pixel_rgb(px, (int)x, (int)y, rgb);
            skin_colour(rgb, v[n++]);
        }
    return n;
}

/* Share of the lower face's samples whose colour is unlike the reference
 * skin's: far from its median by more than its own spread allows. */
static fs_status covered_share(const pixels *px, const fs_face_landmarks *lm, float size,
                               float *out, fs_error_buf *err)
{
    enum { NREF = sizeof(ref_points) / sizeof(ref_points[0]),
           NLOW = sizeof(low_points) / sizeof(low_points[0]) };
    float tmp[NREF * DISC_MAX_SAMPLES];
    const float r = fmaxf(1.0f, 0.025f * size);
    float (*rs)[3] = malloc(sizeof(float[3]) * NREF * DISC_MAX_SAMPLES);
    if (!rs)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "selfie check: out of memory");
    *out = 0.0f;
    int nr = 0;
    int n_all = 0;
    for (int i = 0; i < NREF; i++) {
        const int n = disc_samples(px, lm, ref_points[i], r, rs + nr);
        n_all += n;
        /* clipped white has lost its colour: not a reference */
        int kept = nr;
        for (int k = nr; k < nr + n; k++)
            if (rs[k][0] < 97.0f / 3.0f)
                memmove(rs[kept++], rs[k], sizeof(rs[k]));
        nr = kept;
    }
    if (nr == 0 || nr < n_all / 4) { /* the reference skin is off the image (CUT) or blown out (BRIGHT) */
        free(rs);
        return FS_OK;
    }
    float med[3];
    for (int c = 0; c < 3; c++) {
        for (int k = 0; k < nr; k++)
            tmp[k] = rs[k][c];
        med[c] = quantile(tmp, nr, 0.5f);
    }
    for (int k = 0; k < nr; k++)
        tmp[k] = dist3(rs[k], med);
    /* The median distance, so that a fringe over part of the forehead does
     * not widen the model; at least SKIN_SPREAD, which the nose's and the
     * chin's own redness and shading need on the test photos. */
    const float limit = fmaxf(3.0f * quantile(tmp, nr, 0.5f), SKIN_SPREAD);
    free(rs);
    int unlike = 0, total = 0;
    float s[DISC_MAX_SAMPLES][3];
    for (int i = 0; i < NLOW; i++) {
        const int n = disc_samples(px, lm, low_points[i], r, s);
        for (int k = 0; k < n; k++)
            unlike += dist3(s[k], med) > limit;
        total += n;
    }
    *out = total > 0 ? (float)unlike / (float)total : 0.0f;
    return FS_OK;
}

/* ------------------------------------------------------------ sharpness */

/* Face scale of the sharpness measure: a face larger than this is reduced
 * to it first, so that the same blur at face scale reads the same on a
 * small and a large photo. */
#define SHARP_SCALE 128.0f

/*
 * Crete-Roffet et al., "The blur effect" (2007): the share of the
 * neighbour differences that a 9-pixel box blur removes, along rows and
 * along columns; a sharp image loses much, a blurred one little.
 * Returns 1 - blur of the worse direction (0 for a flat patch).
 */
static float crete_sharpness(const float *p, int w, int h, float *blur)
{
    float share = 1.0f;
    for (int dir = 0; dir < 2; dir++) {
        const int n = dir == 0 ? w : h;      /* along */
        const int m = dir == 0 ? h : w;      /* across */
        const size_t sa = dir == 0 ? 1 : (size_t)w, sm = dir == 0 ? (size_t)w : 1;
        double s_f = 0.0, s_v = 0.0;
        for (int j = 0; j < m; j++) {
            const float *line = p + (size_t)j * sm;
            for (int i = 0; i < n; i++) {
                float acc = 0.0f;
                for (int k = -4; k <= 4; k++) {
                    const int t = i + k < 0 ? 0 : i + k >= n ? n - 1 : i + k;
                    acc += line[(size_t)t * sa];
                }
                blur[i] = acc / 9.0f;
            }
            for (int i = 1; i < n; i++) {
                const float d_f = fabsf(line[(size_t)i * sa] - line[(size_t)(i - 1) * sa]);
                const float d_b = fabsf(blur[i] - blur[i - 1]);
                s_f += d_f;
                s_v += d_f > d_b ? d_f - d_b : 0.0f;
            }
        }
        share = fminf(share, s_f > 0.0 ? (float)(s_v / s_f) : 0.0f);
    }
    return share;
}

/* Sharpness of the inner face (brows to chin, between the cheeks), reduced
 * by area averaging to at most SHARP_SCALE px of face. */
static fs_status face_sharpness(const pixels *px, float bx0, float by0, float bx1, float by1,
                                float size, float *out, fs_error_buf *err)
{
    const float bw = bx1 - bx0, bh = by1 - by0;
    float x0 = bx0 + 0.15f * bw, x1 = bx1 - 0.15f * bw;
    float y0 = by0 + 0.2f * bh, y1 = by1 - 0.1f * bh;
    x0 = fmaxf(x0, 0.0f);
    y0 = fmaxf(y0, 0.0f);
    x1 = fminf(x1, (float)px->w);
    y1 = fminf(y1, (float)px->h);
    const float k = size > SHARP_SCALE ? SHARP_SCALE / size : 1.0f; /* patch px per image px */
    const int pw = (int)((x1 - x0) * k), ph = (int)((y1 - y0) * k);
    *out = 0.0f;
    if (pw < 12 || ph < 12)
        return FS_OK; /* too little face in the image to judge: CUT or SMALL say why */
    float *patch = malloc(sizeof(float) * ((size_t)pw * (size_t)ph + (size_t)(pw > ph ? pw : ph)));
    if (!patch)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "selfie check: out of memory");
    for (int j = 0; j < ph; j++) {
        const int sy0 = (int)(y0 + (float)j / k), sy1 = (int)(y0 + (float)(j + 1) / k);
        for (int i = 0; i < pw; i++) {
            const int sx0 = (int)(x0 + (float)i / k), sx1 = (int)(x0 + (float)(i + 1) / k);
            float acc = 0.0f;
            int cnt = 0;
            for (int y = sy0; y < (sy1 > sy0 ? sy1 : sy0 + 1) && y < px->h; y++)
                for (int x = sx0; x < (sx1 > sx0 ? sx1 : sx0 + 1) && x < px->w; x++) {
                    uint8_t rgb[3];
                    pixel_rgb(px, x, y, rgb);
                    acc += luma_of(rgb);
                    cnt++;
                }
            patch[(size_t)j * (size_t)pw + (size_t)i] = cnt ? acc / (float)cnt : 0.0f;
        }
    }
    *out = crete_sharpness(patch, pw, ph, patch + (size_t)pw * (size_t)ph);
    free(patch);
    return FS_OK;
}

/* ------------------------------------------------------------ eyes */

/* Lid distance over eye width, mean of three lid pairs, for one eye. */
static float eye_ratio(const fs_face_landmarks *lm, const int corner[2], const int lids[3][2])
{
    const float(*p)[3] = lm->points;
    const float width = hypotf(p[corner[0]][0] - p[corner[1]][0], p[corner[0]][1] - p[corner[1]][1]);
    float open = 0.0f;
    for (int i = 0; i < 3; i++)
        open += hypotf(p[lids[i][0]][0] - p[lids[i][1]][0], p[lids[i][0]][1] - p[lids[i][1]][1]);
    return width > 0.0f ? open / (3.0f * width) : 0.0f;
}

static float eye_openness(const fs_face_landmarks *lm)
{
    static const int corner_r[2] = {33, 133}, corner_l[2] = {362, 263};
    static const int lids_r[3][2] = {{160, 144}, {159, 145}, {158, 153}};
    static const int lids_l[3][2] = {{385, 380}, {386, 374}, {387, 373}};
    return 0.5f * (eye_ratio(lm, corner_r, lids_r) + eye_ratio(lm, corner_l, lids_l));
}

/* ------------------------------------------------------------ measure */

/* Grid of at most SKIN_GRID x SKIN_GRID samples over the face's box. */
#define SKIN_GRID 96

fs_status fs_check_measure(const fs_image *image, const fs_face_landmarks *lm,
                           fs_source_check *out, fs_error_buf *err)
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    int outside = 0;
    for (int i = 0; i < FS_LANDMARKS; i++) {
        const float x = lm->points[i][0], y = lm->points[i][1];
        if (!isfinite(x) || !isfinite(y) || fabsf(x) > 1e6f || fabsf(y) > 1e6f)
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "selfie check: landmark %d not finite or far out", i);
        if (i >= FS_MESH_LANDMARKS)
            continue;
        x0 = fminf(x0, x);
        y0 = fminf(y0, y);
        x1 = fmaxf(x1, x);
        y1 = fmaxf(y1, y);
        outside += x < 0.0f || y < 0.0f || x > (float)image->width || y > (float)image->height;
    }
    pixels px;
    pixels_init(image, &px);
    const float size = fmaxf(x1 - x0, y1 - y0);

    /* Skin samples: exposure and colour. */
    const float step = fmaxf(1.0f, size / (float)SKIN_GRID);
    enum { CAP = (SKIN_GRID + 2) * (SKIN_GRID + 2) };
    /* a*, b* of each sample, which side of the nose it lies, and room for
     * one half's a*, b* (quantile reorders what it is given) */
    float *a = malloc(sizeof(float) * 5 * CAP);
    if (!a)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "selfie check: out of memory");
    float *b = a + CAP, *right = b + CAP, *ha = right + CAP, *hb = ha + CAP;
    const float nose_x = lm->points[1][0];
    int n = 0, n_clip = 0, n_dark = 0;
    double luma = 0.0;
    for (float y = y0 + 0.5f * step; y < y1 && n < CAP; y += step) {
        if (y < 0.0f || y >= (float)image->height)
            continue;
        for (float x = x0 + 0.5f * step; x < x1 && n < CAP; x += step) {
            if (x < 0.0f || x >= (float)image->width || !on_skin(lm, x, y))
                continue;
            uint8_t rgb[3];
            pixel_rgb(&px, (int)x, (int)y, rgb);
            const float l = luma_of(rgb);
            float lab[3];
            fs_srgb_to_lab(rgb, lab);
            luma += l;
            n_clip += rgb[0] >= 250 || rgb[1] >= 250 || rgb[2] >= 250;
            n_dark += l <= 16.0f;
            a[n] = lab[1];
            b[n] = lab[2];
            right[n] = x >= nose_x;
            n++;
        }
    }
    fs_source_check c = *out;
    c.face_size = size;
    c.yaw = lm->pose.yaw;
    c.pitch = lm->pose.pitch;
    c.roll = lm->pose.roll;
    c.confidence = lm->confidence;
    c.outside = (float)outside / (float)FS_MESH_LANDMARKS;
    c.luma = n ? (float)(luma / n) : 0.0f;
    c.clipped = n ? (float)n_clip / (float)n : 0.0f;
    c.dark = n ? (float)n_dark / (float)n : 0.0f;
    float half_cast = 0.0f;
    for (int side = 0; side < 2; side++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (right[i] == (float)side) {
                ha[m] = a[i];
                hb[m] = b[i];
                m++;
            }
        if (m > 0 && (float)m >= HALF_MIN * (float)n)
            half_cast = fmaxf(half_cast, fs_check_skin_cast(quantile(ha, m, 0.5f), quantile(hb, m, 0.5f)));
    }
    c.skin_a = n ? quantile(a, n, 0.5f) : 0.0f;
    c.skin_b = n ? quantile(b, n, 0.5f) : 0.0f;
    c.cast = n ? fmaxf(fs_check_skin_cast(c.skin_a, c.skin_b), half_cast) : 0.0f;
    free(a);
    c.eye_openness = eye_openness(lm);
    fs_status st = covered_share(&px, lm, size, &c.covered, err);
    if (st == FS_OK)
        st = face_sharpness(&px, x0, y0, x1, y1, size, &c.sharpness, err);
    if (st != FS_OK)
        return st;
    *out = c;
    return FS_OK;
}

const char *fs_check_flag_name(uint32_t flag)
{
    static const char *const names[FS_CHECK_CRITERIA] = {
        "small", "turned", "dark", "bright", "coloured", "blurred", "eyes_closed", "covered", "cut", "crowded"};
    for (int i = 0; i < FS_CHECK_CRITERIA; i++)
        if (flag == 1u << i)
            return names[i];
    return NULL;
}
