/*
 * The renderer's core: the rasteriser's reference against a brute-force
 * oracle written from the geometric definitions, watertightness of closed
 * meshes, the depth test, perspective-correct interpolation against the
 * analytic value, the fast path against the reference, and midpoint
 * subdivision of the canonical face.
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fit/fit_internal.h"
#include "internal.h"
#include "pool.h"
#include "render/raster.h"
#include "render/subdiv.h"
#include "render/texture.h"

/* Check writes a message per passing ck_assert (millions in the per-pixel
 * loops here): these abort only on failure and write nothing otherwise. */
#define CHECK(c, ...)                                                                        \
    do {                                                                                     \
        if (!(c))                                                                            \
            ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)
#define CHECK1(c) CHECK(c, "%s", #c)
#define RASTER_OK(call) CHECK((call) == FS_OK, "%s failed", #call)
#define CHECK_EQ(a, b)                                                                       \
    do {                                                                                     \
        const long long a_ = (a), b_ = (b);                                                  \
        CHECK(a_ == b_, "%s == %lld, %s == %lld", #a, a_, #b, b_);                           \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                \
    CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s = %.9g, %s = %.9g", #a, (double)(a), \
          #b, (double)(b))
#define CHECK_FEQ(a, b) CHECK((a) == (b), "%s = %.9g != %s = %.9g", #a, (double)(a), #b, (double)(b))

/* ------------------------------------------------------------------ helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double rnd(void) /* [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

typedef struct buffers {
    fs_raster_desc d;
    float *depth, *attr;
    uint8_t *mask;
    int32_t *tri;
    fs_raster_out out;
} buffers;

static void buf_init(buffers *b, int x0, int y0, int w, int h, int n_attr)
{
    memset(b, 0, sizeof(*b));
    b->d.x0 = x0, b->d.y0 = y0, b->d.width = w, b->d.height = h, b->d.n_attr = n_attr;
    const size_t n = (size_t)w * (size_t)h;
    b->depth = malloc((n ? n : 1) * sizeof(float));
    b->attr = malloc((n ? n : 1) * (size_t)(n_attr ? n_attr : 1) * sizeof(float));
    b->mask = malloc(n ? n : 1);
    b->tri = malloc((n ? n : 1) * sizeof(int32_t));
    CHECK1(b->depth && b->attr && b->mask && b->tri);
    b->out.depth = b->depth, b->out.attr = b->attr, b->out.mask = b->mask, b->out.tri_id = b->tri;
    fs_raster_clear(&b->d, &b->out);
}

static void buf_free(buffers *b)
{
    free(b->depth), free(b->attr), free(b->mask), free(b->tri);
}

/* ------------------------------------------------------------------ oracle */

/*
 * Written from the definitions, in double: vertices snapped to 1/256 px
 * (exact in double, so the edge functions below are exact for the small
 * coordinates used here), a pixel (centre at integers) is inside when every
 * edge function has the interior's sign, or is 0 on a top edge (horizontal,
 * third vertex below) or a left edge (third vertex to its right).
 */
static double snap(double v)
{
    return nearbyint(v * 256.0) / 256.0;
}

static double edge(double ax, double ay, double bx, double by, double px, double py)
{
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
}

static int top_or_left(double px_, double py_, double qx, double qy, double rx, double ry)
{
    if (py_ == qy)
        return ry > py_; /* top: the triangle lies below */
    const double xe = px_ + (qx - px_) * (ry - py_) / (qy - py_);
    return rx > xe; /* left: the triangle lies to its right */
}

static void oracle(const fs_raster_vertex *v, const float *attr, int n_vert, const int32_t (*tri)[3],
                   int n_tri, const buffers *b)
{
    const int na = b->d.n_attr;
    for (int t = 0; t < n_tri; t++) {
        double X[3], Y[3];
        int ok = 1;
        for (int k = 0; k < 3; k++) {
            const int i = tri[t][k];
            if (i < 0 || i >= n_vert || !isfinite(v[i].x) || !isfinite(v[i].y) ||
                !isfinite(v[i].z) || !(v[i].w > 0) || !isfinite(v[i].w)) {
                ok = 0;
                break;
            }
            X[k] = snap(v[i].x), Y[k] = snap(v[i].y);
        }
        if (!ok)
            continue;
        const double area = edge(X[0], Y[0], X[1], Y[1], X[2], Y[2]);
        if (area == 0.0)
            continue;
        if ((b->d.cull == FS_RASTER_CULL_CW && area > 0) || (b->d.cull == FS_RASTER_CULL_CCW && area < 0))
            continue;
        for (int j = 0; j < b->d.height; j++)
            for (int i = 0; i < b->d.width; i++) {
                const double px = b->d.x0 + i, py = b->d.y0 + j;
                double lam[3];
                int in = 1;
                for (int k = 0; k < 3; k++) {
                    const int k1 = (k + 1) % 3, k2 = (k + 2) % 3;
                    const double e = edge(X[k1], Y[k1], X[k2], Y[k2], px, py) / area;
                    lam[k] = e;
                    if (e < 0 || (e == 0 && !top_or_left(X[k1], Y[k1], X[k2], Y[k2], X[k], Y[k])))
                        in = 0;
                }
                if (!in)
                    continue;
                const fs_raster_vertex *a = &v[tri[t][0]], *bb = &v[tri[t][1]], *c = &v[tri[t][2]];
                const float z = (float)(lam[0] * a->z + lam[1] * bb->z + lam[2] * c->z);
                const size_t o = (size_t)j * (size_t)b->d.width + (size_t)i;
                if (!(z < b->depth[o]))
                    continue;
                b->depth[o] = z, b->mask[o] = 255, b->tri[o] = t;
                const double q0 = lam[0] / a->w, q1 = lam[1] / bb->w, q2 = lam[2] / c->w;
                for (int ch = 0; ch < na; ch++)
                    b->attr[o * (size_t)na + (size_t)ch] =
                        (float)((q0 * attr[(size_t)tri[t][0] * (size_t)na + (size_t)ch] +
                                 q1 * attr[(size_t)tri[t][1] * (size_t)na + (size_t)ch] +
                                 q2 * attr[(size_t)tri[t][2] * (size_t)na + (size_t)ch]) /
                                (q0 + q1 + q2));
            }
    }
}

/*
 * Compares two renderings: coverage exactly; where both drew the same
 * triangle, depth and attributes within tol (relative to 1); a different
 * triangle only where the two depths tie to within tol.
 */
static void compare(const buffers *a, const buffers *b, double tol, const char *what)
{
    const int na = a->d.n_attr;
    const size_t n = (size_t)a->d.width * (size_t)a->d.height;
    size_t diff_tri = 0;
    for (size_t o = 0; o < n; o++) {
        CHECK(a->mask[o] == b->mask[o], "%s: coverage differs at (%zu, %zu)", what,
                      o % (size_t)a->d.width, o / (size_t)a->d.width);
        if (!a->mask[o])
            continue;
        CHECK(fabs(a->depth[o] - b->depth[o]) <= tol * (1 + fabs(a->depth[o])),
                      "%s: depth %g vs %g", what, a->depth[o], b->depth[o]);
        if (a->tri[o] != b->tri[o]) {
            diff_tri++;
            continue;
        }
        for (int c = 0; c < na; c++) {
            const float x = a->attr[o * (size_t)na + (size_t)c], y = b->attr[o * (size_t)na + (size_t)c];
            CHECK(fabs(x - y) <= tol * (1 + fabs(x)), "%s: attr %d: %.9g vs %.9g at %zu", what,
                          c, x, y, o);
        }
    }
    /* Depth ties that rounding may break either way are rare. */
    CHECK(diff_tri * 1000 <= n + 1000, "%s: %zu pixels drew another triangle", what, diff_tri);
}

static void random_scene(fs_raster_vertex *v, float *attr, int nv, int na, int32_t (*tri)[3], int nt,
                         double lo, double hi, int wide_w)
{
    for (int i = 0; i < nv; i++) {
        v[i].x = (float)(lo + (hi - lo) * rnd());
        v[i].y = (float)(lo + (hi - lo) * rnd());
        /* Some vertices on exact pixel centres and half pixels: fill-rule ties. */
        if (i % 4 == 0) {
            v[i].x = floorf(v[i].x * 2) / 2;
            v[i].y = floorf(v[i].y * 2) / 2;
        }
        v[i].z = (float)rnd();
        v[i].w = wide_w ? (float)(0.25 + 3.0 * rnd()) : 1.0f;
        for (int c = 0; c < na; c++)
            attr[i * na + c] = (float)(rnd() * 2 - 1);
    }
    for (int t = 0; t < nt; t++)
        for (int k = 0; k < 3; k++)
            tri[t][k] = (int32_t)(rnd() * nv);
    /* Shared-edge pairs and duplicated vertices exercise ties. */
    for (int t = 1; t < nt; t += 5) {
        tri[t][0] = tri[t - 1][1];
        tri[t][1] = tri[t - 1][0];
    }
}

/* ------------------------------------------------------------------ tests */

START_TEST(reference_matches_oracle)
{
    enum { NV = 40, NT = 60, NA = 3 };
    fs_raster_vertex v[NV];
    float attr[NV * NA];
    int32_t tri[NT][3];
    for (int rep = 0; rep < 6; rep++) {
        random_scene(v, attr, NV, NA, tri, NT, -10, 70, rep & 1);
        buffers r, o;
        buf_init(&r, 3 + rep, -2, 61, 57, NA);
        buf_init(&o, 3 + rep, -2, 61, 57, NA);
        r.d.cull = o.d.cull = (fs_raster_cull)(rep % 3);
        RASTER_OK(fs_raster_triangles_ref(FS_EXEC_SERIAL(NULL), v, attr, NV, (const int32_t(*)[3])tri, NT, &r.d, &r.out));
        oracle(v, attr, NV, (const int32_t(*)[3])tri, NT, &o);
        compare(&o, &r, 1e-5, "oracle vs reference");
        size_t covered = 0;
        for (int i = 0; i < 61 * 57; i++)
            covered += r.mask[i] != 0;
        CHECK(covered > 500, "scene too empty (%zu)", covered);
        buf_free(&r), buf_free(&o);
    }
}
END_TEST

/*
 * Renders every triangle alone into a window of its own bounding box and
 * counts hits per image pixel: a closed mesh is covered exactly once inside.
 */
static void count_hits(fs_raster_fn fn, const fs_raster_vertex *v, int nv, const int32_t (*tri)[3],
                       int nt, int W, int H, uint8_t *count)
{
    memset(count, 0, (size_t)W * (size_t)H);
    for (int t = 0; t < nt; t++) {
        float xmin = 1e30f, xmax = -1e30f, ymin = 1e30f, ymax = -1e30f;
        for (int k = 0; k < 3; k++) {
            xmin = fminf(xmin, v[tri[t][k]].x), xmax = fmaxf(xmax, v[tri[t][k]].x);
            ymin = fminf(ymin, v[tri[t][k]].y), ymax = fmaxf(ymax, v[tri[t][k]].y);
        }
        const int x0 = (int)floorf(xmin) - 1, y0 = (int)floorf(ymin) - 1;
        buffers b;
        buf_init(&b, x0, y0, (int)ceilf(xmax) + 2 - x0, (int)ceilf(ymax) + 2 - y0, 0);
        RASTER_OK(fn(FS_EXEC_SERIAL(NULL), v, NULL, nv, tri + t, 1, &b.d, &b.out));
        for (int j = 0; j < b.d.height; j++)
            for (int i = 0; i < b.d.width; i++)
                if (b.mask[j * b.d.width + i]) {
                    const int X = x0 + i, Y = y0 + j;
                    CHECK1(X >= 0 && X < W && Y >= 0 && Y < H);
                    CHECK_EQ(b.tri[j * b.d.width + i], 0);
                    count[Y * W + X]++;
                }
        buf_free(&b);
    }
}

START_TEST(closed_mesh_covered_once)
{
    /* A jittered grid over [10.5, 90.5]^2 (border on half pixels, some inner
     * vertices on exact pixel centres), split along random diagonals, plus a
     * fan of 13 triangles around a vertex at a pixel centre. */
    enum { G = 9, W = 110, H = 110 };
    fs_raster_vertex v[G * G + 14];
    int32_t tri[2 * (G - 1) * (G - 1) + 13][3];
    int nv = 0, nt = 0;
    for (int j = 0; j < G; j++)
        for (int i = 0; i < G; i++) {
            float x = 10.5f + 10.0f * (float)i, y = 10.5f + 10.0f * (float)j;
            if (i > 0 && i < G - 1 && j > 0 && j < G - 1) {
                x += (i + j) % 3 == 0 ? 0.5f : (float)(rnd() * 6 - 3);
                y += (i + j) % 3 == 0 ? 0.5f : (float)(rnd() * 6 - 3);
            }
            v[nv++] = (fs_raster_vertex){x, y, 0.5f, 1.0f};
        }
    for (int j = 0; j + 1 < G; j++)
        for (int i = 0; i + 1 < G; i++) {
            const int a = j * G + i, b = a + 1, c = a + G, d = c + 1;
            if (rnd() < 0.5) {
                tri[nt][0] = a, tri[nt][1] = b, tri[nt][2] = d, nt++;
                tri[nt][0] = a, tri[nt][1] = d, tri[nt][2] = c, nt++;
            } else {
                tri[nt][0] = a, tri[nt][1] = b, tri[nt][2] = c, nt++;
                tri[nt][0] = b, tri[nt][1] = d, tri[nt][2] = c, nt++;
            }
        }
    const int ngrid = nt;
    (void)ngrid;
    uint8_t *count = malloc(W * H);
    CHECK1(count);
    fs_raster_fn fns[2] = {fs_raster_triangles_ref, fs_raster_triangles_fast};
    for (int f = 0; f < 2; f++) {
        count_hits(fns[f], v, nv, (const int32_t(*)[3])tri, nt, W, H, count);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const int inside = x > 10.5 && x < 90.5 && y > 10.5 && y < 90.5;
                CHECK(count[y * W + x] == inside, "impl %d: pixel (%d, %d) hit %d times", f,
                              x, y, count[y * W + x]);
            }
    }
    /* The fan: a vertex on pixel (50, 50), 13 spokes of radius 20. */
    nv = 0, nt = 0;
    v[nv++] = (fs_raster_vertex){50.0f, 50.0f, 0.5f, 1.0f};
    for (int k = 0; k < 13; k++) {
        const double a = 2 * 3.14159265358979 * k / 13.0;
        v[nv++] = (fs_raster_vertex){(float)(50 + 20 * cos(a)), (float)(50 + 20 * sin(a)), 0.5f, 1.0f};
    }
    for (int k = 0; k < 13; k++)
        tri[nt][0] = 0, tri[nt][1] = 1 + k, tri[nt][2] = 1 + (k + 1) % 13, nt++;
    for (int f = 0; f < 2; f++) {
        count_hits(fns[f], v, nv, (const int32_t(*)[3])tri, nt, W, H, count);
        CHECK_EQ(count[50 * W + 50], 1);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const double r = hypot(x - 50.0, y - 50.0);
                CHECK(count[y * W + x] <= 1, "fan: pixel (%d, %d) hit twice", x, y);
                if (r < 19.0) /* the 13-gon's inradius is 20 cos(pi/13) = 19.4 */
                    CHECK(count[y * W + x] == 1, "fan: hole at (%d, %d)", x, y);
                if (r > 20.01)
                    CHECK_EQ(count[y * W + x], 0);
            }
    }
    free(count);
}
END_TEST

