/*
 * The swap's texture stage, plain C (the reference entries of the swap
 * texture family, lookup and finish_u8; lib/swap/lookup.h has the contract).
 */
#include "swap/lookup.h"

#include <math.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "compose/colour.h"
#include "scratch.h"
#include "swap/swap.h"

/* Below this shape weight a pixel is in the face's outer band, where the
 * source's hair often hangs over the cheeks and temples. */
#define OUTER_BAND 0.5f
/* In the outer band, atlas texels the source photo saw at a grazing angle
 * (weight under this, own and mirror alike) are stretched on a target that
 * shows that side squarely, and read as a pale streak: the target keeps
 * those pixels. */
#define SEEN_MIN 0.3f
/* Atlas coverage below which a pixel is the footprint's soft edge, not skin. */
#define COVER_MIN 0.25f

/* Above the eyebrows and along the face's outer band the atlas may hold the
 * source's hair (a fringe, strands over the cheeks), which on the target
 * reads as a dark band: texels darker than the source's skin by @p kl
 * deviations, or further than @p kab deviations from its hue, stay out of
 * the mask there. The forehead, plain skin in most faces, takes tighter
 * bounds (1.5, 2.5) than the outline (2, 3), where shadows are common:
 * the tighter ones remove a light-brown fringe that the looser ones keep. */
static inline int hair_like_lab(const float mean[3], const float sd[3], const float lab[3],
                                float kl, float kab, int fast)
{
    const float *m = mean;
    const float sl = sd[0] > 3.0f ? sd[0] : 3.0f;
    if (fast) {
        /* sqrtf of the float sum, not hypotf's correctly rounded call: the
         * bound moves by an ulp or so. */
        const float ab = sqrtf(sd[1] * sd[1] + sd[2] * sd[2]), sab = ab > 3.0f ? ab : 3.0f;
        const float da = lab[1] - m[1], db = lab[2] - m[2];
        return lab[0] < m[0] - kl * sl || sqrtf(da * da + db * db) > kab * sab;
    }
    const float sab = fmaxf(hypotf(sd[1], sd[2]), 3.0f);
    return lab[0] < m[0] - kl * sl || hypotf(lab[1] - m[1], lab[2] - m[2]) > kab * sab;
}

/* The same question asked of the source's skin model (fs_atlas.skin, when
 * the identity has one) about the atlas texel's own colour @p rgb (0..255,
 * before the target's light): hair where its squared distance to the
 * skin passes SKIN_D2_OUTER in the outer band (chi-square, 3 degrees:
 * 0.1% of skin), SKIN_D2_FOREHEAD in the band above the brows, twice that
 * where it is brighter than the skin (a highlight, not hair, unless its
 * colour is far off too). The model is fitted on the cheeks; the forehead
 * is often lighter or ruddier than they are, and at 16.3 there the
 * quality benchmark's identity fell from +0.216 to +0.206 with nothing
 * to see on its pairs (when the bound was 25). The astronaut's light-brown
 * fringe measures 22 to 29 at the forehead's top, above the cut. Since the
 * shading floor went to half the mean light the forehead's top, which faces
 * up, is brightened less, and at 25 her fringe showed as brown smudges on
 * three of the quality benchmark's eight pairs and between the brows in the
 * demo film; at 20 they are gone (identity +0.219 -> +0.216, min +0.152 ->
 * +0.150; 22 left some, 16.3 gave +0.213; doc/light-notes.md, fourteenth
 * step). A fringe that reaches lower may still let its lightest strands
 * through. */
#define SKIN_D2_FOREHEAD 20.0f
#define SKIN_D2_OUTER 16.3f
/* With a skin model the outer band takes in the face's sides in the atlas
 * as well, where the mesh runs under hair hanging by the cheeks: beyond
 * SIDE_U of the middle (the cheek under the eye is 0.22 from it), between
 * SIDE_V0 and SIDE_V1 (v down). A target turned away shows that side
 * squarely, inside its own outer band: faceapi_sample6's first face, whose
 * hair hangs over her cheek, painted a grey band of it from brow to jaw
 * on faceapi_sample2's profile. Not higher: the brows' tails (to u 0.17,
 * v 0.34) and the eyes' outer corners with their make-up (v 0.40) are the
 * face's own and unlike its cheeks. Not lower than the jaw's angle (0.79;
 * the mouth's corners are at 0.70): a beard is the face's own too. */
#define SIDE_U 0.23f
#define SIDE_V0 0.42f
#define SIDE_V1 0.80f
/* Inside the face (not its outer band) and below the brows, that band
 * calls a texel darker than the skin hair from SKIN_D2_SIDE on (7% of
 * skin by chi-square, 3 degrees): hair that hangs over a cheek thins out
 * towards the face, and its mixed texels, within 16.3 of the skin, still
 * painted a grey-violet stripe from the eye's corner to the jaw on
 * faceapi_sample2's profile (faceapi_sample6's first face as source), where
 * SIDE_U was 0.27. At 0.23 and 8 the stripe is gone and the quality
 * benchmark's identity holds (+0.232, min +0.159 -> +0.233, min +0.169;
 * detector score x0.970 -> x0.984); lighter texels keep twice
 * SKIN_D2_OUTER. The cheek below the eye lies 0.22 from the middle: at
 * 0.20 or 0.22 the light leak's spot there moved the guard and the leak
 * rose 0.677 -> 0.745 / 0.718; at 0.23, 0.691 (doc/light-notes.md,
 * eighteenth step). */
#define SKIN_D2_SIDE 8.0f
/* Above that band the temples, beyond the brows' outer ends (MediaPipe 71
 * and 301 lie 0.327 from the middle): the hair by a source's temple (the
 * astronaut's light-brown strands) otherwise came over every target as a
 * yellow or grey-olive streak by the far eye, over the target's own hair
 * on faceapi_sample6. The brows' tails stay inside it. */
#define TEMPLE_U 0.33f

/* Atlas texels outside the brows and the outline where a source's hair
 * hangs: the cheeks' sides and, above them, the temples. */
static inline int hair_band(float u, float v)
{
    const float du = fabsf(u - 0.5f);
    return v <= SIDE_V0 ? du > TEMPLE_U : du > SIDE_U && v < SIDE_V1;
}

/* Where a hair guard asks the skin model. */
typedef enum guard_place { GUARD_OUTER, GUARD_ABOVE_BROW, GUARD_SIDE } guard_place;

/* The guard's question from the skin model's answer: squared distance
 * @p d2, @p dy brighter than the skin (below 0: darker). */
static inline int hair_at_distance(float d2, float dy, guard_place at)
{
    const float t = at == GUARD_ABOVE_BROW ? SKIN_D2_FOREHEAD : SKIN_D2_OUTER;
    if (dy > 0.0f)
        return d2 > 2.0f * t;
    return d2 > (at == GUARD_SIDE ? SKIN_D2_SIDE : t);
}

