/*
 * The swap on still images (lib/swap, include/faceswap/identity.h,
 * renderer.h): real sources onto real targets (astronaut onto
 * faceapi_sample1 and messi5, and back), with the properties the issue
 * asks for: pixels outside the dilated mesh mask bit-identical, the
 * rendered face without holes, the detector still finding the face on the
 * result (score >= 0.8 of the target's), landmarks fitted again within 2%
 * of the face diagonal; the UV convention (the face renders upright); a
 * source without a face; the identity blob through the public API
 * (round trip, truncated, altered); a face cut by the image border; other
 * pixel formats; the whole-image call; parameters.
 *
 * FS_SWAP_PNG=path writes the before/after of astronaut -> faceapi_sample1.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compose/blend.h"
#include "compose/colour.h"
#include "compose/mask.h"
#include "compose_quality.h"
#include "embed/embed.h"
#include "identity/skin.h"
#include "light/shading.h"
#include "swap/lookup.h"
#include "swap_quality.h"
#include "swap/swap.h"
#include "engine.h"

/* ---------------------------------------------------------------- helpers */

static void free_copy(fs_image *img)
{
    free(img->data);
    img->data = NULL;
}

static uint8_t *px(const fs_image *img, int x, int y)
{
    return (uint8_t *)img->data + (size_t)y * (size_t)img->stride + (size_t)x * 3;
}

/* Largest face the fitter accepts (the detector also reports large
 * low-score boxes that are no face): its detection and landmarks. Returns 0
 * when none. */
static int largest_face(fs_test_swap_env *e, const fs_image *img, fs_face_box *box, fs_face_landmarks *lm)
{
    fs_face_box faces[16];
    int n = 0, chosen = -1;
    FS_ASSERT_OK(fs_detector_run(e->det, img, faces, 16, &n));
    if (fs_swap_fit_face(e->fit, img, faces, n < 16 ? n : 16, -1, lm, &chosen) != FS_OK)
        return 0;
    *box = faces[chosen];
    return 1;
}

/* Loads @p source and @p target, captures the source's largest face and
 * fits the target's (its detection in *box); the landmarks are malloc'd. */
static fs_face_landmarks *capture_and_fit(fs_test_swap_env *e, const char *source, const char *target,
                                          fs_image *src, fs_image *tgt, fs_identity **id,
                                          fs_face_box *box)
{
    fs_test_load_rgb8(e->ctx, source, src);
    fs_test_load_rgb8(e->ctx, target, tgt);
    *id = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(e->ctx, src, FS_IDENTITY_LARGEST_FACE, id));
    fs_face_landmarks *lm = malloc(sizeof(*lm));
    ck_assert_ptr_nonnull(lm);
    ck_assert(largest_face(e, tgt, box, lm));
    return lm;
}

/* Every pixel that differs between @p a and @p b lies inside the window of
 * @p info and inside its mesh mask dilated by @p radius px. Returns the
 * number of differing pixels. */
static long check_outside_identical(const fs_image *a, const fs_image *b, const fs_swap_info *info,
                                    double radius)
{
    const int w = info->w, h = info->h;
    uint8_t *dil = malloc((size_t)w * (size_t)h);
    ck_assert_ptr_nonnull(dil);
    fs_error_buf err;
    FS_ASSERT_OK(fs_mask_dilate(&err, info->mesh_mask, w, h, w, radius, dil, w));
    long changed = 0;
    for (int y = 0; y < a->height; y++) {
        for (int x = 0; x < a->width; x++) {
            if (memcmp(px(a, x, y), px(b, x, y), 3) == 0)
                continue;
            changed++;
            const int wx = x - info->x0, wy = y - info->y0;
            const int inside = wx >= 0 && wy >= 0 && wx < w && wy < h && dil[wy * w + wx];
            ck_assert_msg(inside, "pixel (%d, %d) changed outside the dilated mask", x, y);
        }
    }
    free(dil);
    return changed;
}

/* ---------------------------------------------------------------- quality on real pairs */

typedef struct pair_result {
    fs_swap_quality q;
    long changed;
} pair_result;

/* Swaps and measures one pair; @p strict asserts the library's own
 * promises (a peer is measured, not held to them). */
static void swap_pair(fs_test_swap_env *e, const char *source, const char *target, const fs_swap_params *p,
                      int strict, const char *png, pair_result *res)
{
    fs_image src, tgt;
    fs_identity *id;
    fs_face_box tbox;
    fs_face_landmarks *tlm = capture_and_fit(e, source, target, &src, &tgt, &id, &tbox);
    fs_face_landmarks *slm = calloc(1, sizeof(*slm));
    ck_assert_ptr_nonnull(slm);
    memcpy(slm->points, fs_identity_internal_data(id)->landmarks, sizeof(slm->points));

    fs_image out = fs_test_copy_image(&tgt, 3);
    fs_swap_info info;
    memset(&info, 0, sizeof(info));
    info.keep_debug = 1;
    fs_error_buf err;
    fs_status st = fs_swap_face_rgb8(fs_context_engine(e->ctx), FS_EXEC_SERIAL(&err), fs_renderer_internal_mesh(e->ren), p,
                                     fs_identity_internal_data(id), &out,
                                     (const float(*)[3])tlm->points, &info);
    ck_assert_msg(st == FS_OK, "swap %s -> %s: %s (%s)", source, target, fs_status_name(st), err.text);

    /* Outside the mesh mask dilated by 2 px: bit-identical. */
    res->changed = check_outside_identical(&tgt, &out, &info, 2.0);
    ck_assert_int_gt(res->changed, (long)(0.1 * info.face_size * info.face_size));

    /* No NaN reached the image as black: inside the full-weight mask no
     * pixel went to pure black where the target was not. */
    long black = 0, full = 0;
    for (int y = 0; y < info.h; y++)
        for (int x = 0; x < info.w; x++) {
            if (info.alpha[y * info.w + x] < 0.999f)
                continue;
            full++;
            const uint8_t *o = px(&out, info.x0 + x, info.y0 + y);
            const uint8_t *t = px(&tgt, info.x0 + x, info.y0 + y);
            black += o[0] + o[1] + o[2] == 0 && t[0] + t[1] + t[2] > 30;
        }
    ck_assert_int_gt(full, 0);
    ck_assert_int_le(black, full / 100 + 1); /* a NaN poisons far more; pupils may be 0 */

    /* Coverage, seam, detector, landmarks, identity (tests/quality/swap_quality.h). */
    fs_swap_quality *q = &res->q;
    st = fs_swap_quality_measure(fs_context_engine(e->ctx), e->det, e->fit, e->emb, &src, slm, &tgt, &tbox, tlm, &out, &info,
                                 q, &err);
    ck_assert_msg(st == FS_OK, "measure: %s (%s)", fs_status_name(st), err.text);
    printf("swap: %s -> %s blend %d: changed %ld px, oval covered %.4f, textured %.4f, "
           "detector score %.3f -> %.3f (x%.3f), landmarks mean %.4f max %.4f of the diagonal, "
           "seam gradient x%.3f of the target's, identity cos %.3f -> %.3f (gain %+.3f)%s\n",
           source, target, p->blend, res->changed, q->covered_frac, q->textured_frac,
           q->target_score, q->result_score, q->score_ratio, q->lm_mean, q->lm_max, q->seam_ratio,
           q->cos_st, q->cos_sr, q->gain, info.clipped ? " (window clipped)" : "");
    if (strict) {
        /* No holes: the mesh covers its face oval, every covered pixel got atlas colour. */
        ck_assert_double_ge(q->covered_frac, 0.995);
        ck_assert_double_ge(q->textured_frac, 0.995);
        /* A swapped face still reads as a face, in the same place. */
        ck_assert_double_ge(q->box_iou, 0.5);
        ck_assert_double_ge(q->score_ratio, 0.8);
        /* Pose and expression kept: landmarks fitted again within 2% of the diagonal. */
        ck_assert_double_le(q->lm_mean, 0.02);
    }

    if (png) {
        /* before | after, side by side */
        fs_image ba = tgt;
        ba.width = tgt.width * 2;
        ba.stride = ba.width * 3;
        ba.data = malloc((size_t)ba.stride * (size_t)ba.height);
        ck_assert_ptr_nonnull(ba.data);
        for (int y = 0; y < tgt.height; y++) {
            memcpy(px(&ba, 0, y), px(&tgt, 0, y), (size_t)tgt.width * 3);
            memcpy(px(&ba, tgt.width, y), px(&out, 0, y), (size_t)tgt.width * 3);
        }
        FS_ASSERT_OK(fs_image_write_file(e->ctx, &ba, png));
        free(ba.data);
        /* and the face window, before | render | after, 3x (nearest) */
        char zpath[4096];
        snprintf(zpath, sizeof(zpath), "%s.zoom.png", png);
        const int z = 3;
        fs_image zo = tgt;
        zo.width = info.w * 3 * z;
        zo.height = info.h * z;
        zo.stride = zo.width * 3;
        zo.data = malloc((size_t)zo.stride * (size_t)zo.height);
        ck_assert_ptr_nonnull(zo.data);
        for (int y = 0; y < zo.height; y++)
            for (int x = 0; x < zo.width; x++) {
                const int panel = x / (info.w * z), wx = (x % (info.w * z)) / z, wy = y / z;
                const uint8_t *s3 = panel == 0   ? px(&tgt, info.x0 + wx, info.y0 + wy)
                                    : panel == 1 ? info.render_rgb + 3 * (wy * info.w + wx)
                                                 : px(&out, info.x0 + wx, info.y0 + wy);
                memcpy(px(&zo, x, y), s3, 3);
            }
        FS_ASSERT_OK(fs_image_write_file(e->ctx, &zo, zpath));
        free(zo.data);
    }

    fs_swap_info_free(&info);
    free_copy(&out);
    free(slm);
    free(tlm);
    fs_identity_destroy(id);
    fs_image_free(&tgt);
    fs_image_free(&src);
}

START_TEST(swap_quality_pairs)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    FS_ASSERT_OK(fs_embedder_create(e.ctx, &e.emb));
    static const struct {
        const char *source, *target;
        int blend;
    } pairs[] = {
        {"astronaut.png", "faceapi_sample1.jpg", FS_BLEND_MULTIBAND},
        {"astronaut.png", "messi5.jpg", FS_BLEND_POISSON},
        {"faceapi_sample1.jpg", "astronaut.png", FS_BLEND_MULTIBAND},
        {"messi5.jpg", "astronaut.png", FS_BLEND_MULTIBAND},
    };
    const int n = (int)(sizeof(pairs) / sizeof(pairs[0]));
    double gain = 0, lo = 1, seam = 0, seam_max = 0, plain_gain = 0, plain_seam = 0;
    double detail = 0, plain_detail = 0; /* mean |log(detail ratio)|: 0 = matched */
    for (int i = 0; i < n; i++) {
        pair_result r, rp;
        fs_swap_params p = *fs_renderer_internal_params(e.ren);
        p.blend = pairs[i].blend;
        swap_pair(&e, pairs[i].source, pairs[i].target, &p, 1,
                  i == 0 ? getenv("FS_SWAP_PNG") : NULL, &r);
        fs_swap_params plain;
        fs_swap_params_plain(&plain);
        swap_pair(&e, pairs[i].source, pairs[i].target, &plain, 0, NULL, &rp);
        gain += r.q.gain / n;
        lo = fmin(lo, r.q.gain);
        seam += r.q.seam_ratio / n;
        seam_max = fmax(seam_max, r.q.seam_ratio);
        plain_gain += rp.q.gain / n;
        plain_seam += rp.q.seam_ratio / n;
        ck_assert_double_gt(r.q.detail_ratio, 0);
        ck_assert_double_gt(rp.q.detail_ratio, 0);
        detail += fabs(log(r.q.detail_ratio)) / n;
        plain_detail += fabs(log(rp.q.detail_ratio)) / n;
    }
    printf("swap: library: identity gain mean %+.3f (min %+.3f), seam x%.3f (max x%.3f), detail "
           "off by x%.2f; plain texture swap: gain %+.3f, seam x%.3f, detail off by x%.2f\n",
           gain, lo, seam, seam_max, exp(detail), plain_gain, plain_seam, exp(plain_detail));
    /* Measured (debugoptimized, fast ops): library gain mean +0.198 (min
     * +0.157), seam mean x1.03 (max x1.08), detail off by x1.22 (the plain
     * swap's x1.48); the plain swap +0.225 at seam x1.31. The library keeps
     * the target's eye openings and mouth interior (the plain swap
     * replaces them) and the source's hair out,
     * and still takes most of the identity, without the plain swap's seam,
     * and with the target's sharpness. */
    /* Since the default keeps the target's whole eye openings (issue 10,
     * item 4), which the plain swap replaces with the source's: +0.198
     * (min +0.157) against the plain swap's +0.225 on these four pairs,
     * +0.213 with the gaze mode. */
    ck_assert_double_gt(gain, 0.19);
    ck_assert_double_gt(lo, 0.14);
    ck_assert_double_ge(gain, plain_gain - 0.04);
    ck_assert_double_le(seam_max, 1.25);
    ck_assert_double_lt(seam, plain_seam - 0.25);
    ck_assert_double_lt(detail, plain_detail);
    fs_test_swap_env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- UV convention */

/* An identity whose 256x256 atlas encodes its own coordinates (R = u,
 * G = v, every texel fully seen), and parameters that draw it unchanged:
 * no colour, mask, guard, detail or shape step between atlas and image. */
static void coded_identity(fs_identity_data *id, fs_swap_params *p)
{
    const int n = 256;
    memset(id, 0, sizeof(*id));
    id->atlas.size = n;
    id->atlas.rgba = malloc((size_t)n * n * 4);
    id->atlas.weight = malloc((size_t)n * n);
    ck_assert_ptr_nonnull(id->atlas.rgba);
    ck_assert_ptr_nonnull(id->atlas.weight);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            uint8_t *t = id->atlas.rgba + ((size_t)y * n + (size_t)x) * 4;
            t[0] = (uint8_t)x; /* texel centre u = (x + 0.5) / 256 -> R ~ 255 u */
            t[1] = (uint8_t)y;
            t[2] = 128;
            t[3] = 255;
            id->atlas.weight[y * n + x] = 255;
        }
    fs_swap_params_default(p);
    p->colour = FS_COLOR_NONE;
    p->blend = FS_BLEND_ALPHA;
    p->erode = 0;
    p->feather = 0;
    p->eyes = FS_SWAP_EYES_SOURCE;
    p->swap_forehead = 1;
    p->skin_guard = 0;   /* the coded atlas has no skin colour to guard */
    p->shape = 0;        /* the vertices stay where the target's are */
    p->match_detail = 0; /* no blur or grain on the coded colours */
}