START_TEST(depth_picks_nearest)
{
    /* Two big triangles crossing in depth: z = x / 100 versus 0.5. */
    const fs_raster_vertex v[6] = {{0, 0, 0, 1},   {100, 0, 1, 1},  {0, 100, 0, 1},
                                   {-50, -50, 0.5f, 1}, {200, -50, 0.5f, 1}, {-50, 200, 0.5f, 1}};
    const int32_t tri[2][3] = {{0, 1, 2}, {3, 4, 5}};
    const int32_t rev[2][3] = {{3, 4, 5}, {0, 1, 2}};
    fs_raster_fn fns[2] = {fs_raster_triangles_ref, fs_raster_triangles_fast};
    for (int f = 0; f < 2; f++)
        for (int order = 0; order < 2; order++) {
            buffers b;
            buf_init(&b, 0, 0, 80, 80, 0);
            RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, NULL, 6, order ? rev : tri, 2, &b.d, &b.out));
            for (int y = 0; y < 80; y++)
                for (int x = 0; x + y < 100 && x < 80; x++) {
                    if (x == 50)
                        continue; /* the tie */
                    const int first = x < 50; /* z = x / 100 nearer than 0.5 */
                    const int want = first == !order ? 0 : 1;
                    CHECK(b.tri[y * 80 + x] == want, "impl %d order %d (%d, %d): tri %d", f,
                                  order, x, y, b.tri[y * 80 + x]);
                    CHECK_NEAR(b.depth[y * 80 + x], x < 50 ? x / 100.0f : 0.5f, 1e-6f);
                }
            buf_free(&b);
        }
}
END_TEST

