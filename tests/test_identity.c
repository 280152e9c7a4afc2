/*
 * Identity capture internals (lib/identity): the mesh tables (UVs and
 * triangles against facemeshcoords.ts, the mirror map), the UV atlas of a
 * real face (footprint coverage without holes or spill, colours that match
 * the photo at the landmarks, the mirror fill of a hidden half and of a
 * turned face, colour statistics), pixel formats, and the blob (round trip,
 * every truncation, byte flips, version, field ranges, files).
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fit/fit_internal.h"
#include "identity/atlas.h"
#include "identity/light.h"
#include "identity/blob.h"
#include "sha256.h"

/* ---------------------------------------------------------------- helpers */

static fs_canonical_face *read_canonical(void)
{
    const char *path = fs_test_model_path("face_geometry.binarypb");
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing %s", path);
    static uint8_t buf[1 << 16];
    const size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    fs_canonical_face *c = malloc(sizeof(*c));
    ck_assert_ptr_nonnull(c);
    fs_error_buf err;
    FS_ASSERT_OK(fs_canonical_face_parse(buf, n, c, &err));
    return c;
}

static fs_atlas_mesh *new_mesh(void)
{
    fs_canonical_face *c = read_canonical();
    fs_atlas_mesh *m = malloc(sizeof(*m));
    ck_assert_ptr_nonnull(m);
    fs_error_buf err;
    FS_ASSERT_OK(fs_atlas_mesh_init(c, m, &err));
    free(c);
    return m;
}

/* CPU time of this thread: on a shared, loaded machine wall time measures the neighbours. */
static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Detects and fits the largest face of @p img. */
static void find_face(fs_context *ctx, const fs_image *img, fs_face_landmarks *lm)
{
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    FS_ASSERT_OK(fs_detector_create(ctx, &det));
    FS_ASSERT_OK(fs_fitter_create(ctx, &fit));
    fs_face_box faces[8];
    int n = 0;
    FS_ASSERT_OK(fs_detector_run(det, img, faces, 8, &n));
    ck_assert_int_ge(n, 1);
    n = n < 8 ? n : 8;
    int best = 0;
    for (int i = 1; i < n; i++)
        if (faces[i].width * faces[i].height > faces[best].width * faces[best].height)
            best = i;
    FS_ASSERT_OK(fs_fitter_run(fit, img, &faces[best], lm));
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
}

typedef struct capture {
    fs_context *ctx;
    fs_image img;
    fs_face_landmarks lm;
    fs_atlas_mesh *mesh;
} capture;

static void capture_open(capture *c, const char *file)
{
    memset(c, 0, sizeof(*c));
    FS_ASSERT_OK(fs_context_create(&c->ctx));
    const char *path = fs_test_data_path(file);
    ck_assert_msg(fs_test_file_exists(path), "missing %s: run scripts/fetch-data.sh", path);
    FS_ASSERT_OK(fs_image_read_file(c->ctx, path, &c->img));
    find_face(c->ctx, &c->img, &c->lm);
    c->mesh = new_mesh();
}

static void capture_close(capture *c)
{
    free(c->mesh);
    fs_image_free(&c->img);
    fs_context_destroy(c->ctx);
}

/* The unwrap alone (the light stays in: these tests look at where colours
 * land, not at the light). */
static void build(const capture *c, const fs_image *img, int size, int hide, fs_atlas *a)
{
    fs_atlas_params p;
    fs_atlas_params_default(&p);
    p.size = size;
    p.hide_side = hide;
    p.delight = 0;
    fs_error_buf err;
    const fs_status st = fs_atlas_build(img, (const float (*)[3])c->lm.points, c->mesh, &p, a, &err);
    ck_assert_msg(st == FS_OK, "fs_atlas_build: %s (%s)", fs_status_name(st), err.text);
}

static int in_triangle(const fs_atlas_mesh *m, int t, double u, double v, double eps)
{
    const float *a = m->uv[m->triangles[t][0]], *b = m->uv[m->triangles[t][1]],
                *c = m->uv[m->triangles[t][2]];
    const double area = ((double)b[0] - a[0]) * ((double)c[1] - a[1]) -
                        ((double)b[1] - a[1]) * ((double)c[0] - a[0]);
    if (area == 0)
        return 0;
    const double s = area > 0 ? 1 : -1;
    const double e0 = s * (((double)c[0] - b[0]) * (v - b[1]) - ((double)c[1] - b[1]) * (u - b[0]));
    const double e1 = s * (((double)a[0] - c[0]) * (v - c[1]) - ((double)a[1] - c[1]) * (u - c[0]));
    const double e2 = s * (((double)b[0] - a[0]) * (v - a[1]) - ((double)b[1] - a[1]) * (u - a[0]));
    const double len = sqrt(fabs(area));
    return e0 >= -eps * len && e1 >= -eps * len && e2 >= -eps * len;
}

/* Photo colour at an image point, bilinear, RGB8 only. */
static void photo_rgb(const fs_image *img, float x, float y, float rgb[3])
{
    /* Pixel centres at integers, the landmarks' convention. */
    float fx = fminf(fmaxf(x, 0.0f), (float)img->width - 1.001f);
    float fy = fminf(fmaxf(y, 0.0f), (float)img->height - 1.001f);
    const int x0 = (int)fx, y0 = (int)fy;
    const float ax = fx - (float)x0, ay = fy - (float)y0;
    const uint8_t *d = img->data;
    for (int c = 0; c < 3; c++) {
        const float p00 = d[(size_t)y0 * (size_t)img->stride + (size_t)x0 * 3 + (size_t)c];
        const float p01 = d[(size_t)y0 * (size_t)img->stride + (size_t)(x0 + 1) * 3 + (size_t)c];
        const float p10 = d[(size_t)(y0 + 1) * (size_t)img->stride + (size_t)x0 * 3 + (size_t)c];
        const float p11 = d[(size_t)(y0 + 1) * (size_t)img->stride + (size_t)(x0 + 1) * 3 + (size_t)c];
        rgb[c] = (p00 * (1 - ax) + p01 * ax) * (1 - ay) + (p10 * (1 - ax) + p11 * ax) * ay;
    }
}

/* ---------------------------------------------------------------- mesh tables */

/* Numbers of an `export const NAME ... = [ ... ];` array of facemeshcoords.ts. */
static int ts_array(const char *text, const char *name, double *out, int cap)
{
    const char *p = strstr(text, name);
    ck_assert_ptr_nonnull(p);
    p = strchr(p, '=');
    ck_assert_ptr_nonnull(p);
    p = strchr(p, '[');
    const char *end = strstr(p, "];");
    ck_assert_ptr_nonnull(end);
    int n = 0;
    while (p < end) {
        if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '.') {
            char *next;
            const double v = strtod(p, &next);
            ck_assert_int_lt(n, cap);
            out[n++] = v;
            p = next;
        } else {
            p++;
        }
    }
    return n;
}

static int cmp_tri(const void *a, const void *b)
{
    const int *x = a, *y = b;
    for (int k = 0; k < 3; k++)
        if (x[k] != y[k])
            return x[k] < y[k] ? -1 : 1;
    return 0;
}

/* A triangle as its sorted vertex set. */
static void sort3(int *t)
{
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2 - i; j++)
            if (t[j] > t[j + 1]) {
                const int s = t[j];
                t[j] = t[j + 1];
                t[j + 1] = s;
            }
}

START_TEST(mesh_tables)
{
    fs_atlas_mesh *m = new_mesh();
    /* Mirror map: symmetric to well under a millimetre and an involution. */
    ck_assert_float_lt(m->mirror_error, 0.01f);
    int self = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        ck_assert_int_eq(m->mirror[m->mirror[i]], i);
        self += m->mirror[i] == i;
    }
    /* The midline (forehead, nose, chin: 10, 1, 152) maps to itself. */
    ck_assert_int_eq(m->mirror[10], 10);
    ck_assert_int_eq(m->mirror[1], 1);
    ck_assert_int_eq(m->mirror[152], 152);
    /* The eyes' outer corners swap. */
    ck_assert_int_eq(m->mirror[33], 263);
    printf("identity: %d triangles, %d midline vertices, mirror %.5f cm, u->1-u off by %.4f\n",
           m->n_triangles, self, (double)m->mirror_error, (double)m->mirror_u_error);

    /* facemeshcoords.ts holds the same UVs (v down) and a subset of the triangles. */
    const char *path = fs_test_model_path("facemeshcoords.ts");
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing %s", path);
    fseek(f, 0, SEEK_END);
    const long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = 0;
    fclose(f);
    static double nums[FS_CANON_MAX_TRIANGLES * 3];
    ck_assert_int_eq(ts_array(text, "UV468", nums, FS_CANON_MAX_TRIANGLES * 3), FS_MESH_LANDMARKS * 2);
    double worst = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        for (int c = 0; c < 2; c++)
            worst = fmax(worst, fabs(nums[i * 2 + c] - m->uv[i][c]));
    ck_assert_msg(worst < 1e-4, "UV468 and face_geometry.binarypb differ by %g", worst);
    const int nt = ts_array(text, "TRI468", nums, FS_CANON_MAX_TRIANGLES * 3) / 3;
    free(text);
    static int ts[FS_CANON_MAX_TRIANGLES][3], cf[FS_CANON_MAX_TRIANGLES][3];
    for (int t = 0; t < nt; t++) {
        for (int k = 0; k < 3; k++)
            ts[t][k] = (int)nums[t * 3 + k];
        sort3(ts[t]);
    }
    for (int t = 0; t < m->n_triangles; t++) {
        for (int k = 0; k < 3; k++)
            cf[t][k] = m->triangles[t][k];
        sort3(cf[t]);
    }
    qsort(cf, (size_t)m->n_triangles, sizeof(cf[0]), cmp_tri);
    int found = 0;
    for (int t = 0; t < nt; t++)
        found += bsearch(ts[t], cf, (size_t)m->n_triangles, sizeof(cf[0]), cmp_tri) != NULL;
    printf("identity: TRI468 has %d triangles, %d of them in the canonical face's %d\n", nt, found,
           m->n_triangles);
    /* Human's TRI468 is an older tesselation: only part of it matches the
     * canonical face's, which the library uses (it ships with the models). */
    ck_assert_int_gt(found, nt / 3);
    free(m);
}
END_TEST