/* A target photo's largest face and the coded identity to draw on it. */
static fs_face_landmarks *coded_target(fs_test_swap_env *e, const char *file, fs_image *tgt,
                                       fs_identity_data *id, fs_swap_params *p)
{
    fs_test_load_rgb8(e->ctx, file, tgt);
    fs_face_box box;
    fs_face_landmarks *lm = malloc(sizeof(*lm));
    ck_assert_ptr_nonnull(lm);
    ck_assert(largest_face(e, tgt, &box, lm));
    coded_identity(id, p);
    return lm;
}

/* Frees what coded_target made, and closes the environment. */
static void coded_close(fs_test_swap_env *e, fs_image *tgt, fs_identity_data *id, fs_face_landmarks *lm)
{
    free(id->atlas.rgba);
    free(id->atlas.weight);
    free(lm);
    fs_image_free(tgt);
    fs_test_swap_env_close(e);
}

/* Mean distance, in texels, between the coded colour the result shows at
 * each listed vertex of @p lm and that vertex's own atlas position. */
static double coded_error(const fs_image *out, const fs_face_landmarks *lm, const fs_swap_mesh *mesh,
                          const int *verts, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        const int v = verts[i];
        const uint8_t *o = px(out, (int)lrintf(lm->points[v][0]), (int)lrintf(lm->points[v][1]));
        sum += hypot(o[0] - (256.0 * mesh->atlas.uv[v][0] - 0.5),
                     o[1] - (256.0 * mesh->atlas.uv[v][1] - 0.5));
    }
    return sum / n;
}



/* An atlas whose colour encodes its own coordinates (R = u, G = v) renders
 * every mesh vertex with the colour of its UV: the v direction of the atlas
 * and of the lookup agree, and the face comes out upright (the mouth's v is
 * larger than the eyes'). */
START_TEST(swap_uv_upright)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image tgt;
    fs_identity_data id;
    fs_swap_params p;
    fs_face_landmarks *lm = coded_target(&e, "faceapi_sample1.jpg", &tgt, &id, &p);
    fs_image out = fs_test_copy_image(&tgt, 3);
    fs_error_buf err;
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    FS_ASSERT_OK(fs_swap_face_rgb8(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&err), mesh, &p, &id, &out,
                                   (const float(*)[3])lm->points, NULL));
    /* Vertices well inside the face (nose, cheeks, chin, forehead, lips).
     * Not the chin's lowest point, 152: it lies on the mesh's outline, and
     * with no erosion its rounded pixel falls inside or outside by chance. */
    static const int probe[] = {1, 4, 5, 6, 8, 9, 10, 50, 280, 101, 330, 151, 175, 199, 200, 18, 17};
    int checked = 0;
    for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
        const int v = probe[i];
        const int x = (int)lrintf(lm->points[v][0]), y = (int)lrintf(lm->points[v][1]);
        const uint8_t *o = px(&out, x, y);
        const double want_u = 256.0 * mesh->atlas.uv[v][0] - 0.5;
        const double want_v = 256.0 * mesh->atlas.uv[v][1] - 0.5;
        /* a rounded pixel is up to 0.7 px off the vertex: allow a few texels of slope */
        ck_assert_msg(fabs(o[0] - want_u) <= 6 && fabs(o[1] - want_v) <= 6,
                      "vertex %d: rendered (u, v) ~ (%d, %d), atlas (%.1f, %.1f)", v, o[0], o[1],
                      want_u, want_v);
        checked++;
    }
    ck_assert_int_eq(checked, 17);
    /* Upright: the rendered chin (175) and lower lip (17) read larger v than
     * the rendered forehead (10) and nose bridge (6), and they lie lower in the image. */
    const uint8_t *chin = px(&out, (int)lrintf(lm->points[175][0]), (int)lrintf(lm->points[175][1]));
    const uint8_t *brow = px(&out, (int)lrintf(lm->points[10][0]), (int)lrintf(lm->points[10][1]));
    ck_assert_int_gt(chin[1], brow[1] + 100);
    ck_assert_float_gt(lm->points[175][1], lm->points[10][1]);
    free_copy(&out);
    coded_close(&e, &tgt, &id, lm);
}
END_TEST

/* The shape transfer moves the mesh inside the face towards the source's
 * shape and leaves the outline where the target's is. With the coded atlas
 * every vertex drawn at shape 0 shows its own atlas position at its
 * landmark; at shape 1 the vertices near the outline (shape weight under
 * 0.2) still do, while those well inside (weight 1) have moved. */
START_TEST(swap_shape_transfer)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image tgt, src;
    fs_identity_data id;
    fs_swap_params p;
    fs_face_landmarks *lm = coded_target(&e, "faceapi_sample1.jpg", &tgt, &id, &p);
    fs_test_load_rgb8(e.ctx, "astronaut.png", &src);
    fs_face_box box;
    fs_face_landmarks *slm = malloc(sizeof(*slm));
    ck_assert_ptr_nonnull(slm);
    ck_assert(largest_face(&e, &src, &box, slm));
    memcpy(id.landmarks, slm->points, sizeof(id.landmarks));
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    static double err[2][FS_MESH_LANDMARKS];
    for (int k = 0; k < 2; k++) {
        p.shape = k;
        fs_image out = fs_test_copy_image(&tgt, 3);
        fs_error_buf eb;
        FS_ASSERT_OK(fs_swap_face_rgb8(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&eb), mesh, &p, &id, &out,
                                       (const float(*)[3])lm->points, NULL));
        for (int v = 0; v < FS_MESH_LANDMARKS; v++)
            err[k][v] = coded_error(&out, lm, mesh, &v, 1);
        free_copy(&out);
    }
    double out_sum[2] = {0}, in_sum[2] = {0};
    int n_out = 0, n_in = 0;
    for (int v = 0; v < FS_MESH_LANDMARKS; v++) {
        if (err[0][v] > 3) /* not drawn at its landmark's pixel (the outermost ring) */
            continue;
        const float w = mesh->shape_weight[v];
        if (w < 0.2f) {
            n_out++;
            for (int k = 0; k < 2; k++)
                out_sum[k] += err[k][v];
        } else if (w >= 1.0f) {
            n_in++;
            for (int k = 0; k < 2; k++)
                in_sum[k] += err[k][v];
        }
    }
    printf("swap: shape transfer: %d outline vertices off by %.2f / %.2f texels, %d inner ones "
           "%.2f / %.2f (shape 0 / 1)\n", n_out, out_sum[0] / n_out, out_sum[1] / n_out, n_in,
           in_sum[0] / n_in, in_sum[1] / n_in);
    ck_assert_int_ge(n_out, 10);
    ck_assert_int_ge(n_in, 100);
    ck_assert_double_le(out_sum[1] / n_out, out_sum[0] / n_out + 1.5);
    ck_assert_double_gt(in_sum[1] / n_in, in_sum[0] / n_in + 2.5);

    /* Source landmarks with no shape (all at one point, as a crafted identity
     * file could hold): the alignment fails and the target's mesh is used. */
    memset(id.landmarks, 0, sizeof(id.landmarks));
    fs_image flat[2];
    for (int k = 0; k < 2; k++) {
        p.shape = k;
        flat[k] = fs_test_copy_image(&tgt, 3);
        fs_error_buf eb;
        FS_ASSERT_OK(fs_swap_face_rgb8(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&eb), mesh, &p, &id, &flat[k],
                                       (const float(*)[3])lm->points, NULL));
    }
    ck_assert_mem_eq(flat[0].data, flat[1].data, (size_t)flat[0].stride * (size_t)flat[0].height);
    free_copy(&flat[0]);
    free_copy(&flat[1]);
    free(slm);
    fs_image_free(&src);
    coded_close(&e, &tgt, &id, lm);
}
END_TEST

/* Issue 10, item 2: a face swapped onto its own photo with the library's
 * defaults comes back as itself: over the blend weight >= 0.5, SSIM at
 * least 0.95 and a mean absolute error of at most 3 levels in each
 * channel. The astronaut (frontal, 104 px), faceapi_sample3 (a warm and a
 * blue light) and faceapi_sample2 (its largest face, turned 56 degrees).
 * Measured: SSIM 0.988 / 0.974 / 0.992, worst channel 2.07 / 2.54 / 0.89
 * (benchmarks/light_leak, the same measure, on all eight test photos:
 * doc/light-notes.md, tenth step). */
START_TEST(swap_self_fidelity)
{
    static const char *const photos[] = {"astronaut.png", "faceapi_sample3.jpg",
                                         "faceapi_sample2.jpg"};
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    for (size_t i = 0; i < sizeof(photos) / sizeof(photos[0]); i++) {
        fs_image img, same;
        fs_identity *id;
        fs_face_box box;
        fs_face_landmarks *lm = capture_and_fit(&e, photos[i], photos[i], &img, &same, &id, &box);
        fs_swap_params p;
        fs_swap_params_default(&p);
        fs_image out = fs_test_copy_image(&img, 3);
        fs_swap_info info;
        memset(&info, 0, sizeof(info));
        info.keep_debug = 1;
        fs_error_buf eb;
        FS_ASSERT_OK(fs_swap_face_rgb8(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&eb), mesh, &p,
                                       fs_identity_internal_data(id), &out,
                                       (const float(*)[3])lm->points, &info));
        long n = 0;
        uint8_t *m = fs_swap_face_pixels(&img, &info, &n);
        ck_assert_ptr_nonnull(m);
        ck_assert_int_gt(n, 1000);
        double mae[3];
        fs_swap_mask_mae(&out, &img, m, mae);
        const double q = fs_swap_mask_ssim(&out, &img, m, &info);
        printf("swap: %s onto itself: SSIM %.4f, MAE %.2f %.2f %.2f over %ld px\n", photos[i], q,
               mae[0], mae[1], mae[2], n);
        ck_assert_msg(q >= 0.95, "%s: SSIM %.4f", photos[i], q);
        for (int c = 0; c < 3; c++)
            ck_assert_msg(mae[c] <= 3.0, "%s: channel %d off by %.2f", photos[i], c, mae[c]);
        free(m);
        fs_swap_info_free(&info);
        free_copy(&out);
        free(lm);
        fs_identity_destroy(id);
        fs_image_free(&same);
        fs_image_free(&img);
    }
    fs_test_swap_env_close(&e);
}
END_TEST

/* Whose eyes show. With the coded atlas on the target's own mesh: in gaze
 * mode (the default) the target's iris centre keeps the target's pixel
 * while a point of the eye opening between the outer corner and the iris
 * shows the atlas; with FS_SWAP_EYES_TARGET both keep the target's; with
 * FS_SWAP_EYES_SOURCE both show the atlas. */
START_TEST(swap_eyes_modes)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image tgt;
    fs_identity_data id;
    fs_swap_params p;
    fs_face_landmarks *lm = coded_target(&e, "astronaut.png", &tgt, &id, &p);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    /* Iris centres 468 and 473 (rims: the next four); outer eye corners 33 and 263. */
    static const int iris_c[2] = {468, 473}, corner[2] = {33, 263};
    static const int modes[3] = {FS_SWAP_EYES_GAZE, FS_SWAP_EYES_TARGET, FS_SWAP_EYES_SOURCE};
    for (int m = 0; m < 3; m++) {
        p.eyes = modes[m];
        fs_image out = fs_test_copy_image(&tgt, 3);
        fs_error_buf eb;
        FS_ASSERT_OK(fs_swap_face_rgb8(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&eb), mesh, &p, &id, &out,
                                       (const float(*)[3])lm->points, NULL));
        for (int k = 0; k < 2; k++) {
            /* The iris nearer to this corner (which of 468 / 473 is which eye
             * is not assumed). */
            const float *o = lm->points[corner[k]];
            const float *c0 = lm->points[iris_c[0]], *c1 = lm->points[iris_c[1]];
            const int ic = hypot(o[0] - c0[0], o[1] - c0[1]) <= hypot(o[0] - c1[0], o[1] - c1[1])
                               ? iris_c[0] : iris_c[1];
            const float *c = lm->points[ic];
            double r = 0;
            for (int j = 1; j <= 4; j++)
                r += 0.25 * hypot(lm->points[ic + j][0] - c[0], lm->points[ic + j][1] - c[1]);
            /* 1.5 iris radii from the centre towards the corner: the white. */
            const double d = hypot(o[0] - c[0], o[1] - c[1]), t = 1.5 * r / d;
            ck_assert_msg(t < 0.8, "eye %d: corner %.1f px from the iris centre, iris radius %.1f", k, d, r);
            const int cx = (int)lrintf(c[0]), cy = (int)lrintf(c[1]);
            const int wx = (int)lrint(c[0] + t * (o[0] - c[0]));
            const int wy = (int)lrint(c[1] + t * (o[1] - c[1]));
            const int iris_kept = memcmp(px(&out, cx, cy), px(&tgt, cx, cy), 3) == 0;
            const int white_kept = memcmp(px(&out, wx, wy), px(&tgt, wx, wy), 3) == 0;
            ck_assert_msg(iris_kept == (modes[m] != FS_SWAP_EYES_SOURCE),
                          "mode %d eye %d: iris centre kept %d", modes[m], k, iris_kept);
            ck_assert_msg(white_kept == (modes[m] == FS_SWAP_EYES_TARGET),
                          "mode %d eye %d: eye white kept %d", modes[m], k, white_kept);
        }
        free_copy(&out);
    }
    fs_error_buf eb;
    for (int k = 0; k < 4; k++) {
        fs_swap_params bad = p;
        bad.eyes = k == 0 ? 3 : bad.eyes;
        bad.shape = k == 1 ? 1.5 : k == 2 ? NAN : bad.shape;
        bad.hole_feather = k == 3 ? -0.1 : bad.hole_feather;
        FS_ASSERT_STATUS(fs_swap_face_rgb8(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&eb), mesh, &bad, &id, &tgt,
                                           (const float(*)[3])lm->points, NULL),
                         FS_ERR_OUT_OF_RANGE);
    }
    coded_close(&e, &tgt, &id, lm);
}
END_TEST

/* Signed distance of (x, y) to the closed polygon of landmarks @p ring
 * (n of them) of @p lm: negative inside, image px. */
static double ring_distance(const fs_face_landmarks *lm, const int *ring, int n, double x, double y)
{
    int inside = 0;
    double near = INFINITY;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        const float *a = lm->points[ring[i]], *b = lm->points[ring[j]];
        if ((a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0])
            inside = !inside;
        const double ex = b[0] - a[0], ey = b[1] - a[1], l2 = ex * ex + ey * ey;
        double t = l2 > 0 ? ((x - a[0]) * ex + (y - a[1]) * ey) / l2 : 0.0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        near = fmin(near, hypot(x - a[0] - t * ex, y - a[1] - t * ey));
    }
    return inside ? -near : near;
}