START_TEST(perspective_correct)
{
    /* u = 1 at the vertex with w = 4, 0 elsewhere: at screen barycentrics
     * (b0, b1, b2) the value is (b1 / 4) / (b0 + b1 / 4 + b2). */
    const fs_raster_vertex v[3] = {{0, 0, 0, 1}, {64, 0, 0, 4}, {0, 64, 0, 1}};
    const float attr[3 * 2] = {0, 7, 1, 7, 0, 7}; /* a constant second attribute stays constant */
    const int32_t tri[1][3] = {{0, 1, 2}};
    fs_raster_fn fns[2] = {fs_raster_triangles_ref, fs_raster_triangles_fast};
    for (int f = 0; f < 2; f++) {
        buffers b;
        buf_init(&b, 0, 0, 64, 64, 2);
        RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, attr, 3, tri, 1, &b.d, &b.out));
        double max_affine_gap = 0;
        for (int y = 0; y < 64; y++)
            for (int x = 0; x + y < 64; x++) {
                const size_t o = (size_t)y * 64 + (size_t)x;
                CHECK1(b.mask[o]);
                const double b1 = x / 64.0, b2 = y / 64.0, b0 = 1 - b1 - b2;
                const double want = (b1 / 4) / (b0 + b1 / 4 + b2);
                CHECK(fabs(b.attr[o * 2] - want) < 1e-5, "impl %d (%d, %d): %g vs %g", f, x,
                              y, b.attr[o * 2], want);
                CHECK_NEAR(b.attr[o * 2 + 1], 7.0f, 1e-5f);
                max_affine_gap = fmax(max_affine_gap, fabs(want - b1));
            }
        /* Affine interpolation (b1) would be far off: the test would notice. */
        CHECK1(max_affine_gap > 0.3);
        buf_free(&b);
    }
}
END_TEST

