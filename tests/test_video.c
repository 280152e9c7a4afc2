/*
 * The video path on a clip whose true face motion is known (tests/clips,
 * scenario `motion`: two photos moved by pans, a zoom, an in-plane turn and
 * a fast move, with pauses, a cut between them and a sine track), against
 * issue 9's temporal-quality points:
 *  (a) the template's smoothed landmarks jitter at least 2x less than the
 *      raw per-frame fits (the template analysed without smoothing), with a
 *      mean error against the true path within 1% of the face size;
 *  (b) in pauses the swapped face is steady: the output's change from one
 *      frame to the next inside the face is at most the template's own
 *      plus one grey level;
 *  (c) the track holds through the motion and a new one starts at the cut;
 *  (d) outside the face masks every output frame is its input frame
 *      (rendered losslessly, CRF 0, so that the encoder adds nothing: the
 *      pipeline keeps the decoder's bytes there);
 *  (e) the template carries each face's light (issue 10 item 1), smoothed
 *      over time: steadier than the raw per-frame fits, and the same light.
 * The clip and the two templates are made once in main(); each test reads
 * them. Exits 77 (skip) without the ffmpeg tool.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip_util.h"
#include "temporal.h"
#include "template/template_api.h"
#include "video/video_io.h"

static char dir[4096];
static char clip[4200], truth_path[4200], tpl_smooth[4200], tpl_raw[4200];
static fs_face_landmarks photo_lm[FS_CLIP_MAX_PHOTOS];

static void path_in(char *out, const char *name)
{
    snprintf(out, 4200, "%s/%s", dir, name);
}

static void analyse(fs_context *ctx, int smooth, const char *out)
{
    fs_template *t = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &t));
    FS_ASSERT_OK(fs_template_set(t, FS_TEMPLATE_SMOOTH, smooth));
    const fs_status st = fs_template_analyse(t, clip, NULL, NULL);
    ck_assert_msg(st == FS_OK, "analyse: %s %s", fs_status_name(st), fs_template_last_error(t));
    FS_ASSERT_OK(fs_template_save_file(t, out));
    fs_template_destroy(t);
}

/* The still photos' fits the truth is made of. */
static void fit_photos(void)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_clip_truth truth;
    char err[256];
    ck_assert_msg(fs_clip_truth_read(truth_path, &truth, err, sizeof(err)) == 0, "%s", err);
    for (int p = 0; p < truth.photo_count; p++)
        fit_still(ctx, det, fit, truth.photos[p], &photo_lm[p]);
    fs_clip_truth_free(&truth);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}

/* Everything the tests share, made once, by the first test (each test runs
 * in its own process: what they share is on disk). */
START_TEST(make_inputs)
{
    char args[9000];
    snprintf(args, sizeof(args), "--scenario motion '%s' '%s' >/dev/null", clip, truth_path);
    ck_assert_int_eq(run_make_clip(args), 0);
    fs_context *ctx = fs_test_new_context();
    analyse(ctx, 1, tpl_smooth);
    analyse(ctx, 0, tpl_raw);
    fs_context_destroy(ctx);
}
END_TEST

static fs_template *load_template(fs_context *ctx, const char *path)
{
    fs_template *t = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &t));
    FS_ASSERT_OK(fs_template_load_file(t, path));
    return t;
}

/* The frame where the truth's shot changes. */
static int cut_frame(const fs_clip_truth *truth)
{
    for (int f = 1; f < truth->frame_count; f++)
        if (truth->frames[f].shot != truth->frames[f - 1].shot)
            return f;
    return -1;
}

/* The template's landmarks of every frame: the face of whichever track is
 * in the frame (the clip shows one face at a time). */