/* ---------------------------------------------------------------- atlas */

START_TEST(atlas_footprint)
{
    capture c;
    capture_open(&c, "astronaut.png");
    fs_atlas a;
    build(&c, &c.img, 256, 0, &a);
    const int n = a.size;
    /* The picture, for eyes: kept where FS_IDENTITY_PNG says, else removed. */
    const char *keep = getenv("FS_IDENTITY_PNG");
    const char *png = keep && *keep ? keep : fs_test_tmp_path("atlas.png");
    fs_image view = {n, n, n * 4, FS_PIXEL_RGBA8, FS_MEMORY_HOST, 0, a.rgba, {0}};
    FS_ASSERT_OK(fs_image_write_file(c.ctx, &view, png));
    if (!(keep && *keep)) {
        unlink(png);
    } else { /* and the weights beside it */
        char wpath[4096];
        snprintf(wpath, sizeof(wpath), "%s.weight.png", keep);
        fs_image wv = {n, n, n, FS_PIXEL_GRAY8, FS_MEMORY_HOST, 0, a.weight, {0}};
        FS_ASSERT_OK(fs_image_write_file(c.ctx, &wv, wpath));
    }

    /* Every texel whose centre lies inside a triangle (clear of the edges by
     * 1e-4 of its size) is filled; every filled one lies in some triangle
     * (edges widened by as much): no holes, nothing outside the face. */
    int holes = 0, spill = 0, foot = 0, seen = 0, seen10 = 0;
    for (int y = 0; y < n; y++) {
        for (int x = 0; x < n; x++) {
            const double u = (x + 0.5) / n, v = (y + 0.5) / n;
            int inside = 0, near = 0;
            for (int t = 0; t < c.mesh->n_triangles && !inside; t++) {
                inside = in_triangle(c.mesh, t, u, v, -1e-4);
                near = near || in_triangle(c.mesh, t, u, v, 1e-4);
            }
            const size_t o = (size_t)y * (size_t)n + (size_t)x;
            const int filled = a.rgba[o * 4 + 3] == 255;
            holes += inside && !filled;
            spill += filled && !near;
            foot += filled;
            seen += filled && a.weight[o] >= 3; /* weight >= 0.01 */
            seen10 += filled && a.weight[o] >= 26; /* weight >= 0.1 */
            if (!filled)
                ck_assert_int_eq(a.rgba[o * 4] | a.rgba[o * 4 + 1] | a.rgba[o * 4 + 2] | a.weight[o], 0);
        }
    }
    printf("identity: astronaut: %d footprint texels, weight >= 0.01: %.2f%%, >= 0.1: %.2f%%, "
           "%d mirrored, %d in stats\n", foot, 100.0 * seen / foot, 100.0 * seen10 / foot,
           a.n_mirrored, a.n_stats);
    ck_assert_int_eq(holes, 0);
    ck_assert_int_eq(spill, 0);
    ck_assert_int_eq(foot, a.n_footprint);
    ck_assert_int_gt(foot, n * n / 3); /* the UV layout fills about half the square */
    /* Filled is all of the footprint (no holes above); seen by the camera at
     * all is all but the outer rim, whose triangles wrap round the side of
     * the head and face away even on a frontal photo (about 9%). */
    ck_assert_msg(seen > 0.85 * foot, "only %d of %d footprint texels seen", seen, foot);

    /* The atlas read back at each well-facing landmark's UV matches the photo there. */
    double sum = 0;
    int cnt = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        float at[3], ph[3];
        if (fs_atlas_sample(&a, c.mesh->uv[i][0], c.mesh->uv[i][1], at) < 0.99f)
            continue; /* on the footprint's border */
        photo_rgb(&c.img, c.lm.points[i][0], c.lm.points[i][1], ph);
        for (int k = 0; k < 3; k++)
            sum += fabs(at[k] - ph[k]);
        cnt++;
    }
    const double mae = sum / (3.0 * cnt);
    printf("identity: atlas vs photo at %d landmarks: mean abs error %.2f levels\n", cnt, mae);
    ck_assert_int_gt(cnt, 300);
    ck_assert_msg(mae < 6.0, "atlas vs photo: %.2f", mae);

    /* Colour statistics: skin-like lightness, a reddish a*, a real spread;
     * the eye and mouth rings enclose texels that are left out. */
    printf("identity: Lab mean %.1f %.1f %.1f std %.1f %.1f %.1f\n", (double)a.lab_mean[0],
           (double)a.lab_mean[1], (double)a.lab_mean[2], (double)a.lab_std[0],
           (double)a.lab_std[1], (double)a.lab_std[2]);
    ck_assert_float_ge(a.lab_mean[0], 30.0f);
    ck_assert_float_le(a.lab_mean[0], 80.0f);
    ck_assert_float_gt(a.lab_mean[1], 0.0f);
    for (int k = 0; k < 3; k++) {
        ck_assert_float_gt(a.lab_std[k], 0.5f);
        ck_assert_float_lt(a.lab_std[k], 30.0f);
    }
    int in_region = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            in_region += a.rgba[((size_t)y * (size_t)n + (size_t)x) * 4 + 3] &&
                         fs_atlas_in_region(c.mesh, (x + 0.5f) / (float)n, (y + 0.5f) / (float)n);
    /* Eye centres (between the lids) and the mouth centre are inside the rings. */
    const int lid[3][2] = {{159, 145}, {386, 374}, {13, 14}};
    for (int r = 0; r < 3; r++) {
        const float *p = c.mesh->uv[lid[r][0]], *q = c.mesh->uv[lid[r][1]];
        ck_assert(fs_atlas_in_region(c.mesh, (p[0] + q[0]) / 2, (p[1] + q[1]) / 2));
    }
    ck_assert(!fs_atlas_in_region(c.mesh, c.mesh->uv[1][0], c.mesh->uv[1][1])); /* nose tip */
    printf("identity: %d footprint texels inside the eye and mouth rings\n", in_region);
    /* Statistics come from one texel in four (even x and y) of the seen skin. */
    ck_assert_int_le(a.n_stats, (foot - in_region) / 4 + n);
    ck_assert_int_gt(a.n_stats, foot / 8);
    fs_atlas_free(&a);
    capture_close(&c);
}
END_TEST

/* With one half declared hidden, that half takes the mirror's colours: the
 * same as the normal atlas at the mirrored point. */
START_TEST(atlas_mirror_fill)
{
    capture c;
    capture_open(&c, "astronaut.png");
    fs_atlas full, half;
    build(&c, &c.img, 256, 0, &full);
    build(&c, &c.img, 256, 1, &half);
    ck_assert_int_eq(half.n_footprint, full.n_footprint);
    ck_assert_int_gt(half.n_mirrored, half.n_footprint / 3);
    ck_assert_int_lt(full.n_mirrored, full.n_footprint / 50);
    double sum = 0, sum_ctl = 0;
    int cnt = 0;
    static const float bary[4][3] = {{1 / 3.f, 1 / 3.f, 1 / 3.f}, {.6f, .2f, .2f},
                                     {.2f, .6f, .2f}, {.2f, .2f, .6f}};
    for (int t = 0; t < c.mesh->n_triangles; t++) {
        const uint16_t *v = c.mesh->triangles[t];
        for (int s = 0; s < 4; s++) {
            float uv[2] = {0, 0}, mv[2] = {0, 0};
            for (int k = 0; k < 3; k++)
                for (int d = 0; d < 2; d++) {
                    uv[d] += bary[s][k] * c.mesh->uv[v[k]][d];
                    mv[d] += bary[s][k] * c.mesh->uv[c.mesh->mirror[v[k]]][d];
                }
            if (uv[0] < 0.56f) /* the hidden half, clear of the midline */
                continue;
            float h[3], f[3], o[3];
            if (fs_atlas_sample(&half, uv[0], uv[1], h) < 0.99f ||
                fs_atlas_sample(&full, mv[0], mv[1], f) < 0.99f ||
                fs_atlas_sample(&full, uv[0], uv[1], o) < 0.99f)
                continue;
            for (int k = 0; k < 3; k++) {
                sum += fabs(h[k] - f[k]);
                sum_ctl += fabs(o[k] - f[k]);
            }
            cnt++;
        }
    }
    sum /= 3.0 * cnt;
    sum_ctl /= 3.0 * cnt;
    printf("identity: hidden half vs mirrored full atlas: %.2f levels (own side vs mirror %.2f), %d points\n",
           sum, sum_ctl, cnt);
    ck_assert_int_gt(cnt, 500);
    ck_assert_double_lt(sum, 6.0);
    ck_assert_double_lt(sum, sum_ctl);
    fs_atlas_free(&full);
    fs_atlas_free(&half);
    capture_close(&c);
}
END_TEST

