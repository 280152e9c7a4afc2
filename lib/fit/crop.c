/*
 * Crop geometry and the iris post-processing of Human 3.3.6 (src/face/iris.ts,
 * facemeshutil.ts), as golden.js re-implements it, in float64.
 */
#include "fit/fit_internal.h"

#include <math.h>
#include <string.h>

#include "detect/detect_internal.h"
#include "sample/sample.h"

/*
 * meshAnnotations of facemeshcoords.ts (MediaPipe's numbering) and Human's
 * irisIndices, per key in Human's order. tests/test_fit.c re-reads
 * facemeshcoords.ts and checks this table against it.
 */
const fs_eye_group fs_eye_groups[FS_EYE_GROUPS] = {
    {"EyeUpper0", 7, {9, 10, 11, 12, 13, 14, 15},
     {246, 161, 160, 159, 158, 157, 173}, {466, 388, 387, 386, 385, 384, 398}},
    {"EyeUpper1", 7, {25, 26, 27, 28, 29, 30, 31},
     {247, 30, 29, 27, 28, 56, 190}, {467, 260, 259, 257, 258, 286, 414}},
    {"EyeUpper2", 7, {41, 42, 43, 44, 45, 46, 47},
     {113, 225, 224, 223, 222, 221, 189}, {342, 445, 444, 443, 442, 441, 413}},
    {"EyeLower0", 9, {0, 1, 2, 3, 4, 5, 6, 7, 8},
     {33, 7, 163, 144, 145, 153, 154, 155, 133}, {263, 249, 390, 373, 374, 380, 381, 382, 362}},
    {"EyeLower1", 9, {16, 17, 18, 19, 20, 21, 22, 23, 24},
     {130, 25, 110, 24, 23, 22, 26, 112, 243}, {359, 255, 339, 254, 253, 252, 256, 341, 463}},
    {"EyeLower2", 9, {32, 33, 34, 35, 36, 37, 38, 39, 40},
     {226, 31, 228, 229, 230, 231, 232, 233, 244}, {446, 261, 448, 449, 450, 451, 452, 453, 464}},
    {"EyeLower3", 9, {54, 55, 56, 57, 58, 59, 60, 61, 62},
     {143, 111, 117, 118, 119, 120, 121, 128, 245}, {372, 340, 346, 347, 348, 349, 350, 357, 465}},
    {"EyebrowUpper", 8, {63, 64, 65, 66, 67, 68, 69, 70},
     {156, 70, 63, 105, 66, 107, 55, 193}, {383, 300, 293, 334, 296, 336, 285, 417}},
    {"EyebrowLower", 6, {48, 49, 50, 51, 52, 53},
     {35, 124, 46, 53, 52, 65}, {265, 353, 276, 283, 282, 295}},
};
enum { G_UPPER0 = 0, G_LOWER0 = 3 };

/* Human's box helpers on {start, end} corners. */
typedef struct box2 {
    double x1, y1, x2, y2;
} box2;

static box2 enlarge(box2 b, double factor)
{
    const double cx = b.x1 + (b.x2 - b.x1) / 2, cy = b.y1 + (b.y2 - b.y1) / 2;
    const double hx = factor * fabs(b.x2 - b.x1) / 2, hy = factor * fabs(b.y2 - b.y1) / 2;
    return (box2){cx - hx, cy - hy, cx + hx, cy + hy};
}

static box2 squarify_round(box2 b)
{
    const double cx = b.x1 + (b.x2 - b.x1) / 2, cy = b.y1 + (b.y2 - b.y1) / 2;
    const double sx = fabs(b.x2 - b.x1), sy = fabs(b.y2 - b.y1);
    const double half = (sx > sy ? sx : sy) / 2;
    return (box2){fs_js_round(cx - half), fs_js_round(cy - half), fs_js_round(cx + half),
                  fs_js_round(cy + half)};
}