static void template_series(const fs_template *t, int frames, fs_clip_series *s)
{
    ck_assert_int_eq(fs_clip_series_alloc(s, frames, FS_MESH_LANDMARKS), 0);
    fs_template_info in;
    FS_ASSERT_OK(fs_template_get_info(t, &in));
    fs_face_landmarks lm;
    for (int f = 0; f < frames; f++)
        for (int k = 0; k < in.tracks; k++)
            if (fs_template_get_face(t, f, k, &lm) == FS_OK)
                fs_clip_series_set(s, f, &lm);
}

START_TEST(tracks_through_motion_and_cut)
{
    fs_context *ctx = fs_test_new_context();
    fs_template *t = load_template(ctx, tpl_smooth);
    fs_clip_truth truth;
    char err[256];
    ck_assert_int_eq(fs_clip_truth_read(truth_path, &truth, err, sizeof(err)), 0);
    const int cut = cut_frame(&truth);
    ck_assert_int_gt(cut, 0);
    fs_template_info in;
    FS_ASSERT_OK(fs_template_get_info(t, &in));
    ck_assert_int_eq(in.frames, truth.frame_count);
    ck_assert_int_eq(in.width, 1280);
    ck_assert_int_eq(in.height, 720);
    ck_assert_int_eq(in.fps_num, 25);
    ck_assert_int_eq(in.fps_den, 1);
    ck_assert_msg(fabs(in.duration - truth.frame_count / 25.0) < 1e-6, "duration %g", in.duration);
    /* One track over the first shot without a miss, another from the cut on. */
    ck_assert_int_eq(in.tracks, 2);
    fs_template_track_info a, b;
    FS_ASSERT_OK(fs_template_get_track(t, 0, &a));
    FS_ASSERT_OK(fs_template_get_track(t, 1, &b));
    printf("tracks: 0 = frames %lld..%lld (%lld), 1 = %lld..%lld (%lld); cut at %d\n",
           (long long)a.first_frame, (long long)a.last_frame, (long long)a.frames,
           (long long)b.first_frame, (long long)b.last_frame, (long long)b.frames, cut);
    ck_assert_int_eq(a.first_frame, 0);
    ck_assert_int_eq(a.last_frame, cut - 1);
    ck_assert_int_eq(a.frames, cut);
    ck_assert_int_le(b.first_frame, cut + 1); /* found again within a frame of the cut */
    ck_assert_int_eq(b.last_frame, truth.frame_count - 1);
    ck_assert_int_eq(b.frames, b.last_frame - b.first_frame + 1);
    /* The protagonist is the longer track; the poster frame one of its faces. */
    ck_assert_int_eq(in.protagonist, a.frames >= b.frames ? 0 : 1);
    fs_face_landmarks lm;
    FS_ASSERT_OK(fs_template_get_face(t, in.poster_frame, in.protagonist, &lm));
    ck_assert_int_eq(fs_template_get_face(t, cut, 0, &lm), FS_ERR_NO_FACE);
    ck_assert_int_eq(fs_template_get_face(t, in.frames, 0, &lm), FS_ERR_OUT_OF_RANGE);
    fs_clip_truth_free(&truth);
    fs_template_destroy(t);
    fs_context_destroy(ctx);
}
END_TEST

/* A decoded frame as RGB. */
typedef struct rgb_frame {
    fs_video_frame yuv;
    fs_image img;
} rgb_frame;

static void rgb_frame_init(rgb_frame *f, int w, int h)
{
    fs_error_buf err;
    memset(f, 0, sizeof(*f));
    FS_ASSERT_OK(fs_video_frame_alloc(&f->yuv, w, h, &err));
    f->img = (fs_image){w, h, w * 3, FS_PIXEL_RGB8, FS_MEMORY_HOST, 0, malloc((size_t)w * h * 3), {0}};
    ck_assert_ptr_nonnull(f->img.data);
}

static void rgb_frame_free(rgb_frame *f)
{
    fs_video_frame_free(&f->yuv);
    free(f->img.data);
}