START_TEST(fast_matches_reference_random)
{
    enum { NV = 300, NT = 200, NA = 4 };
    static fs_raster_vertex v[NV];
    static float attr[NV * NA];
    static int32_t tri[NT][3];
    for (int rep = 0; rep < 8; rep++) {
        /* Some reps reach far outside the window (clipping). */
        random_scene(v, attr, NV, NA, tri, NT, rep & 2 ? -400 : -20, rep & 2 ? 600 : 220, rep & 1);
        buffers r, f;
        buf_init(&r, 5, 7, 203, 190, NA);
        buf_init(&f, 5, 7, 203, 190, NA);
        r.d.cull = f.d.cull = (fs_raster_cull)(rep % 3);
        RASTER_OK(fs_raster_triangles_ref(FS_EXEC_SERIAL(NULL), v, attr, NV, (const int32_t(*)[3])tri, NT, &r.d, &r.out));
        RASTER_OK(fs_raster_triangles_fast(FS_EXEC_SERIAL(NULL), v, attr, NV, (const int32_t(*)[3])tri, NT, &f.d, &f.out));
        compare(&r, &f, 1e-4, "fast vs reference");
        buf_free(&r), buf_free(&f);
    }
}
END_TEST

START_TEST(bad_inputs_draw_nothing)
{
    const float nan = NAN;
    const fs_raster_vertex v[7] = {{10, 10, 0, 1},   {50, 10, 0, 1},  {10, 50, 0, 1}, {nan, 20, 0, 1},
                                   {30, 30, 0, 0},   {30, 30, nan, 1}, {5e6f, 10, 0, 1}};
    const int32_t tri[][3] = {{0, 1, 3}, {0, 1, 4}, {0, 1, 5}, {0, 1, 6}, {0, 1, 7},
                              {0, 1, -1}, {0, 0, 1}, {0, 1, 1}};
    const int nt = (int)(sizeof(tri) / sizeof(tri[0]));
    fs_raster_fn fns[2] = {fs_raster_triangles_ref, fs_raster_triangles_fast};
    for (int f = 0; f < 2; f++) {
        buffers b;
        buf_init(&b, 0, 0, 64, 64, 1);
        const float attr[7] = {0};
        RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, attr, 7, tri, nt, &b.d, &b.out));
        /* Off-screen: the window sits far from the valid triangle. */
        b.d.x0 = 1000;
        RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, attr, 7, tri, nt, &b.d, &b.out));
        b.d.x0 = 0;
        /* Invalid descriptors. */
        b.d.n_attr = FS_RASTER_MAX_ATTR + 1;
        CHECK_EQ(fns[f](FS_EXEC_SERIAL(NULL), v, attr, 7, (const int32_t(*)[3])tri, 1, &b.d,
                        &b.out),
                 FS_ERR_INVALID_ARGUMENT);
        b.d.n_attr = 1;
        CHECK_EQ(fns[f](FS_EXEC_SERIAL(NULL), v, attr, 7, tri, nt, NULL, &b.out),
                 FS_ERR_INVALID_ARGUMENT);
        for (int i = 0; i < 64 * 64; i++)
            CHECK_EQ(b.mask[i], 0);
        /* Culling: {0, 1, 2} turns clockwise on the image. */
        b.d.cull = FS_RASTER_CULL_CW;
        RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, attr, 7, tri + 0, 0, &b.d, &b.out));
        const int32_t good[1][3] = {{0, 1, 2}}, back[1][3] = {{0, 2, 1}};
        RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, attr, 7, good, 1, &b.d, &b.out));
        for (int i = 0; i < 64 * 64; i++)
            CHECK_EQ(b.mask[i], 0);
        RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, attr, 7, back, 1, &b.d, &b.out));
        CHECK_EQ(b.mask[20 * 64 + 20], 255);
        buf_free(&b);
    }
}
END_TEST

