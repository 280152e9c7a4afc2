/*
 * Face embedding (lib/embed): agreement of the faceres descriptor with
 * TensorFlow.js on the same crops (tests/golden/embed_*.txt, made by
 * tests/golden/make-embed-golden.js), identity sense on real photos (a face
 * against its own mirrored, turned and rescaled copies scores above every
 * other person), and bad input (NULL arguments, landmarks, images, missing
 * or altered model files).
 *
 * faceres costs ~0.3 s per run on the plain-C reference path
 * (FS_FORCE_REFERENCE=1), so the runs are counted: 2 for the goldens, 16
 * for the similarity matrix, 2 for the pixel-format check (~12 s there).
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "detect/detect_internal.h"
#include "embed/embed.h"

/* ---------------------------------------------------------------- helpers */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Detects every face of @p img (up to @p cap) and fits each; returns how many fitted. */
static int find_faces(fs_context *ctx, const fs_image *img, fs_face_landmarks *lm, int cap)
{
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    FS_ASSERT_OK(fs_detector_create(ctx, &det));
    FS_ASSERT_OK(fs_fitter_create(ctx, &fit));
    fs_face_box faces[16];
    int n = 0;
    FS_ASSERT_OK(fs_detector_run(det, img, faces, 16, &n));
    n = n < 16 ? n : 16;
    int k = 0;
    for (int i = 0; i < n && k < cap; i++)
        if (fs_fitter_run(fit, img, &faces[i], &lm[k]) == FS_OK)
            k++;
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    return k;
}

/* The largest fitted face. */
static void find_face(fs_context *ctx, const fs_image *img, fs_face_landmarks *out)
{
    fs_face_landmarks lm[16];
    const int n = find_faces(ctx, img, lm, 16);
    ck_assert_int_ge(n, 1);
    int best = 0;
    double best_side = 0;
    for (int i = 0; i < n; i++) {
        double b[4];
        ck_assert(fs_embed_crop_box(&lm[i], b));
        if (b[2] - b[0] > best_side) {
            best_side = b[2] - b[0];
            best = i;
        }
    }
    *out = lm[best];
}

/* A new RGB8 image: @p src turned by @p deg degrees about (cx, cy), then
 * scaled by @p scale about the same point, bilinear, black outside;
 * mirror = 1 flips it left-right first. */
static void transform_image(const fs_image *src, double deg, double scale, int mirror, double cx,
                            double cy, fs_image *dst)
{
    ck_assert_int_eq(src->format, FS_PIXEL_RGB8);
    memset(dst, 0, sizeof(*dst));
    dst->width = src->width;
    dst->height = src->height;
    dst->stride = src->width * 3;
    dst->format = FS_PIXEL_RGB8;
    dst->memory = FS_MEMORY_HOST;
    uint8_t *out = calloc((size_t)dst->stride * dst->height, 1);
    ck_assert_ptr_nonnull(out);
    dst->data = out;
    const uint8_t *in = src->data;
    const double a = deg * M_PI / 180.0, c = cos(a), s = sin(a);
    for (int y = 0; y < dst->height; y++)
        for (int x = 0; x < dst->width; x++) {
            /* inverse map: output -> source */
            const double dx = (x - cx) / scale, dy = (y - cy) / scale;
            double sx = cx + c * dx + s * dy, sy = cy - s * dx + c * dy;
            if (mirror)
                sx = src->width - 1 - sx;
            if (sx < 0 || sy < 0 || sx > src->width - 1 || sy > src->height - 1)
                continue;
            const int x0 = (int)sx, y0 = (int)sy;
            const int x1 = x0 + 1 < src->width ? x0 + 1 : x0, y1 = y0 + 1 < src->height ? y0 + 1 : y0;
            const double fx = sx - x0, fy = sy - y0;
            for (int ch = 0; ch < 3; ch++) {
                const double v = (1 - fy) * ((1 - fx) * in[y0 * src->stride + x0 * 3 + ch] +
                                             fx * in[y0 * src->stride + x1 * 3 + ch]) +
                                 fy * ((1 - fx) * in[y1 * src->stride + x0 * 3 + ch] +
                                       fx * in[y1 * src->stride + x1 * 3 + ch]);
                out[y * dst->stride + x * 3 + ch] = (uint8_t)(v + 0.5);
            }
        }
}