/* A turned face: the far side is partly hidden and filled from the near side. */
START_TEST(atlas_turned_face)
{
    capture c;
    capture_open(&c, "faceapi_sample2.jpg");
    fs_atlas a;
    build(&c, &c.img, 128, 0, &a);
    int seen = 0;
    for (int i = 0; i < 128 * 128; i++)
        seen += a.rgba[i * 4 + 3] && a.weight[i] >= 26;
    printf("identity: turned face (yaw %.1f, box %.0f,%.0f %.0fx%.0f): %d footprint, %d mirrored, "
           "%d seen\n", (double)c.lm.pose.yaw, (double)c.lm.box.x, (double)c.lm.box.y,
           (double)c.lm.box.width, (double)c.lm.box.height, a.n_footprint, a.n_mirrored, seen);
    const char *keep = getenv("FS_IDENTITY_PNG");
    if (keep && *keep) {
        char path[4096];
        snprintf(path, sizeof(path), "%s.turned.png", keep);
        fs_image view = {128, 128, 128 * 4, FS_PIXEL_RGBA8, FS_MEMORY_HOST, 0, a.rgba, {0}};
        FS_ASSERT_OK(fs_image_write_file(c.ctx, &view, path));
    }
    ck_assert_float_gt(fabsf(c.lm.pose.yaw), 15.0f);
    ck_assert_int_gt(a.n_mirrored, a.n_footprint / 50);
    ck_assert_msg(seen > 0.97 * a.n_footprint, "%d of %d seen", seen, a.n_footprint);

    /* The benchmarks' plain unwrap takes every texel from its own point. */
    fs_atlas_params p;
    fs_atlas_params_default(&p);
    p.size = 128;
    p.plain = 1;
    fs_atlas plain;
    fs_error_buf err;
    FS_ASSERT_OK(fs_atlas_build(&c.img, (const float (*)[3])c.lm.points, c.mesh, &p, &plain, &err));
    ck_assert_int_eq(plain.n_footprint, a.n_footprint);
    ck_assert_int_eq(plain.n_mirrored, 0);
    ck_assert_int_gt(plain.n_stats, a.n_stats);
    fs_atlas_free(&plain);
    fs_atlas_free(&a);
    capture_close(&c);
}
END_TEST

START_TEST(atlas_formats)
{
    capture c;
    capture_open(&c, "astronaut.png");
    fs_atlas ref;
    build(&c, &c.img, 64, 0, &ref);
    const int w = c.img.width, h = c.img.height;
    static const fs_pixel_format fmts[] = {FS_PIXEL_RGBA8, FS_PIXEL_BGR8, FS_PIXEL_BGRA8,
                                           FS_PIXEL_GRAY8};
    for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
        const int ch = fs_pixel_format_channels(fmts[f]);
        uint8_t *px = malloc((size_t)w * (size_t)h * (size_t)ch);
        ck_assert_ptr_nonnull(px);
        for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
            const uint8_t *s = (const uint8_t *)c.img.data + i * 3;
            uint8_t *d = px + i * (size_t)ch;
            if (fmts[f] == FS_PIXEL_GRAY8) {
                d[0] = s[1];
                continue;
            }
            const int bgr = fmts[f] == FS_PIXEL_BGR8 || fmts[f] == FS_PIXEL_BGRA8;
            d[0] = s[bgr ? 2 : 0];
            d[1] = s[1];
            d[2] = s[bgr ? 0 : 2];
            if (ch == 4)
                d[3] = 255;
        }
        fs_image img = {w, h, w * ch, fmts[f], FS_MEMORY_HOST, 0, px, {0}};
        fs_atlas a;
        build(&c, &img, 64, 0, &a);
        for (size_t i = 0; i < 64 * 64; i++) {
            ck_assert_int_eq(a.rgba[i * 4 + 3], ref.rgba[i * 4 + 3]);
            ck_assert_int_eq(a.weight[i], ref.weight[i]);
            for (int k = 0; k < 3; k++)
                ck_assert_int_eq(a.rgba[i * 4 + (size_t)k],
                                 ref.rgba[i * 4 + (size_t)(fmts[f] == FS_PIXEL_GRAY8 ? 1 : k)]);
        }
        fs_atlas_free(&a);
        free(px);
    }
    /* Bad arguments. */
    fs_atlas_params p;
    fs_atlas_params_default(&p);
    fs_error_buf err;
    fs_atlas a;
    p.size = 8;
    FS_ASSERT_STATUS(fs_atlas_build(&c.img, (const float (*)[3])c.lm.points, c.mesh, &p, &a, &err),
                     FS_ERR_OUT_OF_RANGE);
    p.size = 64;
    fs_image bad = c.img;
    bad.format = 99;
    FS_ASSERT_STATUS(fs_atlas_build(&bad, (const float (*)[3])c.lm.points, c.mesh, &p, &a, &err),
                     FS_ERR_UNSUPPORTED);
    float pts[FS_LANDMARKS][3];
    memcpy(pts, c.lm.points, sizeof(pts));
    pts[5][1] = NAN;
    FS_ASSERT_STATUS(fs_atlas_build(&c.img, (const float (*)[3])pts, c.mesh, &p, &a, &err),
                     FS_ERR_INVALID_ARGUMENT);
    /* A face entirely off the image: filled footprint, zero weights, no crash. */
    for (int i = 0; i < FS_LANDMARKS; i++)
        pts[i][0] = c.lm.points[i][0] + 5000.0f, pts[i][1] = c.lm.points[i][1];
    FS_ASSERT_OK(fs_atlas_build(&c.img, (const float (*)[3])pts, c.mesh, &p, &a, &err));
    ck_assert_int_eq(a.n_footprint, ref.n_footprint);
    fs_atlas_free(&a);
    fs_atlas_free(&ref);
    capture_close(&c);
}
END_TEST

/* Whole capture on a 1920x1080 photo (astronaut on a grey canvas), one thread. */
/* Issue 10 item 1: the source's light out of the atlas. A left-right gain
 * ramp (0.6 -> 1.3, in linear light, across the face) added to the photo
 * must mostly leave the atlas when the light is divided out, and the
 * division keeps the skin's mean (the shading is normalised over it). */
static double skin_diff(const fs_atlas *a, const fs_atlas *b, const fs_atlas_mesh *m)
{
    double s = 0;
    long n = 0;
    for (int y = 0; y < a->size; y++)
        for (int x = 0; x < a->size; x++) {
            const size_t o = (size_t)y * (size_t)a->size + (size_t)x;
            if (a->weight[o] < 77 || a->rgba[4 * o + 3] != 255 ||
                fs_atlas_in_region(m, (x + 0.5f) / (float)a->size, (y + 0.5f) / (float)a->size))
                continue;
            for (int c = 0; c < 3; c++)
                s += abs((int)a->rgba[4 * o + (size_t)c] - (int)b->rgba[4 * o + (size_t)c]);
            n += 3;
        }
    return n ? s / (double)n : 0;
}

/* A light's colour is held within 1.3 of its luminance at every point
 * (a two-coloured light's linear fit runs past it on steep normals); a mild
 * colour passes as it is. */
START_TEST(shading_colour_bounded)
{
    const fs_face_frame fr = {0.0f, 0.0f, 1.0f};
    fs_shading s;
    fs_shading_flat(&s);
    s.coeff[0][3] = -1.5f; /* red from the left, blue from the right */
    s.coeff[2][3] = 1.5f;
    const float side[3] = {-0.8f, 0.0f, 0.6f}, front[3] = {0.0f, 0.0f, 1.0f};
    float basis[FS_SHADE_TERMS], out[3];
    fs_shading_basis(&fr, side, 0, 0, basis);
    fs_shading_eval(&s, basis, out);
    /* the model's own shading there: red 2.2, green 1, blue -0.2 */
    const float l = 0.2126f * 2.2f + 0.7152f * 1.0f + 0.0722f * -0.2f;
    ck_assert_float_eq_tol(out[0], 1.3f * l, 1e-5f);
    ck_assert_float_eq_tol(out[1], 1.0f, 1e-5f); /* 0.86 of it: within bounds */
    ck_assert_float_eq_tol(out[2], l / 1.3f, 1e-5f);
    fs_shading_flat(&s);
    s.coeff[0][0] = 1.1f;
    s.coeff[2][0] = 0.95f;
    fs_shading_basis(&fr, front, 0, 0, basis);
    fs_shading_eval(&s, basis, out);
    ck_assert_float_eq_tol(out[0], 1.1f, 1e-6f);
    ck_assert_float_eq_tol(out[1], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(out[2], 0.95f, 1e-6f);
}
END_TEST

/* The renderer evaluates the target's light no further round than the fits
 * saw: a normal facing the camera less than FS_SHADE_NZ_MIN is turned
 * towards it in its own plane of view, and stays a unit vector. */
START_TEST(shading_facing_clamp)
{
    const float r = sqrtf(1.0f - FS_SHADE_NZ_MIN * FS_SHADE_NZ_MIN);
    static const float cases[][3] = {
        {-1.0f, 0.0f, 0.0f}, {0.6f, -0.8f, 0.0f}, {0.3f, 0.0f, -0.953939f}, {0.0f, 0.98f, 0.2f}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        float n[3] = {cases[i][0], cases[i][1], cases[i][2]};
        fs_shading_clamp_facing(n);
        ck_assert_float_eq_tol(n[2], FS_SHADE_NZ_MIN, 1e-6f);
        ck_assert_float_eq_tol(sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]), 1.0f, 1e-5f);
        /* the same direction across the image: x : y kept */
        const float t = hypotf(cases[i][0], cases[i][1]);
        ck_assert_float_eq_tol(n[0], r * cases[i][0] / t, 1e-5f);
        ck_assert_float_eq_tol(n[1], r * cases[i][1] / t, 1e-5f);
    }
    /* facing enough: unchanged; straight away: straight at the camera */
    float keep[3] = {0.8f, 0.0f, 0.6f}, front[3] = {0.0f, 0.0f, 1.0f}, back[3] = {0.0f, 0.0f, -1.0f};
    fs_shading_clamp_facing(keep);
    fs_shading_clamp_facing(front);
    fs_shading_clamp_facing(back);
    ck_assert(keep[0] == 0.8f && keep[1] == 0.0f && keep[2] == 0.6f);
    ck_assert(front[0] == 0.0f && front[1] == 0.0f && front[2] == 1.0f);
    ck_assert(back[0] == 0.0f && back[1] == 0.0f && back[2] == 1.0f);
    /* a light from the left on a normal that grazes the right side: floored
     * as it was, lit as the steepest samples of the fit were once clamped */
    const fs_face_frame fr = {0.0f, 0.0f, 1.0f};
    fs_shading s;
    fs_shading_flat(&s);
    for (int c = 0; c < 3; c++) {
        s.coeff[c][0] = 0.3f;
        s.coeff[c][2] = 0.8f; /* nz */
        s.coeff[c][3] = -0.5f; /* nx: the light from the left (x right) */
    }
    float graze[3] = {1.0f, 0.0f, 0.0f}, basis[FS_SHADE_TERMS], out[3];
    fs_shading_basis(&fr, graze, 0, 0, basis);
    fs_shading_eval(&s, basis, out);
    ck_assert_float_lt(out[1], 0.0f); /* -0.2: the floor's */
    fs_shading_clamp_facing(graze);
    fs_shading_basis(&fr, graze, 0, 0, basis);
    fs_shading_eval(&s, basis, out);
    ck_assert_float_eq_tol(out[1], 0.3f + 0.8f * FS_SHADE_NZ_MIN - 0.5f * r, 1e-5f);
}
END_TEST