static inline int hair_like_skin(const fs_skin_model *m, const float rgb[3], guard_place at)
{
    float dy;
    const float d2 = fs_skin_distance(m, rgb, &dy);
    return hair_at_distance(d2, dy, at);
}

/* CIELAB of @p n pixels of the float RGB @p img picked by @p idx, into
 * @p lab (3n): one packed batch for the fast path. */
static void lab_of(const float *img, const size_t *idx, size_t n, float *lab, int fast)
{
    for (size_t k = 0; k < n; k++)
        memcpy(lab + 3 * k, img + 3 * idx[k], 3 * sizeof(float));
    if (fast)
        fs_colour_srgb_to_lab_fast(lab, lab, n);
    else
        fs_colour_srgb_to_lab(lab, lab, n);
}

/* The target's own hair over its outer band (a profile's mesh reaches under
 * the hair by the ear): pixels there that look like hair against the
 * target's inner skin stay the target's. The inner skin's statistics come
 * from one pixel in four (every other row and column): a mean and a
 * deviation over thousands of pixels hardly move, at a quarter of the
 * conversions. Returns how many left the mask, or -1 out of memory. */
static inline long guard_target_hair(const float *attr, fs_swap_lookup_out *o, int w, int h,
                                     size_t *idx, float *lab, int fast)
{
    const size_t n = (size_t)w * (size_t)h;
    size_t cnt = 0;
    for (int y = 0; y < h; y += 2)
        for (int x = 0; x < w; x += 2) {
            const size_t p = (size_t)y * (size_t)w + (size_t)x;
            if (o->skin[p] && !o->open[p] && attr[FS_SWAP_ATTR * p + 4] >= OUTER_BAND)
                idx[cnt++] = p;
        }
    long removed = 0;
    if (cnt >= 16) {
        lab_of(o->target, idx, cnt, lab, fast);
        double sum[3] = {0}, sq[3] = {0};
        for (size_t k = 0; k < cnt; k++)
            for (int c = 0; c < 3; c++) {
                sum[c] += lab[3 * k + c];
                sq[c] += (double)lab[3 * k + c] * lab[3 * k + c];
            }
        float mean[3], sd[3];
        for (int c = 0; c < 3; c++) {
            mean[c] = (float)(sum[c] / (double)cnt);
            const double var = sq[c] / (double)cnt - (double)mean[c] * mean[c];
            sd[c] = (float)sqrt(var > 0 ? var : 0);
        }
        size_t m = 0;
        for (size_t p = 0; p < n; p++)
            if (o->skin[p] && !o->open[p] && attr[FS_SWAP_ATTR * p + 4] < OUTER_BAND)
                idx[m++] = p;
        lab_of(o->target, idx, m, lab, fast);
        for (size_t k = 0; k < m; k++)
            if (hair_like_lab(mean, sd, lab + 3 * k, 2.0f, 3.0f, fast)) {
                o->skin[idx[k]] = 0;
                removed++;
            }
    }
    return removed;
}

void fs_swap_iris_discs(const float (*p)[3], float out[2][3])
{
    for (int e = 0; e < 2; e++) {
        const float *c = p[468 + 5 * e];
        float r = 0;
        for (int j = 1; j <= 4; j++)
            r += hypotf(p[468 + 5 * e + j][0] - c[0], p[468 + 5 * e + j][1] - c[1]);
        out[e][0] = c[0];
        out[e][1] = c[1];
        out[e][2] = 0.25f * r;
    }
}

/* 1 when (x, y) lies in one of the two discs of @p iris. */
static int in_iris(const float (*iris)[3], float x, float y)
{
    for (int e = 0; e < 2; e++)
        if (hypotf(x - iris[e][0], y - iris[e][1]) < iris[e][2])
            return 1;
    return 0;
}

static inline int in_box(const float box[4], float u, float v)
{
    return u >= box[0] && u <= box[2] && v >= box[1] && v <= box[3];
}

/* In target mode the eye openings are the target's lid contours (the Iris
 * model's, in its landmarks) grown by this share of each eye's width
 * (corner to corner): the lashes lie on and just outside the contour, and
 * an opening cut along it shows two lash lines (the target's inside, the
 * source's outside) and the target's make-up ending in a hard line. */
#define EYE_GROW 0.10f
/* The lower lid's lashes are shorter and sparser: a smaller margin keeps
 * more of the source's skin under the eye. */
#define EYE_GROW_LOWER 0.03f
/* How far past the inner lip line a closed mouth's pixels read the atlas,
 * in texels: onto the lip, off the line where the source's lips meet. */
#define LIP_STEP 1.5f
/* Closed lips meet in a line darker than either lip: little light reaches
 * where they touch. The pixels between the target's inner lip lines, drawn
 * from the source's lip just past its own line (lip_v), are darkened by
 * LIP_LINE_SHADE where the target's lips touch (fs_swap_mouth_open at most
 * LIP_LINE_TOUCH), less and less up to FS_SWAP_MOUTH_CLOSED, where the
 * band between them is a few pixels high and lip-coloured. At 1 a smiling
 * source's pale inner lip edge, and its teeth where its fitted contour
 * missed them, showed as a pale dotted line between the target's lips; at
 * 0.7 on every closed mouth, faceapi_sample3's barely open smile (0.095)
 * swapped onto itself came back with a dark band between its lips, red
 * channel off by 3.13 levels over the face (2.39 without). */
#define LIP_LINE_SHADE 0.7f
#define LIP_LINE_TOUCH 0.05
/* An eye opening that the target's landmarks put where its photo shows no
 * open eye is not kept (the source's eye is drawn there instead): its
 * darkest tenth is lighter than EYE_BLIND_P10 x the median luma of the band
 * round it (the grown opening's box widened by EYE_BLIND_REACH of the eye's
 * width each way, the box itself left out), and so is the mean of its iris
 * disc's core (EYE_BLIND_IRIS x). Kept, such an opening is an eye-shaped
 * window onto whatever lies there: faceapi_sample5's face 3, whose ring sits
 * on the blown-out cheek under its real eye, showed a white almond;
 * faceapi_sample2's face 2 an eye-shaped hole of the hair over its eye. On
 * the test photos' other 42 openings of 12 px or more the darkest tenth is
 * at most 0.48 of the band (those three at 0.68-1.00); the cartoon film's
 * eyes, whose small pupils leave their darkest tenth at up to 0.74 of the
 * band on a few frames, have irises at 0.09-0.13 of it, so the iris test
 * keeps them from flickering. Openings of fewer than EYE_BLIND_MIN px (a
 * closed or tiny eye) are kept as they are. */