/* Reads the next frame; 0 at the end. */
static int read_rgb(fs_video_reader *r, const fs_video_props *p, rgb_frame *f)
{
    fs_error_buf err;
    int eof = 0;
    const fs_status st = fs_video_reader_read(r, &f->yuv, &eof, &err);
    ck_assert_msg(st == FS_OK, "read: %s %s", fs_status_name(st), err.text);
    if (eof)
        return 0;
    const fs_yuv_desc d = fs_yuv_desc_from(p->color_space, p->color_range, p->height);
    FS_ASSERT_OK(fs_yuv420_to_rgb(&f->yuv, &d, f->img.data, f->img.stride));
    return 1;
}

/* The raw per-frame fits of the clip: every decoded frame detected and
 * fitted on its own (no tracking, no smoothing), the detection nearest the
 * true face taken (the clip's noise gives the odd false detection, which
 * the fitter then rejects or the tracker never follows). */
static void per_frame_fits(const fs_clip_series *want, fs_clip_series *out)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    ck_assert_int_eq(fs_clip_series_alloc(out, want->frames, FS_MESH_LANDMARKS), 0);
    fs_error_buf e;
    fs_video_reader *r = NULL;
    fs_video_props p;
    FS_ASSERT_OK(fs_video_reader_open(clip, NULL, &r, &p, &e));
    rgb_frame fr;
    rgb_frame_init(&fr, p.width, p.height);
    for (int f = 0; f < want->frames && read_rgb(r, &p, &fr); f++) {
        double cx = 0, cy = 0;
        for (int k = 0; k < FS_MESH_LANDMARKS; k++) {
            cx += want->xy[((size_t)f * FS_MESH_LANDMARKS + k) * 2] / FS_MESH_LANDMARKS;
            cy += want->xy[((size_t)f * FS_MESH_LANDMARKS + k) * 2 + 1] / FS_MESH_LANDMARKS;
        }
        fs_face_box boxes[8];
        int nb = 0, best = -1;
        FS_ASSERT_OK(fs_detector_run(det, &fr.img, boxes, 8, &nb));
        double best_d = INFINITY;
        for (int b = 0; b < nb && b < 8; b++) {
            const double d = hypot(boxes[b].x + boxes[b].width / 2 - cx,
                                   boxes[b].y + boxes[b].height / 2 - cy);
            if (d < best_d)
                best_d = d, best = b;
        }
        fs_face_landmarks lm;
        if (best >= 0 && fs_fitter_run(fit, &fr.img, &boxes[best], &lm) == FS_OK)
            fs_clip_series_set(out, f, &lm);
    }
    rgb_frame_free(&fr);
    fs_video_reader_close(r);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}