/* The ratio fit finds a known low-order ratio through noise and outliers,
 * and declines too few samples. */
START_TEST(shading_ratio_fit)
{
    enum { NS = 400 };
    static float basis[NS][FS_SHADE_TERMS], ratio[NS];
    const float truth[FS_SHADE_TERMS] = {-0.2f, 0.05f, 0.3f, -0.25f, 0.4f, -0.15f};
    const fs_face_frame fr = {0.0f, 0.0f, 1.0f};
    uint32_t seed = 12345u;
    for (int i = 0; i < NS; i++) {
        /* normals over a hemisphere facing the camera, places over the face */
        const float a = 6.2831853f * (float)i / NS, b = 0.2f + 0.75f * (float)((i * 37) % NS) / NS;
        const float n[3] = {b * cosf(a), b * sinf(a), sqrtf(1.0f - b * b)};
        fs_shading_basis(&fr, n, 0.5f * cosf(3.0f * a), 0.5f * sinf(5.0f * a), basis[i]);
        double f = 0.0;
        for (int k = 0; k < FS_SHADE_TERMS; k++)
            f += truth[k] * basis[i][k];
        seed = seed * 1664525u + 1013904223u;
        const double noise = 0.02 * ((double)(seed >> 8) / 16777216.0 - 0.5);
        ratio[i] = (float)exp(f + noise);
        if (i % 10 == 3)
            ratio[i] *= 2.5f; /* highlights, hair: one in ten far off */
    }
    ratio[7] = 0.0f; /* not a ratio: left out */
    ratio[8] = -1.0f;
    float coeff[FS_SHADE_TERMS];
    ck_assert_int_eq(fs_shading_ratio_fit(&ratio[0], &basis[0][0], NS, coeff), 1);
    for (int k = 0; k < FS_SHADE_TERMS; k++)
        ck_assert_msg(fabsf(coeff[k] - truth[k]) < 0.01f, "term %d: %.4f, not %.4f", k,
                      (double)coeff[k], (double)truth[k]);
    /* too few: declined, the ratio left at 1 */
    ck_assert_int_eq(fs_shading_ratio_fit(&ratio[0], &basis[0][0], 20, coeff), 0);
    for (int k = 0; k < FS_SHADE_TERMS; k++)
        ck_assert_float_eq(coeff[k], 0.0f);
}
END_TEST

/* The light model's fit, on samples made from a known light in its span:
 * it finds that light again, and dark outliers (brows, hair) and bright ones
 * (highlights) do not move it. */
START_TEST(shading_fit)
{
    enum { NS = 4000 };
    float *lin = malloc(sizeof(float) * 3 * NS), *basis = malloc(sizeof(float) * FS_SHADE_TERMS * NS);
    ck_assert_ptr_nonnull(lin);
    ck_assert_ptr_nonnull(basis);
    const fs_face_frame fr = {200.0f, 200.0f, 1.0f / 200.0f};
    fs_shading truth;
    fs_shading_flat(&truth);
    for (int c = 0; c < 3; c++) {
        truth.coeff[c][3] = 0.30f; /* from the right */
        truth.coeff[c][1] = -0.15f; /* from above */
        truth.coeff[c][4] = 0.25f; /* a ramp across the face */
    }
    const float albedo[3] = {0.45f, 0.30f, 0.22f};
    uint32_t seed = 12345;
    for (int i = 0; i < NS; i++) {
        /* A face's spread of normals: within 70 degrees of the camera. */
        seed = seed * 1664525u + 1013904223u;
        const float az = (float)(seed >> 8) / 16777216.0f * 6.2831853f;
        seed = seed * 1664525u + 1013904223u;
        const float el = (float)(seed >> 8) / 16777216.0f * 1.2f;
        const float n[3] = {sinf(el) * cosf(az), sinf(el) * sinf(az), cosf(el)};
        const float x = 200.0f + 90.0f * n[0], y = 200.0f + 110.0f * n[1];
        float s[3];
        fs_shading_basis(&fr, n, x, y, basis + (size_t)i * FS_SHADE_TERMS);
        fs_shading_eval(&truth, basis + (size_t)i * FS_SHADE_TERMS, s);
        const float k = i % 10 == 0 ? 0.3f : i % 37 == 0 ? 2.0f : 1.0f; /* outliers */
        for (int c = 0; c < 3; c++)
            lin[3 * i + c] = albedo[c] * s[c] * k;
    }
    fs_shading fit;
    ck_assert_int_eq(fs_shading_fit(lin, basis, NS, &fit), 1);
    ck_assert_int_gt(fit.n_fit, NS / 2);
    /* The fit is normalised to mean 1 over its samples: compare shapes,
     * the ratio of the two shadings, which must be the same everywhere. */
    double worst = 0, rmean[3] = {0, 0, 0};
    float rat[3][64];
    for (int i = 0; i < 64; i++) {
        float s0[3], s1[3];
        const float *h = basis + (size_t)(i * 61) * FS_SHADE_TERMS;
        fs_shading_eval(&truth, h, s0);
        fs_shading_eval(&fit, h, s1);
        for (int c = 0; c < 3; c++) {
            rat[c][i] = s1[c] / s0[c];
            rmean[c] += rat[c][i] / 64.0;
        }
    }
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 64; i++)
            worst = fmax(worst, fabs(rat[c][i] / rmean[c] - 1.0));
    printf("identity: light fit, worst shape error %.4f\n", worst);
    ck_assert_msg(worst < 0.03, "fitted light off by %.3f", worst);

    /* A "light" the model holds but no light is: a ramp of -3 across the
     * face, so that a quarter of the face would be lit under the floor (a
     * side blown out to white fits like this). The fit comes back blended
     * towards flat light: at most 5% of its samples under the floor, the
     * ramp weaker against the constant than the samples'. */
    fs_shading wild;
    fs_shading_flat(&wild);
    for (int c = 0; c < 3; c++)
        wild.coeff[c][4] = -3.0f;
    long dark_in = 0;
    for (int i = 0; i < NS; i++) {
        float s[3];
        fs_shading_eval(&wild, basis + (size_t)i * FS_SHADE_TERMS, s);
        for (int c = 0; c < 3; c++)
            lin[3 * i + c] = albedo[c] * fmaxf(s[c], 0.02f);
        dark_in += 0.2126f * s[0] + 0.7152f * s[1] + 0.0722f * s[2] < FS_SHADE_FLOOR;
    }
    ck_assert_int_eq(fs_shading_fit(lin, basis, NS, &fit), 1);
    long dark_out = 0;
    for (int i = 0; i < NS; i++) {
        float s[3];
        fs_shading_eval(&fit, basis + (size_t)i * FS_SHADE_TERMS, s);
        dark_out += 0.2126f * s[0] + 0.7152f * s[1] + 0.0722f * s[2] < FS_SHADE_FLOOR;
    }
    printf("identity: an implausible light, %ld of %d samples under the floor; fitted, %ld "
           "(ramp %.2f over constant %.2f)\n", dark_in, NS, dark_out, fit.coeff[1][4], fit.coeff[1][0]);
    ck_assert_int_gt(dark_in, NS / 10);
    ck_assert_int_le(dark_out, NS / 20);
    ck_assert_float_gt(fit.coeff[1][4] / fit.coeff[1][0], -3.0f * 0.8f);

    /* Weighted: half the samples lit by the first light, half by the wild
     * one; with the second half weighed 0 the fit is the first light's, and
     * the same samples unweighted are not. */
    float *prior = malloc(sizeof(float) * NS);
    ck_assert_ptr_nonnull(prior);
    for (int i = 0; i < NS; i++) {
        float s[3];
        fs_shading_eval(i < NS / 2 ? &truth : &wild, basis + (size_t)i * FS_SHADE_TERMS, s);
        for (int c = 0; c < 3; c++)
            lin[3 * i + c] = albedo[c] * fmaxf(s[c], 0.02f);
        prior[i] = i < NS / 2 ? 2.0f : 0.0f;
    }
    double off[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(fs_shading_fit_weighted(lin, basis, k ? NULL : prior, NS, &fit), 1);
        double rm = 0;
        float r[64];
        for (int i = 0; i < 64; i++) {
            float s0[3], s1[3];
            const float *h = basis + (size_t)(i * 31) * FS_SHADE_TERMS; /* first half */
            fs_shading_eval(&truth, h, s0);
            fs_shading_eval(&fit, h, s1);
            r[i] = s1[1] / s0[1];
            rm += r[i] / 64.0;
        }
        for (int i = 0; i < 64; i++)
            off[k] = fmax(off[k], fabs(r[i] / rm - 1.0));
    }
    printf("identity: weighted light fit, worst shape error %.4f (unweighted %.4f)\n", off[0], off[1]);
    ck_assert_msg(off[0] < 0.03, "weighted fit off by %.3f", off[0]);
    ck_assert_msg(off[1] > 0.05, "unweighted fit of two lights only %.3f off", off[1]);
    free(prior);
    /* Too few samples: flat, and said so. */
    ck_assert_int_eq(fs_shading_fit(lin, basis, 10, &fit), 0);
    ck_assert_int_eq(fit.n_fit, 0);
    ck_assert_float_eq(fit.coeff[1][0], 1.0f);
    free(lin);
    free(basis);
}
END_TEST