/* Largest channel difference between two pixels. */
static int px_diff(const uint8_t *a, const uint8_t *b)
{
    int d = 0;
    for (int c = 0; c < 3; c++)
        d = abs(a[c] - b[c]) > d ? abs(a[c] - b[c]) : d;
    return d;
}

/* Distance in px from window pixel (x, y) to the nearest pixel where the
 * blend weight @p alpha (w*h) is under 1, searched out to @p r; r + 1 when
 * none is that near. */
static int feather_distance(const float *alpha, int w, int h, int x, int y, int r)
{
    int best = r + 1;
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            const int xx = x + dx, yy = y + dy;
            const int d = (int)ceil(hypot(dx, dy));
            if (d < best && (xx < 0 || yy < 0 || xx >= w || yy >= h ||
                             alpha[(size_t)yy * (size_t)w + (size_t)xx] < 1.0f))
                best = d;
        }
    return best;
}

/* astronaut.png captured, faceapi_sample1.jpg's largest face fitted: the
 * openings tests' pair (heavy eye make-up and a closed mouth on the target,
 * a smile with teeth on the source). */
typedef struct openings_env {
    fs_test_swap_env e;
    fs_image src, tgt;
    fs_identity *id;
    fs_face_box box;
    fs_face_landmarks *lm;
} openings_env;

static void openings_open(openings_env *c)
{
    fs_test_swap_env_open(&c->e);
    c->lm = capture_and_fit(&c->e, "astronaut.png", "faceapi_sample1.jpg", &c->src, &c->tgt, &c->id, &c->box);
}

static void openings_close(openings_env *c)
{
    free(c->lm);
    fs_identity_destroy(c->id);
    fs_image_free(&c->tgt);
    fs_image_free(&c->src);
    fs_test_swap_env_close(&c->e);
}

/* A copy of @p tgt with @p id swapped onto its face (landmarks @p pts),
 * the mesh on the target's own landmarks (shape 0), eyes mode @p eyes and
 * blend @p blend, the rest the defaults (checked: target mode, multiband);
 * *@p p the parameters used, *@p info with the debug images (free both
 * with free_copy and fs_swap_info_free). */
static fs_image swap_on_own_mesh(fs_test_swap_env *e, const fs_image *tgt, fs_identity *id,
                                 const float (*pts)[3], int eyes, int blend, fs_swap_params *p,
                                 fs_swap_info *info)
{
    fs_swap_params_default(p);
    ck_assert_int_eq(p->eyes, FS_SWAP_EYES_TARGET);
    ck_assert_int_eq(p->blend, FS_BLEND_MULTIBAND);
    p->eyes = eyes;
    p->blend = blend;
    p->shape = 0;
    fs_image out = fs_test_copy_image(tgt, 3);
    fs_error_buf eb;
    memset(info, 0, sizeof(*info));
    info->keep_debug = 1;
    FS_ASSERT_OK(fs_swap_face_rgb8(fs_context_engine(e->ctx), FS_EXEC_SERIAL(&eb), fs_renderer_internal_mesh(e->ren),
                                   p, fs_identity_internal_data(id), &out, pts, info));
    return out;
}

/* The two eyes' rings (the atlas mesh's vertex ids) and their widths
 * (corner to corner) on landmarks @p pts. */
static void eye_rings(const fs_atlas_mesh *am, const float (*pts)[3], int ring[2][FS_ATLAS_RING_MAX],
                      double width[2])
{
    for (int r = 0; r < 2; r++) {
        for (int i = 0; i < am->ring_len[r]; i++)
            ring[r][i] = am->ring[r][i];
        const float *c0 = pts[ring[r][0]], *c1 = pts[ring[r][am->ring_len[r] / 2]];
        width[r] = hypot(c1[0] - c0[0], c1[1] - c0[1]);
    }
}

/* Clean openings (issue 10, item 4), with a real identity on a target with
 * heavy eye make-up and a closed mouth (faceapi_sample1; the source, the
 * astronaut, smiles with her teeth showing), the mesh on the target's own
 * landmarks (shape 0). The pixels checked: inside either lid contour
 * (eroded by 1.5 px) and the band above the upper lid where the lashes lie
 * (0.5 px out to 7% of the eye's width), less the openings' own feather at
 * the grown edge.
 * - Alpha blend, target mode: every one is the target's own (2 levels: the
 *   render's 8-bit rounding); the lookup samples the target where the
 *   rasteriser puts it (both with pixel centres at integers), and the
 *   openings' feather stays outside. Gaze mode mixes the whites: over a
 *   tenth differ by more than 6 levels, so the check can fail.
 * - Multiband blend (the default): the pyramid's coarse bands carry the
 *   skin around an opening into it wherever the face mask's weight is under
 *   1 within their reach (2^levels px, 16 here): one eye's corner lies a
 *   few px from the mask's feather, and its pixels out to 8 px from it
 *   change by up to 15 levels (41 of 344 by more than 6), a legitimate
 *   effect of the blend, not of the openings. Pixels beyond that reach are
 *   the target's within 3 levels in target mode (256 of them, worst 2).
 * - Both: between the closed lips (the inner lip ring grown by 1 px) at most
 *   a quarter of the pixels keep the target's colours (the source's lips
 *   are drawn there), they are darker than the lips beside them (a line
 *   where the lips meet, not a pale slit), and fs_swap_mouth_open tells
 *   closed from open. */
START_TEST(swap_openings_clean)
{
    openings_env c;
    openings_open(&c);
    const fs_face_landmarks *lm = c.lm;
    const float(*pts)[3] = (const float(*)[3])lm->points;
    ck_assert_double_lt(fs_swap_mouth_open(pts), FS_SWAP_MOUTH_CLOSED);
    ck_assert_double_gt(fs_swap_mouth_open((const float(*)[3])fs_identity_internal_data(c.id)->landmarks),
                        FS_SWAP_MOUTH_CLOSED);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(c.e.ren);
    const fs_atlas_mesh *am = &mesh->atlas;
    static const int modes[2] = {FS_SWAP_EYES_TARGET, FS_SWAP_EYES_GAZE};
    static const int blends[2] = {FS_BLEND_ALPHA, FS_BLEND_MULTIBAND};
    int rings[2][FS_ATLAS_RING_MAX];
    double widths[2];
    eye_rings(am, pts, rings, widths);
    for (int run = 0; run < 4; run++) {
        const int mode = modes[run / 2], blend = blends[run % 2];
        fs_swap_params p;
        fs_swap_info info;
        fs_image out = swap_on_own_mesh(&c.e, &c.tgt, c.id, pts, mode, blend, &p, &info);
        /* The openings' feather reaches this far into them (twice its width). */
        const double fringe = p.hole_feather * info.face_size;
        const int reach = 1 << fs_blend_multiband_levels(info.w, info.h);
        long n_eye = 0, n_lash = 0, n_off = 0, n_far = 0;
        int worst = 0, worst_far = 0;
        for (int r = 0; r < 2; r++) {
            const int *ring = rings[r], n = am->ring_len[r];
            const double width = widths[r];
            const float *c0 = pts[ring[0]], *c1 = pts[ring[n / 2]];
            const double cy = 0.5 * (c0[1] + c1[1]);
            const int x0 = (int)fmin(c0[0], c1[0]), x1 = (int)ceil(fmax(c0[0], c1[0]));
            for (int y = (int)(cy - width); y <= (int)(cy + width); y++)
                for (int x = x0; x <= x1; x++) {
                    const double d = ring_distance(lm, ring, n, x, y);
                    /* Above the upper lid: above the ring's point nearest x. */
                    const int lash = d > 0.5 && d < 0.07 * width && y < cy;
                    /* the grown edge: a tenth of the width above, 3% below */
                    const double edge = (y < cy ? 0.10 : 0.03) * width;
                    if ((d > -1.5 && !lash) || d > edge - fringe)
                        continue;
                    const int diff = px_diff(px(&out, x, y), px(&c.tgt, x, y));
                    worst = diff > worst ? diff : worst;
                    n_off += diff > 6;
                    n_eye += !lash;
                    n_lash += lash;
                    if (feather_distance(info.alpha, info.w, info.h, x - info.x0, y - info.y0,
                                         reach) > reach) {
                        n_far++;
                        worst_far = diff > worst_far ? diff : worst_far;
                    }
                }
        }
        printf("swap: eye openings (mode %d, blend %d): %ld px inside, %ld in the lash band, %ld "
               "off by more than 6 levels, worst %d; %ld beyond the blend's reach (%d px) of the "
               "mask's feather, worst %d\n", mode, blend, n_eye, n_lash, n_off, worst, n_far, reach,
               worst_far);
        ck_assert_int_gt(n_eye, 100);
        ck_assert_int_gt(n_lash, 4);
        if (mode == FS_SWAP_EYES_GAZE)
            ck_assert_int_gt(10 * n_off, n_eye + n_lash);
        else if (blend == FS_BLEND_ALPHA)
            ck_assert_int_le(worst, 2);
        else {
            ck_assert_int_gt(n_far, 100);
            ck_assert_int_le(worst_far, 3);
        }
        /* Between the closed lips. */
        int ring[FS_ATLAS_RING_MAX];
        for (int i = 0; i < am->ring_len[2]; i++)
            ring[i] = am->ring[2][i];
        long n_lip = 0, kept = 0, n_on = 0;
        double y_line = 0, y_on = 0;
        const int mx0 = (int)pts[78][0], mx1 = (int)ceil(pts[308][0]);
        const int my = (int)lrintf(0.5f * (pts[13][1] + pts[14][1]));
        for (int y = my - 8; y <= my + 8; y++)
            for (int x = mx0; x <= mx1; x++) {
                const double d = ring_distance(lm, ring, am->ring_len[2], x, y);
                const uint8_t *q = px(&out, x, y);
                const double luma = 0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2];
                if (d < 1.0) {
                    n_lip++;
                    kept += px_diff(q, px(&c.tgt, x, y)) <= 2;
                    y_line += luma;
                } else if (d < 4.0) { /* on the lips beside the line */
                    n_on++;
                    y_on += luma;
                }
            }
        printf("swap: closed mouth (mode %d, blend %d): %ld of %ld px between the lips the "
               "target's; luma %.1f there, %.1f on the lips beside them\n", mode, blend, kept,
               n_lip, y_line / (double)(n_lip ? n_lip : 1), y_on / (double)(n_on ? n_on : 1));
        ck_assert_int_gt(n_lip, 20);
        ck_assert_int_gt(n_on, 20);
        ck_assert_int_le(4 * kept, n_lip);
        /* No pale slit: where the lips meet is darker than the lips beside
         * (0.76 of them; 0.91 with the source's lip as read, whose pale
         * inner edge made a dotted line there). */
        ck_assert_double_lt(y_line / (double)n_lip, 0.85 * y_on / (double)n_on);
        fs_swap_info_free(&info);
        free_copy(&out);
    }
    openings_close(&c);
}
END_TEST

/* Of landmarks @p a and @p b, the one nearer (@p x, @p y). */
static int nearer(const float (*pts)[3], int a, int b, double x, double y)
{
    return hypot(pts[a][0] - x, pts[a][1] - y) < hypot(pts[b][0] - x, pts[b][1] - y) ? a : b;
}

/* The residual, levels per channel, of @p out against @p in times a gain
 * per channel (the ratio of their means) over the band above eye @p r's
 * upper lid, from @p lo to @p hi of its width out of the ring, across the
 * middle half of the eye: ~0 where the swap kept the target's pixels,
 * recoloured; the source's texture where it drew the render. */
static double lid_band_residual(const fs_face_landmarks *lm, const int *ring, int n, double width,
                                const fs_image *out, const fs_image *in, double lo, double hi)
{
    const float(*pts)[3] = (const float(*)[3])lm->points;
    const float *c0 = pts[ring[0]], *c1 = pts[ring[n / 2]];
    const double mx = 0.5 * (c0[0] + c1[0]), my = 0.5 * (c0[1] + c1[1]);
    double so[3] = {0, 0, 0}, si[3] = {0, 0, 0};
    long m = 0;
    for (int pass = 0; pass < 2; pass++) {
        double res = 0;
        for (int y = (int)(my - width); y < (int)my; y++)
            for (int x = (int)(mx - 0.25 * width); x <= (int)(mx + 0.25 * width); x++) {
                const double d = ring_distance(lm, ring, n, x, y);
                if (d < lo * width || d > hi * width)
                    continue;
                const uint8_t *a = px(out, x, y), *b = px(in, x, y);
                for (int c = 0; c < 3; c++) {
                    if (pass == 0) {
                        so[c] += a[c];
                        si[c] += b[c];
                    } else {
                        res += fabs(a[c] - b[c] * so[c] / si[c]);
                    }
                }
                m += pass == 0;
            }
        if (pass == 1)
            return res / (3.0 * (double)m);
        ck_assert_int_gt(m, 10);
    }
    return 0;
}

/* faceapi_sample1's largest face, fitted as it is, with one eye painted
 * over in turn, as two fits gone wrong would see it, and swapped in target
 * mode (alpha blend, the mesh on the target's landmarks):
 * - blind (lib/swap/lookup.c, EYE_BLIND_P10): its grown opening and its
 *   iris disc painted with its cheek's colour (MediaPipe 50 / 280), as a
 *   fit that put the ring on skin would see it. Inside its ring (eroded by
 *   1.5 px) over half the pixels now come from the atlas (more than 6
 *   levels off the painted target); the other eye's stay the target's (2
 *   levels: the render's rounding), as swap_openings_clean asserts of both
 *   eyes unpainted.
 * - closed (EYE_CLOSED_BRIGHT): a closed lid in shadow, its ring filled
 *   with 0.35 x its cheek's colour and a lash line along the lower lid at
 *   0.15 x, as a closed eye that the fitter reads as open looks. In the
 *   band 0.13-0.18 of the eye's width above its upper lid, past an open
 *   eye's grown opening (0.10), its pixels are the painted target's times
 *   a gain per channel (under 2 levels off once that is taken out), the
 *   open eye's the source's skin (over twice that).
 * - one eye blind and the other closed: the blind one is a closed eye
 *   under hair, kept whole as its twin (both under 8 levels there, 0.23
 *   to 4.1 measured, against 30 for the source's). */