#define EYE_BLIND_P10 0.6f
#define EYE_BLIND_IRIS 0.4f
#define EYE_BLIND_REACH 0.35f
#define EYE_BLIND_CORE 0.7f /* of the iris disc's radius: its dark core, without the limbus */
#define EYE_BLIND_MIN 12
/* A kept opening where the target's eye is closed, downcast or squinting
 * but the fitter's ring is an open eye's almond: inside it lie the lid and
 * the lash line, and round it the render drew the source's lashes and lid,
 * a dark almond cut into the face (faceapi_sample2's closed and downcast
 * eyes, faceapi_sample1's made-up middle face, faceapi_sample4's squints).
 * Such an opening shows no white: its brightest tenth is under
 * EYE_CLOSED_BRIGHT x the band's median luma and under EYE_CLOSED_CONTRAST x
 * its own darkest tenth. Of the 42 openings the test photos keep (the
 * targets of astronaut.png), the 8 found so are 7 closed or squinting eyes
 * (brightest tenth 0.41-0.72 of the band, contrast 1.2-3.2) and one open
 * eye of faceapi_sample5's darkest face (0.60, contrast 2.6), which keeps its
 * own eye whole and looks it; the open eyes' brightest tenth is 0.76-1.39
 * of the band. Missed: a closed eye under silver make-up (1.75) and two
 * blurred squints (0.85-0.88). A closed eye keeps the target's whole eye,
 * the opening grown by EYE_CLOSED_GROW of the eye's width past its ring
 * and feathered EYE_CLOSED_SOFTEN times wider, its lightness brought to
 * the render's skin round it (swap.c, closed_eyes_tone): the target's lid
 * and lashes at the source's skin's lightness. */
#define EYE_CLOSED_BRIGHT 0.75f
#define EYE_CLOSED_CONTRAST 3.3f
#define EYE_CLOSED_GROW 0.2f
#define EYE_CLOSED_SOFTEN 2.0f
#define EYE_TWIN_WIDTH 0.6f

/* The openings of one target face in its own image px. */
typedef struct openings {
    int valid;             /* 0: no landmarks, the atlas rings alone decide */
    int n[2];
    float ring[2][FS_ATLAS_RING_MAX][2];
    float width[2];        /* each eye's width, corner to corner */
    float box[2][4];       /* each eye's ring box, grown */
    float grow[2][2];      /* growth, px: lower lid, upper lid */
    float grow2[2][2];     /* its square */
    int kept[2];           /* 0: the eye's opening is not the target's to keep (openings_judge) */
    int closed[2];         /* 1: the target's eye shows no white, only lid and lashes (openings_judge) */
    float soften[2];       /* the feather round the eye, in eye_reach's: EYE_CLOSED_SOFTEN if closed */
    int mouth_closed;
    float lip_shade; /* what the pixels between closed lips are multiplied by */
} openings;

static void openings_init(const fs_atlas_mesh *mesh, const float (*pts)[3], openings *op)
{
    memset(op, 0, sizeof(*op));
    op->lip_shade = 1.0f;
    if (!pts)
        return;
    op->valid = 1;
    for (int e = 0; e < 2; e++) {
        const int n = mesh->ring_len[e];
        float *box = op->box[e];
        box[0] = box[1] = INFINITY;
        box[2] = box[3] = -INFINITY;
        for (int i = 0; i < n; i++) {
            const float *q = pts[mesh->ring[e][i]];
            op->ring[e][i][0] = q[0];
            op->ring[e][i][1] = q[1];
            box[0] = fminf(box[0], q[0]);
            box[1] = fminf(box[1], q[1]);
            box[2] = fmaxf(box[2], q[0]);
            box[3] = fmaxf(box[3], q[1]);
        }
        op->n[e] = n;
        op->kept[e] = 1;
        op->soften[e] = 1.0f;
        /* The ring starts at one corner and is halfway round at the other. */
        const float *c0 = op->ring[e][0], *c1 = op->ring[e][n / 2];
        const float width = hypotf(c1[0] - c0[0], c1[1] - c0[1]);
        op->width[e] = width;
        const float gu = EYE_GROW * width;
        const float gl = EYE_GROW_LOWER * width;
        const float g = fmaxf(gu, gl);
        op->grow[e][0] = gl;
        op->grow[e][1] = gu;
        op->grow2[e][0] = gl * gl;
        op->grow2[e][1] = gu * gu;
        box[0] -= g;
        box[1] -= g;
        box[2] += g;
        box[3] += g;
    }
    const double open = fs_swap_mouth_open(pts);
    op->mouth_closed = open < FS_SWAP_MOUTH_CLOSED;
    const double t = (FS_SWAP_MOUTH_CLOSED - open) / (FS_SWAP_MOUTH_CLOSED - LIP_LINE_TOUCH);
    op->lip_shade = 1.0f - (1.0f - LIP_LINE_SHADE) * (float)(t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t);
}

/* Whether eye @p e's grown opening holds (x, y), image px: inside the ring
 * first (crossings only), then within the growth of an edge. Without
 * @p dist it stops at the first such edge (most pixels in an eye's box are
 * inside it); with it, *dist is how far out of the grown opening the point
 * lies (0 where it holds it): the least distance to an edge less its
 * growth, the opening being the ring with a disc of its edge's growth round
 * every point of it. */
static int in_ring(const openings *op, int e, float x, float y)
{
    const int n = op->n[e];
    int inside = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        const float *a = op->ring[e][i], *b = op->ring[e][j];
        if ((a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0])
            inside = !inside;
    }
    return inside;
}

static int eye_holds(const openings *op, int e, float x, float y, float *dist)
{
    const int n = op->n[e];
    if (in_ring(op, e, x, y)) {
        if (dist)
            *dist = 0.0f;
        return 1;
    }
    float best = INFINITY;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        const float *a = op->ring[e][i], *b = op->ring[e][j];
        const float ex = b[0] - a[0], ey = b[1] - a[1], l2 = ex * ex + ey * ey;
        float t = l2 > 0 ? ((x - a[0]) * ex + (y - a[1]) * ey) / l2 : 0.0f;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const float dx = x - a[0] - t * ex, dy = y - a[1] - t * ey;
        /* The ring's first half (to the far corner) is the lower lid. */
        const int lid = i != 0 && i <= n / 2 ? 0 : 1;
        const float d2 = dx * dx + dy * dy, g = op->grow[e][lid];
        if (d2 <= op->grow2[e][lid]) {
            if (dist)
                *dist = 0.0f;
            return 1;
        }
        /* The root only where it may beat the best so far. */
        const float lim = best + g;
        if (dist && !(d2 >= lim * lim))
            best = fminf(best, sqrtf(d2) - g);
    }
    if (dist)
        *dist = best < 0.0f ? 0.0f : best;
    return 0;
}

/* The value under which a @p q share of histogram @p hist (@p n samples) lies. */
static int hist_quantile(const int *hist, long n, double q)
{
    long acc = 0;
    for (int k = 0; k < 256; k++) {
        acc += hist[k];
        if ((double)acc > q * (double)n)
            return k;
    }
    return 255;
}

/* Marks eye @p e closed: its opening grown by EYE_CLOSED_GROW of its width,
 * its feather EYE_CLOSED_SOFTEN times wider. */