START_TEST(smoothing_beats_raw_fits)
{
    fit_photos();
    fs_context *ctx = fs_test_new_context();
    fs_template *ts = load_template(ctx, tpl_smooth), *tr = load_template(ctx, tpl_raw);
    fs_clip_truth truth;
    char err[256];
    ck_assert_int_eq(fs_clip_truth_read(truth_path, &truth, err, sizeof(err)), 0);
    const int n = truth.frame_count;
    fs_clip_series want, smooth, raw, tracked;
    ck_assert_int_eq(fs_clip_truth_series(&truth, photo_lm, FS_MESH_LANDMARKS, &want), 0);
    template_series(ts, n, &smooth);
    template_series(tr, n, &tracked);
    per_frame_fits(&want, &raw);
    for (int f = 0; f < n; f++)
        ck_assert_msg(smooth.valid[f] && tracked.valid[f], "frame %d without a face", f);
    /* The residual's jitter (the landmarks less the true path): the path's
     * own acceleration (the fast move) is motion, not jitter. */
    const fs_clip_stat js = fs_clip_jitter(&truth, &want, &smooth, 0, n, FS_CLIP_JITTER_RESIDUAL);
    const fs_clip_stat jr = fs_clip_jitter(&truth, &want, &raw, 0, n, FS_CLIP_JITTER_RESIDUAL);
    const fs_clip_stat jt = fs_clip_jitter(&truth, &want, &tracked, 0, n, FS_CLIP_JITTER_RESIDUAL);
    double worst_s = 0, worst_r = 0, worst_t = 0;
    const fs_clip_stat es = fs_clip_error(&want, &smooth, 0, n, &worst_s);
    const fs_clip_stat er = fs_clip_error(&want, &raw, 0, n, &worst_r);
    const fs_clip_stat et = fs_clip_error(&want, &tracked, 0, n, &worst_t);
    printf("jitter (residual, eye distances): raw per-frame fits %.4f, tracked unsmoothed %.4f, "
           "smoothed %.4f (%.1fx below the raw fits, %.1fx below the tracked)\n", jr.value,
           jt.value, js.value, jr.value / js.value, jt.value / js.value);
    printf("error (face size): raw %.2f%% (worst frame %.2f%%), tracked %.2f%% (%.2f%%), "
           "smoothed %.2f%% (%.2f%%)\n", 100 * er.value, 100 * worst_r, 100 * et.value,
           100 * worst_t, 100 * es.value, 100 * worst_s);
    ck_assert_int_gt(js.samples, n / 2);
    ck_assert_int_gt(jr.samples, n / 2);
    ck_assert_msg(js.value * 2.0 <= jr.value, "smoothed jitter %.4f not 2x below raw %.4f",
                  js.value, jr.value);
    ck_assert_msg(js.value < jt.value, "smoothing did not lower the tracked fits' jitter");
    ck_assert_msg(es.value <= 0.01, "smoothed mean error %.2f%% of the face size", 100 * es.value);
    /* Pauses: the raw landmarks' own jitter there (no true motion at all). */
    double pause_s = 0, pause_r = 0;
    long pairs = 0;
    for (int f = 1; f < n; f++) {
        if (memcmp(truth.frames[f].m, truth.frames[f - 1].m, sizeof(truth.frames[f].m)) != 0 ||
            truth.frames[f].shot != truth.frames[f - 1].shot)
            continue;
        double ds = 0, dr = 0;
        for (int k = 0; k < FS_MESH_LANDMARKS; k++) {
            const float *a = &smooth.xy[((size_t)f * FS_MESH_LANDMARKS + k) * 2];
            const float *b = &smooth.xy[((size_t)(f - 1) * FS_MESH_LANDMARKS + k) * 2];
            const float *c = &tracked.xy[((size_t)f * FS_MESH_LANDMARKS + k) * 2];
            const float *d = &tracked.xy[((size_t)(f - 1) * FS_MESH_LANDMARKS + k) * 2];
            ds += hypot(a[0] - b[0], a[1] - b[1]);
            dr += hypot(c[0] - d[0], c[1] - d[1]);
        }
        pause_s += ds / FS_MESH_LANDMARKS;
        pause_r += dr / FS_MESH_LANDMARKS;
        pairs++;
    }
    ck_assert_int_gt(pairs, 50);
    printf("pauses (%ld frame pairs): mean point move tracked %.3f px, smoothed %.3f px\n", pairs,
           pause_r / pairs, pause_s / pairs);
    ck_assert_msg(pause_s * 2 <= pause_r, "pauses: smoothed move not 2x below the tracked fits'");
    fs_clip_series_free(&want);
    fs_clip_series_free(&smooth);
    fs_clip_series_free(&raw);
    fs_clip_series_free(&tracked);
    fs_clip_truth_free(&truth);
    fs_template_destroy(ts);
    fs_template_destroy(tr);
    fs_context_destroy(ctx);
}
END_TEST

/* Frame-to-frame change of a template's light (sum over the terms of each
 * face's difference from its track's face in the frame before) and, against
 * @p ref, the mean difference of the same frame's light; counts faces with one. */