START_TEST(swap_openings_painted)
{
    openings_env c;
    openings_open(&c);
    const fs_face_landmarks *lm = c.lm;
    const float(*pts)[3] = (const float(*)[3])lm->points;
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(c.e.ren);
    const fs_atlas_mesh *am = &mesh->atlas;
    int ring[2][FS_ATLAS_RING_MAX];
    double width[2];
    eye_rings(am, pts, ring, width);
    for (int run = 0; run < 6; run++) {
        /* kind 0 blind, 1 closed, 2 the painted eye blind and the other closed */
        const int kind = run / 2, painted = run % 2, closed = kind == 1;
        fs_image in = fs_test_copy_image(&c.tgt, 3);
        for (int pass = 0; pass < 1 + (kind == 2); pass++) {
            const int r = pass ? 1 - painted : painted, n = am->ring_len[r];
            const int as_closed = closed || pass;
            const float *c0 = pts[ring[r][0]], *c1 = pts[ring[r][n / 2]];
            const double mx = 0.5 * (c0[0] + c1[0]), my = 0.5 * (c0[1] + c1[1]);
            /* The cheek below this eye and the iris nearer its middle. */
            const int cheek = nearer(pts, 50, 280, mx, my);
            const int ic = nearer(pts, 468, 473, mx, my);
            double ir = 0;
            for (int j = 1; j <= 4; j++)
                ir += 0.25 * hypot(pts[ic + j][0] - pts[ic][0], pts[ic + j][1] - pts[ic][1]);
            uint8_t skin[3];
            memcpy(skin, px(&c.tgt, (int)pts[cheek][0], (int)pts[cheek][1]), 3);
            long n_paint = 0;
            for (int y = (int)(my - width[r]); y <= (int)(my + width[r]); y++)
                for (int x = (int)(mx - width[r]); x <= (int)(mx + width[r]); x++) {
                    const double d = ring_distance(lm, ring[r], n, x + 0.5, y + 0.5);
                    uint8_t *q = px(&in, x, y);
                    if (!as_closed && (d < 0.12 * width[r] || hypot(x + 0.5 - pts[ic][0], y + 0.5 - pts[ic][1]) < ir)) {
                        memcpy(q, skin, 3);
                        n_paint++;
                    } else if (as_closed && d < 1.0) {
                        /* the lash line: within 1.5 px of the ring, below the eye's middle */
                        const double k = d > -1.5 && y + 0.5 > my ? 0.15 : 0.35;
                        for (int ch = 0; ch < 3; ch++)
                            q[ch] = (uint8_t)lrint(k * skin[ch]);
                        n_paint++;
                    }
                }
            ck_assert_int_gt(n_paint, 100);
        }
        fs_swap_params p;
        fs_swap_info info;
        fs_image out = swap_on_own_mesh(&c.e, &in, c.id, pts, FS_SWAP_EYES_TARGET, FS_BLEND_ALPHA, &p, &info);
        if (kind == 2) {
            /* both kept whole, the blind one as the closed one's twin */
            for (int r = 0; r < 2; r++) {
                const double res = lid_band_residual(lm, ring[r], am->ring_len[r], width[r], &out, &in, 0.13, 0.18);
                printf("swap: eye %d painted blind, the other closed: eye %d above its lid %.2f levels "
                       "off the target recoloured\n", painted, r, res);
                /* 0.23-4.1 measured: the blind eye's flat paint moves the
                 * skin mask round it; the source's there is off by 30 */
                ck_assert_double_lt(res, 8.0);
            }
        }
        if (closed) {
            double res[2];
            for (int r = 0; r < 2; r++)
                res[r] = lid_band_residual(lm, ring[r], am->ring_len[r], width[r], &out, &in, 0.13, 0.18);
            printf("swap: eye %d painted closed: above its lid %.2f levels off the target recoloured, "
                   "above the open eye's %.2f\n", painted, res[painted], res[1 - painted]);
            ck_assert_double_lt(res[painted], 2.0);
            ck_assert_double_gt(res[1 - painted], 2.0 * res[painted]);
        }
        for (int r = 0; r < 2 && kind == 0; r++) {
            const int n = am->ring_len[r];
            const float *c0 = pts[ring[r][0]], *c1 = pts[ring[r][n / 2]];
            const double cy = 0.5 * (c0[1] + c1[1]);
            const int x0 = (int)fmin(c0[0], c1[0]), x1 = (int)ceil(fmax(c0[0], c1[0]));
            long n_eye = 0, n_off = 0;
            int worst = 0;
            for (int y = (int)(cy - width[r]); y <= (int)(cy + width[r]); y++)
                for (int x = x0; x <= x1; x++) {
                    if (ring_distance(lm, ring[r], n, x, y) > -1.5)
                        continue;
                    const int diff = px_diff(px(&out, x, y), px(&in, x, y));
                    worst = diff > worst ? diff : worst;
                    n_off += diff > 6;
                    n_eye++;
                }
            printf("swap: eye %d with eye %d painted over: %ld px inside, %ld off the target by more "
                   "than 6 levels, worst %d\n", r, painted, n_eye, n_off, worst);
            ck_assert_int_gt(n_eye, 50);
            if (r == painted)
                ck_assert_int_gt(2 * n_off, n_eye);
            else
                ck_assert_int_le(worst, 2);
        }
        fs_swap_info_free(&info);
        free_copy(&out);
        free_copy(&in);
    }
    openings_close(&c);
}
END_TEST

/* The swap's stages go through the engine's tables: tables whose stage
 * entries count their calls and forward to the context's give the same
 * bytes, and every stage the parameters ask for was called. */
static const fs_engine *stage_base;
static int stage_calls[13];

static fs_status count_erode(const fs_exec *ex, const uint8_t *m, int w, int h, ptrdiff_t st,
                             double r, int bb, uint8_t *o, ptrdiff_t os)
{
    stage_calls[0]++;
    return stage_base->compose.mask_erode(ex, m, w, h, st, r, bb, o, os);
}
static fs_status count_feather(const fs_exec *ex, const uint8_t *m, int w, int h, ptrdiff_t st,
                               double f, int bb, float *a, ptrdiff_t as)
{
    stage_calls[1]++;
    return stage_base->compose.mask_feather(ex, m, w, h, st, f, bb, a, as);
}
static fs_status count_match(const fs_exec *ex, float *r, ptrdiff_t rs, const float *t,
                             ptrdiff_t ts, const float *m, int w, int h)
{
    stage_calls[2]++;
    return stage_base->compose.colour_match(ex, r, rs, t, ts, m, w, h);
}
static fs_status count_lab_stats(const fs_exec *ex, const float *img, ptrdiff_t st,
                                 const float *m, int w, int h, double mean[3], double sd[3])
{
    stage_calls[10]++;
    return stage_base->compose.colour_lab_stats(ex, img, st, m, w, h, mean, sd);
}
static fs_status count_match_to(const fs_exec *ex, float *r, ptrdiff_t rs, const float *m, int w,
                                int h, const double mean[3], const double sd[3],
                                fs_colour_lightness lightness)
{
    stage_calls[11]++;
    return stage_base->compose.colour_match_to(ex, r, rs, m, w, h, mean, sd, lightness);
}
static fs_status count_shading(const fs_exec *ex, const fs_compose_ops *ops, float *r,
                               ptrdiff_t rs, const float *t, ptrdiff_t ts, const float *m, int w,
                               int h, double sigma, double max_gain)
{
    stage_calls[3]++;
    return stage_base->compose.colour_shading(ex, ops, r, rs, t, ts, m, w, h, sigma, max_gain);
}
static fs_status count_chroma(const fs_exec *ex, const fs_compose_ops *ops, float *r,
                              ptrdiff_t rs, const float *t, ptrdiff_t ts, const float *m, int w,
                              int h, double sigma, double max_gain)
{
    stage_calls[12]++;
    return stage_base->compose.colour_chroma(ex, ops, r, rs, t, ts, m, w, h, sigma, max_gain);
}
static fs_status count_detail(const fs_exec *ex, const fs_compose_ops *ops, float *r,
                              ptrdiff_t rs, const float *t, ptrdiff_t ts, const float *m, int w,
                              int h, uint64_t seed, fs_detail_match *out)
{
    stage_calls[4]++;
    return stage_base->compose.colour_detail(ex, ops, r, rs, t, ts, m, w, h, seed, out);
}
static fs_status count_multiband(const fs_exec *ex, const uint8_t *s, ptrdiff_t ss, uint8_t *d,
                                 ptrdiff_t ds, const float *a, int w, int h, int levels)
{
    stage_calls[5]++;
    return stage_base->compose.blend_multiband_u8(ex, s, ss, d, ds, a, w, h, levels);
}
static fs_status count_poisson(const fs_exec *ex, const uint8_t *s, ptrdiff_t ss, uint8_t *d,
                               ptrdiff_t ds, const uint8_t *m, ptrdiff_t ms, int w, int h,
                               const fs_poisson_opts *o, fs_poisson_info *info)
{
    stage_calls[6]++;
    return stage_base->compose.blend_poisson_u8(ex, s, ss, d, ds, m, ms, w, h, o, info);
}
static fs_status count_lookup(const fs_exec *ex, const fs_swap_lookup *d, fs_swap_lookup_out *o)
{
    stage_calls[7]++;
    return stage_base->swap.lookup(ex, d, o);
}
static fs_status count_finish(const fs_exec *ex, float *r, const float *wp, const float *ai,
                              const uint8_t *er, const uint8_t *img, ptrdiff_t is, int w, int h,
                              uint8_t *out)
{
    stage_calls[8]++;
    return stage_base->swap.finish_u8(ex, r, wp, ai, er, img, is, w, h, out);
}
static fs_status count_raster(const fs_exec *ex, const fs_raster_vertex *v, const float *attr,
                              int nv, const int32_t (*tri)[3], int nt, const fs_raster_desc *d,
                              const fs_raster_out *out)
{
    stage_calls[9]++;
    return stage_base->raster.triangles(ex, v, attr, nv, tri, nt, d, out);
}

START_TEST(swap_stages_through_ops)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image tgt;
    fs_identity_data id;
    fs_swap_params p;
    fs_face_landmarks *lm = coded_target(&e, "astronaut.png", &tgt, &id, &p);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    stage_base = fs_context_engine(e.ctx);
    fs_engine counted = *stage_base;
    counted.compose.mask_erode = count_erode;
    counted.compose.mask_feather = count_feather;
    counted.compose.colour_match = count_match;
    counted.compose.colour_lab_stats = count_lab_stats;
    counted.compose.colour_match_to = count_match_to;
    counted.compose.colour_shading = count_shading;
    counted.compose.colour_chroma = count_chroma;
    counted.compose.colour_detail = count_detail;
    counted.compose.blend_multiband_u8 = count_multiband;
    counted.compose.blend_poisson_u8 = count_poisson;
    counted.swap.lookup = count_lookup;
    counted.swap.finish_u8 = count_finish;
    counted.raster.triangles = count_raster;
    static const int blends[2] = {FS_BLEND_MULTIBAND, FS_BLEND_POISSON};
    for (int b = 0; b < 2; b++) {
        p.blend = blends[b];
        p.colour = FS_COLOR_FULL;
        p.match_detail = 1;
        fs_image ref = fs_test_copy_image(&tgt, 3), got = fs_test_copy_image(&tgt, 3);
        fs_error_buf eb;
        FS_ASSERT_OK(fs_swap_face_rgb8(stage_base, FS_EXEC_SERIAL(&eb), mesh, &p, &id, &ref,
                                       (const float(*)[3])lm->points, NULL));
        memset(stage_calls, 0, sizeof(stage_calls));
        FS_ASSERT_OK(fs_swap_face_rgb8(&counted, FS_EXEC_SERIAL(&eb), mesh, &p, &id, &got,
                                       (const float(*)[3])lm->points, NULL));
        ck_assert(memcmp(ref.data, got.data, (size_t)ref.stride * (size_t)ref.height) == 0);
        for (int k = 0; k < 5; k++)
            if (k != 2)
                ck_assert_msg(stage_calls[k] > 0, "blend %d: stage %d not called", blends[b], k);
        /* The colour match runs to the target's statistics over the
         * render's own pixels (colour_lab_stats once in the prepare, once
         * in the render, colour_match_to once), not through the table's
         * whole-match entry. */
        ck_assert_int_eq(stage_calls[2], 0);
        ck_assert_int_eq(stage_calls[10], 2);
        ck_assert_int_eq(stage_calls[11], 1);
        ck_assert_int_eq(stage_calls[12], 1);
        ck_assert_int_eq(stage_calls[5], b == 0);
        ck_assert_int_eq(stage_calls[6], b == 1);
        for (int k = 7; k < 9; k++)
            ck_assert_msg(stage_calls[k] == 1, "stage %d called %d times", k, stage_calls[k]);
        /* The target's own mesh (fs_swap_target_prepare), then the shaped one. */
        ck_assert_int_eq(stage_calls[9], 2);
        free_copy(&ref);
        free_copy(&got);
    }

    /* The texture stage's entries refuse what they cannot read. */
    fs_error_buf eb;
    float px3[3] = {0.5f, 0.5f, 0.5f}, one = 1.0f;
    uint8_t b3[3] = {0}, on = 1, skin = 0, open = 0;
    fs_swap_lookup look = {&id.atlas, &mesh->atlas, px3, &on, b3, 3, 0, 0, 1, 1,
                           FS_SWAP_EYES_GAZE, -1.0f, 0.0f, 1, {{0}}, {{0}}, 0, NULL, 0.0f};
    fs_swap_lookup_out lo = {px3, px3, px3, &skin, &open, 0, 0, 0, NULL, NULL};
    FS_ASSERT_STATUS(stage_base->swap.lookup(FS_EXEC_SERIAL(&eb), NULL, &lo), FS_ERR_INVALID_ARGUMENT);
    look.w = 0; /* an empty window */
    FS_ASSERT_STATUS(stage_base->swap.lookup(FS_EXEC_SERIAL(&eb), &look, &lo), FS_ERR_INVALID_ARGUMENT);
    look.w = 1;
    look.stride = 2;
    FS_ASSERT_STATUS(stage_base->swap.lookup(FS_EXEC_SERIAL(&eb), &look, &lo), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(stage_base->swap.finish_u8(FS_EXEC_SERIAL(&eb), px3, px3, &one, &on, b3, 2, 1, 1, b3),
                     FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(stage_base->swap.finish_u8(FS_EXEC_SERIAL(&eb), px3, NULL, &one, &on, b3, 3, 1, 1, b3),
                     FS_ERR_INVALID_ARGUMENT);
    coded_close(&e, &tgt, &id, lm);
}
END_TEST

/* The hair guard tests' set-up: @p e opened, *id the coded identity with a
 * skin model fitted on guard_tone with +-5 levels of noise per channel, and
 * into @p dim that tone darkened until its squared distance to the model
 * passes 12 (between the side band's bound, 8, and the outer band's,
 * 16.3). Returns the renderer's mesh. */
static const float guard_tone[3] = {200, 150, 120}, guard_hair[3] = {95, 75, 50};

static const fs_swap_mesh *guard_open(fs_test_swap_env *e, fs_identity_data *id, uint32_t seed,
                                      float dim[3])
{
    fs_test_swap_env_open(e);
    fs_swap_params p;
    coded_identity(id, &p);
    enum { N = 2000 };
    static float rgb[N * 3];
    uint32_t st = seed;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++) {
            st = st * 1664525u + 1013904223u;
            rgb[3 * i + c] = guard_tone[c] + (float)(st >> 24) / 25.0f - 5.0f;
        }
    ck_assert_int_eq(fs_skin_model_fit(rgb, N, &id->atlas.skin), 1);
    float d2 = 0.0f, dy = 0.0f;
    for (float k = 0.0f; k < 60.0f && d2 < 12.0f; k += 0.25f) {
        for (int c = 0; c < 3; c++)
            dim[c] = guard_tone[c] - k;
        d2 = fs_skin_distance(&id->atlas.skin, dim, &dy);
    }
    ck_assert_msg(d2 > 8.0f && d2 < 16.3f && dy < 0.0f, "darker tone at d2 %g, dy %g", (double)d2,
                  (double)dy);
    return fs_renderer_internal_mesh(e->ren);
}