/* The masked box mean against its definition, summed pixel by pixel: a
 * mask with holes, a window wider than the image on one side, a pixel
 * whose box holds none of the mask (out = in, held 0). Within 1e-5 of the
 * values (about 1): the running sums' rounding. */
START_TEST(masked_box_matches_brute_force)
{
    enum { W = 37, H = 23 };
    float in[3 * W * H], out[3 * W * H];
    uint8_t m[W * H], held[W * H];
    unsigned seed = 12345;
    for (int i = 0; i < W * H; i++) {
        for (int c = 0; c < 3; c++) {
            seed = seed * 1103515245u + 12345u;
            in[3 * i + c] = (float)((seed >> 8) & 0xffff) / 65535.0f + (float)c;
        }
        seed = seed * 1103515245u + 12345u;
        m[i] = ((seed >> 16) & 3) != 0 && !(i % W > 30 && i / W < 8);
    }
    static const int radii[] = {0, 1, 3, 25};
    for (int ri = 0; ri < 4; ri++) {
        const int r = radii[ri];
        ck_assert_int_eq(fs_light_masked_box(in, m, W, H, r, out, held), 1);
        /* the AVX2 column pass (where the CPU has it) gives the scalar's
         * bits: tolerance 0 */
        float out_s[3 * W * H];
        uint8_t held_s[W * H];
        ck_assert_int_eq(fs_light_masked_box_scalar(in, m, W, H, r, out_s, held_s), 1);
        ck_assert(memcmp(out, out_s, sizeof out) == 0);
        ck_assert(memcmp(held, held_s, sizeof held) == 0);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double s[3] = {0, 0, 0};
                int cnt = 0;
                for (int v = y - r; v <= y + r; v++)
                    for (int u = x - r; u <= x + r; u++)
                        if (u >= 0 && v >= 0 && u < W && v < H && m[v * W + u]) {
                            for (int c = 0; c < 3; c++)
                                s[c] += in[3 * (v * W + u) + c];
                            cnt++;
                        }
                const int t = y * W + x;
                ck_assert_int_eq(held[t], cnt > 0);
                for (int c = 0; c < 3; c++)
                    ck_assert_float_eq_tol(out[3 * t + c], cnt ? (float)(s[c] / cnt) : in[3 * t + c], 1e-5f);
            }
    }
    /* Radius 0 inside the hole: no mask pixel in the box. */
    ck_assert_int_eq(fs_light_masked_box(in, m, W, H, 0, out, held), 1);
    ck_assert_int_eq(held[2 * W + 33], 0);
    ck_assert_float_eq(out[3 * (2 * W + 33)], in[3 * (2 * W + 33)]);
}
END_TEST

/* The highlight layer: a white spot added on flat skin is found as itself
 * (its excess over the margin), and plain skin has none. */
START_TEST(highlight_layer)
{
    enum { W = 96, H = 80 };
    float *lin = malloc(sizeof(float) * 3 * W * H), *ex = malloc(sizeof(float) * W * H);
    float *local = malloc(sizeof(float) * 3 * W * H);
    uint8_t *m = malloc(W * H);
    ck_assert(lin && ex && local && m);
    const float skin[3] = {0.40f, 0.25f, 0.18f};
    const float skin_y = 0.2126f * skin[0] + 0.7152f * skin[1] + 0.0722f * skin[2];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const float d2 = (float)((x - 30) * (x - 30) + (y - 40) * (y - 40));
            const float spot = 0.3f * expf(-d2 / (2.0f * 4.0f * 4.0f));
            for (int c = 0; c < 3; c++)
                lin[3 * (y * W + x) + c] = skin[c] + spot;
            m[y * W + x] = 1;
        }
    ck_assert_int_eq(fs_light_highlights(lin, m, m, W, H, 1, 12, 1.1f, ex, local), 1);
    /* At the centre: the spot (0.3, box-smoothed over 3x3) less the margin's
     * 10% of the skin. */
    const float want = 0.3f * 0.94f - 0.1f * skin_y;
    printf("identity: highlight layer at the spot %.3f (want about %.3f), far away %.4f\n",
           (double)ex[40 * W + 30], (double)want, (double)ex[40 * W + 85]);
    ck_assert_float_eq_tol(ex[40 * W + 30], want, 0.03f);
    ck_assert_float_eq(ex[40 * W + 85], 0.0f); /* 55 px from the spot */
    /* The spot's core left out of the local albedo; its tails, under the
     * margin, stay in and raise it a little (measured 0.416 of 0.400). */
    ck_assert_float_eq_tol(local[3 * (40 * W + 30)], skin[0], 0.025f);
    free(lin);
    free(ex);
    free(local);
    free(m);
}
END_TEST

/* Item 3's smooth in-painting: with the light out (the default), skin
 * texels the photo did not see (atlas weight 0.1 and under, own and mirror
 * alike) hold the local albedo of the well-seen skin around them (weight
 * >= 0.3, a box of n/12 texels) within the 8-bit rounding; with the photo's
 * colours kept (no light stage) they hold what the grazing view gave. */
static double unseen_off(const fs_atlas *a, const fs_atlas_mesh *mesh, long *count)
{
    const int n = a->size, r = n / 12;
    float lut[256];
    fs_srgb_to_linear_table(lut);
    double worst = 0;
    *count = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const size_t t = (size_t)y * (size_t)n + (size_t)x;
            if (a->rgba[4 * t + 3] != 255 || a->weight[t] > 25 ||
                !fs_atlas_light_skin(mesh, ((float)x + 0.5f) / (float)n, ((float)y + 0.5f) / (float)n))
                continue;
            double sum[3] = {0, 0, 0};
            long k = 0;
            for (int j = y - r; j <= y + r; j++)
                for (int i = x - r; i <= x + r; i++) {
                    if (i < 0 || j < 0 || i >= n || j >= n)
                        continue;
                    const size_t q = (size_t)j * (size_t)n + (size_t)i;
                    if (a->rgba[4 * q + 3] != 255 || a->weight[q] < 77 ||
                        !fs_atlas_light_skin(mesh, ((float)i + 0.5f) / (float)n, ((float)j + 0.5f) / (float)n))
                        continue;
                    for (int c = 0; c < 3; c++)
                        sum[c] += lut[a->rgba[4 * q + (size_t)c]];
                    k++;
                }
            if (k == 0)
                continue;
            for (int c = 0; c < 3; c++) {
                const double mean = sum[c] / (double)k;
                const double e = 255.0 * (mean <= 0.0031308 ? 12.92 * mean : 1.055 * pow(mean, 1 / 2.4) - 0.055);
                worst = fmax(worst, fabs(e - a->rgba[4 * t + (size_t)c]));
            }
            (*count)++;
        }
    return worst;
}

/* The skin colour model (identity/skin.h): EM on two skin tones finds
 * them and holds hair and grey far off; on a photo, the cheeks it was
 * fitted on are skin to it and the fringe over the forehead is not. */
static float lcg_gauss(uint32_t *st)
{
    float s = 0.0f;
    for (int i = 0; i < 12; i++) {
        *st = *st * 1664525u + 1013904223u;
        s += (float)(*st >> 8) / 16777216.0f;
    }
    return s - 6.0f; /* sum of 12 uniforms: mean 0, deviation 1 */
}