START_TEST(window_is_a_crop)
{
    /* Drawing into a sub-window gives exactly the same pixels as the crop of a full drawing. */
    enum { NV = 60, NT = 80, NA = 2 };
    fs_raster_vertex v[NV];
    float attr[NV * NA];
    int32_t tri[NT][3];
    random_scene(v, attr, NV, NA, tri, NT, 0, 100, 1);
    buffers full, sub;
    buf_init(&full, 0, 0, 100, 100, NA);
    buf_init(&sub, 37, 21, 40, 50, NA);
    fs_raster_fn fns[2] = {fs_raster_triangles_ref, fs_raster_triangles_fast};
    for (int f = 0; f < 2; f++) {
        fs_raster_clear(&full.d, &full.out);
        fs_raster_clear(&sub.d, &sub.out);
        RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, attr, NV, (const int32_t(*)[3])tri, NT, &full.d, &full.out));
        RASTER_OK(fns[f](FS_EXEC_SERIAL(NULL), v, attr, NV, (const int32_t(*)[3])tri, NT, &sub.d, &sub.out));
        for (int j = 0; j < 50; j++)
            for (int i = 0; i < 40; i++) {
                const int o = j * 40 + i, p = (j + 21) * 100 + i + 37;
                CHECK_EQ(sub.mask[o], full.mask[p]);
                CHECK(sub.tri[o] == full.tri[p], "impl %d (%d, %d): tri %d vs %d", f, i, j,
                              sub.tri[o], full.tri[p]);
                if (f == 0) /* the fast path's planes start at the clipped box: rounding may differ */
                    CHECK1(sub.depth[o] == full.depth[p] || (isinf(sub.depth[o]) && isinf(full.depth[p])));
            }
    }
    buf_free(&full), buf_free(&sub);
}
END_TEST

/* ------------------------------------------------------------------ face mesh */

static int load_face(fs_canonical_face *face)
{
    const char *path = fs_test_model_path("face_geometry.binarypb");
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "%s missing: run scripts/fetch-data.sh", path);
    static uint8_t data[1 << 20];
    const size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    fs_error_buf err = {{0}};
    RASTER_OK(fs_canonical_face_parse(data, n, face, &err));
    return 1;
}

/* The face mesh as an fs_mesh (pos in cm, attr = UV); arrays owned by the caller's statics. */
static void face_mesh(fs_mesh *m)
{
    static fs_canonical_face face;
    static float pos[FS_MESH_LANDMARKS * 3], uv[FS_MESH_LANDMARKS * 2];
    static int32_t tri[FS_CANON_MAX_TRIANGLES][3];
    load_face(&face);
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        memcpy(pos + i * 3, face.vertices[i], 3 * sizeof(float));
        memcpy(uv + i * 2, face.uv[i], 2 * sizeof(float));
    }
    for (int t = 0; t < face.n_triangles; t++)
        for (int k = 0; k < 3; k++)
            tri[t][k] = face.triangles[t][k];
    m->n_vert = FS_MESH_LANDMARKS, m->n_attr = 2, m->pos = pos, m->attr = uv;
    m->n_tri = face.n_triangles, m->tri = tri;
}

/* Edges of a mesh: counts how many edges have 1, 2 or more triangles, and
 * how many interior edges are walked in the same direction twice. */
static void edge_stats(const fs_mesh *m, long *one, long *two, long *more, long *same_dir)
{
    const size_t cap = (size_t)m->n_tri * 8;
    uint64_t *key = malloc(cap * sizeof(uint64_t));
    int *cnt = malloc(cap * sizeof(int)), *fwd = malloc(cap * sizeof(int));
    CHECK1(key && cnt && fwd);
    memset(key, 0xff, cap * sizeof(uint64_t));
    *one = *two = *more = *same_dir = 0;
    for (int t = 0; t < m->n_tri; t++)
        for (int k = 0; k < 3; k++) {
            const uint32_t a = (uint32_t)m->tri[t][k], b = (uint32_t)m->tri[t][(k + 1) % 3];
            const uint64_t kk = a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
            size_t i = (size_t)((kk * 0x9E3779B97F4A7C15ULL) >> 20) % cap;
            while (key[i] != UINT64_MAX && key[i] != kk)
                i = (i + 1) % cap;
            if (key[i] == UINT64_MAX)
                key[i] = kk, cnt[i] = 0, fwd[i] = 0;
            cnt[i]++;
            fwd[i] += a < b;
        }
    for (size_t i = 0; i < cap; i++) {
        if (key[i] == UINT64_MAX)
            continue;
        if (cnt[i] == 1)
            (*one)++;
        else if (cnt[i] == 2) {
            (*two)++;
            *same_dir += fwd[i] != 1;
        } else
            (*more)++;
    }
    free(key), free(cnt), free(fwd);
}