static void free_transformed(fs_image *img)
{
    free(img->data);
    memset(img, 0, sizeof(*img));
}

/* ---------------------------------------------------------------- (a) agreement with tfjs */

typedef struct golden {
    double box[4];
    float desc[FS_EMBED_DIM]; /* tfjs' raw descriptor */
} golden;

static void read_golden(const char *name, golden *g)
{
    const char *path = fs_test_golden_path(name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "missing %s", path);
    char line[256];
    int have_box = 0, n = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (strncmp(line, "box ", 4) == 0) {
            ck_assert_int_eq(sscanf(line + 4, "%lf %lf %lf %lf", &g->box[0], &g->box[1],
                                    &g->box[2], &g->box[3]), 4);
            have_box = 1;
            continue;
        }
        ck_assert_msg(n < FS_EMBED_DIM, "%s: more than %d values", path, FS_EMBED_DIM);
        ck_assert_int_eq(sscanf(line, "%f", &g->desc[n]), 1);
        n++;
    }
    fclose(f);
    ck_assert_msg(have_box && n == FS_EMBED_DIM, "%s: box %d, %d values", path, have_box, n);
}

static void check_golden(fs_context *ctx, fs_embedder *e, const char *image_file,
                         const char *golden_file)
{
    fs_image img;
    fs_test_load_image(ctx, image_file, &img);
    fs_face_landmarks lm;
    find_face(ctx, &img, &lm);
    double b[4];
    ck_assert(fs_embed_crop_box(&lm, b));
    float got[FS_EMBED_DIM];

    /* FS_EMBED_WRITE_CROPS=DIR writes the decoded image, the landmarks'
     * crop square and the model input for tests/golden/make-embed-golden.js
     * instead of comparing. */
    const char *dir = getenv("FS_EMBED_WRITE_CROPS");
    if (dir && *dir) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s.png", dir, image_file);
        FS_ASSERT_OK(fs_image_write_file(ctx, &img, path));
        FS_ASSERT_OK(fs_embedder_run_box(e, &img, b, got));
        snprintf(path, sizeof(path), "%s/%s.box", dir, image_file);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%.0f %.0f %.0f %.0f\n", b[0], b[1], b[2], b[3]);
        fclose(f);
        snprintf(path, sizeof(path), "%s/%s.crop.f32", dir, image_file);
        f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(fs_embedder_input(e), sizeof(float), FS_EMBED_SIZE * FS_EMBED_SIZE * 3, f);
        fclose(f);
        fs_image_free(&img);
        return;
    }

    golden g;
    read_golden(golden_file, &g);
    /* The golden box is where the landmarks' square fell when the golden
     * was made; the fitter's landmarks give it again (within rounding). */
    for (int k = 0; k < 4; k++)
        ck_assert_msg(fabs(b[k] - g.box[k]) <= 2.0, "%s: crop corner %d %g, golden %g",
                      image_file, k, b[k], g.box[k]);
    const double t0 = now_ms();
    FS_ASSERT_OK(fs_embedder_run_box(e, &img, g.box, got));
    const double t1 = now_ms();
    double ss = 0.0;
    for (int i = 0; i < FS_EMBED_DIM; i++)
        ss += (double)g.desc[i] * g.desc[i];
    const double inv = 1.0 / sqrt(ss);
    double max_diff = 0.0, got_ss = 0.0;
    for (int i = 0; i < FS_EMBED_DIM; i++) {
        max_diff = fmax(max_diff, fabs(got[i] - g.desc[i] * inv));
        got_ss += (double)got[i] * got[i];
    }
    const double cos_sim = fs_embedding_cosine(got, g.desc);
    printf("embed %-13s box [%g %g %g %g]: 1 - cosine with tfjs %.1e, max |diff| %.2e (normalised), "
           "tfjs norm %.4f, %.0f ms\n", image_file, g.box[0], g.box[1], g.box[2], g.box[3],
           1.0 - cos_sim, max_diff, sqrt(ss), t1 - t0);
    ck_assert_msg(fabs(got_ss - 1.0) < 1e-5, "not unit length: %g", got_ss);
    ck_assert_msg(cos_sim > 0.9999, "%s: cosine %.8f with tfjs", image_file, cos_sim);
    ck_assert_msg(max_diff < 1e-4, "%s: max |diff| %.2e with tfjs", image_file, max_diff);
    fs_image_free(&img);
}