static void close_eye(openings *op, int e)
{
    const float g = fmaxf(op->grow[e][0], op->grow[e][1]);
    const float gw = EYE_CLOSED_GROW * op->width[e];
    op->closed[e] = 1;
    op->soften[e] = EYE_CLOSED_SOFTEN;
    for (int l = 0; l < 2; l++) {
        op->grow[e][l] = fmaxf(op->grow[e][l], gw);
        op->grow2[e][l] = op->grow[e][l] * op->grow[e][l];
    }
    const float add = fmaxf(gw - g, 0.0f);
    op->box[e][0] -= add;
    op->box[e][1] -= add;
    op->box[e][2] += add;
    op->box[e][3] += add;
}

/* Clears op->kept[e] for an eye whose opening shows no open eye in the
 * target's window @p img (RGB8, @p stride, w x h at frame px x0, y0): see
 * EYE_BLIND_P10. @p iris: the target's iris discs. */
static void openings_judge(openings *op, const float (*iris)[3], const uint8_t *img,
                           ptrdiff_t stride, int w, int h, int x0, int y0)
{
    if (!op->valid || !iris || !img)
        return;
    for (int e = 0; e < 2; e++) {
        const int n = op->n[e];
        const float *c0 = op->ring[e][0], *c1 = op->ring[e][n / 2];
        const float reach = EYE_BLIND_REACH * op->width[e];
        /* The iris disc nearer the eye's middle is this eye's. */
        const float mx = 0.5f * (c0[0] + c1[0]), my = 0.5f * (c0[1] + c1[1]);
        const float *ir = iris[hypotf(iris[0][0] - mx, iris[0][1] - my) <=
                                       hypotf(iris[1][0] - mx, iris[1][1] - my)
                                   ? 0
                                   : 1];
        const float core2 = EYE_BLIND_CORE * ir[2] * EYE_BLIND_CORE * ir[2];
        /* The box's growth: inside it lies the ring's own box. */
        const float g = fmaxf(op->grow[e][0], op->grow[e][1]);
        int hin[256] = {0}, hband[256] = {0};
        long nin = 0, nband = 0, nir = 0, sir = 0;
        /* Clamped both ways before the casts: the landmarks may lie anywhere. */
        const int xa = (int)fminf(fmaxf(floorf(op->box[e][0] - reach) - (float)x0, 0.0f), (float)w);
        const int ya = (int)fminf(fmaxf(floorf(op->box[e][1] - reach) - (float)y0, 0.0f), (float)h);
        const int xb = (int)fmaxf(fminf(ceilf(op->box[e][2] + reach) - (float)x0, (float)(w - 1)), -1.0f);
        const int yb = (int)fmaxf(fminf(ceilf(op->box[e][3] + reach) - (float)y0, (float)(h - 1)), -1.0f);
        const float *box = op->box[e];
        for (int y = ya; y <= yb; y++)
            for (int x = xa; x <= xb; x++) {
                const uint8_t *t = img + (size_t)y * (size_t)stride + 3 * (size_t)x;
                const int l = (299 * t[0] + 587 * t[1] + 114 * t[2] + 500) / 1000;
                const float px = (float)(x + x0) + 0.5f, py = (float)(y + y0) + 0.5f;
                const float dx = px - ir[0], dy = py - ir[1];
                if (dx * dx + dy * dy < core2) {
                    sir += l;
                    nir++;
                }
                if (!(px >= box[0] && px <= box[2] && py >= box[1] && py <= box[3])) {
                    hband[l]++;
                    nband++;
                } else if (px >= box[0] + g && px <= box[2] - g && py >= box[1] + g &&
                           py <= box[3] - g && in_ring(op, e, px, py)) {
                    hin[l]++;
                    nin++;
                }
            }
        if (nin < EYE_BLIND_MIN || nband < EYE_BLIND_MIN)
            continue;
        const float band = (float)hist_quantile(hband, nband, 0.5);
        const float dark = (float)hist_quantile(hin, nin, 0.1);
        const float iris_mean = nir ? (float)sir / (float)nir : (float)hist_quantile(hin, nin, 0.5);
        if (dark > EYE_BLIND_P10 * band && iris_mean > EYE_BLIND_IRIS * band) {
            op->kept[e] = 0;
            continue;
        }
        const float bright = (float)hist_quantile(hin, nin, 0.9);
        if (bright < EYE_CLOSED_BRIGHT * band && bright < EYE_CLOSED_CONTRAST * dark)
            close_eye(op, e);
    }
    /* One eye closed, the other showing no eye at all: a closed eye under
     * hair or in shadow (faceapi_sample2's middle face, looking down, one
     * eye behind a strand), not a fit gone wrong; drawn from the source it
     * was an open eye beside a closed one. Not the far eye of a turned
     * face, foreshortened to under EYE_TWIN_WIDTH of the other's width: it
     * is hidden, and kept it shows the background beyond a profile's
     * outline (faceapi_sample2's face 1, 0.31 of the other: without this
     * bound the landmarks found again on it moved 2.53 -> 2.96% with
     * faceapi_sample3 as the source in benchmarks/turned_drift; 2.59%
     * with it). */
    for (int e = 0; e < 2; e++)
        if (op->closed[1 - e] && !op->kept[e] && op->width[e] >= EYE_TWIN_WIDTH * op->width[1 - e]) {
            op->kept[e] = 1;
            close_eye(op, e);
        }
}

/* 1 + the eye whose grown opening holds (x, y), image px; else 0. */
static int in_grown_eye(const openings *op, float x, float y)
{
    for (int e = 0; e < 2; e++) {
        const float *box = op->box[e];
        if (op->kept[e] && x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3] &&
            eye_holds(op, e, x, y, NULL))
            return e + 1;
    }
    return 0;
}

/* How far (x, y) lies out of the grown eye openings, in px of a feather
 * @p reach wide (an eye's soften times wider in image px): 0 inside
 * (*@p eye: 1 + which, as in_grown_eye), INFINITY where no eye's box grown
 * by its reach holds it or it lies further than that; *@p near: 1 + the
 * eye of that distance (0 with INFINITY). */
static float eye_distance(const openings *op, float x, float y, float reach, int *eye, int *near)
{
    float best = INFINITY;
    *eye = *near = 0;
    for (int e = 0; e < 2; e++) {
        const float *box = op->box[e];
        const float r = reach * op->soften[e];
        float d;
        if (!op->kept[e] || !(x >= box[0] - r && x <= box[2] + r && y >= box[1] - r && y <= box[3] + r))
            continue;
        if (eye_holds(op, e, x, y, &d)) {
            *eye = *near = e + 1;
            return 0.0f;
        }
        d /= op->soften[e];
        if (d < best) {
            best = d;
            *near = e + 1;
        }
    }
    if (best > reach) {
        *near = 0;
        return INFINITY;
    }
    return best;
}