/* Lookup attributes for @p w places at (u, v) = @p at[i][0..1] of
 * @p stride floats each, well inside the face (not the outer band). */
static void guard_places(const float *at, int stride, int w, float *attr, uint8_t *covered)
{
    for (int i = 0; i < w; i++) {
        float *a = attr + FS_SWAP_ATTR * i;
        a[0] = at[stride * i];
        a[1] = at[stride * i + 1];
        a[2] = (float)i + 0.5f;
        a[3] = 0.5f;
        a[4] = 1.0f;
        for (int c = 0; c < 3; c++)
            a[FS_SWAP_ATTR_EXTRA + c] = 1.0f;
        covered[i] = 1;
    }
}

/* The fast lookup calls the same places skin as the reference just did
 * (@p lo holds the reference's answer for @p w places). */
static void guard_fast_agrees(const fs_swap_lookup *look, fs_swap_lookup_out *lo, int w)
{
    uint8_t ref[16];
    ck_assert_int_le(w, (int)sizeof(ref));
    memcpy(ref, lo->skin, (size_t)w);
    fs_error_buf eb;
    FS_ASSERT_OK(fs_swap_lookup_fast(FS_EXEC_SERIAL(&eb), look, lo));
    ck_assert_mem_eq(ref, lo->skin, (size_t)w);
}

static void guard_close(fs_test_swap_env *e, fs_identity_data *id)
{
    free(id->atlas.rgba);
    free(id->atlas.weight);
    fs_test_swap_env_close(e);
}

/* Where the lookup's hair guard asks the source's skin model: an atlas of
 * one colour, looked up at chosen places. Hair-coloured, it stays out of the
 * mask above the brows, along the cheeks' sides and at the temples beyond
 * the brows' outer ends; the brows' tails and the cheek are the face's own
 * whatever their colour. Skin-coloured, every place is skin (none of them
 * is an opening). A little darker than the skin (squared distance between
 * the side's bound, 8, and the outer band's, 16.3: the mixed texels where
 * hanging hair thins out over a cheek), it stays out along the cheeks'
 * sides only. */
START_TEST(swap_skin_guard_regions)
{
    fs_test_swap_env e;
    fs_identity_data id;
    float dim[3];
    const fs_swap_mesh *mesh = guard_open(&e, &id, 99, dim);
    enum { W = 8 };
    /* u, v; 1 where hair stays out; 1 where the darker tone stays out, 0
     * where it is skin, -1 not asked (the temples: above the brows' line or
     * not, by the mesh) */
    static const float at[W][4] = {
        {0.12f, 0.33f, 1, -1}, /* temple, beyond brow tail 71 (u 0.173) */
        {0.88f, 0.30f, 1, -1}, /* the other temple */
        {0.24f, 0.30f, 0, 0},  /* brow tail (70 at u 0.230) */
        {0.15f, 0.60f, 1, 1},  /* the cheek's side */
        {0.25f, 0.62f, 1, 1},  /* its inner edge, where hanging hair thins out */
        {0.36f, 0.55f, 0, 0},  /* cheek */
        {0.50f, 0.12f, 1, 0},  /* above the brows */
        {0.64f, 0.55f, 0, 0},  /* the other cheek */
    };
    float attr[W * FS_SWAP_ATTR] = {0};
    uint8_t covered[W], window[3 * W] = {0}, skin[W], open[W];
    float render[3 * W], target[3 * W], warp[3 * W];
    guard_places(&at[0][0], 4, W, attr, covered);
    fs_swap_lookup look = {&id.atlas, &mesh->atlas, attr, covered, window, 3 * W, 0, 0, W, 1,
                           FS_SWAP_EYES_SOURCE, -1.0f, 0.2f, 1, {{0}}, {{0}}, 0, NULL, 0.0f};
    fs_swap_lookup_out lo = {render, target, warp, skin, open, 0, 0, 0, NULL, NULL};
    fs_error_buf eb;
    static const char *const pass_name[3] = {"skin", "hair", "darker skin"};
    for (int pass = 0; pass < 3; pass++) {
        const float *col = pass == 2 ? dim : pass ? guard_hair : guard_tone;
        for (size_t t = 0; t < (size_t)id.atlas.size * (size_t)id.atlas.size; t++)
            for (int c = 0; c < 3; c++)
                id.atlas.rgba[4 * t + (size_t)c] = (uint8_t)col[c];
        FS_ASSERT_OK(fs_swap_lookup_ref(FS_EXEC_SERIAL(&eb), &look, &lo));
        for (int i = 0; i < W; i++) {
            ck_assert_int_eq(open[i], 0);
            const float out = pass ? at[i][pass + 1] : 0.0f;
            if (out < 0.0f)
                continue;
            ck_assert_msg(skin[i] == (out > 0.0f ? 0 : 1), "%s atlas at u %.2f v %.2f: skin %d",
                          pass_name[pass], (double)at[i][0], (double)at[i][1], skin[i]);
        }
        guard_fast_agrees(&look, &lo, W);
    }
    guard_close(&e, &id);
}
END_TEST

/* A fringe over the forehead: hair down to brow_v - 0.08 and, under its
 * tips, a band 0.01 deep of a tone a little darker than the skin (squared
 * distance 12, under the forehead's bound of 20: the mixed edge of the
 * strands, skin texel by texel). The band stays out of the mask (the
 * fringe line, lookup.c), as does the hair and the skin 0.04 under the
 * tips (where real strands cast their shadow); the forehead 0.07 below
 * them (past FRINGE_MARGIN, 0.05) is skin, and so is the skin above a
 * 2 x 2 texel speck of hair (a mole, not a fringe) elsewhere on the
 * forehead. A light fringe beside it,
 * all of that darker tone, stays out too, and the forehead under it is
 * skin. Fast and reference agree. */
START_TEST(swap_fringe_line)
{
    fs_test_swap_env e;
    fs_identity_data id;
    float dim[3];
    const fs_swap_mesh *mesh = guard_open(&e, &id, 7, dim);
    enum { W = 8 };
    const int n = id.atlas.size;
    const float tips = mesh->brow_v - 0.08f;
    ck_assert_float_gt(tips, 0.1f);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const float u = ((float)x + 0.5f) / (float)n, v = ((float)y + 0.5f) / (float)n;
            const int speck = x >= (int)(0.30f * n) && x < (int)(0.30f * n) + 2 &&
                              y >= (int)((tips + 0.04f) * n) && y < (int)((tips + 0.04f) * n) + 2;
            const float *col = v < tips && u > 0.4f && u < 0.6f ? guard_hair
                               : v < tips + 0.01f && u > 0.4f && u < 0.6f ? dim
                               : v < tips && u > 0.76f && u < 0.9f ? dim
                               : speck ? guard_hair
                                       : guard_tone;
            for (int c = 0; c < 3; c++)
                id.atlas.rgba[4 * ((size_t)y * (size_t)n + (size_t)x) + (size_t)c] = (uint8_t)col[c];
        }
    /* u, v; 1 where it stays out */
    const float at[W][3] = {
        {0.50f, tips - 0.03f, 1},  /* the fringe */
        {0.50f, tips + 0.005f, 1}, /* its mixed edge */
        {0.50f, tips + 0.04f, 1},  /* the skin its strands shade */
        {0.50f, tips + 0.07f, 0},  /* the forehead below */
        {0.30f, tips + 0.02f, 0},  /* above the speck */
        {0.70f, tips - 0.03f, 0},  /* the forehead beside the fringe */
        {0.83f, tips - 0.01f, 1},  /* the light fringe */
        {0.83f, tips + 0.07f, 0},  /* the forehead under it */
    };
    float attr[W * FS_SWAP_ATTR] = {0};
    uint8_t covered[W], window[3 * W] = {0}, skin[W], open[W];
    float render[3 * W], target[3 * W], warp[3 * W];
    guard_places(&at[0][0], 3, W, attr, covered);
    fs_swap_lookup look = {&id.atlas, &mesh->atlas, attr, covered, window, 3 * W, 0, 0, W, 1,
                           FS_SWAP_EYES_SOURCE, -1.0f, mesh->brow_v, 1, {{0}}, {{0}}, 0, NULL, 0.0f};
    fs_swap_lookup_out lo = {render, target, warp, skin, open, 0, 0, 0, NULL, NULL};
    fs_error_buf eb;
    FS_ASSERT_OK(fs_swap_lookup_ref(FS_EXEC_SERIAL(&eb), &look, &lo));
    for (int i = 0; i < W; i++)
        ck_assert_msg(skin[i] == (at[i][2] > 0 ? 0 : 1), "at u %.2f v %.3f (the fringe's tips at %.3f): skin %d",
                      (double)at[i][0], (double)at[i][1], (double)tips, skin[i]);
    guard_fast_agrees(&look, &lo, W);
    guard_close(&e, &id);
}
END_TEST

/* The lookup's distance out of the grown eye openings (eye_dist), from
 * which the openings' feather runs: for a target eye drawn as a 32 x 12 px
 * ellipse, every covered pixel's distance is the exact one to the grown
 * contour (the ring, its upper lid grown by a tenth of the eye's width and
 * its lower by 3%: lookup.c), found here by brute force over points 1/64 of
 * an edge apart; 0 exactly on the pixels the lookup keeps as the opening,
 * INFINITY past the reach asked for; the fast lookup gives the same. */
START_TEST(swap_eye_edge_distance)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_identity_data id;
    fs_swap_params p;
    coded_identity(&id, &p);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    const fs_atlas_mesh *am = &mesh->atlas;
    enum { W = 80, H = 40 };
    static float pts[FS_LANDMARKS][3];
    memset(pts, 0, sizeof(pts));
    const int n = am->ring_len[0];
    ck_assert_int_gt(n, 8);
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < am->ring_len[r]; i++) {
            /* From one corner (i = 0) along the lower lid (y down) to the
             * other (i = n / 2) and back along the upper; the second eye far
             * below the window. */
            const double t = 2.0 * M_PI * i / am->ring_len[r];
            pts[am->ring[r][i]][0] = (float)(40.0 + 16.0 * cos(t));
            pts[am->ring[r][i]][1] = (float)((r ? 400.0 : 20.0) + 6.0 * sin(t));
        }
    static float attr[W * H * FS_SWAP_ATTR], render[3 * W * H], target[3 * W * H], warp[3 * W * H];
    static float dist[W * H], dist_fast[W * H];
    static uint8_t covered[W * H], window[3 * W * H], skin[W * H], open[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float *a = attr + FS_SWAP_ATTR * (y * W + x);
            a[0] = 0.36f; /* a cheek's texel: no atlas ring decides */
            a[1] = 0.55f;
            a[2] = (float)x;
            a[3] = (float)y;
            a[4] = 1.0f;
            for (int c = 0; c < 3; c++)
                a[FS_SWAP_ATTR_EXTRA + c] = 1.0f;
            covered[y * W + x] = 1;
        }
    const float reach = 3.0f;
    fs_swap_lookup look = {&id.atlas, am, attr, covered, window, 3 * W, 0, 0, W, H,
                           FS_SWAP_EYES_TARGET, -1.0f, 0.2f, 0, {{0}}, {{0}}, 0,
                           (const float(*)[3])pts, reach};
    fs_swap_lookup_out lo = {render, target, warp, skin, open, 0, 0, 0, dist, NULL};
    fs_error_buf eb;
    FS_ASSERT_OK(fs_swap_lookup_ref(FS_EXEC_SERIAL(&eb), &look, &lo));
    const float *c0 = pts[am->ring[0][0]], *c1 = pts[am->ring[0][n / 2]];
    const double width = hypot(c1[0] - c0[0], c1[1] - c0[1]);
    long n_open = 0, n_ramp = 0;
    double worst = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int q = y * W + x;
            double best = INFINITY;
            for (int i = 0, j = n - 1; i < n; j = i++) {
                const float *a = pts[am->ring[0][i]], *b = pts[am->ring[0][j]];
                const double grow = (i != 0 && i <= n / 2 ? 0.03 : 0.10) * width;
                for (int k = 0; k <= 64; k++) {
                    const double px = a[0] + (b[0] - a[0]) * k / 64.0, py = a[1] + (b[1] - a[1]) * k / 64.0;
                    best = fmin(best, hypot(x - px, y - py) - grow);
                }
            }
            if (open[q]) {
                n_open++;
                ck_assert_msg(dist[q] == 0.0f, "(%d, %d): in the opening, distance %g", x, y, (double)dist[q]);
                continue;
            }
            ck_assert_msg(dist[q] >= 0.0f, "(%d, %d): out of the opening, distance %g", x, y,
                          (double)dist[q]);
            if (best < reach - 0.05) {
                n_ramp++;
                ck_assert_msg(fabs(dist[q] - best) < 0.02, "(%d, %d): distance %g, brute force %g", x, y,
                              (double)dist[q], best);
                worst = fmax(worst, fabs(dist[q] - best));
            } else if (best > reach + 0.05) {
                ck_assert_msg(isinf(dist[q]), "(%d, %d): %g past the reach", x, y, (double)dist[q]);
            }
        }
    printf("swap: eye edge distance: %ld px in the opening, %ld within %.0f px of it, worst %.4f px "
           "from the brute force\n", n_open, n_ramp, (double)reach, worst);
    ck_assert_int_gt(n_open, 200);
    ck_assert_int_gt(n_ramp, 150);
    lo.eye_dist = dist_fast;
    FS_ASSERT_OK(fs_swap_lookup_fast(FS_EXEC_SERIAL(&eb), &look, &lo));
    ck_assert_mem_eq(dist, dist_fast, sizeof(dist));
    free(id.atlas.rgba);
    free(id.atlas.weight);
    fs_test_swap_env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- bad input, blob */