START_TEST(agrees_with_tfjs)
{
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    fs_embedder *e = NULL;
    FS_ASSERT_OK(fs_embedder_create(ctx, &e));
    ck_assert_ptr_null(fs_embedder_input(e));
    check_golden(ctx, e, "astronaut.png", "embed_astronaut.txt");
    check_golden(ctx, e, "messi5.jpg", "embed_messi5.txt");
    ck_assert_ptr_nonnull(fs_embedder_input(e));
    fs_embedder_destroy(e);
    fs_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- (b) identity sense */

#define MAX_FACES 24

typedef struct face_entry {
    char label[40];
    int person; /* faces of the same person (variants of one face) share it */
    float emb[FS_EMBED_DIM];
} face_entry;

static int add_face(fs_embedder *e, const fs_image *img, const fs_face_landmarks *lm,
                    const char *label, int person, face_entry *tab, int n)
{
    ck_assert_int_lt(n, MAX_FACES);
    snprintf(tab[n].label, sizeof(tab[n].label), "%s", label);
    tab[n].person = person;
    const fs_status st = fs_embedder_run(e, img, lm, tab[n].emb);
    ck_assert_msg(st == FS_OK, "%s: %s %s", label, fs_status_name(st), fs_embedder_last_error(e));
    return n + 1;
}

START_TEST(identity_sense)
{
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    fs_embedder *e = NULL;
    FS_ASSERT_OK(fs_embedder_create(ctx, &e));
    static face_entry tab[MAX_FACES];
    int n = 0, person = 0;
    const double t0 = now_ms();

    /* Two photos with one face each, and three variants of each: mirrored,
     * turned 10 degrees about the face, and shrunk to 60% with the turn
     * the other way. Each variant is detected and fitted again. */
    static const char *const singles[] = {"astronaut.png", "messi5.jpg"};
    for (int s = 0; s < 2; s++, person++) {
        fs_image img;
        fs_test_load_image(ctx, singles[s], &img);
        fs_face_landmarks lm;
        find_face(ctx, &img, &lm);
        double b[4];
        ck_assert(fs_embed_crop_box(&lm, b));
        const double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
        char label[40];
        snprintf(label, sizeof(label), "%.*s", (int)(strchr(singles[s], '.') - singles[s]),
                 singles[s]);
        n = add_face(e, &img, &lm, label, person, tab, n);
        static const struct { const char *tag; double deg, scale; int mirror; } var[] = {
            {"mirror", 0, 1, 1}, {"turn10", 10, 1, 0}, {"turn-10x.6", -10, 0.6, 0}};
        for (int v = 0; v < 3; v++) {
            fs_image t;
            transform_image(&img, var[v].deg, var[v].scale, var[v].mirror,
                            var[v].mirror ? img.width - 1 - cx : cx, cy, &t);
            fs_face_landmarks tl;
            find_face(ctx, &t, &tl);
            snprintf(label, sizeof(label), "%.*s/%s", (int)(strchr(singles[s], '.') - singles[s]),
                     singles[s], var[v].tag);
            n = add_face(e, &t, &tl, label, person, tab, n);
            free_transformed(&t);
        }
        fs_image_free(&img);
    }

    /* Group photos: every fitted face is a person of its own (nobody
     * appears twice in one photo). */
    static const char *const groups[] = {"faceapi_sample1.jpg", "faceapi_sample5.jpg"};
    for (int g = 0; g < 2; g++) {
        fs_image img;
        fs_test_load_image(ctx, groups[g], &img);
        fs_face_landmarks lm[8];
        const int k = find_faces(ctx, &img, lm, 8);
        ck_assert_int_ge(k, 1);
        for (int i = 0; i < k; i++, person++) {
            char label[40];
            snprintf(label, sizeof(label), "sample%c#%d", groups[g][14], i);
            n = add_face(e, &img, &lm[i], label, person, tab, n);
        }
        fs_image_free(&img);
    }
    const double t1 = now_ms();

    /* The matrix, then the margin: the least similar variant of the same
     * face against the most similar different face. */
    printf("similarity matrix (%d faces, %.0f ms with detection and fitting)\n%-22s", n, t1 - t0, "");
    for (int j = 0; j < n; j++)
        printf(" %5d", j);
    printf("\n");
    double same_min = 2.0, diff_max = -2.0;
    int sa = 0, sb = 0, da = 0, db = 0;
    for (int i = 0; i < n; i++) {
        printf("%2d %-19s", i, tab[i].label);
        for (int j = 0; j < n; j++) {
            const double c = fs_embedding_cosine(tab[i].emb, tab[j].emb);
            printf(" %5.2f", c);
            if (j <= i)
                continue;
            if (tab[i].person == tab[j].person && c < same_min) {
                same_min = c;
                sa = i;
                sb = j;
            }
            if (tab[i].person != tab[j].person && c > diff_max) {
                diff_max = c;
                da = i;
                db = j;
            }
        }
        printf("\n");
    }
    printf("same face, lowest %.3f (%s vs %s); different people, highest %.3f (%s vs %s); "
           "margin %.3f\n", same_min, tab[sa].label, tab[sb].label, diff_max, tab[da].label,
           tab[db].label, same_min - diff_max);
    ck_assert_msg(same_min - diff_max > 0.15, "margin %.3f", same_min - diff_max);
    fs_embedder_destroy(e);
    fs_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- (c) bad input */

START_TEST(bad_arguments)
{
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    fs_embedder *e = NULL;
    FS_ASSERT_STATUS(fs_embedder_create(NULL, &e), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_embedder_create(ctx, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(e);
    FS_ASSERT_OK(fs_embedder_create(ctx, &e));
    ck_assert_str_eq(fs_embedder_last_error(NULL), "");

    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_face_landmarks lm;
    memset(&lm, 0, sizeof(lm));
    for (int i = 0; i < FS_LANDMARKS; i++) { /* a 100-px face in the middle */
        lm.points[i][0] = 206.0f + (float)(i % 10) * 10.0f;
        lm.points[i][1] = 206.0f + (float)((i / 10) % 10) * 10.0f;
    }
    static float out[FS_EMBED_DIM];
    FS_ASSERT_STATUS(fs_embedder_run(NULL, &img, &lm, out), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_embedder_run(e, NULL, &lm, out), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_embedder_run(e, &img, NULL, out), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_embedder_run(e, &img, &lm, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert(strlen(fs_embedder_last_error(e)) > 0);

    /* bad image views */
    fs_image bad = img;
    bad.width = 0;
    FS_ASSERT_STATUS(fs_embedder_run(e, &bad, &lm, out), FS_ERR_INVALID_ARGUMENT);
    bad = img;
    bad.stride = 3;
    FS_ASSERT_STATUS(fs_embedder_run(e, &bad, &lm, out), FS_ERR_INVALID_ARGUMENT);
    bad = img;
    bad.format = 99;
    FS_ASSERT_STATUS(fs_embedder_run(e, &bad, &lm, out), FS_ERR_UNSUPPORTED);
    bad = img;
    bad.data = NULL;
    FS_ASSERT_STATUS(fs_embedder_run(e, &bad, &lm, out), FS_ERR_INVALID_ARGUMENT);

    /* bad landmarks: NaN, a point at infinity, a tiny face, a face off the image */
    fs_face_landmarks bl = lm;
    bl.points[17][0] = NAN;
    FS_ASSERT_STATUS(fs_embedder_run(e, &img, &bl, out), FS_ERR_INVALID_ARGUMENT);
    bl = lm;
    bl.points[3][1] = INFINITY;
    FS_ASSERT_STATUS(fs_embedder_run(e, &img, &bl, out), FS_ERR_INVALID_ARGUMENT);
    bl = lm;
    for (int i = 0; i < FS_LANDMARKS; i++)
        bl.points[i][0] = bl.points[i][1] = 100.0f + (float)(i % 3);
    FS_ASSERT_STATUS(fs_embedder_run(e, &img, &bl, out), FS_ERR_INVALID_ARGUMENT);
    bl = lm;
    for (int i = 0; i < FS_LANDMARKS; i++)
        bl.points[i][0] += 2000.0f;
    FS_ASSERT_STATUS(fs_embedder_run(e, &img, &bl, out), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(fs_embedder_last_error(e), "outside"));
    const double boxes[][4] = {{10, 10, 10, 50}, {NAN, 0, 10, 10}, {-1e9, 0, 10, 10}};
    for (int k = 0; k < 3; k++)
        FS_ASSERT_STATUS(fs_embedder_run_box(e, &img, boxes[k], out), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_embedder_run_box(e, &img, NULL, out), FS_ERR_INVALID_ARGUMENT);

    /* Cosine: NULL and zero vectors read 0; a vector with itself 1; gray
     * and BGR views of the same pixels run too. */
    static float zero[FS_EMBED_DIM];
    ck_assert(fs_embedding_cosine(NULL, out) == 0.0);
    ck_assert(fs_embedding_cosine(zero, zero) == 0.0);
    fs_image bgr = img;
    uint8_t *swapped = malloc((size_t)img.stride * img.height);
    ck_assert_ptr_nonnull(swapped);
    const uint8_t *src = img.data;
    for (size_t i = 0; i < (size_t)img.stride * img.height; i += 3) {
        swapped[i] = src[i + 2];
        swapped[i + 1] = src[i + 1];
        swapped[i + 2] = src[i];
    }
    bgr.data = swapped;
    bgr.format = FS_PIXEL_BGR8;
    static float rgb_out[FS_EMBED_DIM], bgr_out[FS_EMBED_DIM];
    FS_ASSERT_OK(fs_embedder_run(e, &img, &lm, rgb_out));
    FS_ASSERT_OK(fs_embedder_run(e, &bgr, &lm, bgr_out));
    ck_assert_msg(fabs(fs_embedding_cosine(rgb_out, rgb_out) - 1.0) < 1e-9, "self cosine");
    ck_assert_msg(memcmp(rgb_out, bgr_out, sizeof(rgb_out)) == 0, "BGR view differs from RGB");
    free(swapped);
    fs_image_free(&img);
    fs_embedder_destroy(e);
    fs_embedder_destroy(NULL);
    fs_context_destroy(ctx);
}
END_TEST

/* A copy of the model folder in which faceres is missing or altered. */
START_TEST(bad_model_files)
{
    const char *dir = fs_test_tmp_path("embed_models");
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    char to[1024];
    static const char *const files[] = {"faceres.json", "faceres.bin"};
    for (int k = 0; k < 2; k++) {
        snprintf(to, sizeof(to), "%s/%s", dir, files[k]);
        fs_test_copy_file(fs_test_model_path(files[k]), to);
    }
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    FS_ASSERT_OK(fs_context_set_model_dir(ctx, dir));
    fs_embedder *e = NULL;
    FS_ASSERT_OK(fs_embedder_create(ctx, &e)); /* the intact copy loads */
    fs_embedder_destroy(e);
    e = NULL;

    /* one flipped byte in the weights: checksum */
    snprintf(to, sizeof(to), "%s/faceres.bin", dir);
    FILE *f = fopen(to, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 4096, SEEK_SET), 0);
    const int c = fgetc(f);
    ck_assert_int_eq(fseek(f, 4096, SEEK_SET), 0);
    fputc(c ^ 0x10, f);
    fclose(f);
    FS_ASSERT_STATUS(fs_embedder_create(ctx, &e), FS_ERR_CHECKSUM);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "faceres.bin"));

    /* missing json */
    snprintf(to, sizeof(to), "%s/faceres.json", dir);
    ck_assert_int_eq(remove(to), 0);
    FS_ASSERT_STATUS(fs_embedder_create(ctx, &e), FS_ERR_NOT_FOUND);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "faceres.json"));

    /* with the checksum off, a weight file cut short is still caught */
    fs_test_copy_file(fs_test_model_path("faceres.json"), to);
    snprintf(to, sizeof(to), "%s/faceres.bin", dir);
    ck_assert_int_eq(truncate(to, 100000), 0);
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_VERIFY_MODELS, 0));
    FS_ASSERT_STATUS(fs_embedder_create(ctx, &e), FS_ERR_TRUNCATED);
    ck_assert_ptr_null(e);

    fs_context_destroy(ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *embed_suite(void)
{
    Suite *s = suite_create("embed");
    TCase *tc = tcase_create("embed");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, agrees_with_tfjs);
    tcase_add_test(tc, identity_sense);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, bad_model_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* the figures survive a failing check's exit */
    return fs_test_run_suite(embed_suite());
}