/* Which opening the swap keeps the target's at a pixel with attributes
 * @p a (0 none, 1 and 2 the eyes, 3 the mouth) under mode @p eyes; the
 * irises of gaze mode from @p tiris and, where given, @p siris; @p eye:
 * in_grown_eye's answer where the caller has it, else -1. A closed mouth
 * keeps none: *@p lips is set where the pixel lies between its lips. */
static int kept_opening(const fs_atlas_mesh *mesh, const openings *op, const float rbox[4],
                        int eyes, const float *a, const float (*tiris)[3],
                        const float (*siris)[3], int eye, int *lips)
{
    *lips = 0;
    if (eyes == FS_SWAP_EYES_SOURCE)
        return 0;
    if (eyes == FS_SWAP_EYES_TARGET && op->valid) {
        const int e = eye >= 0 ? eye : in_grown_eye(op, a[2], a[3]);
        if (e)
            return e;
    }
    const int region = in_box(rbox, a[0], a[1]) ? fs_atlas_in_region(mesh, a[0], a[1]) : 0;
    if (region == 3) {
        *lips = op->mouth_closed;
        return op->mouth_closed ? 0 : 3;
    }
    /* Gaze mode: in the eye openings only the irises are the target's,
     * where the target's own iris lies and where the source's iris would
     * (else the source's would show beside the target's when the two look
     * different ways). */
    if (region >= 1 && region <= 2 && op->valid && !op->kept[region - 1])
        return 0;
    if (region && (eyes == FS_SWAP_EYES_TARGET || in_iris(tiris, a[2], a[3]) ||
                   (siris && in_iris(siris, a[5], a[6]))))
        return region;
    return 0;
}

/* The atlas rings' boxes together: most pixels lie outside all of them. */
static void rings_box(const fs_atlas_mesh *mesh, float rbox[4])
{
    rbox[0] = rbox[1] = INFINITY;
    rbox[2] = rbox[3] = -INFINITY;
    for (int r = 0; r < FS_ATLAS_REGIONS; r++)
        for (int c = 0; c < 2; c++) {
            rbox[c] = fminf(rbox[c], mesh->ring_box[r][c]);
            rbox[2 + c] = fmaxf(rbox[2 + c], mesh->ring_box[r][2 + c]);
        }
}

/* For atlas point (u, v) between the lips of a closed mouth: the v just
 * past the nearer inner lip line (ring edges crossing u), on the lip. */
static float lip_v(const fs_atlas_mesh *mesh, int texels, float u, float v)
{
    const int n = mesh->ring_len[2];
    float up = -INFINITY, lo = INFINITY;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        const float *a = mesh->uv[mesh->ring[2][i]], *b = mesh->uv[mesh->ring[2][j]];
        if ((a[0] > u) == (b[0] > u))
            continue;
        const float c = a[1] + (b[1] - a[1]) * (u - a[0]) / (b[0] - a[0]);
        if (c <= v)
            up = fmaxf(up, c);
        else
            lo = fminf(lo, c);
    }
    const float step = LIP_STEP / (float)texels;
    if (up == -INFINITY || lo == INFINITY)
        return v;
    return v - up <= lo - v ? up - step : lo + step;
}

/* Bilinear RGB of the RGB8 window at (x, y) (window px, pixel centres at
 * integers, clamped to the window), 0..1. */
static void sample_image(const fs_swap_lookup *d, float x, float y, float out[3])
{
    const float mx = (float)(d->w - 1), my = (float)(d->h - 1);
    x = x != x ? 0.0f : x < 0.0f ? 0.0f : x > mx ? mx : x;
    y = y != y ? 0.0f : y < 0.0f ? 0.0f : y > my ? my : y;
    const int x0 = (int)x, y0 = (int)y;
    const int x1 = x0 + (x0 < d->w - 1), y1 = y0 + (y0 < d->h - 1);
    const float fx = x - (float)x0, fy = y - (float)y0;
    const uint8_t *r0 = d->window + (size_t)y0 * (size_t)d->stride;
    const uint8_t *r1 = d->window + (size_t)y1 * (size_t)d->stride;
    const uint8_t *a = r0 + (size_t)x0 * 3, *b = r0 + (size_t)x1 * 3;
    const uint8_t *c = r1 + (size_t)x0 * 3, *e = r1 + (size_t)x1 * 3;
    for (int ch = 0; ch < 3; ch++) {
        const float top = (float)a[ch] + fx * (float)(b[ch] - a[ch]);
        const float bot = (float)c[ch] + fx * (float)(e[ch] - c[ch]);
        out[ch] = (top + fy * (bot - top)) * (1.0f / 255.0f);
    }
}

/* fs_atlas_sample (lib/identity/atlas.c) with the same float operations in
 * the same order, so the same bits, inlined here and with the bounds checks
 * hoisted for the four taps inside the atlas (nearly every pixel). */
static inline float atlas_sample_inline(const fs_atlas *atlas, const float *div255, float u,
                                        float v, float rgb[3])
{
    const int n = atlas->size;
    const float fx = u * (float)n - 0.5f, fy = v * (float)n - 0.5f;
    /* floorf is a library call without SSE4.1: truncate and step down for
     * negatives, the same integer wherever the fast branch is taken (the
     * range test sends NaN and huge values to fs_atlas_sample). */
    if (!(fx >= 0.0f && fy >= 0.0f && fx < (float)(n - 1) && fy < (float)(n - 1)))
        return fs_atlas_sample(atlas, u, v, rgb);
    const int x0 = (int)fx, y0 = (int)fy;
    const float ax = fx - (float)x0, ay = fy - (float)y0;
    const uint8_t *row = atlas->rgba + ((size_t)y0 * (size_t)n + (size_t)x0) * 4;
#ifdef __SSE2__
    /* A texel's three channels and a 1 in one register: each lane adds its
     * taps in the scalar's order (the 1's lane sums the weights, w * 1 =
     * w), and the quotients are the scalar's divisions. */
    const __m128i zero = _mm_setzero_si128();
    const __m128 rgb1 = _mm_castsi128_ps(_mm_set_epi32(0, -1, -1, -1));
    const __m128 one3 = _mm_set_ps(1.0f, 0.0f, 0.0f, 0.0f);
    __m128 acc = _mm_setzero_ps();
    for (int dy = 0; dy < 2; dy++) {
        const uint8_t *tr = row + (size_t)dy * (size_t)n * 4;
        int32_t two[2];
        memcpy(two, tr, sizeof two);
        const __m128i px16 = _mm_unpacklo_epi8(_mm_cvtsi32_si128(two[0]), zero);
        const __m128i qx16 = _mm_unpacklo_epi8(_mm_cvtsi32_si128(two[1]), zero);
        const __m128 t0 = _mm_cvtepi32_ps(_mm_unpacklo_epi16(px16, zero));
        const __m128 t1 = _mm_cvtepi32_ps(_mm_unpacklo_epi16(qx16, zero));
        const float wy = dy ? ay : 1 - ay;
        const float w0 = (1 - ax) * wy * div255[tr[3]], w1 = ax * wy * div255[tr[7]];
        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_set1_ps(w0), _mm_or_ps(_mm_and_ps(t0, rgb1), one3)));
        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_set1_ps(w1), _mm_or_ps(_mm_and_ps(t1, rgb1), one3)));
    }
    float out[4];
    _mm_storeu_ps(out, acc);
    const float wsum = out[3];
    if (wsum > 0) {
        _mm_storeu_ps(out, _mm_div_ps(acc, _mm_set1_ps(wsum)));
        rgb[0] = out[0], rgb[1] = out[1], rgb[2] = out[2];
    } else {
        rgb[0] = rgb[1] = rgb[2] = 0.0f;
    }
    return wsum;