static void light_series(const fs_tpl_data *d, const fs_tpl_data *ref, double *step,
                         double *off_ref, long *with, long *faces)
{
    long steps = 0, pairs = 0;
    *step = *off_ref = 0;
    *with = *faces = 0;
    for (int64_t f = 0; f < d->n_frames; f++)
        for (uint32_t i = 0; i < d->frames[f].n_faces; i++) {
            const fs_tpl_face *a = &d->faces[d->frames[f].first_face + i];
            (*faces)++;
            if (!(a->flags & FS_TPL_FACE_LIGHT))
                continue;
            (*with)++;
            /* a light is normalised to a mean of 1 over the skin: near 1
             * where the face looks at the camera, at its centre */
            fs_shading sh = {.n_fit = 1};
            memcpy(sh.coeff, a->light, sizeof(sh.coeff));
            const fs_face_frame centre = {0, 0, 1};
            float basis[FS_SHADE_TERMS], lit[3];
            fs_shading_basis(&centre, (const float[3]){0, 0, 1}, 0, 0, basis);
            fs_shading_eval(&sh, basis, lit);
            for (int c = 0; c < 3; c++)
                ck_assert_msg(lit[c] > 0.5f && lit[c] < 2.0f, "frame %lld: facing light %g",
                              (long long)f, lit[c]);
            const fs_tpl_face *b = fs_tpl_find(d, f - 1, a->track);
            const fs_tpl_face *r = ref ? fs_tpl_find(ref, f, a->track) : NULL;
            double s = 0, o = 0;
            for (int k = 0; k < FS_TPL_LIGHT; k++) {
                s += b ? fabs(a->light[k] - b->light[k]) : 0;
                o += r ? fabs(a->light[k] - r->light[k]) : 0;
            }
            if (b && (b->flags & FS_TPL_FACE_LIGHT)) {
                *step += s;
                steps++;
            }
            if (r && (r->flags & FS_TPL_FACE_LIGHT)) {
                *off_ref += o;
                pairs++;
            }
        }
    *step /= steps ? (double)steps : 1.0;
    *off_ref /= pairs ? (double)pairs : 1.0;
}