void fs_crop_from_box(double x1, double y1, double x2, double y2, double factor, double angle,
                      int tfjs, fs_crop *crop)
{
    memset(crop, 0, sizeof(*crop));
    const box2 e = enlarge((box2){x1, y1, x2, y2}, factor);
    if (tfjs && angle == 0.0) {
        const box2 s = squarify_round(e);
        crop->tfjs = 1;
        crop->x1 = s.x1;
        crop->y1 = s.y1;
        crop->x2 = s.x2;
        crop->y2 = s.y2;
        crop->size_x = fabs(s.x2 - s.x1);
        crop->size_y = fabs(s.y2 - s.y1);
        crop->cx = s.x1 + (s.x2 - s.x1) / 2;
        crop->cy = s.y1 + (s.y2 - s.y1) / 2;
        return;
    }
    const double sx = fabs(e.x2 - e.x1), sy = fabs(e.y2 - e.y1);
    crop->cx = e.x1 + (e.x2 - e.x1) / 2;
    crop->cy = e.y1 + (e.y2 - e.y1) / 2;
    crop->size_x = crop->size_y = sx > sy ? sx : sy;
    crop->angle = angle;
}

void fs_crop_desc(const fs_crop *crop, int img_w, int img_h, int side, float scale,
                  fs_sample_desc *d)
{
    if (crop->tfjs) {
        /* tf.image.cropAndResize with the box normalised by the image size,
         * rounded to float32 as tfjs' boxes tensor holds it. */
        fs_sample_desc_crop(d, img_w, img_h, (float)(crop->y1 / img_h), (float)(crop->x1 / img_w),
                            (float)(crop->y2 / img_h), (float)(crop->x2 / img_w), side, side);
    } else {
        /* Output pixel centre (i + 0.5) * k from the crop's corner, turned by
         * the angle about the centre; source pixel centres sit at integers. */
        const double k = crop->size_x / side;
        const double c = cos(crop->angle), s = sin(crop->angle);
        const double u0 = 0.5 * k - crop->size_x / 2, v0 = 0.5 * k - crop->size_y / 2;
        memset(d, 0, sizeof(*d));
        d->out_w = d->out_h = side;
        d->border = FS_BORDER_ZERO;
        d->m[0] = k * c;
        d->m[1] = -k * s;
        d->m[2] = crop->cx - 0.5 + c * u0 - s * v0;
        d->m[3] = k * s;
        d->m[4] = k * c;
        d->m[5] = crop->cy - 0.5 + s * u0 + c * v0;
    }
    d->scale = scale;
    d->offset = 0.0f;
}

void fs_crop_to_image(const fs_crop *crop, const double p[3], float out[3])
{
    const double kx = crop->size_x / FS_MESH_SIZE, ky = crop->size_y / FS_MESH_SIZE;
    const double u = kx * (p[0] - FS_MESH_SIZE / 2), v = ky * (p[1] - FS_MESH_SIZE / 2);
    if (crop->angle == 0.0) {
        out[0] = (float)(u + crop->cx);
        out[1] = (float)(v + crop->cy);
    } else {
        const double c = cos(crop->angle), s = sin(crop->angle);
        out[0] = (float)(crop->cx + c * u - s * v);
        out[1] = (float)(crop->cy + s * u + c * v);
    }
    out[2] = (float)(kx * p[2]);
}

void fs_eye_boxes(const double (*rc)[3], double factor, fs_eye_box boxes[2])
{
    static const int bounds[2][2] = {{263, 362}, {33, 133}};
    for (int e = 0; e < 2; e++) {
        const double *a = rc[bounds[e][0]], *b = rc[bounds[e][1]];
        const box2 bb = {fmin(a[0], b[0]), fmin(a[1], b[1]), fmax(a[0], b[0]), fmax(a[1], b[1])};
        const box2 s = squarify_round(enlarge(bb, factor));
        boxes[e].x1 = s.x1;
        boxes[e].y1 = s.y1;
        boxes[e].x2 = s.x2;
        boxes[e].y2 = s.y2;
        boxes[e].w = fabs(s.x2 - s.x1);
        boxes[e].h = fabs(s.y2 - s.y1);
    }
}