START_TEST(swap_no_face_source)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image img;
    fs_test_load_rgb8(e.ctx, "noface_3.png", &img);
    fs_identity *id = (fs_identity *)&e; /* must stay untouched */
    FS_ASSERT_STATUS(fs_identity_create_from_image(e.ctx, &img, FS_IDENTITY_LARGEST_FACE, &id),
                     FS_ERR_NO_FACE);
    ck_assert_ptr_eq(id, (fs_identity *)&e);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(e.ctx), "no face"));
    /* The whole-image call on a target without a face. */
    fs_image src;
    fs_test_load_rgb8(e.ctx, "astronaut.png", &src);
    fs_identity *real = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(e.ctx, &src, FS_IDENTITY_LARGEST_FACE, &real));
    fs_image before = fs_test_copy_image(&img, 3);
    int swapped = -1;
    FS_ASSERT_STATUS(fs_renderer_swap_image(e.ren, real, &img, FS_SWAP_FACES_ALL, &swapped),
                     FS_ERR_NO_FACE);
    ck_assert_int_eq(swapped, 0);
    for (int y = 0; y < img.height; y++)
        ck_assert(memcmp(px(&img, 0, y), px(&before, 0, y), (size_t)img.width * 3) == 0);
    /* An index past the faces found. */
    FS_ASSERT_STATUS(fs_identity_create_from_image(e.ctx, &src, 50, &id), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_identity_create_from_image(e.ctx, &src, -2, &id), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_identity_create_from_image(e.ctx, NULL, -1, &id), FS_ERR_INVALID_ARGUMENT);
    free_copy(&before);
    fs_identity_destroy(real);
    fs_image_free(&src);
    fs_image_free(&img);
    fs_test_swap_env_close(&e);
}
END_TEST

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    const long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

START_TEST(swap_identity_blob)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image src, tgt;
    fs_test_load_rgb8(e.ctx, "astronaut.png", &src);
    fs_test_load_rgb8(e.ctx, "messi5.jpg", &tgt);
    fs_identity *id = NULL, *back = NULL, *fromfile = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(e.ctx, &src, FS_IDENTITY_LARGEST_FACE, &id));

    /* Memory round trip: the same bytes again. */
    void *blob = NULL, *blob2 = NULL;
    size_t n = 0, n2 = 0;
    FS_ASSERT_OK(fs_identity_save_memory(id, &blob, &n));
    ck_assert_uint_gt(n, 48);
    FS_ASSERT_OK(fs_identity_load_memory(e.ctx, blob, n, &back));
    FS_ASSERT_OK(fs_identity_save_memory(back, &blob2, &n2));
    ck_assert_uint_eq(n, n2);
    ck_assert(memcmp(blob, blob2, n) == 0);

    /* File round trip, and the same swap from each. */
    const char *path = fs_test_tmp_path("swap_identity.fsid");
    FS_ASSERT_OK(fs_identity_save_file(id, path));
    FS_ASSERT_OK(fs_identity_load_file(e.ctx, path, &fromfile));
    fs_image a = fs_test_copy_image(&tgt, 3), b = fs_test_copy_image(&tgt, 3);
    int sa = 0, sb = 0;
    FS_ASSERT_OK(fs_renderer_swap_image(e.ren, id, &a, FS_SWAP_FACES_LARGEST, &sa));
    FS_ASSERT_OK(fs_renderer_swap_image(e.ren, fromfile, &b, FS_SWAP_FACES_LARGEST, &sb));
    ck_assert_int_eq(sa, 1);
    ck_assert_int_eq(sb, 1);
    long diff = 0, changed = 0;
    for (int y = 0; y < tgt.height; y++) {
        diff += memcmp(px(&a, 0, y), px(&b, 0, y), (size_t)tgt.width * 3) != 0;
        changed += memcmp(px(&a, 0, y), px(&tgt, 0, y), (size_t)tgt.width * 3) != 0;
    }
    ck_assert_int_eq(diff, 0);
    ck_assert_int_gt(changed, 20);

    /* Damage: every kind of truncation, an altered byte, from file and memory. */
    size_t fn = 0;
    uint8_t *file = slurp(path, &fn);
    ck_assert_uint_eq(fn, n);
    fs_identity *bad = (fs_identity *)&e;
    const size_t cuts[] = {0, 3, 47, 48, 100, n / 2, n - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        const fs_status st = fs_identity_load_memory(e.ctx, file, cuts[i], &bad);
        ck_assert_msg(st == FS_ERR_TRUNCATED, "cut at %zu: %s", cuts[i], fs_status_name(st));
    }
    spit(path, file, n - 10);
    FS_ASSERT_STATUS(fs_identity_load_file(e.ctx, path, &bad), FS_ERR_TRUNCATED);
    file[n / 2] ^= 0x40; /* a texel of the atlas */
    FS_ASSERT_STATUS(fs_identity_load_memory(e.ctx, file, n, &bad), FS_ERR_CHECKSUM);
    spit(path, file, n);
    FS_ASSERT_STATUS(fs_identity_load_file(e.ctx, path, &bad), FS_ERR_CHECKSUM);
    ck_assert_ptr_eq(bad, (fs_identity *)&e);
    remove(path);

    free(file);
    free_copy(&a);
    free_copy(&b);
    fs_identity_free_memory(blob);
    fs_identity_free_memory(blob2);
    fs_identity_destroy(fromfile);
    fs_identity_destroy(back);
    fs_identity_destroy(id);
    fs_image_free(&tgt);
    fs_image_free(&src);
    fs_test_swap_env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- border, formats */

/* A target face cut by the image border: the landmarks of the whole image,
 * shifted into a crop that cuts through the face (left edge at the nose). */
START_TEST(swap_face_at_border)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image src, full;
    fs_identity *id;
    fs_face_box box;
    fs_face_landmarks *lm =
        capture_and_fit(&e, "astronaut.png", "faceapi_sample1.jpg", &src, &full, &id, &box);
    const int cx = (int)lm->points[1][0]; /* nose tip */
    const int cy = (int)lm->points[1][1];
    for (int side = 0; side < 2; side++) {
        /* side 0: crop's left edge at the nose; side 1: its top edge at the nose */
        const int ox = side == 0 ? cx : 0, oy = side == 0 ? 0 : cy;
        fs_image crop = full;
        crop.width = full.width - ox;
        crop.height = full.height - oy;
        crop.data = px(&full, ox, oy);
        fs_image tgt = fs_test_copy_image(&crop, 3);
        fs_face_landmarks *shifted = malloc(sizeof(*shifted));
        ck_assert_ptr_nonnull(shifted);
        *shifted = *lm;
        for (int i = 0; i < FS_LANDMARKS; i++) {
            shifted->points[i][0] -= (float)ox;
            shifted->points[i][1] -= (float)oy;
        }
        for (int blend = 0; blend < 3; blend++) {
            fs_image out = fs_test_copy_image(&tgt, 3);
            fs_swap_params p = *fs_renderer_internal_params(e.ren);
            p.blend = blend;
            fs_swap_info info;
            memset(&info, 0, sizeof(info));
            info.keep_debug = 1;
            fs_error_buf err;
            const fs_status st = fs_swap_face_rgb8(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&err), fs_renderer_internal_mesh(e.ren), &p,
                                                   fs_identity_internal_data(id), &out,
                                                   (const float(*)[3])shifted->points, &info);
            ck_assert_msg(st == FS_OK, "border swap: %s (%s)", fs_status_name(st), err.text);
            ck_assert_int_eq(info.clipped, 1);
            check_outside_identical(&tgt, &out, &info, 2.0);
            /* The face reaches the border, and so does the swap. */
            long edge = 0;
            const int len = side == 0 ? tgt.height : tgt.width;
            for (int i = 0; i < len; i++) {
                const int x = side == 0 ? 0 : i, y = side == 0 ? i : 0;
                edge += memcmp(px(&out, x, y), px(&tgt, x, y), 3) != 0;
            }
            ck_assert_int_gt(edge, (long)(0.2 * info.face_size));
            fs_swap_info_free(&info);
            free_copy(&out);
        }
        free(shifted);
        free_copy(&tgt);
    }
    /* A face entirely outside the image. */
    fs_face_landmarks *away = malloc(sizeof(*away));
    ck_assert_ptr_nonnull(away);
    *away = *lm;
    for (int i = 0; i < FS_LANDMARKS; i++)
        away->points[i][0] += 5000.0f;
    FS_ASSERT_STATUS(fs_renderer_swap_face(e.ren, id, &full, away), FS_ERR_NO_FACE);
    free(away);
    free(lm);
    fs_identity_destroy(id);
    fs_image_free(&full);
    fs_image_free(&src);
    fs_test_swap_env_close(&e);
}
END_TEST

/* BGRA and gray targets: the same swap as RGB8 (BGRA: alpha untouched;
 * gray: unchanged pixels stay, bit for bit). */
START_TEST(swap_formats)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image src, tgt;
    fs_identity *id;
    fs_face_box box;
    fs_face_landmarks *lm =
        capture_and_fit(&e, "astronaut.png", "messi5.jpg", &src, &tgt, &id, &box);
    fs_image rgb = fs_test_copy_image(&tgt, 3);
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &rgb, lm));

    const int w = tgt.width, h = tgt.height;
    fs_image bgra = tgt, gray = tgt;
    bgra.format = FS_PIXEL_BGRA8;
    bgra.stride = w * 4 + 12; /* padded rows */
    bgra.data = calloc((size_t)bgra.stride * (size_t)h, 1);
    gray.format = FS_PIXEL_GRAY8;
    gray.stride = w;
    gray.data = malloc((size_t)w * (size_t)h);
    ck_assert_ptr_nonnull(bgra.data);
    ck_assert_ptr_nonnull(gray.data);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *s = px(&tgt, x, y);
            uint8_t *d = (uint8_t *)bgra.data + (size_t)y * (size_t)bgra.stride + (size_t)x * 4;
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
            d[3] = (uint8_t)(x + y);
            ((uint8_t *)gray.data)[y * w + x] = s[1];
        }
    uint8_t *gray0 = malloc((size_t)w * (size_t)h);
    ck_assert_ptr_nonnull(gray0);
    memcpy(gray0, gray.data, (size_t)w * (size_t)h);
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &bgra, lm));
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &gray, lm));
    long gray_changed = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *s = px(&rgb, x, y);
            const uint8_t *d = (const uint8_t *)bgra.data + (size_t)y * (size_t)bgra.stride + (size_t)x * 4;
            ck_assert(d[0] == s[2] && d[1] == s[1] && d[2] == s[0]);
            ck_assert_int_eq(d[3], (uint8_t)(x + y));
            const int same = memcmp(s, px(&tgt, x, y), 3) == 0;
            const uint8_t g = ((uint8_t *)gray.data)[y * w + x];
            if (g != gray0[y * w + x])
                gray_changed++;
            /* gray: the swap runs on gray-as-RGB; pixels the RGB swap left alone are
             * not a statement about the gray swap, but far from the face both keep */
            (void)same;
        }
    ck_assert_int_gt(gray_changed, 100);
    /* Device memory and an unknown format are refused. */
    fs_image dev = rgb;
    dev.memory = FS_MEMORY_DEVICE;
    FS_ASSERT_STATUS(fs_renderer_swap_face(e.ren, id, &dev, lm), FS_ERR_UNSUPPORTED);
    dev = rgb;
    dev.format = 99;
    FS_ASSERT_STATUS(fs_renderer_swap_face(e.ren, id, &dev, lm), FS_ERR_UNSUPPORTED);
    free(gray0);
    free(gray.data);
    free(bgra.data);
    free_copy(&rgb);
    free(lm);
    fs_identity_destroy(id);
    fs_image_free(&tgt);
    fs_image_free(&src);
    fs_test_swap_env_close(&e);
}
END_TEST

/* The renderer works on a window around the face, so a target at the
 * library's largest size swaps like a small one: faceapi_sample1.jpg pasted
 * into the far corner of a 7000x4000 canvas (28 Mpx; the decode limit,
 * FS_CONTEXT_MAX_PIXELS, is 50 Mpx by default) with its landmarks moved
 * along gives the small image's result there, and leaves every other pixel
 * of the canvas as it was. RGBA8 and BGR8 targets give the RGB8 result. */
START_TEST(swap_large_target_and_formats)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image src, tgt;
    fs_identity *id;
    fs_face_box box;
    fs_face_landmarks *lm =
        capture_and_fit(&e, "astronaut.png", "faceapi_sample1.jpg", &src, &tgt, &id, &box);
    fs_face_landmarks *big_lm = malloc(sizeof(*big_lm));
    ck_assert_ptr_nonnull(big_lm);
    fs_image small = fs_test_copy_image(&tgt, 3);
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &small, lm));

    const int W = 7000, H = 4000, ox = W - tgt.width, oy = H - tgt.height;
    fs_image big = tgt;
    big.width = W;
    big.height = H;
    big.stride = W * 3;
    big.data = malloc((size_t)big.stride * (size_t)H);
    ck_assert_ptr_nonnull(big.data);
    for (size_t i = 0; i < (size_t)big.stride * (size_t)H; i++)
        ((uint8_t *)big.data)[i] = (uint8_t)(i * 2654435761u >> 24);
    for (int y = 0; y < tgt.height; y++)
        memcpy(px(&big, ox, oy + y), px(&tgt, 0, y), (size_t)tgt.width * 3);
    uint8_t *before = malloc((size_t)big.stride * (size_t)H);
    ck_assert_ptr_nonnull(before);
    memcpy(before, big.data, (size_t)big.stride * (size_t)H);
    *big_lm = *lm;
    for (int i = 0; i < FS_LANDMARKS; i++) {
        big_lm->points[i][0] += (float)ox;
        big_lm->points[i][1] += (float)oy;
    }
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &big, big_lm));
    long outside = 0, inside = 0;
    double diff = 0;
    for (int y = 0; y < H; y++) {
        const uint8_t *b = px(&big, 0, y), *a = before + (size_t)y * (size_t)big.stride;
        if (y < oy) {
            outside += memcmp(a, b, (size_t)big.stride) != 0;
            continue;
        }
        outside += memcmp(a, b, (size_t)ox * 3) != 0;
        for (int x = 0; x < tgt.width; x++) {
            const uint8_t *p = px(&big, ox + x, y), *q = px(&small, x, y - oy);
            for (int c = 0; c < 3; c++) {
                diff += abs(p[c] - q[c]);
                inside += p[c] != q[c];
            }
        }
    }
    const double mean = diff / (3.0 * tgt.width * tgt.height);
    printf("swap: 7000x4000 target: rows changed left of or above the pasted image %ld, "
           "channels differing from the small image's swap %ld (mean |diff| %.5f)\n",
           outside, inside, mean);
    ck_assert_int_eq(outside, 0);
    ck_assert_double_le(mean, 0.01); /* float landmarks 6000 px out round a little differently */
    free(before);
    free(big.data);

    /* RGBA8 and BGR8 (padded rows): the RGB8 result, channels moved, alpha kept. */
    for (int k = 0; k < 2; k++) {
        const int ch = k == 0 ? 4 : 3;
        fs_image o = tgt;
        o.format = k == 0 ? FS_PIXEL_RGBA8 : FS_PIXEL_BGR8;
        o.stride = tgt.width * ch + 8;
        o.data = calloc((size_t)o.stride * (size_t)tgt.height, 1);
        ck_assert_ptr_nonnull(o.data);
        for (int y = 0; y < tgt.height; y++)
            for (int x = 0; x < tgt.width; x++) {
                const uint8_t *s = px(&tgt, x, y);
                uint8_t *d = (uint8_t *)o.data + (size_t)y * (size_t)o.stride + (size_t)x * ch;
                d[0] = k == 0 ? s[0] : s[2];
                d[1] = s[1];
                d[2] = k == 0 ? s[2] : s[0];
                if (k == 0)
                    d[3] = (uint8_t)(3 * x + y);
            }
        FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &o, lm));
        for (int y = 0; y < tgt.height; y++)
            for (int x = 0; x < tgt.width; x++) {
                const uint8_t *s = px(&small, x, y);
                const uint8_t *d = (const uint8_t *)o.data + (size_t)y * (size_t)o.stride + (size_t)x * ch;
                ck_assert(d[1] == s[1] && d[0] == (k == 0 ? s[0] : s[2]) &&
                          d[2] == (k == 0 ? s[2] : s[0]));
                if (k == 0)
                    ck_assert_int_eq(d[3], (uint8_t)(3 * x + y));
            }
        free(o.data);
    }
    free_copy(&small);
    free(big_lm);
    free(lm);
    fs_identity_destroy(id);
    fs_image_free(&tgt);
    fs_image_free(&src);
    fs_test_swap_env_close(&e);
}
END_TEST