START_TEST(subdivision_of_face)
{
    fs_mesh base;
    face_mesh(&base);
    long one0, two0, more0, same0;
    edge_stats(&base, &one0, &two0, &more0, &same0);
    CHECK_EQ(more0, 0);
    long prev_one = one0, prev_edges = one0 + two0;
    int prev_v = base.n_vert, prev_t = base.n_tri;
    fprintf(stderr, "subdivision: level 0: %d vertices, %d triangles, %ld edges (%ld boundary)\n",
            base.n_vert, base.n_tri, one0 + two0, one0);
    /* One level at a time, each checked against the level before; level 2
     * in one call must equal two calls of one level. */
    fs_mesh cur = base, two_at_once;
    fs_error_buf err2 = {{0}};
    RASTER_OK(fs_mesh_subdivide(&base, 2, &two_at_once, &err2));
    for (int level = 1; level <= 4; level++) {
        fs_mesh m;
        fs_error_buf err = {{0}};
        RASTER_OK(fs_mesh_subdivide(&cur, 1, &m, &err));
        if (level == 2) {
            CHECK_EQ(m.n_vert, two_at_once.n_vert);
            CHECK1(memcmp(m.pos, two_at_once.pos, (size_t)m.n_vert * 3 * sizeof(float)) == 0);
            CHECK1(memcmp(m.tri, two_at_once.tri, (size_t)m.n_tri * sizeof(*m.tri)) == 0);
            fs_mesh_free(&two_at_once);
        }
        long one, two, more, same;
        edge_stats(&m, &one, &two, &more, &same);
        fprintf(stderr, "subdivision: level %d: %d vertices, %d triangles, %ld edges (%ld boundary)\n",
                level, m.n_vert, m.n_tri, one + two, one);
        CHECK_EQ(m.n_tri, 4 * prev_t);
        CHECK_EQ(m.n_vert, prev_v + prev_edges); /* one new vertex per edge */
        CHECK_EQ(more, 0);
        CHECK_EQ(one, 2 * prev_one); /* each boundary edge splits in two */
        CHECK_EQ(same, same0 * (1L << (level))); /* orientation kept (0 if consistent) */
        if (level == 4)
            CHECK1(m.n_vert >= 50000);
        {
            /* Midpoints: corner triangle 4t is (c0, mid(c0, c1), mid(c2, c0)). */
            for (int t = 0; t < cur.n_tri; t++) {
                const int32_t *c = cur.tri[t], *o = m.tri[4 * t];
                CHECK_EQ(o[0], c[0]);
                for (int i = 0; i < 3; i++) {
                    CHECK_FEQ(m.pos[o[1] * 3 + i],
                                       0.5f * (cur.pos[c[0] * 3 + i] + cur.pos[c[1] * 3 + i]));
                    CHECK_FEQ(m.pos[o[2] * 3 + i],
                                       0.5f * (cur.pos[c[2] * 3 + i] + cur.pos[c[0] * 3 + i]));
                }
                for (int i = 0; i < 2; i++)
                    CHECK_FEQ(m.attr[o[1] * 2 + i],
                                       0.5f * (cur.attr[c[0] * 2 + i] + cur.attr[c[1] * 2 + i]));
            }
        }
        prev_one = one, prev_edges = one + two, prev_v = m.n_vert, prev_t = m.n_tri;
        if (level > 1)
            fs_mesh_free(&cur);
        cur = m;
    }
    fs_mesh_free(&cur);
    /* Bad inputs. */
    fs_mesh m;
    fs_error_buf err = {{0}};
    FS_ASSERT_STATUS(fs_mesh_subdivide(&base, -1, &m, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_mesh_subdivide(&base, 9, &m, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_mesh_subdivide(&base, 1, NULL, &err), FS_ERR_INVALID_ARGUMENT);
    fs_mesh bad = base;
    bad.n_vert = 100; /* triangles index past it */
    FS_ASSERT_STATUS(fs_mesh_subdivide(&bad, 1, &m, &err), FS_ERR_INVALID_ARGUMENT);
    fs_mesh_free(NULL);
    /* An empty mesh subdivides to an empty mesh. */
    const fs_mesh empty = {0, 2, NULL, NULL, 0, NULL};
    RASTER_OK(fs_mesh_subdivide(&empty, 2, &m, &err));
    CHECK_EQ(m.n_vert, 0);
    CHECK_EQ(m.n_tri, 0);
    fs_mesh_free(&m);
}
END_TEST

/* Projects a mesh frontally into a 300 x 300 face window at (200, 100). */
static void project(const fs_mesh *m, fs_raster_vertex *v)
{
    for (int i = 0; i < m->n_vert; i++) {
        v[i].x = 350.0f + 16.0f * m->pos[i * 3];
        v[i].y = 250.0f - 16.0f * m->pos[i * 3 + 1];
        v[i].z = -m->pos[i * 3 + 2]; /* canonical z points to the viewer; smaller is nearer */
        v[i].w = 1.0f;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

START_TEST(face_mesh_fast_vs_reference)
{
    fs_mesh base, prev = {0, 0, NULL, NULL, 0, NULL};
    face_mesh(&base);
    size_t prev_cov = 0;
    for (int level = 0; level <= 4; level++) {
        fs_mesh m;
        fs_error_buf err = {{0}};
        RASTER_OK(fs_mesh_subdivide(level ? &prev : &base, level ? 1 : 0, &m, &err));
        fs_raster_vertex *v = malloc((size_t)m.n_vert * sizeof(*v));
        CHECK1(v);
        project(&m, v);
        buffers r, f;
        buf_init(&r, 200, 100, 300, 300, 2);
        buf_init(&f, 200, 100, 300, 300, 2);
        /* Best of 3 (the buffers are cleared between runs, outside the timing). */
        double t_ref = 1e30, t_fast = 1e30;
        for (int run = 0; run < 3; run++) {
            fs_raster_clear(&r.d, &r.out);
            fs_raster_clear(&f.d, &f.out);
            const double t0 = now_s();
            RASTER_OK(fs_raster_triangles_ref(FS_EXEC_SERIAL(NULL), v, m.attr, m.n_vert, (const int32_t(*)[3])m.tri, m.n_tri, &r.d,
                                    &r.out));
            const double t1 = now_s();
            RASTER_OK(fs_raster_triangles_fast(FS_EXEC_SERIAL(NULL), v, m.attr, m.n_vert, (const int32_t(*)[3])m.tri, m.n_tri, &f.d,
                                     &f.out));
            const double t2 = now_s();
            t_ref = fmin(t_ref, t1 - t0), t_fast = fmin(t_fast, t2 - t1);
        }
        compare(&r, &f, 1e-4, "face mesh: fast vs reference");
        size_t cov = 0;
        for (int i = 0; i < 300 * 300; i++)
            cov += r.mask[i] != 0;
        fprintf(stderr, "raster face level %d (%d tris, %zu px covered): ref %.3f ms, fast %.3f ms\n",
                level, m.n_tri, cov, 1e3 * t_ref, 1e3 * t_fast);
        /* Subdivision keeps the outline: midpoints of boundary edges lie on
         * them up to float rounding, which may move a pixel along it. */
        CHECK1(cov > 30000);
        if (level > 0)
            CHECK(labs((long)cov - (long)prev_cov) <= 10, "covered %zu, then %zu", prev_cov, cov);
        prev_cov = cov;
        /* UVs stay in the atlas' [0, 1]. */
        for (int i = 0; i < 300 * 300; i++)
            if (r.mask[i])
                CHECK1(r.attr[i * 2] >= -1e-5f && r.attr[i * 2] <= 1.00001f &&
                          r.attr[i * 2 + 1] >= -1e-5f && r.attr[i * 2 + 1] <= 1.00001f);
        buf_free(&r), buf_free(&f);
        free(v);
        fs_mesh_free(&prev);
        prev = m;
    }
    fs_mesh_free(&prev);
}
END_TEST

START_TEST(texture_lookup)
{
    /* By hand: a 2 x 2 atlas; texel centres at u, v = 0.25 and 0.75. */
    const uint8_t tex[2 * 8] = {0, 0, 0, 200, 100, 50, 0, 0, /* row 0 (+2 pad bytes) */
                                40, 40, 40, 40, 40, 40, 9, 9};
    fs_raster_desc d = {0, 0, 6, 1, 3, FS_RASTER_CULL_NONE};
    /* attr: (junk, u, v) per pixel */
    const float attr[6 * 3] = {0, 0.5f, 0.25f, 0, 0.25f, 0.25f, 0, 0.75f, 0.25f,
                               0, -3.0f, 0.5f, 0, 0.75f, NAN,  0, 0.9f, 0.9f};
    const uint8_t mask[6] = {255, 255, 255, 255, 255, 0};
    float rgb[6 * 3];
    for (int i = 0; i < 18; i++)
        rgb[i] = -1;
    CHECK1(fs_raster_texture_rgb8(&d, attr, 1, mask, tex, 2, 2, 8, 0, rgb));
    const float want[5][3] = {{100, 50, 25}, {0, 0, 0}, {200, 100, 50}, {20, 20, 20}, {200, 100, 50}};
    for (int p = 0; p < 5; p++)
        for (int c = 0; c < 3; c++)
            CHECK_NEAR(rgb[p * 3 + c], want[p][c], 1e-4);
    CHECK_FEQ(rgb[15], -1.0f); /* masked out: untouched */
    /* flip_v: v = 0.75 reads the top row. */
    const float a2[3] = {0, 0.75f, 0.75f};
    fs_raster_desc d1 = {0, 0, 1, 1, 3, FS_RASTER_CULL_NONE};
    CHECK1(fs_raster_texture_rgb8(&d1, a2, 1, mask, tex, 2, 2, 8, 1, rgb));
    CHECK_NEAR(rgb[0], 200.0, 1e-4);
    /* Invalid arguments. */
    CHECK1(!fs_raster_texture_rgb8(&d1, a2, 2, mask, tex, 2, 2, 8, 0, rgb)); /* uv past n_attr */
    CHECK1(!fs_raster_texture_rgb8(&d1, a2, 1, mask, tex, 2, 2, 5, 0, rgb)); /* stride too small */
    CHECK1(!fs_raster_texture_rgb8(&d1, a2, 1, mask, tex, 0, 2, 8, 0, rgb));

    /* End to end: the face mesh textured with a ramp atlas (R = column,
     * G = row) gives R = 256 u - 0.5 and G = 256 v - 0.5 (clamped). */
    fs_mesh base, m;
    face_mesh(&base);
    fs_error_buf err = {{0}};
    RASTER_OK(fs_mesh_subdivide(&base, 1, &m, &err));
    fs_raster_vertex *v = malloc((size_t)m.n_vert * sizeof(*v));
    uint8_t *ramp = malloc(256 * 256 * 3);
    CHECK1(v && ramp);
    for (int y = 0; y < 256; y++)
        for (int x = 0; x < 256; x++)
            ramp[(y * 256 + x) * 3] = (uint8_t)x, ramp[(y * 256 + x) * 3 + 1] = (uint8_t)y,
                          ramp[(y * 256 + x) * 3 + 2] = 7;
    project(&m, v);
    buffers b;
    buf_init(&b, 200, 100, 300, 300, 2);
    RASTER_OK(fs_raster_triangles_fast(FS_EXEC_SERIAL(NULL), v, m.attr, m.n_vert, (const int32_t(*)[3])m.tri, m.n_tri, &b.d, &b.out));
    float *out = malloc(300 * 300 * 3 * sizeof(float));
    CHECK1(out != NULL);
    CHECK1(fs_raster_texture_rgb8(&b.d, b.attr, 0, b.mask, ramp, 256, 256, 256 * 3, 0, out));
    for (int i = 0; i < 300 * 300; i++) {
        if (!b.mask[i])
            continue;
        const double wu = fmin(fmax(b.attr[i * 2] * 256.0 - 0.5, 0), 255);
        const double wv = fmin(fmax(b.attr[i * 2 + 1] * 256.0 - 0.5, 0), 255);
        CHECK_NEAR(out[i * 3], wu, 2e-3);
        CHECK_NEAR(out[i * 3 + 1], wv, 2e-3);
        CHECK_NEAR(out[i * 3 + 2], 7.0, 1e-5);
    }
    free(out), free(ramp), free(v);
    buf_free(&b);
    fs_mesh_free(&m);
}
END_TEST

/* The fast path drawn in row bands on a pool gives the bytes of one band:
 * every band sets up each triangle's planes at the triangle's own box. */
START_TEST(bands_give_the_same_bytes)
{
    fs_mesh base, m;
    face_mesh(&base);
    fs_error_buf err = {{0}};
    RASTER_OK(fs_mesh_subdivide(&base, 2, &m, &err));
    fs_raster_vertex *v = malloc((size_t)m.n_vert * sizeof(*v));
    CHECK1(v != NULL);
    project(&m, v);
    for (int threads = 2; threads <= 5; threads += 3) {
        fs_pool *pool = NULL;
        RASTER_OK(fs_pool_create(threads, &pool));
        const fs_exec ex = {pool, &err, NULL, NULL};
        buffers one, many;
        buf_init(&one, 200, 100, 300, 300, 2);
        buf_init(&many, 200, 100, 300, 300, 2);
        RASTER_OK(fs_raster_triangles_fast(FS_EXEC_SERIAL(&err), v, m.attr, m.n_vert,
                                           (const int32_t(*)[3])m.tri, m.n_tri, &one.d,
                                           &one.out));
        RASTER_OK(fs_raster_triangles_fast(&ex, v, m.attr, m.n_vert, (const int32_t(*)[3])m.tri,
                                           m.n_tri, &many.d, &many.out));
        const size_t n = 300 * 300;
        size_t covered = 0;
        for (size_t i = 0; i < n; i++)
            covered += one.mask[i] != 0;
        CHECK1(covered > n / 4); /* the face fills much of the window */
        CHECK1(memcmp(one.depth, many.depth, n * sizeof(float)) == 0);
        CHECK1(memcmp(one.attr, many.attr, n * 2 * sizeof(float)) == 0);
        CHECK1(memcmp(one.mask, many.mask, n) == 0);
        CHECK1(memcmp(one.tri, many.tri, n * sizeof(int32_t)) == 0);
        buf_free(&one);
        buf_free(&many);
        fs_pool_destroy(pool);
    }
    free(v);
    fs_mesh_free(&m);
}
END_TEST

START_TEST(context_table_has_raster)
{
    fs_raster_ops ref;
    fs_raster_ops_init_reference(&ref);
    CHECK1(ref.triangles == fs_raster_triangles_ref);
    fs_raster_ops_init_fast(&ref);
    CHECK1(ref.triangles == fs_raster_triangles_fast);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("raster");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reference_matches_oracle);
    tcase_add_test(tc, closed_mesh_covered_once);
    tcase_add_test(tc, depth_picks_nearest);
    tcase_add_test(tc, perspective_correct);
    tcase_add_test(tc, fast_matches_reference_random);
    tcase_add_test(tc, bands_give_the_same_bytes);
    tcase_add_test(tc, bad_inputs_draw_nothing);
    tcase_add_test(tc, window_is_a_crop);
    tcase_add_test(tc, subdivision_of_face);
    tcase_add_test(tc, face_mesh_fast_vs_reference);
    tcase_add_test(tc, texture_lookup);
    tcase_add_test(tc, context_table_has_raster);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