/* (e) */
START_TEST(template_light_smoothed)
{
    fs_context *ctx = fs_test_new_context();
    fs_template *ts = load_template(ctx, tpl_smooth), *tr = load_template(ctx, tpl_raw);
    double step_s, step_r, off_s, off_r;
    long with_s, with_r, faces_s, faces_r;
    light_series(&tr->data, NULL, &step_r, &off_r, &with_r, &faces_r);
    light_series(&ts->data, &tr->data, &step_s, &off_s, &with_s, &faces_s);
    printf("template light: %ld of %ld faces (raw fits %ld of %ld); change a frame: raw %.4f, "
           "smoothed %.4f; smoothed from raw %.4f\n", with_s, faces_s, with_r, faces_r, step_r,
           step_s, off_s);
    fflush(stdout);
    /* the clip's faces are 150 px and more: every one gets its light */
    ck_assert_int_gt(faces_s, 200);
    ck_assert_int_eq(with_s, faces_s);
    ck_assert_int_eq(with_r, faces_r);
    ck_assert_msg(step_s * 2.0 <= step_r, "smoothed light changes %.4f a frame, raw %.4f", step_s,
                  step_r);
    ck_assert_msg(step_r > 0, "raw light never changes");
    /* the same light, its noise taken out: each frame's smoothed light
     * nearer that frame's own fit than the fits are to the frame before */
    ck_assert_msg(off_s < step_r, "smoothed light %.4f from the raw fits", off_s);
    fs_template_destroy(ts);
    fs_template_destroy(tr);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(render_steady_and_untouched_outside)
{
    fs_context *ctx = fs_test_new_context();
    fs_template *t = load_template(ctx, tpl_smooth);
    fs_renderer *ren = NULL;
    FS_ASSERT_OK(fs_renderer_create(ctx, &ren));
    fs_image src;
    fs_test_load_image(ctx, "faceapi_sample3.jpg", &src);
    fs_identity *id = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &id));
    fs_image_free(&src);
    fs_video *v = NULL;
    FS_ASSERT_OK(fs_video_create(ctx, &v));
    FS_ASSERT_OK(fs_video_set(v, FS_VIDEO_CRF, 0));
    FS_ASSERT_OK(fs_video_set(v, FS_VIDEO_PRESET, FS_PRESET_ULTRAFAST));
    FS_ASSERT_OK(fs_video_set(v, FS_VIDEO_TRACK, FS_TRACK_ALL));
    char out[4200];
    path_in(out, "out.mp4");
    const fs_status st = fs_video_render(v, ren, id, t, clip, out, NULL, NULL);
    ck_assert_msg(st == FS_OK, "render: %s %s", fs_status_name(st), fs_video_last_error(v));
    fs_video_report rep;
    FS_ASSERT_OK(fs_video_get_report(v, &rep));
    ck_assert_int_eq(rep.frames, 250);
    ck_assert_int_eq(rep.frames_swapped, 250);
    ck_assert_int_eq(rep.audio, 1); /* the clip's AAC, copied */

    fs_clip_truth truth;
    char err[256];
    ck_assert_int_eq(fs_clip_truth_read(truth_path, &truth, err, sizeof(err)), 0);
    fs_error_buf e;
    fs_video_reader *ri = NULL, *ro = NULL;
    fs_video_props pi, po;
    FS_ASSERT_OK(fs_video_reader_open(clip, NULL, &ri, &pi, &e));
    FS_ASSERT_OK(fs_video_reader_open(out, NULL, &ro, &po, &e));
    ck_assert_int_eq(po.width, pi.width);
    ck_assert_int_eq(po.height, pi.height);
    rgb_frame in[2], ou[2];
    for (int k = 0; k < 2; k++) {
        rgb_frame_init(&in[k], pi.width, pi.height);
        rgb_frame_init(&ou[k], pi.width, pi.height);
    }
    fs_image mask = {pi.width, pi.height, pi.width, FS_PIXEL_GRAY8, FS_MEMORY_HOST, 0,
                     malloc((size_t)pi.width * pi.height), {0}};
    ck_assert_ptr_nonnull(mask.data);
    fs_template_info info;
    FS_ASSERT_OK(fs_template_get_info(t, &info));
    double own = 0, swapped = 0;
    long pause_pairs = 0, outside_bad = 0, changed = 0;
    int worst = 0, f = 0;
    for (;; f++) {
        rgb_frame *a = &in[f & 1], *b = &ou[f & 1];
        const int more_in = read_rgb(ri, &pi, a), more_out = read_rgb(ro, &po, b);
        ck_assert_int_eq(more_in, more_out);
        if (!more_in)
            break;
        ck_assert_int_eq(a->yuv.pts, b->yuv.pts); /* the template's timestamps */
        /* (d): the face's hull, grown by the chroma block a changed pixel touches */
        memset(mask.data, 0, (size_t)pi.width * pi.height);
        for (int k = 0; k < info.tracks; k++) {
            fs_face_landmarks lm;
            if (fs_template_get_face(t, f, k, &lm) != FS_OK)
                continue;
            float xy[FS_MESH_LANDMARKS * 2];
            for (int p = 0; p < FS_MESH_LANDMARKS; p++) {
                xy[2 * p] = lm.points[p][0];
                xy[2 * p + 1] = lm.points[p][1];
            }
            fs_image one = mask;
            uint8_t *buf = malloc((size_t)pi.width * pi.height);
            ck_assert_ptr_nonnull(buf);
            one.data = buf;
            /* The blend's reach: the multi-band pyramid touches a pixel or
             * two past the mesh's silhouette, and a chroma block one more. */
            float x0 = xy[0], x1 = xy[0], y0 = xy[1], y1 = xy[1];
            for (int p = 1; p < FS_MESH_LANDMARKS; p++) {
                x0 = fminf(x0, xy[2 * p]), x1 = fmaxf(x1, xy[2 * p]);
                y0 = fminf(y0, xy[2 * p + 1]), y1 = fmaxf(y1, xy[2 * p + 1]);
            }
            const double grow = 3.0 + 0.02 * fmax(x1 - x0, y1 - y0);
            ck_assert_int_eq(fs_clip_mask_hull(&one, xy, FS_MESH_LANDMARKS, grow), 0);
            for (size_t i = 0; i < (size_t)pi.width * pi.height; i++)
                ((uint8_t *)mask.data)[i] |= buf[i];
            free(buf);
        }
        int diff = 0;
        const long bad = fs_clip_count_outside(&a->img, &b->img, &mask, 0, &diff);
        /* and inside, the face did change */
        for (size_t i = 0; i < (size_t)pi.width * pi.height; i++)
            ((uint8_t *)mask.data)[i] ^= 255;
        changed += fs_clip_count_outside(&a->img, &b->img, &mask, 8, NULL);
        for (size_t i = 0; i < (size_t)pi.width * pi.height; i++)
            ((uint8_t *)mask.data)[i] ^= 255;
        ck_assert_int_ge(bad, 0);
        outside_bad += bad;
        worst = diff > worst ? diff : worst;
        /* (b): pauses, inside the face */
        if (f > 0 && truth.frames[f].shot == truth.frames[f - 1].shot &&
            memcmp(truth.frames[f].m, truth.frames[f - 1].m, sizeof(truth.frames[f].m)) == 0) {
            own += fs_clip_frame_change(&in[(f - 1) & 1].img, &a->img, &mask);
            swapped += fs_clip_frame_change(&ou[(f - 1) & 1].img, &b->img, &mask);
            pause_pairs++;
        }
    }
    ck_assert_int_eq(f, 250);
    printf("outside the faces: %ld pixels differ over %d frames (largest difference %d)\n",
           outside_bad, f, worst);
    ck_assert_int_eq(outside_bad, 0);
    printf("inside the faces: %ld pixel-frames changed by more than 8 levels\n", changed);
    ck_assert_int_gt(changed, 250L * 5000);
    ck_assert_int_gt(pause_pairs, 50);
    own /= pause_pairs;
    swapped /= pause_pairs;
    printf("pauses (%ld frame pairs), change inside the face: template %.2f, output %.2f grey "
           "levels\n", pause_pairs, own, swapped);
    ck_assert_msg(swapped <= own + 1.0, "swapped face changes %.2f levels a frame in pauses, "
                  "the template %.2f", swapped, own);
    for (int k = 0; k < 2; k++) {
        rgb_frame_free(&in[k]);
        rgb_frame_free(&ou[k]);
    }
    free(mask.data);
    fs_video_reader_close(ri);
    fs_video_reader_close(ro);
    fs_clip_truth_free(&truth);
    fs_video_destroy(v);
    fs_identity_destroy(id);
    fs_renderer_destroy(ren);
    fs_template_destroy(t);
    fs_context_destroy(ctx);
}
END_TEST