START_TEST(swap_params)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    double v = -1, lo = -1, hi = -1;
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_COLOR, &v));
    ck_assert_double_eq(v, FS_COLOR_FULL);
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_BLEND, &v));
    ck_assert_double_eq(v, FS_BLEND_MULTIBAND);
    FS_ASSERT_OK(fs_renderer_param_bounds(FS_RENDERER_SUBDIVISION, &lo, &hi));
    ck_assert_double_eq(lo, 0);
    ck_assert_double_eq(hi, 4);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_SUBDIVISION, 2));
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_SUBDIVISION, &v));
    ck_assert_double_eq(v, 2);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, FS_RENDERER_SUBDIVISION, 5), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, FS_RENDERER_BLEND, 1.5), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, FS_RENDERER_MASK_FEATHER, NAN), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, (fs_renderer_param)17, 0), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_renderer_param_bounds((fs_renderer_param)-1, &lo, &hi),
                     FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_MASK_ERODE, 0.1));
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_MASK_ERODE, &v));
    ck_assert_double_eq(v, 0.1);
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_SHAPE, &v));
    ck_assert_double_eq(v, 0.5);
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_MATCH_DETAIL, &v));
    ck_assert_double_eq(v, 1);
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_SKIN_GUARD, &v));
    ck_assert_double_eq(v, 1);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, FS_RENDERER_SHAPE, 1.5), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, FS_RENDERER_SKIN_GUARD, 0.5), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_SHAPE, 0.25));
    ck_assert_double_eq(fs_renderer_internal_params(e.ren)->shape, 0.25);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_MATCH_DETAIL, 0));
    ck_assert_int_eq(fs_renderer_internal_params(e.ren)->match_detail, 0);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_SKIN_GUARD, 0));
    ck_assert_int_eq(fs_renderer_internal_params(e.ren)->skin_guard, 0);

    /* Subdivision level 2 and every colour mode swap without error, and
     * the level changes the result only a little (same surface). */
    fs_image src, tgt;
    fs_identity *id;
    fs_face_box box;
    fs_face_landmarks *lm =
        capture_and_fit(&e, "astronaut.png", "messi5.jpg", &src, &tgt, &id, &box);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_MASK_ERODE, 0.02));
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_BLEND, FS_BLEND_ALPHA));
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_COLOR, FS_COLOR_NONE));
    fs_image a = fs_test_copy_image(&tgt, 3), b = fs_test_copy_image(&tgt, 3);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_SUBDIVISION, 0));
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &a, lm));
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_SUBDIVISION, 2));
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &b, lm));
    double sad = 0;
    long n = 0;
    for (int y = 0; y < tgt.height; y++)
        for (int x = 0; x < tgt.width; x++) {
            const uint8_t *p = px(&a, x, y), *q = px(&b, x, y);
            if (memcmp(px(&tgt, x, y), p, 3) == 0 && memcmp(px(&tgt, x, y), q, 3) == 0)
                continue;
            n++;
            for (int c = 0; c < 3; c++)
                sad += abs(p[c] - q[c]);
        }
    ck_assert_int_gt(n, 100);
    printf("swap: subdivision 0 vs 2: mean |diff| %.3f over %ld px\n", sad / (3.0 * n), n);
    ck_assert_double_le(sad / (3.0 * n), 4.0);
    for (int c = 0; c <= 2; c++) {
        FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_COLOR, c));
        fs_image t = fs_test_copy_image(&tgt, 3);
        FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &t, lm));
        free_copy(&t);
    }
    free_copy(&a);
    free_copy(&b);
    free(lm);
    fs_identity_destroy(id);
    fs_image_free(&tgt);
    fs_image_free(&src);
    fs_test_swap_env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- timing */

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* ---------------------------------------------------------------- capture cache */

/* fs_identity_create_from_image keeps its detector and fitter in the
 * context: a second capture does not reload them (it still works after the
 * model files are gone), gives the same identity, and a changed context
 * setting makes it reload (a missing model folder now fails, the right one
 * works again). */
START_TEST(swap_capture_cache)
{
    static const char *const files[] = {"blazeface.json", "blazeface.bin", "facemesh.json",
                                        "facemesh.bin", "iris.json", "iris.bin",
                                        "face_geometry.binarypb"};
    const int nfiles = (int)(sizeof(files) / sizeof(files[0]));
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    fs_image src;
    const char *path = fs_test_data_path("astronaut.png");
    ck_assert_msg(fs_test_file_exists(path), "missing %s: run scripts/fetch-data.sh", path);
    FS_ASSERT_OK(fs_image_read_file(ctx, path, &src));
    char *dir = strdup(fs_context_model_dir(ctx));
    ck_assert_ptr_nonnull(dir);
    char tmpl[] = "/tmp/fs_test_swap_models_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    char p[4096];
    for (int i = 0; i < nfiles; i++) {
        snprintf(p, sizeof(p), "%s/%s", tmpl, files[i]);
        fs_test_copy_file(fs_test_model_path(files[i]), p);
    }
    FS_ASSERT_OK(fs_context_set_model_dir(ctx, tmpl));
    fs_identity *a = NULL, *b = NULL, *c = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &a));
    /* With the files gone only the cached models can serve the second capture. */
    for (int i = 0; i < nfiles; i++) {
        snprintf(p, sizeof(p), "%s/%s", tmpl, files[i]);
        ck_assert(unlink(p) == 0);
    }
    ck_assert(rmdir(tmpl) == 0);
    FS_ASSERT_OK(fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &b));
    const fs_identity_data *da = fs_identity_internal_data(a), *db = fs_identity_internal_data(b);
    ck_assert_int_eq(da->atlas.size, db->atlas.size);
    ck_assert(memcmp(da->landmarks, db->landmarks, sizeof(da->landmarks)) == 0);
    ck_assert(memcmp(da->atlas.rgba, db->atlas.rgba, (size_t)da->atlas.size * da->atlas.size * 4) == 0);

    FS_ASSERT_OK(fs_context_set_model_dir(ctx, "/nonexistent-faceswap-models"));
    ck_assert_int_eq(fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &c),
                     FS_ERR_NOT_FOUND);
    ck_assert_ptr_null(c);
    FS_ASSERT_OK(fs_context_set_model_dir(ctx, dir));
    FS_ASSERT_OK(fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &c));
    free(dir);
    fs_identity_destroy(c);
    fs_identity_destroy(b);
    fs_identity_destroy(a);
    fs_image_free(&src);
    fs_context_destroy(ctx);
}
END_TEST

/* Figures only (printed, not asserted: CI machines are shared and the
 * sanitizer and reference stages are slower by design). */
START_TEST(swap_timing)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image src, small;
    fs_test_load_rgb8(e.ctx, "astronaut.png", &src);
    fs_test_load_rgb8(e.ctx, "faceapi_sample1.jpg", &small);
    /* A 1920x1080 target: the sample scaled up (nearest), one face. */
    fs_image big = small;
    big.width = 1920;
    big.height = 1080;
    big.stride = 1920 * 3;
    big.data = malloc((size_t)big.stride * 1080);
    ck_assert_ptr_nonnull(big.data);
    for (int y = 0; y < 1080; y++)
        for (int x = 0; x < 1920; x++)
            memcpy(px(&big, x, y), px(&small, x * small.width / 1920, y * small.height / 1080), 3);
    double t0 = cpu_ms();
    fs_identity *id = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(e.ctx, &src, FS_IDENTITY_LARGEST_FACE, &id));
    const double t_id = cpu_ms() - t0;
    fs_face_box box;
    fs_face_landmarks *lm = malloc(sizeof(*lm));
    ck_assert_ptr_nonnull(lm);
    /* The capture itself with the models already loaded (what a service
     * that keeps its detector and fitter pays): detect + fit + atlas. */
    t0 = cpu_ms();
    ck_assert(largest_face(&e, &src, &box, lm));
    const double t_fit_src = cpu_ms() - t0;
    fs_atlas_params ap;
    fs_atlas_params_default(&ap);
    fs_atlas atlas;
    fs_error_buf aerr;
    t0 = cpu_ms();
    FS_ASSERT_OK(fs_atlas_build(&src, (const float(*)[3])lm->points,
                                &fs_renderer_internal_mesh(e.ren)->atlas, &ap, &atlas, &aerr));
    const double t_atlas = cpu_ms() - t0;
    fs_atlas_free(&atlas);
    printf("swap timing (thread CPU): identity capture with loaded models: detect + fit %.1f ms "
           "+ atlas %d^2 %.1f ms\n", t_fit_src, ap.size, t_atlas);
    t0 = cpu_ms();
    ck_assert(largest_face(&e, &big, &box, lm));
    const double t_fit = cpu_ms() - t0;
    const char *names[3] = {"alpha", "multiband", "poisson"};
    for (int b = 0; b < 3; b++) {
        FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_BLEND, b));
        fs_image t = fs_test_copy_image(&big, 3);
        t0 = cpu_ms();
        FS_ASSERT_OK(fs_renderer_swap_face(e.ren, id, &t, lm));
        const double t_swap = cpu_ms() - t0;
        printf("swap timing (thread CPU): identity capture %.1f ms (512x512 source, detector + fitter "
               "+ atlas, first capture of the context: loads the models); detect + fit on "
               "1920x1080 %.1f ms; render + colour "
               "meanstd + %s blend %.1f ms (face %.0f px)\n",
               t_id, t_fit, names[b], t_swap, (double)box.width);
        free_copy(&t);
    }
    free(big.data);
    free(lm);
    fs_identity_destroy(id);
    fs_image_free(&small);
    fs_image_free(&src);
    fs_test_swap_env_close(&e);
}
END_TEST

/* @p img with @p id swapped onto its face @p lm (a copy; free_copy it). */
static fs_image swap_onto(fs_test_swap_env *e, const fs_swap_mesh *mesh, const fs_swap_params *p,
                          const fs_identity_data *id, const fs_image *img, const fs_face_landmarks *lm,
                          fs_swap_info *info)
{
    fs_error_buf eb;
    fs_image out = fs_test_copy_image(img, 3);
    FS_ASSERT_OK(fs_swap_face_rgb8(fs_context_engine(e->ctx), FS_EXEC_SERIAL(&eb), mesh, p, id, &out,
                                   (const float(*)[3])lm->points, info));
    return out;
}

/* Mean absolute difference over the window's middle half: the inner face. */
static double inner_mae(const fs_image *a, const fs_image *b, const fs_swap_info *info)
{
    double sum = 0;
    long cnt = 0;
    for (int y = info->y0 + info->h / 4; y < info->y0 + 3 * info->h / 4; y++)
        for (int x = info->x0 + info->w / 4; x < info->x0 + 3 * info->w / 4; x++)
            for (int c = 0; c < 3; c++) {
                sum += abs((int)px(a, x, y)[c] - (int)px(b, x, y)[c]);
                cnt++;
            }
    return sum / (double)cnt;
}

/* The astronaut photo into @p img and its largest face's landmarks
 * (malloc'd). */
static fs_face_landmarks *astronaut_face(fs_test_swap_env *e, fs_image *img)
{
    fs_test_load_rgb8(e->ctx, "astronaut.png", img);
    fs_face_box box;
    fs_face_landmarks *lm = malloc(sizeof(*lm));
    ck_assert_ptr_nonnull(lm);
    ck_assert(largest_face(e, img, &box, lm));
    return lm;
}

/* The width of the mesh points of @p lm, and in *x0 (may be NULL) their
 * leftmost x. */
static float face_width(const fs_face_landmarks *lm, float *x0)
{
    float lo = 1e30f, hi = -1e30f;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        lo = fminf(lo, lm->points[i][0]);
        hi = fmaxf(hi, lm->points[i][0]);
    }
    if (x0)
        *x0 = lo;
    return hi - lo;
}

/* An identity unwrapped from @p img with landmarks @p lm, as capture makes
 * it but with the atlas options @p ap. */
static void atlas_identity(const fs_image *img, const fs_face_landmarks *lm, const fs_swap_mesh *mesh,
                           const fs_atlas_params *ap, fs_identity_data *id)
{
    fs_error_buf eb;
    memset(id, 0, sizeof(*id));
    FS_ASSERT_OK(fs_atlas_build(img, (const float(*)[3])lm->points, &mesh->atlas, ap, &id->atlas, &eb));
    memcpy(id->landmarks, lm->points, sizeof(id->landmarks));
    id->source_width = img->width;
    id->source_height = img->height;
    id->library_version = FS_VERSION;
}

/* The light stage (issue 10, item 1): a photo swapped onto itself from an
 * atlas with its light taken out comes back about as close to itself, with
 * the target's light measured on it or with the source's own put back, as
 * from an atlas that kept the light; and far closer than the bare albedo,
 * so the light put back is a real one. */
static double self_swap_mae(fs_test_swap_env *e, const fs_swap_mesh *mesh, const fs_swap_params *p,
                            const fs_identity_data *id, const fs_image *img,
                            const fs_face_landmarks *lm)
{
    fs_swap_info info = {0};
    fs_image out = swap_onto(e, mesh, p, id, img, lm, &info);
    const double mae = inner_mae(&out, img, &info);
    free_copy(&out);
    return mae;
}