#else
    float acc[3] = {0, 0, 0}, wsum = 0;
    for (int dy = 0; dy < 2; dy++) {
        for (int dx = 0; dx < 2; dx++) {
            const uint8_t *t = row + ((size_t)dy * (size_t)n + (size_t)dx) * 4;
            const float w = (dx ? ax : 1 - ax) * (dy ? ay : 1 - ay) * div255[t[3]];
            for (int c = 0; c < 3; c++)
                acc[c] += w * t[c];
            wsum += w;
        }
    }
    for (int c = 0; c < 3; c++)
        rgb[c] = wsum > 0 ? acc[c] / wsum : 0.0f;
    return wsum;
#endif
}

/* A fringe hangs from above: between the forehead cut and the brows, the
 * texels under its strands' lowest tips are the mixed edge of the hair,
 * lighter than the strands, and the guard's per-texel test let them
 * through. On the quality benchmark's pairs with the astronaut as source
 * (her fringe reaches to a finger above the brows) they drew a dark, wavy
 * second brow line across the target's forehead, and a ragged mask edge
 * above it. So each atlas column's forehead is the target's above a line:
 * the lowest texel whose FRINGE_BOX neighbourhood is mostly hair (a mole
 * or a freckle is not a fringe), spread FRINGE_SPREAD columns either way
 * so that the line has no notches, then FRINGE_MARGIN lower, never into
 * the brows. At margins 0 / 0.01 / 0.02 the line showed, faint, fainter,
 * gone; identity +0.233 (min +0.169) -> +0.229 / +0.226 / +0.223 (min
 * +0.159: the astronaut's pairs lose her fringe's edge), seam x1.111 ->
 * x1.084 / x1.076 / x1.076 (doc/light-notes.md, eighteenth step). Below
 * the fringe's line lies the skin its strands shade: a darker, browner
 * band that the guard calls skin. At 0.02 it still drew a wavy brown line
 * across the forehead of the demo film's heroine and of faceapi_sample1's
 * left face (a cast shadow of the source's light, relit as albedo). At
 * 0.03 / 0.035 / 0.045 / 0.05 / 0.06: the line fainter, gone from 0.05;
 * identity +0.222 / +0.221 / +0.221 / +0.223 / +0.221 (min +0.156 / +0.157
 * / +0.154 / +0.150 / +0.145) against +0.225 (+0.156), seam x1.081 /
 * x1.079 / x1.093 / x1.092 / x1.087 against x1.071; leak and self-swap
 * within 0.003 (doc/light-notes.md, twenty-second step). */
#define FRINGE_BOX 2
#define FRINGE_SPREAD 3
#define FRINGE_MARGIN 0.05f
/* The line's own question, looser than the guard's per texel: a texel
 * darker than the skin is hair from this squared distance (a light fringe,
 * like the astronaut's light-brown one, measures 22 to 29 at the forehead's
 * top but less lower down, and its lowest strands sit within the forehead's
 * bound of 20 when the skin model's darker component takes in a shadowed
 * cheek: with her capture's fit averaged with its mirrored crop's, half its
 * columns found no line and the strands drew a brown band across the
 * forehead of faceapi_sample1, faceapi_sample4's face 3 and the demo
 * film's heroine). At 8 / 10 / 12 the band was gone / gone / partly there,
 * identity +0.215 / +0.220 / +0.224 (min +0.156 either way;
 * doc/light-notes.md, nineteenth step). The box's majority keeps a shadow
 * or a mole from reading as a fringe. */
#define SKIN_D2_FRINGE 10.0f
/* ... but only where skin follows the loose line by this much of the atlas
 * before the brows: a whole forehead a little darker than the cheeks (in
 * shadow, or simply so) is the face's own, not a fringe down to the brows. */
#define FRINGE_GAP 0.02f

/* Into @p line (atlas->size columns): the atlas v above which the
 * forehead between @p top and @p brow_v is the fringe's, or -1 where the
 * column has none. Returns 0 out of memory. */
static int fringe_line(const fs_atlas *atlas, const fs_atlas_mesh *mesh, float top, float brow_v,
                       float *line)
{
    const int n = atlas->size;
    for (int x = 0; x < n; x++)
        line[x] = -1.0f;
    const int y0 = (int)fmaxf(floorf(top * (float)n), 0.0f);
    const int y1 = (int)fminf(ceilf(brow_v * (float)n), (float)n);
    if (y1 <= y0)
        return 1;
    const int rows = y1 - y0;
    enum { SIDE = 2 * FRINGE_BOX + 1 };
    /* hair[]: the band's texels with a FRINGE_BOX border of zeros; bit 0
     * the guard's question (hair_at_distance), bit 1 the looser one */
    const int bw = n + 2 * FRINGE_BOX, bh = rows + 2 * FRINGE_BOX;
    uint8_t *hair = fs_tmp_alloc((size_t)bw * (size_t)bh);
    int *low = fs_tmp_alloc((size_t)n * sizeof(int));
    if (!hair || !low) {
        fs_tmp_free(low);
        fs_tmp_free(hair);
        return 0;
    }
    memset(hair, 0, (size_t)bw * (size_t)bh);
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < n; x++) {
            const uint8_t *px = atlas->rgba + 4 * ((size_t)y * (size_t)n + (size_t)x);
            const float u = ((float)x + 0.5f) / (float)n, v = ((float)y + 0.5f) / (float)n;
            if (px[3] != 255 || fs_atlas_in_region(mesh, u, v))
                continue;
            const float rgb[3] = {px[0], px[1], px[2]};
            float dy;
            const float d2 = fs_skin_distance(&atlas->skin, rgb, &dy);
            const int strict = hair_at_distance(d2, dy, GUARD_ABOVE_BROW);
            const int loose = strict || (dy < 0.0f && d2 > SKIN_D2_FRINGE);
            hair[(size_t)(y - y0 + FRINGE_BOX) * (size_t)bw + (size_t)(x + FRINGE_BOX)] =
                (uint8_t)(strict | loose << 1);
        }
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: the loose question; its line stands where skin follows
         * it before the brows. Pass 1: the guard's own, where it does not. */
        const uint8_t bit = pass ? 1 : 2;
        for (int x = 0; x < n; x++) {
            low[x] = -1;
            for (int y = y1 - 1; y >= y0; y--) {
                const uint8_t *c = hair + (size_t)(y - y0 + FRINGE_BOX) * (size_t)bw + (size_t)(x + FRINGE_BOX);
                if (!(*c & bit))
                    continue;
                int cnt = 0;
                for (int dy = -FRINGE_BOX; dy <= FRINGE_BOX; dy++)
                    for (int dx = -FRINGE_BOX; dx <= FRINGE_BOX; dx++)
                        cnt += (c[(ptrdiff_t)dy * bw + dx] & bit) != 0;
                if (2 * cnt > SIDE * SIDE) {
                    low[x] = y;
                    break;
                }
            }
        }
        for (int x = 0; x < n; x++) {
            if (pass && line[x] >= 0.0f)
                continue;
            int m = -1;
            for (int dx = -FRINGE_SPREAD; dx <= FRINGE_SPREAD; dx++)
                if (x + dx >= 0 && x + dx < n && low[x + dx] > m)
                    m = low[x + dx];
            const float at = ((float)m + 1.0f) / (float)n + FRINGE_MARGIN;
            if (m >= 0 && (pass || at < brow_v - FRINGE_GAP))
                line[x] = fminf(at, brow_v);
        }
    }
    fs_tmp_free(low);
    fs_tmp_free(hair);
    return 1;
}