/* Replaces the mesh points of one eye's groups (all when only_01 is 0, else
 * EyeUpper0 and EyeLower0) by the iris model's, averaging z, in Human's order. */
static void replace_eye(double (*rc)[3], double (*pts)[3], int left, int only_01)
{
    for (int g = 0; g < FS_EYE_GROUPS; g++) {
        if (only_01 && g != G_UPPER0 && g != G_LOWER0)
            continue;
        const fs_eye_group *eg = &fs_eye_groups[g];
        const int *mesh = left ? eg->left : eg->right;
        for (int j = 0; j < eg->count; j++) {
            const double *np = pts[eg->iris[j]];
            double *m = rc[mesh[j]];
            const double z = (np[2] + m[2]) / 2;
            m[0] = np[0];
            m[1] = np[1];
            m[2] = z;
        }
    }
}

/* The 5 iris points with Human's z: [2] the upper lid's, [4] the lower
 * lid's, the others their mean. */
static void iris_points(double (*rc)[3], double (*pts)[3], int left, double (*dst)[3])
{
    const int up = (left ? fs_eye_groups[G_UPPER0].left : fs_eye_groups[G_UPPER0].right)[3];
    const int lo = (left ? fs_eye_groups[G_LOWER0].left : fs_eye_groups[G_LOWER0].right)[4];
    const double zu = rc[up][2], zl = rc[lo][2], avg = (zu + zl) / 2;
    for (int i = 0; i < 5; i++) {
        dst[i][0] = pts[71 + i][0];
        dst[i][1] = pts[71 + i][1];
        dst[i][2] = i == 2 ? zu : (i == 4 ? zl : avg);
    }
}

void fs_iris_apply(double (*rc)[3], const float *iris_out, const fs_eye_box boxes[2],
                   const fs_iris_flip *flip)
{
    double pts[2][FS_IRIS_POINTS][3];
    for (int e = 0; e < 2; e++) {
        const float *o = iris_out + e * FS_IRIS_POINTS * 3;
        for (int i = 0; i < FS_IRIS_POINTS; i++) {
            const double x = (double)o[3 * i] / FS_IRIS_SIZE, y = (double)o[3 * i + 1] / FS_IRIS_SIZE;
            pts[e][i][0] = (flip->unflip_out[e] ? 1 - x : x) * boxes[e].w + boxes[e].x1;
            pts[e][i][1] = y * boxes[e].h + boxes[e].y1;
            pts[e][i][2] = o[3 * i + 2];
        }
    }
    /* Human compares the depth of the eyes' outer corners: a clearly turned
     * head keeps only the nearer eye's lid contours from the iris model. */
    const double diff = rc[263][2] - rc[33][2];
    if (fabs(diff) < 30) {
        replace_eye(rc, pts[0], 1, 0);
        replace_eye(rc, pts[1], 0, 0);
    } else if (diff < 1) {
        replace_eye(rc, pts[0], 1, 1);
    } else {
        replace_eye(rc, pts[1], 0, 1);
    }
    iris_points(rc, pts[0], 1, rc + FS_MESH_LANDMARKS);
    iris_points(rc, pts[1], 0, rc + FS_MESH_LANDMARKS + 5);
}

void fs_iris_from_mesh(double (*rc)[3])
{
    for (int e = 0; e < 2; e++) {
        double c[3] = {0, 0, 0};
        int n = 0;
        for (int g = G_UPPER0; g <= G_LOWER0; g += G_LOWER0 - G_UPPER0) {
            const fs_eye_group *eg = &fs_eye_groups[g];
            const int *mesh = e == 0 ? eg->left : eg->right;
            for (int j = 0; j < eg->count; j++, n++)
                for (int k = 0; k < 3; k++)
                    c[k] += rc[mesh[j]][k];
        }
        for (int i = 0; i < 5; i++)
            for (int k = 0; k < 3; k++)
                rc[FS_MESH_LANDMARKS + 5 * e + i][k] = c[k] / n;
    }
}