START_TEST(swap_relight_self)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image img;
    fs_face_landmarks *lm = astronaut_face(&e, &img);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    fs_identity_data id[2];
    fs_error_buf eb;
    for (int k = 0; k < 2; k++) {
        fs_atlas_params ap;
        fs_atlas_params_default(&ap);
        ap.delight = k == 0; /* [0] light out (the default), [1] kept */
        atlas_identity(&img, lm, mesh, &ap, &id[k]);
    }
    ck_assert_int_ge(id[0].atlas.light.n_fit, 64);
    ck_assert_int_eq(id[1].atlas.light.n_fit, 0);
    fs_swap_params p;
    fs_swap_params_default(&p);
    ck_assert_int_eq(p.relight, 1);
    fs_swap_target t;
    FS_ASSERT_OK(fs_swap_target_prepare(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&eb), mesh, &p, &img,
                                        (const float(*)[3])lm->points, &t));
    ck_assert_int_ge(t.light.n_fit, 64);
    const double target_light = self_swap_mae(&e, mesh, &p, &id[0], &img, lm);
    p.relight = 0;
    const double own_light = self_swap_mae(&e, mesh, &p, &id[0], &img, lm);
    const double kept = self_swap_mae(&e, mesh, &p, &id[1], &img, lm);
    fs_identity_data bare = id[0];
    fs_shading_flat(&bare.atlas.light); /* the albedo with no light on it */
    const double none = self_swap_mae(&e, mesh, &p, &bare, &img, lm);
    printf("swap: self-swap, inner face MAE: the target's light %.2f, the source's own put back "
           "%.2f, the light kept in the atlas %.2f, the bare albedo %.2f\n",
           target_light, own_light, kept, none);
    /* In grey levels over the light kept in the atlas, not as a ratio of
     * it: that is 1.43 levels now that the atlas and the renderer agree on
     * where a pixel's centre is (4.40 when the capture sampled half a pixel
     * off), and the light's own cost did not shrink with it. Measured:
     * +0.72 with the target's light (its fit over the window's pixels
     * weighed by atlas area, the source's over the atlas' texels; +1.25
     * unweighed, in gaze mode), +0.51 with the source's own. */
    ck_assert_msg(target_light < kept + 1.25 && own_light < kept + 1.0,
                  "light back: %.2f / %.2f against %.2f kept", target_light, own_light, kept);
    ck_assert_msg(target_light < 0.6 * none && own_light < 0.6 * none,
                  "light back: %.2f / %.2f against %.2f bare", target_light, own_light, none);
    for (int k = 0; k < 2; k++)
        fs_atlas_free(&id[k].atlas);
    free(lm);
    fs_image_free(&img);
    fs_test_swap_env_close(&e);
}
END_TEST

/* The skin mask holds nothing thinner than its opening (swap.c,
 * skin_open): the astronaut's light-brown fringe, skin to the hair guard on
 * one texel and hair on the next, left fingers and rings in the masks of
 * faceapi_sample4's faces that drew brown rings on their foreheads. Over
 * every face there, the blend weight's support opened again by 0.9 of the
 * radius loses at most 0.5% of its pixels: 0.19-0.28% (the discrete discs'
 * corners), where without the opening it lost 1.35-1.92% (measured with
 * FS_SWAP_SKIN_OPEN near 0). */
START_TEST(swap_mask_opened)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image src, tgt;
    fs_identity *id = NULL;
    fs_test_load_rgb8(e.ctx, "astronaut.png", &src);
    fs_test_load_rgb8(e.ctx, "faceapi_sample4.jpg", &tgt);
    FS_ASSERT_OK(fs_identity_create_from_image(e.ctx, &src, FS_IDENTITY_LARGEST_FACE, &id));
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    const fs_swap_params *p = fs_renderer_internal_params(e.ren);
    ck_assert_int_eq(p->skin_guard, 1);
    fs_face_box faces[16];
    int n = 0, swapped = 0;
    FS_ASSERT_OK(fs_detector_run(e.det, &tgt, faces, 16, &n));
    fs_face_landmarks *lm = malloc(sizeof(*lm));
    ck_assert_ptr_nonnull(lm);
    for (int f = 0; f < (n < 16 ? n : 16); f++) {
        int chosen = -1;
        if (fs_swap_fit_face(e.fit, &tgt, faces, n < 16 ? n : 16, f, lm, &chosen) != FS_OK ||
            chosen != f)
            continue;
        fs_swap_info info = {0};
        info.keep_debug = 1;
        fs_image out = swap_onto(&e, mesh, p, fs_identity_internal_data(id), &tgt, lm, &info);
        const int w = info.w, h = info.h;
        const size_t np = (size_t)w * (size_t)h;
        uint8_t *m = malloc(np), *t = malloc(np);
        ck_assert(m && t);
        long in = 0, lost = 0;
        for (size_t i = 0; i < np; i++) {
            m[i] = info.alpha[i] > 0.0f;
            in += m[i];
        }
        const double r = 0.9 * FS_SWAP_SKIN_OPEN * info.face_size;
        fs_error_buf eb;
        FS_ASSERT_OK(fs_mask_erode(FS_EXEC_SERIAL(&eb), m, w, h, w, r, 0, t, w));
        FS_ASSERT_OK(fs_mask_dilate(&eb, t, w, h, w, r, t, w));
        for (size_t i = 0; i < np; i++)
            lost += m[i] && !t[i];
        printf("swap: astronaut onto faceapi_sample4 face %d (%.0f px): %ld of %ld mask pixels "
               "thinner than the opening\n", f, info.face_size, lost, in);
        ck_assert_int_gt(in, 1000);
        ck_assert_msg(lost <= 0.005 * (double)in, "face %d: %ld of %ld mask pixels thin", f, lost, in);
        swapped++;
        free(m);
        free(t);
        free_copy(&out);
        fs_swap_info_free(&info);
    }
    ck_assert_int_ge(swapped, 3);
    free(lm);
    fs_identity_destroy(id);
    fs_image_free(&src);
    fs_image_free(&tgt);
    fs_test_swap_env_close(&e);
}
END_TEST

/* The refit (fs_swap_params.light_refit): a light that falls off across
 * the source's face (linear gain 1.3 at its left, cool, to 0.6 at its
 * right) is the one the six-term fit holds worst (the light leak's ramps,
 * doc/light-notes.md). The astronaut with that light, and without, swapped
 * onto herself: the refit brings the two results closer, and costs the
 * plain self-swap nothing. Both atlases are unwrapped with the plain
 * photo's landmarks, so that only the light differs. Measured at 0.4:
 * mean |R(lit) - R(plain)| over the inner face 1.67 -> 1.55 levels; plain
 * self-swap MAE 2.33 -> 1.76. (1.84 -> 1.56 before the colour match took
 * the lightness as a gain, which does part of the refit's work: the lit
 * render is darker on one side, and a shift of L* made that side darker
 * still; 3.18 -> 2.31 with the landmarks of the fit before it was averaged
 * with the mirrored crop's.) Since the fringe's line lies 0.05 under its
 * tips (lookup.c, FRINGE_MARGIN), the forehead band above it the target's:
 * 1.66 -> 1.60. Since the skin mask is opened (swap.c, FS_SWAP_SKIN_OPEN), which
 * takes the fringe's thin strands out of the mask with or without the
 * refit: 1.62 -> 1.58, both closer than before; the bound, 0.98 of the
 * results apart without the refit, still asks the refit for a gain. */
START_TEST(swap_light_refit)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image img;
    fs_face_landmarks *lm = astronaut_face(&e, &img);
    float x0;
    const float fw = face_width(lm, &x0);
    fs_image lit = fs_test_copy_image(&img, 3);
    static const float cool[3] = {0.8f, 0.97f, 1.2f};
    for (int y = 0; y < lit.height; y++)
        for (int x = 0; x < lit.width; x++) {
            const float t = fminf(fmaxf(((float)x - x0) / fw, 0.0f), 1.0f);
            for (int c = 0; c < 3; c++) {
                uint8_t *v = px(&lit, x, y) + c;
                const float g = 0.6f + 0.7f * (1.0f - t) * cool[c];
                *v = (uint8_t)lrintf(255.0f * fs_linear_to_srgb(fs_srgb_to_linear(*v / 255.0f) * g));
            }
        }
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    fs_identity_data id[2];
    fs_atlas_params ap;
    fs_atlas_params_default(&ap);
    for (int k = 0; k < 2; k++)
        atlas_identity(k ? &lit : &img, lm, mesh, &ap, &id[k]);
    fs_swap_params p;
    fs_swap_params_default(&p);
    ck_assert(p.light_refit > 0.0);
    double moved[2], self[2];
    for (int k = 0; k < 2; k++) {
        p.light_refit = k ? FS_SWAP_LIGHT_REFIT : 0.0;
        fs_swap_info info = {0};
        fs_image plain = swap_onto(&e, mesh, &p, &id[0], &img, lm, &info);
        fs_image from_lit = swap_onto(&e, mesh, &p, &id[1], &img, lm, &info);
        moved[k] = inner_mae(&plain, &from_lit, &info);
        self[k] = inner_mae(&plain, &img, &info);
        free_copy(&plain);
        free_copy(&from_lit);
    }
    printf("swap: a source lit from one side, against plain, onto itself: results %.2f -> %.2f "
           "levels apart with the refit; plain self-swap MAE %.2f -> %.2f\n",
           moved[0], moved[1], self[0], self[1]);
    ck_assert_msg(moved[1] < 0.98 * moved[0], "refit: %.2f against %.2f without", moved[1], moved[0]);
    ck_assert_msg(self[1] < self[0] + 0.1, "refit: self-swap %.2f against %.2f", self[1], self[0]);
    for (int k = 0; k < 2; k++)
        fs_atlas_free(&id[k].atlas);
    free_copy(&lit);
    free(lm);
    fs_image_free(&img);
    fs_test_swap_env_close(&e);
}
END_TEST

/* MediaPipe 50 / 280: the cheeks below the eyes; 205 / 425: their
 * middles; 151: the forehead. */
static const int paint_at[] = {50, 280, 205, 425, 151};
#define PAINT_DOTS (int)(sizeof(paint_at) / sizeof(paint_at[0]))

/* 1 when (x, y) lies within @p r px of one of the painted dots' centres. */
static int near_paint(const fs_face_landmarks *lm, int x, int y, float r)
{
    for (int d = 0; d < PAINT_DOTS; d++)
        if (hypotf((float)x - lm->points[paint_at[d]][0], (float)y - lm->points[paint_at[d]][1]) < r)
            return 1;
    return 0;
}

/* Dark make-up painted on the target (five near-black dots on the cheeks
 * and forehead, as faceapi_sample1's clown face has) is neither skin
 * colour nor grain, and must not change the rest of the swapped face. The
 * astronaut onto herself plain and onto herself painted: away from the
 * dots the two results stay close. Measured: 0.76 levels apart. With the
 * colour match counting the dark tail (swap.c, STATS_DARK_IQR at 1e9)
 * 4.44; with the detail stage's energy a mean of squares instead of the
 * median (compose/colour.c) 7.18, the whole face covered in speckle; with
 * both 8.21. */
START_TEST(swap_stats_dark_paint)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image img;
    fs_face_landmarks *lm = astronaut_face(&e, &img);
    const float r = 0.045f * face_width(lm, NULL);
    fs_image painted = fs_test_copy_image(&img, 3);
    for (int y = 0; y < painted.height; y++)
        for (int x = 0; x < painted.width; x++)
            if (near_paint(lm, x, y, r)) {
                uint8_t *v = px(&painted, x, y);
                v[0] = 28;
                v[1] = 26;
                v[2] = 32;
            }
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    fs_identity_data id;
    fs_atlas_params ap;
    fs_atlas_params_default(&ap);
    atlas_identity(&img, lm, mesh, &ap, &id);
    fs_swap_params p;
    fs_swap_params_default(&p);
    fs_swap_info info = {0};
    fs_image plain = swap_onto(&e, mesh, &p, &id, &img, lm, &info);
    fs_image onto_painted = swap_onto(&e, mesh, &p, &id, &painted, lm, &info);
    /* The inner face (the window's middle half) at least 2.5 dot radii
     * from every dot. */
    double sum = 0;
    long cnt = 0;
    for (int y = info.y0 + info.h / 4; y < info.y0 + 3 * info.h / 4; y++)
        for (int x = info.x0 + info.w / 4; x < info.x0 + 3 * info.w / 4; x++) {
            if (near_paint(lm, x, y, 2.5f * r))
                continue;
            for (int c = 0; c < 3; c++, cnt++)
                sum += abs((int)px(&plain, x, y)[c] - (int)px(&onto_painted, x, y)[c]);
        }
    ck_assert_int_gt(cnt, 3000);
    const double apart = sum / (double)cnt;
    printf("swap: onto the target plain and with dark dots painted on: %.2f levels apart away "
           "from the dots\n", apart);
    ck_assert_msg(apart < 1.5, "dark paint moved the face: %.2f levels", apart);
    fs_atlas_free(&id.atlas);
    free_copy(&plain);
    free_copy(&onto_painted);
    free_copy(&painted);
    free(lm);
    fs_image_free(&img);
    fs_test_swap_env_close(&e);
}
END_TEST

static Suite *swap_suite(void)
{
    Suite *s = suite_create("swap");
    TCase *tc = tcase_create("swap");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, swap_uv_upright);
    tcase_add_test(tc, swap_shape_transfer);
    tcase_add_test(tc, swap_relight_self);
    tcase_add_test(tc, swap_light_refit);
    tcase_add_test(tc, swap_stats_dark_paint);
    tcase_add_test(tc, swap_self_fidelity);
    tcase_add_test(tc, swap_eyes_modes);
    tcase_add_test(tc, swap_openings_painted);
    tcase_add_test(tc, swap_openings_clean);
    tcase_add_test(tc, swap_stages_through_ops);
    tcase_add_test(tc, swap_skin_guard_regions);
    tcase_add_test(tc, swap_mask_opened);
    tcase_add_test(tc, swap_fringe_line);
    tcase_add_test(tc, swap_eye_edge_distance);
    tcase_add_test(tc, swap_quality_pairs);
    tcase_add_test(tc, swap_no_face_source);
    tcase_add_test(tc, swap_identity_blob);
    tcase_add_test(tc, swap_face_at_border);
    tcase_add_test(tc, swap_formats);
    tcase_add_test(tc, swap_large_target_and_formats);
    tcase_add_test(tc, swap_params);
    tcase_add_test(tc, swap_timing);
    tcase_add_test(tc, swap_capture_cache);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return fs_test_run_suite(swap_suite());
}