/* Whether the atlas point (@p u, @p v) lies above @p line's column there. */
static inline int above_fringe(const float *line, int n, float u, float v)
{
    const int col = (int)fminf(fmaxf(u * (float)n, 0.0f), (float)(n - 1));
    return v < line[col];
}

/* The reference (fast = 0) and the fast entry (fast = 1: CIELAB from
 * fs_colour_srgb_to_lab_fast for the hair guards) share this body. */
static inline fs_status lookup_run(const fs_exec *ex, const fs_swap_lookup *d,
                                   fs_swap_lookup_out *o, int fast)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!d || !o || !d->atlas || !d->atlas->rgba || !d->mesh || !d->attr || !d->covered ||
        !d->window || !o->render || !o->target || !o->warp || !o->skin || !o->open)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_lookup: NULL argument");
    if (d->w <= 0 || d->h <= 0 || d->stride < 3 * (ptrdiff_t)d->w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_lookup: bad window");
    const int w = d->w, h = d->h;
    const float ox = (float)d->x0, oy = (float)d->y0;
    const fs_atlas *atlas = d->atlas;
    const uint8_t *img = d->window;
    long covered = 0, textured = 0, skin_n = 0;
    /* The hair guards' pixels (place and colour), converted as one batch. */
    size_t *hidx = NULL, nh = 0;
    float *hlab = NULL;
    if (d->skin_guard) {
        hidx = fs_tmp_alloc((size_t)w * (size_t)h * sizeof(size_t));
        hlab = fs_tmp_alloc((size_t)w * (size_t)h * 3 * sizeof(float));
        if (!hidx || !hlab) {
            fs_tmp_free(hlab);
            fs_tmp_free(hidx);
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap_lookup: out of memory");
        }
    }
    /* k / 255.0f: the quotients fs_atlas_sample divides per tap, looked up. */
    float div255[256];
    for (int k = 0; k < 256; k++)
        div255[k] = (float)k / 255.0f;
    float *fringe = NULL;
    if (d->skin_guard && atlas->skin.k > 0) {
        fringe = fs_tmp_alloc((size_t)atlas->size * sizeof(float));
        if (!fringe || !fringe_line(atlas, d->mesh, d->forehead_v, d->brow_v, fringe)) {
            fs_tmp_free(fringe);
            fs_tmp_free(hlab);
            fs_tmp_free(hidx);
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap_lookup: out of memory");
        }
    }
    float rbox[4];
    rings_box(d->mesh, rbox);
    openings op;
    openings_init(d->mesh, d->target_points, &op);
    openings_judge(&op, (const float(*)[3])d->target_iris, img, d->stride, w, h, d->x0, d->y0);
    for (int y = 0; y < h; y++) {
        /* The row's defaults first, in whole-row loops that vectorise: the
         * target's own pixels in all three planes, nothing kept. */
        {
            const size_t p0 = (size_t)y * (size_t)w;
            const uint8_t *t = img + (size_t)y * (size_t)d->stride;
            float *g = o->target + 3 * p0;
            for (int i = 0; i < 3 * w; i++)
                g[i] = (float)t[i] * (1.0f / 255.0f);
            memcpy(o->render + 3 * p0, g, 3 * (size_t)w * sizeof(float));
            memcpy(o->warp + 3 * p0, g, 3 * (size_t)w * sizeof(float));
            memset(o->skin + p0, 0, (size_t)w);
            memset(o->open + p0, 0, (size_t)w);
            if (o->eye_dist)
                for (int x = 0; x < w; x++)
                    o->eye_dist[p0 + (size_t)x] = INFINITY;
            if (o->closed_eye)
                memset(o->closed_eye + p0, 0, (size_t)w);
        }
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * (size_t)w + (size_t)x;
            float *r = o->render + 3 * p, *wp = o->warp + 3 * p;
            if (!d->covered[p])
                continue;
            covered++;
            const float *a = d->attr + FS_SWAP_ATTR * p;
            const float u = a[0];
            float v = a[1];
            int lips, eye = -1; /* -1: kept_opening asks */
            if (o->eye_dist && d->eyes == FS_SWAP_EYES_TARGET && op.valid) {
                int near;
                o->eye_dist[p] = eye_distance(&op, a[2], a[3], d->eye_reach, &eye, &near);
                if (o->closed_eye && near && op.closed[near - 1])
                    o->closed_eye[p] = (uint8_t)near;
            }
            if (kept_opening(d->mesh, &op, rbox, d->eyes, a, d->target_iris, d->source_iris, eye,
                             &lips)) {
                /* The target's own eye or mouth opening, from where it lies
                 * on the target's mesh (moved when the shape changed). */
                o->open[p] = 1;
                sample_image(d, a[2] - ox, a[3] - oy, wp);
            }
            if (lips) /* the source's lips closed over the line */
                v = lip_v(d->mesh, atlas->size, u, v);
            /* The atlas is alpha-weighted at its footprint's edge
             * (fs_atlas_sample), so empty texels never darken it. */
            float rgb[3];
            const float cov = fast ? atlas_sample_inline(atlas, div255, u, v, rgb)
                                   : fs_atlas_sample(atlas, u, v, rgb);
            if (cov <= 0.0f)
                continue;
            textured++;
            const float shade = (lips ? op.lip_shade : 1.0f) * (1.0f / 255.0f);
            if (d->relight)
                for (int c = 0; c < 3; c++)
                    r[c] = rgb[c] * shade * a[FS_SWAP_ATTR_EXTRA + c];
            else
                for (int c = 0; c < 3; c++)
                    r[c] = rgb[c] * shade;
            const int above_brow = v < d->brow_v, outer = a[4] < OUTER_BAND;
            if (cov >= COVER_MIN && v >= d->forehead_v &&
                (!d->skin_guard || !outer || fs_atlas_seen(atlas, u, v) >= SEEN_MIN)) {
                if (d->skin_guard && atlas->skin.k > 0 &&
                    (above_brow || outer || hair_band(u, v))) {
                    const guard_place at = above_brow ? GUARD_ABOVE_BROW
                                           : outer    ? GUARD_OUTER
                                                      : GUARD_SIDE;
                    if (!(above_brow && above_fringe(fringe, atlas->size, u, v)) &&
                        !hair_like_skin(&atlas->skin, rgb, at)) {
                        o->skin[p] = 1;
                        skin_n += !o->open[p];
                    }
                    continue;
                }
                if (d->skin_guard && (above_brow || outer)) {
                    /* decided below, in one batch of conversions */
                    memcpy(hlab + 3 * nh, r, 3 * sizeof(float));
                    hidx[nh++] = p;
                    continue;
                }
                o->skin[p] = 1;
                skin_n += !o->open[p];
            }
        }
    }
    if (d->skin_guard) {
        /* The source's hair, then the target's. */
        if (fast)
            fs_colour_srgb_to_lab_fast(hlab, hlab, nh);
        else
            fs_colour_srgb_to_lab(hlab, hlab, nh);
        for (size_t k = 0; k < nh; k++) {
            const size_t p = hidx[k];
            const int above_brow = d->attr[FS_SWAP_ATTR * p + 1] < d->brow_v;
            if (!hair_like_lab(atlas->lab_mean, atlas->lab_std, hlab + 3 * k,
                               above_brow ? 1.5f : 2.0f, above_brow ? 2.5f : 3.0f, fast)) {
                o->skin[p] = 1;
                skin_n += !o->open[p];
            }
        }
        skin_n -= guard_target_hair(d->attr, o, w, h, hidx, hlab, fast);
    }
    fs_tmp_free(fringe);
    fs_tmp_free(hlab);
    fs_tmp_free(hidx);
    o->covered = covered;
    o->textured = textured;
    o->skin_n = skin_n;
    return FS_OK;
}