static float median_of(float *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: a few hundred values */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            const float t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

START_TEST(skin_model)
{
    enum { N = 3000 };
    static float rgb[N * 3];
    static const float tone[2][3] = {{205, 155, 125}, {165, 115, 90}};
    uint32_t st = 12345;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = tone[i % 3 == 0][c] + 5.0f * lcg_gauss(&st);
    fs_skin_model m;
    ck_assert_int_eq(fs_skin_model_fit(rgb, N, &m), 1);
    ck_assert_int_eq(m.k, 2);
    const float lo = fminf(m.weight[0], m.weight[1]);
    ck_assert_float_eq_tol(lo, 1.0f / 3.0f, 0.05f);
    const float d_skin0 = fs_skin_distance(&m, tone[0], NULL), d_skin1 = fs_skin_distance(&m, tone[1], NULL);
    static const float hair[3] = {70, 50, 40}, grey[3] = {150, 150, 150}, blond[3] = {200, 170, 90};
    const float d_hair = fs_skin_distance(&m, hair, NULL), d_grey = fs_skin_distance(&m, grey, NULL);
    const float d_blond = fs_skin_distance(&m, blond, NULL);
    printf("identity: skin model, squared distance of the two tones %.2f / %.2f, dark hair %.0f, "
           "grey %.0f, blond %.0f\n", d_skin0, d_skin1, d_hair, d_grey, d_blond);
    ck_assert_float_lt(d_skin0, 3.0f);
    ck_assert_float_lt(d_skin1, 3.0f);
    ck_assert_float_gt(d_hair, 100.0f);
    ck_assert_float_gt(d_grey, 100.0f);
    /* Brighter than the skin: the swap's bound for hair is then 2 x 16.3. */
    ck_assert_float_gt(d_blond, 2.0f * 16.3f);
    /* Too few samples: no model. One tone: one component, the other dropped. */
    ck_assert_int_eq(fs_skin_model_fit(rgb, 63, &m), 0);
    ck_assert_int_eq(m.k, 0);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = tone[0][c] + 5.0f * lcg_gauss(&st);
    ck_assert_int_eq(fs_skin_model_fit(rgb, N, &m), 1);
    ck_assert_int_ge(m.k, 1);
    ck_assert_float_lt(fs_skin_distance(&m, tone[0], NULL), 3.0f);

    /* The astronaut's atlas. */
    capture c;
    capture_open(&c, "astronaut.png");
    fs_atlas_params p;
    fs_atlas_params_default(&p);
    fs_atlas a;
    fs_error_buf err;
    FS_ASSERT_OK(fs_atlas_build(&c.img, (const float (*)[3])c.lm.points, c.mesh, &p, &a, &err));
    ck_assert_int_gt(a.skin.k, 0);
    /* Texels around the cheeks (MediaPipe 50, 280) and the top of the
     * forehead (10, 109), where her light-brown fringe hangs (the old
     * guard's hard case). */
    static const int at[4][2] = {{50, 50}, {280, 280}, {10, 10}, {109, 109}};
    float med[4];
    static float d2[4096];
    for (int k = 0; k < 4; k++) {
        int n = 0;
        const float *u0 = c.mesh->uv[at[k][0]], *u1 = c.mesh->uv[at[k][1]];
        const int cx = (int)(0.5f * (u0[0] + u1[0]) * (float)a.size);
        const int cy = (int)(0.5f * (u0[1] + u1[1]) * (float)a.size);
        const int r = 3;
        for (int y = cy - r; y <= cy + r; y++)
            for (int x = cx - r; x <= cx + r; x++) {
                const uint8_t *t = a.rgba + 4 * ((size_t)y * (size_t)a.size + (size_t)x);
                if (t[3] != 255)
                    continue;
                const float col[3] = {t[0], t[1], t[2]};
                d2[n++] = fs_skin_distance(&a.skin, col, NULL);
            }
        ck_assert_int_gt(n, 4);
        med[k] = median_of(d2, n);
    }
    printf("identity: astronaut's skin model (%d components), median squared distance: cheeks "
           "%.1f / %.1f, fringe %.1f / %.1f\n", a.skin.k, med[0], med[1], med[2], med[3]);
    ck_assert_float_lt(fmaxf(med[0], med[1]), 6.0f);
    ck_assert_float_gt(fminf(med[2], med[3]), 16.3f); /* the swap's bound for hair */
    fs_atlas_free(&a);
    capture_close(&c);
}
END_TEST

START_TEST(atlas_fill_unseen)
{
    capture c;
    capture_open(&c, "astronaut.png");
    fs_atlas a[2];
    fs_atlas_params p;
    fs_atlas_params_default(&p);
    fs_error_buf err;
    for (int k = 0; k < 2; k++) {
        p.delight = k == 0;
        FS_ASSERT_OK(fs_atlas_build(&c.img, (const float (*)[3])c.lm.points, c.mesh, &p, &a[k], &err));
    }
    ck_assert_int_gt(a[0].light.n_fit, 0);
    long n0 = 0, n1 = 0;
    const double off0 = unseen_off(&a[0], c.mesh, &n0), off1 = unseen_off(&a[1], c.mesh, &n1);
    printf("identity: %ld unseen skin texels within %.2f levels of the well-seen skin around "
           "them (%.2f with the photo's colours kept)\n", n0, off0, off1);
    ck_assert_int_gt(n0, 100);
    ck_assert_int_eq(n0, n1);
    ck_assert_msg(off0 <= 2.0, "unseen texels off the local albedo by %.2f", off0);
    ck_assert_msg(off1 > 10.0, "kept colours only %.2f off: the check cannot tell", off1);
    for (int k = 0; k < 2; k++)
        fs_atlas_free(&a[k]);
    capture_close(&c);
}
END_TEST

START_TEST(atlas_delight)
{
    float one[3] = {0, 0, 1}, h[FS_SHADE_TERMS], shade[3];
    fs_shading flat;
    fs_shading_flat(&flat);
    const fs_face_frame fr = {100.0f, 100.0f, 0.01f};
    fs_shading_basis(&fr, one, 150.0f, 100.0f, h);
    ck_assert_float_eq_tol(h[0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(h[4], 0.5f, 1e-6f); /* x in face sizes from the centre */
    fs_shading_eval(&flat, h, shade);
    ck_assert_float_eq_tol(shade[1], 1.0f, 1e-6f);

    capture c;
    capture_open(&c, "astronaut.png");
    float x0 = 1e30f, x1 = -1e30f;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        x0 = fminf(x0, c.lm.points[i][0]);
        x1 = fmaxf(x1, c.lm.points[i][0]);
    }
    fs_image lit = c.img;
    lit.data = malloc((size_t)lit.stride * (size_t)lit.height);
    ck_assert_ptr_nonnull(lit.data);
    for (int y = 0; y < lit.height; y++)
        for (int x = 0; x < lit.width; x++) {
            float t = ((float)x - x0) / (x1 - x0);
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            for (int k = 0; k < 3; k++) {
                const size_t o = (size_t)y * (size_t)lit.stride + (size_t)x * 3 + (size_t)k;
                const float v = ((const uint8_t *)c.img.data)[o] / 255.0f;
                float l = v <= 0.04045f ? v / 12.92f : powf((v + 0.055f) / 1.055f, 2.4f);
                l *= 0.6f + 0.7f * t;
                l = l > 1 ? 1 : l;
                const float e = l <= 0.0031308f ? 12.92f * l : 1.055f * powf(l, 1 / 2.4f) - 0.055f;
                ((uint8_t *)lit.data)[o] = (uint8_t)(255.0f * e + 0.5f);
            }
        }
    fs_atlas a[4];
    fs_atlas_params p;
    fs_atlas_params_default(&p);
    fs_error_buf err;
    for (int k = 0; k < 4; k++) {
        p.delight = k >= 2;
        FS_ASSERT_OK(fs_atlas_build(k & 1 ? &lit : &c.img, (const float (*)[3])c.lm.points, c.mesh, &p,
                                    &a[k], &err));
    }
    const double before = skin_diff(&a[0], &a[1], c.mesh), after = skin_diff(&a[2], &a[3], c.mesh);
    printf("identity: ramp light, atlas skin difference %.2f levels, %.2f with the light out; "
           "L* %.1f -> %.1f\n", before, after, (double)a[0].lab_mean[0], (double)a[2].lab_mean[0]);
    /* Measured 8.56 of 13.37 (0.64): an image-space ramp is only partly a
     * function of the normal, which is all a light model can follow. */
    ck_assert_msg(after < 0.75 * before, "light out: %.2f of %.2f levels left", after, before);
    ck_assert_msg(fabsf(a[2].lab_mean[0] - a[0].lab_mean[0]) < 4.0f, "skin L* %.1f -> %.1f",
                  (double)a[0].lab_mean[0], (double)a[2].lab_mean[0]);
    ck_assert_int_ge(a[2].light.n_fit, 64);
    ck_assert_int_ge(a[3].light.n_fit, 64);
    ck_assert_int_eq(a[0].light.n_fit, 0);
    for (int k = 0; k < 4; k++)
        fs_atlas_free(&a[k]);
    free(lit.data);
    capture_close(&c);
}
END_TEST

START_TEST(capture_timing)
{
    capture c;
    capture_open(&c, "astronaut.png");
    const int W = 1920, H = 1080;
    uint8_t *px = malloc((size_t)W * H * 3);
    ck_assert_ptr_nonnull(px);
    memset(px, 128, (size_t)W * H * 3);
    for (int y = 0; y < c.img.height && y < H; y++)
        memcpy(px + ((size_t)(y + 200) * W + 700) * 3,
               (const uint8_t *)c.img.data + (size_t)y * (size_t)c.img.stride, (size_t)c.img.width * 3);
    fs_image big = {W, H, W * 3, FS_PIXEL_RGB8, FS_MEMORY_HOST, 0, px, {0}};
    FS_ASSERT_OK(fs_context_set(c.ctx, FS_CONTEXT_THREADS, 1));
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    FS_ASSERT_OK(fs_detector_create(c.ctx, &det));
    FS_ASSERT_OK(fs_fitter_create(c.ctx, &fit));
    double best_all = 1e9, best_atlas = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        const double t0 = now_ms();
        fs_face_box faces[4];
        int n = 0;
        FS_ASSERT_OK(fs_detector_run(det, &big, faces, 4, &n));
        ck_assert_int_ge(n, 1);
        fs_face_landmarks lm;
        FS_ASSERT_OK(fs_fitter_run(fit, &big, &faces[0], &lm));
        const double t1 = now_ms();
        fs_atlas_params p;
        fs_atlas_params_default(&p);
        fs_atlas a;
        fs_error_buf err;
        FS_ASSERT_OK(fs_atlas_build(&big, (const float (*)[3])lm.points, c.mesh, &p, &a, &err));
        const double t2 = now_ms();
        best_all = fmin(best_all, t2 - t0);
        best_atlas = fmin(best_atlas, t2 - t1);
        fs_atlas_free(&a);
    }
    printf("identity: capture 1920x1080, one thread: %.1f ms CPU (atlas 256: %.1f ms), best of 5\n",
           best_all, best_atlas);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    free(px);
    capture_close(&c);
}
END_TEST

/* ---------------------------------------------------------------- blob */

static void make_identity(fs_identity_data *id, int size)
{
    capture c;
    capture_open(&c, "astronaut.png");
    memset(id, 0, sizeof(*id));
    fs_atlas_params p;
    fs_atlas_params_default(&p); /* the library's own: light out */
    p.size = size;
    fs_error_buf err;
    FS_ASSERT_OK(fs_atlas_build(&c.img, (const float (*)[3])c.lm.points, c.mesh, &p, &id->atlas, &err));
    memcpy(id->landmarks, c.lm.points, sizeof(id->landmarks));
    id->source_width = c.img.width;
    id->source_height = c.img.height;
    id->library_version = (uint32_t)fs_version();
    capture_close(&c);
}

/* Recomputes a blob's checksum after a deliberate edit. */
static void reseal(uint8_t *b, size_t size)
{
    fs_sha256_ctx s;
    fs_sha256_init(&s);
    fs_sha256_update(&s, b, 16);
    fs_sha256_update(&s, b + FS_ID_BLOB_HEADER, size - FS_ID_BLOB_HEADER);
    fs_sha256_final(&s, b + 16);
}

START_TEST(blob_round_trip)
{
    fs_identity_data id, back;
    make_identity(&id, 128);
    uint8_t *b = NULL, *b2 = NULL;
    size_t size = 0, size2 = 0;
    fs_error_buf err;
    FS_ASSERT_OK(fs_identity_blob_save(&id, &b, &size, &err));
    ck_assert_uint_eq(size, fs_identity_blob_size(128));
    FS_ASSERT_OK(fs_identity_blob_load(b, size, &back, &err));
    ck_assert_int_eq(back.atlas.size, 128);
    ck_assert_int_eq(back.source_width, id.source_width);
    ck_assert_int_eq(back.source_height, id.source_height);
    ck_assert_uint_eq(back.library_version, id.library_version);
    ck_assert_int_eq(back.atlas.n_footprint, id.atlas.n_footprint);
    ck_assert_mem_eq(back.atlas.rgba, id.atlas.rgba, 128 * 128 * 4);
    ck_assert_mem_eq(back.atlas.weight, id.atlas.weight, 128 * 128);
    ck_assert_mem_eq(back.landmarks, id.landmarks, sizeof(id.landmarks));
    ck_assert_mem_eq(back.atlas.lab_mean, id.atlas.lab_mean, sizeof(id.atlas.lab_mean));
    ck_assert_mem_eq(back.atlas.lab_std, id.atlas.lab_std, sizeof(id.atlas.lab_std));
    ck_assert_int_gt(id.atlas.light.n_fit, 0); /* the light is out by default */
    ck_assert_int_eq(back.atlas.light.n_fit, id.atlas.light.n_fit);
    ck_assert_mem_eq(back.atlas.light.coeff, id.atlas.light.coeff, sizeof(id.atlas.light.coeff));
    ck_assert_float_eq(id.atlas.albedo_scale, FS_ALBEDO_HEADROOM);
    ck_assert_float_eq(back.atlas.albedo_scale, id.atlas.albedo_scale);
    ck_assert_int_gt(id.atlas.skin.k, 0); /* the skin model, fitted at capture */
    ck_assert_int_eq(back.atlas.skin.k, id.atlas.skin.k);
    ck_assert_mem_eq(back.atlas.skin.weight, id.atlas.skin.weight, sizeof(id.atlas.skin.weight[0]) * (size_t)id.atlas.skin.k);
    ck_assert_mem_eq(back.atlas.skin.mean, id.atlas.skin.mean, sizeof(id.atlas.skin.mean[0]) * (size_t)id.atlas.skin.k);
    ck_assert_mem_eq(back.atlas.skin.icov, id.atlas.skin.icov, sizeof(id.atlas.skin.icov[0]) * (size_t)id.atlas.skin.k);
    for (int j = 0; j < id.atlas.skin.k; j++)
        ck_assert_float_eq_tol(back.atlas.skin.lognorm[j], id.atlas.skin.lognorm[j], 1e-5f);
    FS_ASSERT_OK(fs_identity_blob_save(&back, &b2, &size2, &err));
    ck_assert_uint_eq(size2, size);
    ck_assert_mem_eq(b2, b, size);
    free(b2);
    b2 = NULL;

    /* A version 3 blob (no skin model) loads without one: the swap then
     * judges hair by the CIELAB statistics. */
    const size_t skin_bytes = 4 + FS_SKIN_COMPONENTS * 10 * 4, size3v = size - skin_bytes;
    uint8_t *v3 = malloc(size3v);
    ck_assert_ptr_nonnull(v3);
    memcpy(v3, b, size3v);
    v3[4] = 3;
    const uint32_t len3 = (uint32_t)(size3v - FS_ID_BLOB_HEADER);
    for (int k = 0; k < 4; k++)
        v3[12 + k] = (uint8_t)(len3 >> (8 * k));
    reseal(v3, size3v);
    fs_identity_data v3back;
    FS_ASSERT_OK(fs_identity_blob_load(v3, size3v, &v3back, &err));
    ck_assert_int_eq(v3back.atlas.skin.k, 0);
    ck_assert_float_eq(v3back.atlas.albedo_scale, id.atlas.albedo_scale);
    fs_identity_data_free(&v3back);
    free(v3);

    /* A version 2 blob (no albedo scale) loads with the albedo as it is. */
    const size_t size2v = size - skin_bytes - 4;
    uint8_t *v2 = malloc(size2v);
    ck_assert_ptr_nonnull(v2);
    memcpy(v2, b, size2v);
    v2[4] = 2;
    const uint32_t len2 = (uint32_t)(size2v - FS_ID_BLOB_HEADER);
    for (int k = 0; k < 4; k++) /* the payload length, little-endian */
        v2[12 + k] = (uint8_t)(len2 >> (8 * k));
    reseal(v2, size2v);
    fs_identity_data older;
    FS_ASSERT_OK(fs_identity_blob_load(v2, size2v, &older, &err));
    ck_assert_int_eq(older.atlas.light.n_fit, id.atlas.light.n_fit);
    ck_assert_float_eq(older.atlas.albedo_scale, 1.0f);
    fs_identity_data_free(&older);
    free(v2);

    /* A version 1 blob (no light block) loads as holding the photo's
     * colours: no light to put back. */
    const size_t light_bytes = 4 + 3 * FS_SHADE_TERMS * 4 + 4 + 4, size1 = size - skin_bytes - light_bytes;
    uint8_t *v1 = malloc(size1);
    ck_assert_ptr_nonnull(v1);
    memcpy(v1, b, size1);
    v1[4] = 1;
    const uint32_t len1 = (uint32_t)(size1 - FS_ID_BLOB_HEADER);
    memcpy(v1 + 12, &len1, 4); /* little-endian host */
    reseal(v1, size1);
    fs_identity_data old;
    FS_ASSERT_OK(fs_identity_blob_load(v1, size1, &old, &err));
    ck_assert_int_eq(old.atlas.light.n_fit, 0);
    ck_assert_mem_eq(old.atlas.rgba, id.atlas.rgba, 128 * 128 * 4);
    fs_identity_data_free(&old);
    free(v1);

    /* Through a file. */
    const char *path = fs_test_tmp_path("identity.fsid");
    fs_identity_data fromfile;
    FS_ASSERT_OK(fs_identity_blob_write_file(&id, path, &err));
    FS_ASSERT_OK(fs_identity_blob_read_file(path, &fromfile, &err));
    ck_assert_mem_eq(fromfile.atlas.rgba, id.atlas.rgba, 128 * 128 * 4);
    unlink(path);
    FS_ASSERT_STATUS(fs_identity_blob_read_file(path, &fromfile, &err), FS_ERR_NOT_FOUND);
    FS_ASSERT_STATUS(fs_identity_blob_write_file(&id, "/nonexistent-dir/x.fsid", &err), FS_ERR_IO);
    fs_identity_data_free(&fromfile);

    /* Data that would not load back is refused on save. */
    fs_identity_data bad = id;
    bad.atlas.lab_mean[0] = NAN;
    FS_ASSERT_STATUS(fs_identity_blob_save(&bad, &b2, &size2, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(b2); /* untouched on failure */
    bad = id;
    bad.atlas.skin.icov[0][0] = -bad.atlas.skin.icov[0][0];
    FS_ASSERT_STATUS(fs_identity_blob_save(&bad, &b2, &size2, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(b2);
    free(b);
    fs_identity_data_free(&back);
    fs_identity_data_free(&id);
}
END_TEST

START_TEST(blob_damage)
{
    fs_identity_data id, back;
    make_identity(&id, 32);
    /* A 32-texel atlas holds too few cheek and forehead texels for a skin
     * model: give it one, so that its bytes can be damaged too. */
    ck_assert_int_eq(id.atlas.skin.k, 0);
    id.atlas.skin = (fs_skin_model){.k = 1, .weight = {1.0f}, .mean = {{150.0f, 110.0f, 145.0f}},
                                    .icov = {{0.01f, 0.0f, 0.0f, 0.1f, 0.0f, 0.1f}}};
    ck_assert_int_eq(fs_skin_model_check(&id.atlas.skin), 1);
    uint8_t *b = NULL;
    size_t size = 0;
    fs_error_buf err;
    FS_ASSERT_OK(fs_identity_blob_save(&id, &b, &size, &err));

    /* Every truncation: in place, and in an exact-size copy so that the
     * sanitizer sees any read past the end. */
    for (size_t len = 0; len < size; len++) {
        FS_ASSERT_STATUS(fs_identity_blob_load(b, len, &back, &err), FS_ERR_TRUNCATED);
        uint8_t *cut = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(cut);
        memcpy(cut, b, len);
        FS_ASSERT_STATUS(fs_identity_blob_load(cut, len, &back, &err), FS_ERR_TRUNCATED);
        free(cut);
    }
    /* Trailing bytes. */
    uint8_t *longer = malloc(size + 1);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, b, size);
    longer[size] = 0;
    FS_ASSERT_STATUS(fs_identity_blob_load(longer, size + 1, &back, &err), FS_ERR_CORRUPT);
    free(longer);

    /* Single-byte flips: the whole header, then every 7th byte. */
    for (size_t i = 0; i < size; i += i < 64 ? 1 : 7) {
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (uint8_t)(1u << bit);
            const fs_status st = fs_identity_blob_load(b, size, &back, &err);
            b[i] ^= (uint8_t)(1u << bit);
            /* a version flipped to another readable one (3 -> 2) reaches
             * the checksum */
            const int readable = i == 4 && (b[4] ^ (1u << bit)) >= 1 &&
                                 (b[4] ^ (1u << bit)) <= FS_ID_BLOB_VERSION;
            const fs_status want = i < 4 ? FS_ERR_CORRUPT : i < 8 ? (readable ? FS_ERR_CHECKSUM : FS_ERR_VERSION)
                                 : i < 12 ? FS_ERR_CORRUPT : i < 16 ? st : FS_ERR_CHECKSUM;
            ck_assert_msg(st == want, "flip at %zu bit %d: %s", i, bit, fs_status_name(st));
            if (i >= 12 && i < 16) /* payload length: longer is truncated, shorter leaves bytes over */
                ck_assert(st == FS_ERR_TRUNCATED || st == FS_ERR_CORRUPT);
        }
    }
    FS_ASSERT_OK(fs_identity_blob_load(b, size, &back, &err));
    fs_identity_data_free(&back);

    /* Another format version, resealed or not; versions 1 to 3 have no
     * skin model (2: no albedo scale either; 1: no light block), so this
     * blob is too long for them. */
    b[4] = 5;
    FS_ASSERT_STATUS(fs_identity_blob_load(b, size, &back, &err), FS_ERR_VERSION);
    reseal(b, size);
    FS_ASSERT_STATUS(fs_identity_blob_load(b, size, &back, &err), FS_ERR_VERSION);
    for (uint8_t v = 1; v <= 3; v++) {
        b[4] = v;
        reseal(b, size);
        FS_ASSERT_STATUS(fs_identity_blob_load(b, size, &back, &err), FS_ERR_CORRUPT);
    }
    b[4] = 4;
    reseal(b, size);
    FS_ASSERT_OK(fs_identity_blob_load(b, size, &back, &err));
    fs_identity_data_free(&back);
    /* An albedo scale below 1, or NaN, behind a valid checksum. */
    const size_t skin_at = size - (4 + FS_SKIN_COMPONENTS * 10 * 4), scale_at = skin_at - 4;
    static const uint8_t bad_scale[][4] = {{0, 0, 0, 0x3f}, {0, 0, 0xc0, 0x7f}};
    for (int k = 0; k < 2; k++) {
        uint8_t keep[4];
        memcpy(keep, b + scale_at, 4);
        memcpy(b + scale_at, bad_scale[k], 4);
        reseal(b, size);
        FS_ASSERT_STATUS(fs_identity_blob_load(b, size, &back, &err), FS_ERR_CORRUPT);
        ck_assert_msg(strstr(err.text, "albedo scale"), "%s", err.text);
        memcpy(b + scale_at, keep, 4);
    }
    /* A skin model that cannot be used: too many components, a NaN or zero
     * weight, a mean past 255, an inverse covariance not positive definite
     * (a negative variance; a correlation past 1), behind a valid checksum. */
    const struct {
        size_t at;
        uint8_t value[4];
    } skin_edits[] = {
        {0, {3, 0, 0, 0}},           /* 3 components */
        {4, {0, 0, 0xc0, 0x7f}},     /* weight NaN */
        {4, {0, 0, 0, 0}},           /* weight 0 */
        {8, {0, 0, 0x80, 0x43}},     /* mean Y 256 */
        {20, {0, 0, 0x80, 0xbf}},    /* icov YY -1 */
        {24, {0, 0, 0x80, 0x3f}},    /* icov YCb 1 (past sqrt(YY * CbCb)) */
    };
    for (size_t e = 0; e < sizeof(skin_edits) / sizeof(skin_edits[0]); e++) {
        uint8_t keep[4];
        memcpy(keep, b + skin_at + skin_edits[e].at, 4);
        memcpy(b + skin_at + skin_edits[e].at, skin_edits[e].value, 4);
        reseal(b, size);
        FS_ASSERT_STATUS(fs_identity_blob_load(b, size, &back, &err), FS_ERR_CORRUPT);
        ck_assert_msg(strstr(err.text, "skin colour model"), "%zu: %s", e, err.text);
        memcpy(b + skin_at + skin_edits[e].at, keep, 4);
    }
    /* No model (0 components) loads: the swap falls back as for version 3. */
    {
        uint8_t keep[4];
        memcpy(keep, b + skin_at, 4);
        memset(b + skin_at, 0, 4);
        reseal(b, size);
        FS_ASSERT_OK(fs_identity_blob_load(b, size, &back, &err));
        ck_assert_int_eq(back.atlas.skin.k, 0);
        fs_identity_data_free(&back);
        memcpy(b + skin_at, keep, 4);
    }
    reseal(b, size);

    /* Fields out of range behind a valid checksum. */
    uint8_t *p = b + FS_ID_BLOB_HEADER;
    const size_t px = FS_ID_BLOB_HEADER + 16 + 24 + FS_LANDMARKS * 12; /* first texel */
    struct edit {
        size_t at;
        uint8_t value[4];
        int n;
    } const edits[] = {
        {4, {64, 0, 0, 0}, 4},                      /* atlas size: length no longer fits */
        {4, {0, 0, 0, 0}, 4},                       /* atlas size 0 */
        {8, {0, 0, 0, 0}, 4},                       /* source width 0 */
        {12, {0, 0, 0, 0x80}, 4},                   /* source height 2^31 */
        {16, {0, 0, 0x48, 0x43}, 4},                /* L* mean 200 */
        {28, {0, 0, 0x80, 0xbf}, 4},                /* L* std -1 */
        {40 + 100, {0, 0, 0xc0, 0x7f}, 4},          /* a landmark NaN */
        {0, {0, 0, 0, 0}, 4},                       /* library version 0 */
    };
    uint8_t save[4];
    for (size_t e = 0; e < sizeof(edits) / sizeof(edits[0]); e++) {
        memcpy(save, p + edits[e].at, 4);
        memcpy(p + edits[e].at, edits[e].value, (size_t)edits[e].n);
        reseal(b, size);
        const fs_status st = fs_identity_blob_load(b, size, &back, &err);
        ck_assert_msg(st == FS_ERR_CORRUPT, "edit %zu: %s", e, fs_status_name(st));
        memcpy(p + edits[e].at, save, 4);
    }
    /* A side just above the limit is named as stored, not wrapped to -1. */
    const struct {
        uint8_t w[4], h[4];
        const char *says;
    } sizes[] = {
        {{1, 0, 0x10, 0}, {1, 0, 0, 0}, "source size 1048577x1 "},
        {{1, 0, 0, 0}, {0, 0, 0, 0x80}, "source size 1x2147483648 "},
        {{0xff, 0xff, 0xff, 0xff}, {0xff, 0xff, 0xff, 0xff}, "source size 4294967295x4294967295 "},
    };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint8_t keep[8];
        memcpy(keep, p + 8, 8);
        memcpy(p + 8, sizes[k].w, 4);
        memcpy(p + 12, sizes[k].h, 4);
        reseal(b, size);
        FS_ASSERT_STATUS(fs_identity_blob_load(b, size, &back, &err), FS_ERR_CORRUPT);
        ck_assert_msg(strstr(err.text, sizes[k].says), "%zu: %s", k, err.text);
        memcpy(p + 8, keep, 8);
    }
    reseal(b, size);
    /* Texel invariants: a half-transparent texel, colour outside the footprint. */
    size_t empty = 0, full = 0;
    for (size_t i = 0; i < 32 * 32; i++) {
        if (!id.atlas.rgba[i * 4 + 3] && !empty)
            empty = i + 1;
        if (id.atlas.rgba[i * 4 + 3] && !full)
            full = i + 1;
    }
    ck_assert(empty && full);
    b[px + (full - 1) * 4 + 3] = 7;
    reseal(b, size);
    FS_ASSERT_STATUS(fs_identity_blob_load(b, size, &back, &err), FS_ERR_CORRUPT);
    b[px + (full - 1) * 4 + 3] = 255;
    b[px + (empty - 1) * 4] = 9;
    reseal(b, size);
    FS_ASSERT_STATUS(fs_identity_blob_load(b, size, &back, &err), FS_ERR_CORRUPT);
    b[px + (empty - 1) * 4] = 0;
    reseal(b, size);
    FS_ASSERT_OK(fs_identity_blob_load(b, size, &back, &err));
    fs_identity_data_free(&back);

    /* Not an identity at all; NULL. */
    FS_ASSERT_STATUS(fs_identity_blob_load((const uint8_t *)"PNG\x89 and more", 12, &back, &err),
                     FS_ERR_CORRUPT);
    FS_ASSERT_STATUS(fs_identity_blob_load(NULL, 5, &back, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_identity_blob_load(b, size, NULL, &err), FS_ERR_INVALID_ARGUMENT);
    free(b);
    fs_identity_data_free(&id);
}
END_TEST

static Suite *identity_suite(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("identity");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, mesh_tables);
    tcase_add_test(tc, atlas_footprint);
    tcase_add_test(tc, atlas_mirror_fill);
    tcase_add_test(tc, atlas_turned_face);
    tcase_add_test(tc, atlas_formats);
    tcase_add_test(tc, shading_fit);
    tcase_add_test(tc, shading_colour_bounded);
    tcase_add_test(tc, shading_facing_clamp);
    tcase_add_test(tc, shading_ratio_fit);
    tcase_add_test(tc, highlight_layer);
    tcase_add_test(tc, masked_box_matches_brute_force);
    tcase_add_test(tc, atlas_delight);
    tcase_add_test(tc, atlas_fill_unseen);
    tcase_add_test(tc, skin_model);
    tcase_add_test(tc, capture_timing);
    tcase_add_test(tc, blob_round_trip);
    tcase_add_test(tc, blob_damage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* the figures survive a failing check's exit */
    return fs_test_run_suite(identity_suite());
}