/* Several faces from the first frame on: each gets its own track over every
 * frame, none lost or duplicated. */
START_TEST(several_faces_from_the_start)
{
    char still[4200], cmd[9000];
    path_in(still, "group.mp4");
    snprintf(cmd, sizeof(cmd),
             "ffmpeg -nostdin -v error -y -loop 1 -i '%s' -t 1 -r 25 -vf "
             "scale=1280:-2,format=yuv420p -c:v libx264 -preset veryfast '%s'",
             fs_test_data_path("faceapi_sample1.jpg"), still);
    ck_assert_int_eq(system(cmd), 0);
    fs_context *ctx = fs_test_new_context();
    fs_template *t = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &t));
    const fs_status st = fs_template_analyse(t, still, NULL, NULL);
    ck_assert_msg(st == FS_OK, "%s %s", fs_status_name(st), fs_template_last_error(t));
    fs_template_info in;
    FS_ASSERT_OK(fs_template_get_info(t, &in));
    ck_assert_int_eq(in.frames, 25);
    ck_assert_int_eq(in.tracks, 3);
    for (int k = 0; k < 3; k++) {
        fs_template_track_info tr;
        FS_ASSERT_OK(fs_template_get_track(t, k, &tr));
        ck_assert_int_eq(tr.first_frame, 0);
        ck_assert_int_eq(tr.frames, 25);
    }
    fs_template_destroy(t);
    fs_context_destroy(ctx);
}
END_TEST