fs_status fs_swap_lookup_ref(const fs_exec *ex, const fs_swap_lookup *d, fs_swap_lookup_out *o)
{
    return lookup_run(ex, d, o, 0);
}

fs_status fs_swap_lookup_fast(const fs_exec *ex, const fs_swap_lookup *d, fs_swap_lookup_out *o)
{
    return lookup_run(ex, d, o, 1);
}

long fs_swap_target_skin(const fs_atlas_mesh *mesh, const float *attr, const uint8_t *covered,
                         const uint8_t *window, ptrdiff_t stride, int x0, int y0, int w, int h, int eyes,
                         const float (*points)[3], const float (*iris)[3], float forehead_v,
                         int skin_guard, int fast_lab, float *target, uint8_t *skin, uint8_t *open)
{
    const size_t n = (size_t)w * (size_t)h;
    long skin_n = 0;
    openings op;
    openings_init(mesh, points, &op);
    openings_judge(&op, iris, window, stride, w, h, x0, y0);
    float rbox[4];
    rings_box(mesh, rbox);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * (size_t)w + (size_t)x;
            const uint8_t *t = window + (size_t)y * (size_t)stride + (size_t)x * 3;
            for (int c = 0; c < 3; c++)
                target[3 * p + (size_t)c] = (float)t[c] * (1.0f / 255.0f);
            const float *a = attr + FS_SWAP_ATTR * p;
            /* The openings the render keeps the target's, as the lookup
             * decides them but for the source's irises (the user's). */
            int lips;
            open[p] = covered[p] && kept_opening(mesh, &op, rbox, eyes, a, iris, NULL, -1, &lips);
            skin[p] = covered[p] && a[1] >= forehead_v;
            skin_n += skin[p] && !open[p];
        }
    if (skin_guard) {
        fs_swap_lookup_out o = {.target = target, .skin = skin, .open = open};
        size_t *idx = fs_tmp_alloc(n * sizeof(size_t));
        float *lab = fs_tmp_alloc(n * 3 * sizeof(float));
        if (idx && lab)
            skin_n -= guard_target_hair(attr, &o, w, h, idx, lab, fast_lab);
        fs_tmp_free(lab);
        fs_tmp_free(idx);
        if (!idx || !lab)
            return -1;
    }
    return skin_n;
}

fs_status fs_swap_finish_u8_ref(const fs_exec *ex, float *render, const float *warp,
                                const float *alpha_in, const uint8_t *eroded,
                                const uint8_t *image, ptrdiff_t image_stride, int w, int h,
                                uint8_t *out)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!render || !warp || !alpha_in || !eroded || !image || !out || w <= 0 || h <= 0 ||
        image_stride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_finish_u8: bad arguments");
    for (int y = 0; y < h; y++) {
        const uint8_t *row = image + (size_t)y * (size_t)image_stride;
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * (size_t)w + (size_t)x;
            float *r = render + 3 * p;
            const float *wp = warp + 3 * p;
            const float t = alpha_in[p];
            if (t < 1.0f)
                for (int c = 0; c < 3; c++)
                    r[c] = wp[c] + t * (r[c] - wp[c]);
            for (int c = 0; c < 3; c++) {
                if (!eroded[p]) {
                    out[3 * p + (size_t)c] = row[(size_t)x * 3 + (size_t)c];
                    continue;
                }
                float v = r[c];
                v = v != v ? 0.0f : v; /* NaN guard: a NaN must never reach the image */
                v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
                out[3 * p + (size_t)c] = (uint8_t)lrintf(v * 255.0f);
            }
        }
    }
    return FS_OK;
}

void fs_swap_texture_ops_init_reference(fs_swap_texture_ops *ops)
{
    ops->lookup = fs_swap_lookup_ref;
    ops->finish_u8 = fs_swap_finish_u8_ref;
    ops->fast_lab = 0;
}

void fs_swap_texture_ops_init_fast(fs_swap_texture_ops *ops)
{
    ops->lookup = fs_swap_lookup_fast;
    ops->fast_lab = 1;
}

double fs_swap_mouth_open(const float (*p)[3])
{
    static const int gap[3][2] = {{13, 14}, {82, 87}, {312, 317}};
    const double width = hypot(p[308][0] - p[78][0], p[308][1] - p[78][1]);
    double most = 0;
    for (int i = 0; i < 3; i++)
        most = fmax(most, hypot(p[gap[i][1]][0] - p[gap[i][0]][0], p[gap[i][1]][1] - p[gap[i][0]][1]));
    return width > 0 ? most / width : 0;
}