/* A film that cuts between two people: one track each across the shots
 * (faceres embeddings join them), against one track per shot when joining
 * is off. Megamind.avi: Roxanne in shots 1 and 3, the man with glasses in
 * shots 2 and 4 (cuts at frames 98, 154 and 200). */
START_TEST(tracks_joined_across_shots)
{
    fs_context *ctx = fs_test_new_context();
    const char *film = fs_test_data_path("Megamind.avi");
    fs_template_info joined, apart;
    fs_template_track_info main_track;
    for (int join = 1; join >= 0; join--) {
        fs_template *t = NULL;
        FS_ASSERT_OK(fs_template_create(ctx, &t));
        FS_ASSERT_OK(fs_template_set(t, FS_TEMPLATE_JOIN_SHOTS, join));
        const fs_status st = fs_template_analyse(t, film, NULL, NULL);
        ck_assert_msg(st == FS_OK, "%s %s", fs_status_name(st), fs_template_last_error(t));
        FS_ASSERT_OK(fs_template_get_info(t, join ? &joined : &apart));
        if (join)
            FS_ASSERT_OK(fs_template_get_track(t, joined.protagonist, &main_track));
        fs_template_destroy(t);
    }
    printf("Megamind.avi: %d tracks apart, %d joined; the protagonist: frames %lld..%lld, %lld "
           "with a face (one shot's track at most %lld)\n", apart.tracks, joined.tracks,
           (long long)main_track.first_frame, (long long)main_track.last_frame,
           (long long)main_track.frames, (long long)apart.frames_with_face);
    ck_assert_int_eq(joined.frames, 270);
    ck_assert_int_le(joined.tracks, apart.tracks - 2); /* both people joined */
    /* the protagonist spans a cut: from the first shot past frame 154 */
    ck_assert_int_lt(main_track.first_frame, 98);
    ck_assert_int_gt(main_track.last_frame, 154);
    ck_assert_int_gt(main_track.frames, apart.frames_with_face);
    fs_context_destroy(ctx);
}
END_TEST

int main(void)
{
    if (!have_ffmpeg()) {
        printf("no ffmpeg tool: the video tests need it to make their clip\n");
        return 77;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/fs_video_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    path_in(clip, "motion.mp4");
    path_in(truth_path, "motion.txt");
    path_in(tpl_smooth, "smooth.fst");
    path_in(tpl_raw, "raw.fst");
    Suite *s = suite_create("video");
    TCase *tc = tcase_create("motion");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, make_inputs);
    tcase_add_test(tc, tracks_through_motion_and_cut);
    tcase_add_test(tc, smoothing_beats_raw_fits);
    tcase_add_test(tc, template_light_smoothed);
    tcase_add_test(tc, render_steady_and_untouched_outside);
    tcase_add_test(tc, tracks_joined_across_shots);
    tcase_add_test(tc, several_faces_from_the_start);
    suite_add_tcase(s, tc);
    const int rc = fs_test_run_suite(s);
    rm_dir(dir);
    return rc;
}
