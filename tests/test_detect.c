/*
 * fs_detector: API contract, input validation, pixel formats, tiny and
 * no-face images, model-file checks, the post-processing against the
 * reference's raw tensors, allocation-free runs, and the squash / letterbox
 * study behind the default input mode (doc/detector-input.md).
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_count.h"
#include "detect/detect_internal.h"
#include "golden_reader.h"
#include "model_files.h"
#include "perception_util.h"
#include "sha256.h"

/* ---------------------------------------------------------------- helpers */

/* An RGB8 image re-packed as @p format with @p pad spare bytes per row. */
static fs_image convert(const fs_image *rgb, fs_pixel_format format, int pad)
{
    const int ch = fs_pixel_format_channels(format);
    fs_image out = *rgb;
    out.format = format;
    out.stride = rgb->width * ch + pad;
    uint8_t *d = malloc((size_t)out.stride * (size_t)rgb->height);
    ck_assert_ptr_nonnull(d);
    memset(d, 0x5a, (size_t)out.stride * (size_t)rgb->height);
    for (int y = 0; y < rgb->height; y++)
        for (int x = 0; x < rgb->width; x++) {
            const uint8_t *s = (const uint8_t *)rgb->data + (size_t)y * rgb->stride + (size_t)x * 3;
            uint8_t *t = d + (size_t)y * out.stride + (size_t)x * ch;
            switch (format) {
            case FS_PIXEL_RGB8: memcpy(t, s, 3); break;
            case FS_PIXEL_RGBA8: memcpy(t, s, 3); t[3] = 17; break;
            case FS_PIXEL_BGR8: t[0] = s[2]; t[1] = s[1]; t[2] = s[0]; break;
            case FS_PIXEL_BGRA8: t[0] = s[2]; t[1] = s[1]; t[2] = s[0]; t[3] = 250; break;
            case FS_PIXEL_GRAY8: t[0] = (uint8_t)((s[0] * 77 + s[1] * 150 + s[2] * 29) >> 8); break;
            }
        }
    out.data = d;
    return out;
}

/* Gray expanded to RGB (the same pixels a GRAY8 image stands for). */
static fs_image gray_to_rgb(const fs_image *gray)
{
    fs_image out = *gray;
    out.format = FS_PIXEL_RGB8;
    out.stride = gray->width * 3;
    uint8_t *d = malloc((size_t)out.stride * (size_t)gray->height);
    ck_assert_ptr_nonnull(d);
    for (int y = 0; y < gray->height; y++)
        for (int x = 0; x < gray->width; x++)
            memset(d + (size_t)y * out.stride + (size_t)x * 3,
                   ((const uint8_t *)gray->data)[(size_t)y * gray->stride + (size_t)x], 3);
    out.data = d;
    return out;
}

static fs_image flat_image(int w, int h, int format, uint8_t value)
{
    fs_image img;
    memset(&img, 0, sizeof(img));
    img.width = w;
    img.height = h;
    img.format = format;
    img.stride = w * fs_pixel_format_channels((fs_pixel_format)format);
    img.memory = FS_MEMORY_HOST;
    img.data = malloc((size_t)img.stride * (size_t)h);
    ck_assert_ptr_nonnull(img.data);
    memset(img.data, value, (size_t)img.stride * (size_t)h);
    return img;
}

static int detect(fs_detector *det, const fs_image *img, fs_face_box *faces, int cap)
{
    int n = -1;
    const fs_status st = fs_detector_run(det, img, faces, cap, &n);
    ck_assert_msg(st == FS_OK, "fs_detector_run: %s (%s)", fs_status_name(st),
                  fs_detector_last_error(det));
    ck_assert_int_ge(n, 0);
    return n;
}

static double box_diff(const fs_face_box *a, const fs_face_box *b)
{
    double d = fmax(fmax(fabs(a->x - b->x), fabs(a->y - b->y)),
                    fmax(fabs(a->width - b->width), fabs(a->height - b->height)));
    for (int k = 0; k < FS_FACE_KEYPOINTS; k++)
        d = fmax(d, fmax(fabs(a->keypoints[k][0] - b->keypoints[k][0]),
                         fabs(a->keypoints[k][1] - b->keypoints[k][1])));
    return d;
}

/* ---------------------------------------------------------------- pure parts */

START_TEST(sha256_vectors)
{
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t d[FS_SHA256_SIZE];
        char hex[FS_SHA256_HEX_SIZE];
        fs_sha256(v[i].msg, strlen(v[i].msg), d);
        fs_sha256_hex(d, hex);
        ck_assert_str_eq(hex, v[i].hex);
    }
    /* One million 'a' fed in uneven pieces crosses every block boundary case. */
    fs_sha256_ctx c;
    fs_sha256_init(&c);
    char a[1100];
    memset(a, 'a', sizeof(a));
    size_t left = 1000000, piece = 1;
    while (left) {
        const size_t n = piece < left ? piece : left;
        fs_sha256_update(&c, a, n);
        left -= n;
        piece = piece % 997 + 63;
    }
    uint8_t d[FS_SHA256_SIZE];
    char hex[FS_SHA256_HEX_SIZE];
    fs_sha256_final(&c, d);
    fs_sha256_hex(d, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(pinned_table_matches_script)
{
    const char *root = getenv("FS_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof(path), "%s/scripts/data.sha256", root && *root ? root : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[512];
    int models = 0;
    while (fgets(line, sizeof(line), f)) {
        char sum[128], file[256];
        if (sscanf(line, "%127s %255s", sum, file) != 2 || strncmp(file, "models/", 7) != 0)
            continue;
        const char *pinned = fs_model_pinned_sha256(file + 7);
        ck_assert_msg(pinned != NULL, "%s is not in the library's pinned table", file);
        ck_assert_str_eq(pinned, sum);
        models++;
    }
    fclose(f);
    ck_assert_int_eq(models, fs_model_pinned_count());
    ck_assert_ptr_null(fs_model_pinned_sha256("nothing.bin"));
    ck_assert_ptr_null(fs_model_pinned_name(-1));
    ck_assert_ptr_null(fs_model_pinned_name(fs_model_pinned_count()));
}
END_TEST

START_TEST(js_round)
{
    ck_assert(fs_js_round(2.5) == 3.0);
    ck_assert(fs_js_round(-2.5) == -2.0); /* C round() gives -3 */
    ck_assert(fs_js_round(-2.5000001) == -3.0);
    ck_assert(fs_js_round(0.49999999999999994) == 0.0);
    ck_assert(fs_js_round(-0.4) == 0.0);
    ck_assert(fs_js_round(1e15 + 0.5) == 1e15 + 1);
}
END_TEST

START_TEST(anchors_and_nms)
{
    static double anchors[FS_DET_ANCHORS * 2];
    fs_det_anchors(anchors);
    ck_assert(anchors[0] == 8 && anchors[1] == 8 && anchors[2] == 8 && anchors[3] == 8);
    ck_assert(anchors[2 * 511] == 248 && anchors[2 * 511 + 1] == 248);
    ck_assert(anchors[2 * 512] == 16 && anchors[2 * 512 + 1] == 16);
    ck_assert(anchors[2 * 895] == 240 && anchors[2 * 895 + 1] == 240);

    /* IoU(0,1) = 1/3, IoU(0,5) = 0.5 exactly, IoU(1,5) = 0.2; 2 and 3 are apart
     * and tie on score; 4 sits on the score threshold (not above it). */
    const double boxes[6 * 4] = {
        0, 0, 10, 10,   5, 0, 15, 10,   100, 100, 110, 110,
        200, 200, 210, 210,   300, 300, 310, 310,   0, 0, 10, 20,
    };
    const double scores[6] = {0.9, 0.8, 0.7, 0.7, 0.2, 0.85};
    int order[6], sel[6];
    int n = fs_det_nms(boxes, scores, 6, 10, 0.5, 0.2, order, sel);
    ck_assert_int_eq(n, 5); /* an IoU equal to the threshold does not suppress */
    static const int want5[5] = {0, 5, 1, 2, 3};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(sel[i], want5[i]);
    n = fs_det_nms(boxes, scores, 6, 10, 0.3, 0.2, order, sel);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(sel[0], 0);
    ck_assert_int_eq(sel[1], 2); /* tie with 3: lower index first */
    ck_assert_int_eq(sel[2], 3);
    n = fs_det_nms(boxes, scores, 6, 2, 0.3, 0.2, order, sel);
    ck_assert_int_eq(n, 2);
    n = fs_det_nms(boxes, scores, 6, 10, 0.3, 0.95, order, sel);
    ck_assert_int_eq(n, 0);
    /* Degenerate boxes never suppress. */
    const double flat[2 * 4] = {0, 0, 0, 10, 0, 0, 0, 10};
    const double s2[2] = {0.9, 0.8};
    ck_assert_int_eq(fs_det_nms(flat, s2, 2, 10, 0.1, 0.2, order, sel), 2);
}
END_TEST

/* The decoding, NMS and scaling of the reference's own detector tensor
 * reproduce its boxes: checks the post-processing without the network. */
START_TEST(postprocess_matches_reference_tensors)
{
    static const char *const names[] = {"astronaut.txt", "messi5.txt"};
    for (int i = 0; i < 2; i++) {
        golden *g = golden_read(fs_test_golden_path(names[i]));
        ck_assert_ptr_nonnull(g);
        const golden_tensor *t = golden_tensor_get(g, "detector_output_896x17");
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(t->n, FS_DET_ANCHORS * FS_DET_COLS);
        static double anchors[FS_DET_ANCHORS * 2], boxes[FS_DET_ANCHORS * 4],
            scores[FS_DET_ANCHORS];
        int order[FS_DET_ANCHORS], sel[16];
        fs_det_anchors(anchors);
        fs_det_decode(t->v, anchors, boxes, scores);
        const int n = fs_det_nms(boxes, scores, FS_DET_ANCHORS, 10, 0.1, 0.2, order, sel);
        ck_assert_int_eq(n, g->nfaces);
        const fs_det_map map = {g->width / 256.0, g->height / 256.0, 0, 0};
        for (int k = 0; k < n; k++) {
            fs_face_box b;
            fs_det_face(t->v, anchors, boxes, scores, sel[k], &map, &b);
            const golden_face *gf = &g->faces[k];
            ck_assert_int_eq(sel[k], gf->anchor);
            ck_assert(fabs(b.score - gf->score) < 1e-6);
            ck_assert(fabs(b.x - gf->box[0]) < 1e-3 && fabs(b.y - gf->box[1]) < 1e-3);
            ck_assert(fabs(b.x + b.width - gf->box[2]) < 1e-3);
            ck_assert(fabs(b.y + b.height - gf->box[3]) < 1e-3);
            for (int p = 0; p < FS_FACE_KEYPOINTS; p++)
                ck_assert(fabs(b.keypoints[p][0] - gf->keypoints[2 * p]) < 1e-3 &&
                          fabs(b.keypoints[p][1] - gf->keypoints[2 * p + 1]) < 1e-3);
        }
        golden_free(g);
    }
}
END_TEST

/* ---------------------------------------------------------------- API contract */

START_TEST(api_contract)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = (fs_detector *)(uintptr_t)0x1;
    FS_ASSERT_STATUS(fs_detector_create(NULL, &det), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(det, (fs_detector *)(uintptr_t)0x1); /* untouched */
    FS_ASSERT_STATUS(fs_detector_create(ctx, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert(strlen(fs_context_last_error(ctx)) > 0);
    det = fs_test_new_detector(ctx);
    fs_detector_destroy(NULL);
    ck_assert_str_eq(fs_detector_last_error(NULL), "");

    fs_image img;
    fs_test_load_image(ctx, "faceapi_sample5.jpg", &img);
    fs_face_box faces[8], sentinel;
    memset(&sentinel, 0xa5, sizeof(sentinel));
    for (int i = 0; i < 8; i++)
        faces[i] = sentinel;
    int n = -7;
    FS_ASSERT_STATUS(fs_detector_run(NULL, &img, faces, 8, &n), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_detector_run(det, NULL, faces, 8, &n), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_detector_run(det, &img, faces, 8, NULL), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_detector_run(det, &img, NULL, 3, &n), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_detector_run(det, &img, faces, -1, &n), FS_ERR_INVALID_ARGUMENT);
    ck_assert(strlen(fs_detector_last_error(det)) > 0);
    ck_assert_int_eq(n, -7);
    for (int i = 0; i < 8; i++)
        ck_assert(memcmp(&faces[i], &sentinel, sizeof(sentinel)) == 0);

    /* capacity 0 counts; a short array gets the best ones, best first */
    FS_ASSERT_OK(fs_detector_run(det, &img, NULL, 0, &n));
    ck_assert_int_eq(n, 5);
    ck_assert_str_eq(fs_detector_last_error(det), "");
    fs_face_box all[8];
    ck_assert_int_eq(detect(det, &img, all, 8), 5);
    for (int i = 1; i < 5; i++)
        ck_assert(all[i].score <= all[i - 1].score);
    for (int i = 0; i < 5; i++) {
        ck_assert(all[i].width > 0 && all[i].height > 0);
        ck_assert(all[i].score > 0.2f && all[i].score <= 1.0f);
        for (int r = 0; r < 7; r++)
            ck_assert(all[i].reserved[r] == 0.0f);
    }
    n = -1;
    FS_ASSERT_OK(fs_detector_run(det, &img, faces, 2, &n));
    ck_assert_int_eq(n, 5);
    ck_assert(memcmp(&faces[0], &all[0], sizeof(fs_face_box)) == 0);
    ck_assert(memcmp(&faces[1], &all[1], sizeof(fs_face_box)) == 0);
    ck_assert(memcmp(&faces[2], &sentinel, sizeof(sentinel)) == 0);
    fs_image_free(&img);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(parameters)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    double v = -5, lo, hi;
    FS_ASSERT_OK(fs_detector_get(det, FS_DETECTOR_SCORE_THRESHOLD, &v));
    ck_assert(v == 0.2);
    FS_ASSERT_OK(fs_detector_get(det, FS_DETECTOR_NMS_THRESHOLD, &v));
    ck_assert(v == 0.1);
    FS_ASSERT_OK(fs_detector_get(det, FS_DETECTOR_MAX_FACES, &v));
    ck_assert(v == 10);
    FS_ASSERT_OK(fs_detector_get(det, FS_DETECTOR_INPUT_MODE, &v));
    ck_assert(v == FS_DETECTOR_INPUT_LETTERBOX); /* the default chosen in doc/detector-input.md */
    FS_ASSERT_OK(fs_detector_get(det, FS_DETECTOR_ROTATIONS, &v));
    ck_assert(v == 0);
    for (int p = FS_DETECTOR_SCORE_THRESHOLD; p <= FS_DETECTOR_ROTATIONS; p++) {
        FS_ASSERT_OK(fs_detector_param_bounds((fs_detector_param)p, &lo, &hi));
        ck_assert(lo <= hi);
        FS_ASSERT_OK(fs_detector_set(det, (fs_detector_param)p, lo));
        FS_ASSERT_OK(fs_detector_set(det, (fs_detector_param)p, hi));
        FS_ASSERT_STATUS(fs_detector_set(det, (fs_detector_param)p, hi + 1), FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_STATUS(fs_detector_set(det, (fs_detector_param)p, lo - 1), FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_STATUS(fs_detector_set(det, (fs_detector_param)p, NAN), FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_OK(fs_detector_get(det, (fs_detector_param)p, &v));
        ck_assert(v == hi);
    }
    FS_ASSERT_STATUS(fs_detector_set(det, FS_DETECTOR_MAX_FACES, 2.5), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_detector_set(det, (fs_detector_param)99, 1), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_detector_set(NULL, FS_DETECTOR_MAX_FACES, 1), FS_ERR_INVALID_ARGUMENT);
    v = 42;
    FS_ASSERT_STATUS(fs_detector_get(det, (fs_detector_param)-1, &v), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_detector_get(NULL, FS_DETECTOR_MAX_FACES, &v), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_detector_get(det, FS_DETECTOR_MAX_FACES, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert(v == 42);
    FS_ASSERT_STATUS(fs_detector_param_bounds((fs_detector_param)99, &lo, &hi), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_detector_param_bounds(FS_DETECTOR_MAX_FACES, NULL, &hi), FS_ERR_INVALID_ARGUMENT);

    /* max faces and the score threshold act */
    fs_image img;
    fs_test_load_image(ctx, "faceapi_sample5.jpg", &img);
    fs_face_box faces[16];
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, FS_DETECTOR_INPUT_SQUASH));
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_ROTATIONS, 0));
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_NMS_THRESHOLD, 0.1));
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_MAX_FACES, 3));
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_SCORE_THRESHOLD, 0.2));
    ck_assert_int_eq(detect(det, &img, faces, 16), 3);
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_MAX_FACES, 10));
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_SCORE_THRESHOLD, 0.8));
    const int n = detect(det, &img, faces, 16);
    ck_assert_int_eq(n, 2); /* scores 0.885 and 0.818 */
    for (int i = 0; i < n; i++)
        ck_assert(faces[i].score > 0.8f);
    /* with no suppression, overlapping candidates of one face come through */
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_NMS_THRESHOLD, 1.0));
    ck_assert_int_gt(detect(det, &img, faces, 16), 2);
    fs_image_free(&img);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(bad_images)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_image good = flat_image(64, 48, FS_PIXEL_RGB8, 128);
    fs_face_box f[2];
    int n = -3;
    fs_image b;

    b = good; b.width = 0;
    FS_ASSERT_STATUS(fs_detector_run(det, &b, f, 2, &n), FS_ERR_INVALID_ARGUMENT);
    b = good; b.height = -4;
    FS_ASSERT_STATUS(fs_detector_run(det, &b, f, 2, &n), FS_ERR_INVALID_ARGUMENT);
    b = good; b.format = 99;
    FS_ASSERT_STATUS(fs_detector_run(det, &b, f, 2, &n), FS_ERR_UNSUPPORTED);
    b = good; b.stride = 64 * 3 - 1;
    FS_ASSERT_STATUS(fs_detector_run(det, &b, f, 2, &n), FS_ERR_INVALID_ARGUMENT);
    b = good; b.data = NULL;
    FS_ASSERT_STATUS(fs_detector_run(det, &b, f, 2, &n), FS_ERR_INVALID_ARGUMENT);
    b = good; b.memory = FS_MEMORY_DEVICE;
    FS_ASSERT_STATUS(fs_detector_run(det, &b, f, 2, &n), FS_ERR_UNSUPPORTED);
    b = good; b.reserved0 = 1;
    FS_ASSERT_STATUS(fs_detector_run(det, &b, f, 2, &n), FS_ERR_INVALID_ARGUMENT);
    b = good; b.reserved[2] = &b;
    FS_ASSERT_STATUS(fs_detector_run(det, &b, f, 2, &n), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(n, -3);

    /* the pixel limit applies to the detector too */
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_MAX_PIXELS, 64 * 48 - 1));
    fs_detector *small = fs_test_new_detector(ctx);
    FS_ASSERT_STATUS(fs_detector_run(small, &good, f, 2, &n), FS_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(fs_detector_last_error(small), "64x48"));
    ck_assert_int_eq(n, -3);
    fs_detector_destroy(small);
    free(good.data);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- images */

START_TEST(formats_give_the_same_faces)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_image rgb;
    fs_test_load_image(ctx, "faceapi_sample5.jpg", &rgb);
    for (int mode = 0; mode < 2; mode++) {
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, mode));
        fs_face_box want[16], got[16];
        const int n = detect(det, &rgb, want, 16);
        ck_assert_int_eq(n, 5);
        static const int formats[] = {FS_PIXEL_RGB8, FS_PIXEL_RGBA8, FS_PIXEL_BGR8, FS_PIXEL_BGRA8};
        for (int f = 0; f < 4; f++)
            for (int pad = 0; pad <= 5; pad += 5) {
                fs_image c = convert(&rgb, (fs_pixel_format)formats[f], pad);
                ck_assert_int_eq(detect(det, &c, got, 16), n);
                for (int i = 0; i < n; i++)
                    ck_assert_msg(memcmp(&got[i], &want[i], sizeof(fs_face_box)) == 0,
                                  "format %d pad %d face %d differs", formats[f], pad, i);
                free(c.data);
            }
        /* GRAY8 is the same image as its RGB expansion, and still finds the faces. */
        fs_image gray = convert(&rgb, FS_PIXEL_GRAY8, 3);
        fs_image grgb = gray_to_rgb(&gray);
        fs_face_box g1[16], g2[16];
        const int ng = detect(det, &gray, g1, 16);
        ck_assert_int_eq(detect(det, &grgb, g2, 16), ng);
        for (int i = 0; i < ng; i++)
            ck_assert(memcmp(&g1[i], &g2[i], sizeof(fs_face_box)) == 0);
        ck_assert_int_eq(ng, n);
        for (int i = 0; i < n; i++) {
            double best = 1e9;
            for (int j = 0; j < ng; j++)
                best = fmin(best, box_diff(&want[i], &g1[j]));
            ck_assert_msg(best < 0.25 * want[i].width, "gray face %d moved by %.1f px", i, best);
        }
        free(gray.data);
        free(grgb.data);
    }
    fs_image_free(&rgb);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(tiny_and_flat_images)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    static const int sizes[][2] = {{1, 1}, {2, 300}, {300, 2}, {3, 3}, {257, 1}};
    fs_face_box f[4];
    for (int mode = 0; mode < 2; mode++) {
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, mode));
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            for (int fmt = FS_PIXEL_RGB8; fmt <= FS_PIXEL_GRAY8; fmt++) {
                fs_image img = flat_image(sizes[i][0], sizes[i][1], fmt, (uint8_t)(i * 40));
                const int n = detect(det, &img, f, 4);
                ck_assert_int_eq(n, 0);
                free(img.data);
            }
        fs_image flat = flat_image(640, 480, FS_PIXEL_RGB8, 128);
        ck_assert_int_eq(detect(det, &flat, f, 4), 0);
        free(flat.data);
    }
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

/* The no-face images: BlazeFace alone finds weak candidates there (the
 * reference too); with the fitter's face check none is a face. */
START_TEST(no_face_images)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = NULL;
    FS_ASSERT_OK(fs_fitter_create(ctx, &fit));
    static const char *files[] = {"noface_3.png", "noface_7.png", "noface_12.png"};
    for (int mode = 0; mode < 2; mode++) {
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, mode));
        for (int i = 0; i < 3; i++) {
            fs_image img;
            fs_test_load_image(ctx, files[i], &img);
            fs_face_box f[16];
            const int n = detect(det, &img, f, 16);
            int faces = 0;
            for (int k = 0; k < n && k < 16; k++) {
                ck_assert(f[k].score < 0.6f);
                fs_face_landmarks lm;
                const fs_status st = fs_fitter_run(fit, &img, &f[k], &lm);
                ck_assert(st == FS_OK || st == FS_ERR_NO_FACE);
                faces += st == FS_OK;
            }
            printf("%s (%s): %d candidates, %d faces\n", files[i], mode ? "letterbox" : "squash",
                   n, faces);
            ck_assert_int_eq(faces, 0);
            fs_image_free(&img);
        }
    }
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

/* A square image gives the same detections in both modes; a strip cut
 * around the face (aspect 3.9:1 and 1:4.9) is found by letterbox, which
 * keeps the face's shape, at the place the upright detection predicts. */
START_TEST(letterbox_keeps_the_face_shape)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_face_box sq[4], lb[4];
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, FS_DETECTOR_INPUT_SQUASH));
    ck_assert_int_eq(detect(det, &img, sq, 4), 1);
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, FS_DETECTOR_INPUT_LETTERBOX));
    ck_assert_int_eq(detect(det, &img, lb, 4), 1);
    ck_assert_msg(box_diff(&sq[0], &lb[0]) < 1.0, "square image: modes differ by %.2f px",
                  box_diff(&sq[0], &lb[0]));

    const fs_face_box up = lb[0];
    const int cy = (int)(up.y + up.height / 2), cx = (int)(up.x + up.width / 2);
    pu_image strips[2];
    ck_assert(pu_window(&img, 0, cy - 65, 512, 130, &strips[0]));
    ck_assert(pu_window(&img, cx - 52, 0, 104, 512, &strips[1]));
    for (int s = 0; s < 2; s++) {
        fs_face_box f[4];
        const int n = detect(det, &strips[s].img, f, 4);
        ck_assert_int_ge(n, 1);
        double ex, ey;
        pu_map(&strips[s], up.x + up.width / 2, up.y + up.height / 2, &ex, &ey);
        const double dc = hypot(f[0].x + f[0].width / 2 - ex, f[0].y + f[0].height / 2 - ey);
        ck_assert_msg(dc < 0.1 * up.width, "strip %d: centre off by %.1f px", s, dc);
        ck_assert(fabs(f[0].width - up.width) < 0.15 * up.width);
        pu_free(&strips[s]);
    }
    fs_image_free(&img);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(runs_allocate_nothing)
{
    if (!alloc_count_available()) {
        printf("allocation counting unavailable (sanitizer build): skipped\n");
        return;
    }
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_image img;
    fs_test_load_image(ctx, "faceapi_sample5.jpg", &img);
    fs_face_box f[16];
    for (int mode = 0; mode < 3; mode++) {
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, mode ? 1 : 0));
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_ROTATIONS, mode == 2));
        detect(det, &img, f, 16); /* warm-up: lazy state in kernels may allocate once */
        alloc_count_start();
        int n = 0;
        const fs_status st = fs_detector_run(det, &img, f, 16, &n);
        const long calls = alloc_count_stop();
        FS_ASSERT_OK(st);
        ck_assert_int_ge(n, 5);
        ck_assert_msg(calls == 0, "fs_detector_run allocated %ld times", calls);
    }
    fs_image_free(&img);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

/* With FS_DETECTOR_ROTATIONS, a face turned by a quarter turn is reported by
 * the pass that sees it upright: its eye keypoints follow the turn (an
 * upright pass puts them as if the face were upright, see test_fit). */
START_TEST(rotations_find_turned_faces)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_face_box up[4], f[8];
    ck_assert_int_ge(detect(det, &img, up, 4), 1);
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_ROTATIONS, 1));
    fs_face_box same[8];
    ck_assert_int_ge(detect(det, &img, same, 8), 1);
    ck_assert_msg(box_diff(&same[0], &up[0]) < 1.0, "upright face moved by %.2f px with rotations",
                  box_diff(&same[0], &up[0]));
    const double up_angle = atan2(up[0].keypoints[1][1] - up[0].keypoints[0][1],
                                  up[0].keypoints[1][0] - up[0].keypoints[0][0]);
    for (int q = 1; q < 4; q++) {
        pu_image v;
        ck_assert(pu_rotate90(&img, q, &v));
        const int n = detect(det, &v.img, f, 8);
        ck_assert_int_ge(n, 1);
        double ex, ey;
        pu_map(&v, up[0].x + up[0].width / 2, up[0].y + up[0].height / 2, &ex, &ey);
        const double dc = hypot(f[0].x + f[0].width / 2 - ex, f[0].y + f[0].height / 2 - ey);
        double da = atan2(f[0].keypoints[1][1] - f[0].keypoints[0][1],
                          f[0].keypoints[1][0] - f[0].keypoints[0][0]) - up_angle - q * PU_PI / 2;
        da = remainder(da, 2 * PU_PI) * 180 / PU_PI;
        printf("quarter turns %d: best score %.3f, centre off %.1f px, eye line off %.1f deg\n", q,
               (double)f[0].score, dc, da);
        ck_assert(dc < 0.1 * up[0].width);
        ck_assert(fabs(da) < 10.0);
        pu_free(&v);
    }
    fs_image_free(&img);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- model files */

static void flip_byte(const char *path, long offset)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert(fseek(f, offset, SEEK_SET) == 0);
    const int c = fgetc(f);
    ck_assert(c != EOF);
    ck_assert(fseek(f, offset, SEEK_SET) == 0);
    fputc(c ^ 0x01, f);
    fclose(f);
}

static const char *const model_files[] = {"blazeface.json", "blazeface.bin", "facemesh.json",
                                          "facemesh.bin", "iris.json", "iris.bin",
                                          "face_geometry.binarypb"};
#define N_MODEL_FILES ((int)(sizeof(model_files) / sizeof(model_files[0])))

/* A private copy of the model folder. */
static char *copy_models(void)
{
    char tmpl[] = "/tmp/fs_test_models_XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    char *out = strdup(dir);
    for (int i = 0; i < N_MODEL_FILES; i++) {
        char to[4096];
        snprintf(to, sizeof(to), "%s/%s", out, model_files[i]);
        fs_test_copy_file(fs_test_model_path(model_files[i]), to);
    }
    return out;
}

static void remove_models(char *dir)
{
    for (int i = 0; i < N_MODEL_FILES; i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, model_files[i]);
        unlink(p);
    }
    rmdir(dir);
    free(dir);
}

START_TEST(model_file_checks)
{
    char *dir = copy_models();
    char path[4096];
    fs_context *ctx = fs_test_new_context();
    FS_ASSERT_OK(fs_context_set_model_dir(ctx, dir));
    fs_detector *det = fs_test_new_detector(ctx); /* the intact copy loads */
    fs_detector_destroy(det);

    /* one flipped bit in the weights: checksum error naming the file */
    snprintf(path, sizeof(path), "%s/blazeface.bin", dir);
    flip_byte(path, 1000);
    det = (fs_detector *)(uintptr_t)0x2;
    FS_ASSERT_STATUS(fs_detector_create(ctx, &det), FS_ERR_CHECKSUM);
    ck_assert_ptr_eq(det, (fs_detector *)(uintptr_t)0x2);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "blazeface.bin"));
    /* without verification the same file loads (it is still a valid model) */
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_VERIFY_MODELS, 0));
    det = fs_test_new_detector(ctx);
    fs_detector_destroy(det);
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_VERIFY_MODELS, 1));
    flip_byte(path, 1000);

    snprintf(path, sizeof(path), "%s/blazeface.json", dir);
    flip_byte(path, 500);
    FS_ASSERT_STATUS(fs_detector_create(ctx, &det), FS_ERR_CHECKSUM);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "blazeface.json"));
    flip_byte(path, 500);

    snprintf(path, sizeof(path), "%s/blazeface.bin", dir);
    ck_assert(unlink(path) == 0);
    FS_ASSERT_STATUS(fs_detector_create(ctx, &det), FS_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "blazeface.bin"));
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_VERIFY_MODELS, 0));
    det = (fs_detector *)(uintptr_t)0x2;
    FS_ASSERT_STATUS(fs_detector_create(ctx, &det), FS_ERR_NOT_FOUND);
    ck_assert_ptr_eq(det, (fs_detector *)(uintptr_t)0x2);
    fs_test_copy_file(fs_test_model_path("blazeface.bin"), path);

    FS_ASSERT_OK(fs_context_set_model_dir(ctx, "/nonexistent/models"));
    FS_ASSERT_STATUS(fs_detector_create(ctx, &det), FS_ERR_NOT_FOUND);
    fs_context_destroy(ctx);
    remove_models(dir);
}
END_TEST

/* ---------------------------------------------------------------- input-mode study */

/*
 * The figures of doc/detector-input.md: every face of the test photos
 * (fitted upright, the union of both modes) is looked for in copies of the
 * photo turned by 30..330 degrees, cut to strips around each face, to a
 * tight square, and padded to 3:1 and 1:3. Per mode: detection rate (a
 * box whose centre lies in the face's landmark extent), IoU of the box with
 * that extent, centre error (% of face size), and the end-to-end rate at
 * which the default fitter, started from that detection, lands within 5 %
 * (of face size, mean over 468 points) of the upright fit.
 */
typedef struct study_face {
    float p[FS_MESH_LANDMARKS][2];
    double ext[4];
} study_face;

typedef struct study_row {
    const char *name;
    double faces, found, iou, centre, fit_ok;
} study_row;

#define STUDY_ROWS 12
#define STUDY_MODES 3 /* squash, letterbox, letterbox + rotations */
static study_row rows[STUDY_MODES][STUDY_ROWS];

static void extent(const float (*p)[2], double e[4])
{
    e[0] = e[1] = INFINITY;
    e[2] = e[3] = -INFINITY;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        e[0] = fmin(e[0], p[i][0]);
        e[1] = fmin(e[1], p[i][1]);
        e[2] = fmax(e[2], p[i][0]);
        e[3] = fmax(e[3], p[i][1]);
    }
}

static void study_variant(fs_detector *det, fs_fitter *fit, const pu_image *v, int row,
                          const char *name, const study_face *faces, int nfaces)
{
    for (int mode = 0; mode < STUDY_MODES; mode++) {
        study_row *r = &rows[mode][row];
        r->name = name;
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, mode ? FS_DETECTOR_INPUT_LETTERBOX
                                                                       : FS_DETECTOR_INPUT_SQUASH));
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_ROTATIONS, mode == 2));
        fs_face_box fb[32];
        int n = detect(det, &v->img, fb, 32);
        n = n < 32 ? n : 32;
        for (int g = 0; g < nfaces; g++) {
            float q[FS_MESH_LANDMARKS][2];
            int inside = 1;
            for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
                double x, y;
                pu_map(v, faces[g].p[i][0], faces[g].p[i][1], &x, &y);
                q[i][0] = (float)x;
                q[i][1] = (float)y;
                inside &= x >= 0 && y >= 0 && x <= v->img.width && y <= v->img.height;
            }
            if (!inside)
                continue;
            double e[4];
            extent((const float (*)[2])q, e);
            const double size = sqrt((e[2] - e[0]) * (e[3] - e[1]));
            int best = -1;
            double best_iou = 0.0;
            for (int k = 0; k < n; k++) {
                const double b[4] = {fb[k].x, fb[k].y, fb[k].x + fb[k].width, fb[k].y + fb[k].height};
                const double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
                if (cx < e[0] || cx > e[2] || cy < e[1] || cy > e[3])
                    continue;
                const double u = fs_det_iou(b, e);
                if (best < 0 || u > best_iou) {
                    best_iou = u;
                    best = k;
                }
            }
            r->faces++;
            if (best < 0)
                continue;
            r->found++;
            r->iou += best_iou;
            r->centre += hypot(fb[best].x + fb[best].width / 2 - (e[0] + e[2]) / 2,
                               fb[best].y + fb[best].height / 2 - (e[1] + e[3]) / 2) / size;
            fs_face_landmarks lm;
            if (fs_fitter_run(fit, &v->img, &fb[best], &lm) != FS_OK)
                continue;
            double err = 0.0;
            for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
                double x, y;
                pu_unmap(v, lm.points[i][0], lm.points[i][1], &x, &y);
                err += hypot(x - faces[g].p[i][0], y - faces[g].p[i][1]);
            }
            const double gsize = sqrt((faces[g].ext[2] - faces[g].ext[0]) *
                                      (faces[g].ext[3] - faces[g].ext[1]));
            r->fit_ok += err / FS_MESH_LANDMARKS / gsize < 0.05;
        }
    }
}

START_TEST(input_mode_study)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = NULL;
    FS_ASSERT_OK(fs_fitter_create(ctx, &fit));
    const fs_engine *ops = fs_context_engine(ctx);
    static const char *files[] = {"astronaut.png", "messi5.jpg", "faceapi_sample1.jpg",
                                  "faceapi_sample2.jpg", "faceapi_sample3.jpg",
                                  "faceapi_sample4.jpg", "faceapi_sample5.jpg",
                                  "faceapi_sample6.jpg"};
    static const int angles[] = {30, 60, 90, 180, 270, 330};
    memset(rows, 0, sizeof(rows));
    for (size_t fi = 0; fi < sizeof(files) / sizeof(files[0]); fi++) {
        fs_image img;
        fs_test_load_image(ctx, files[fi], &img);
        static study_face faces[32];
        int nfaces = 0;
        FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, FS_FITTER_ALIGN_NONE));
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_ROTATIONS, 0));
        for (int mode = 0; mode < 2; mode++) {
            FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, mode));
            fs_face_box fb[32];
            const int n = detect(det, &img, fb, 32);
            for (int k = 0; k < n && k < 32 && nfaces < 32; k++) {
                fs_face_landmarks lm;
                if (fs_fitter_run(fit, &img, &fb[k], &lm) != FS_OK)
                    continue;
                study_face *sf = &faces[nfaces];
                for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
                    sf->p[i][0] = lm.points[i][0];
                    sf->p[i][1] = lm.points[i][1];
                }
                extent((const float (*)[2])sf->p, sf->ext);
                int dup = 0;
                for (int g = 0; g < nfaces; g++)
                    dup |= fs_det_iou(sf->ext, faces[g].ext) > 0.5;
                nfaces += !dup;
            }
        }
        FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, FS_FITTER_ALIGN_ROLL));
        pu_image v;
        ck_assert(pu_window(&img, 0, 0, img.width, img.height, &v));
        study_variant(det, fit, &v, 0, "upright", faces, nfaces);
        pu_free(&v);
        for (int a = 0; a < 6; a++) {
            static const char *names[] = {"turned 30", "turned 60", "turned 90", "turned 180",
                                          "turned 270", "turned 330"};
            ck_assert(angles[a] % 90 == 0 ? pu_rotate90(&img, angles[a] / 90, &v)
                                          : pu_rotate(ops, &img, angles[a], &v));
            study_variant(det, fit, &v, 1 + a, names[a], faces, nfaces);
            pu_free(&v);
        }
        for (int g = 0; g < nfaces; g++) {
            const double *e = faces[g].ext;
            const double w = e[2] - e[0], h = e[3] - e[1];
            const double cx = (e[0] + e[2]) / 2, cy = (e[1] + e[3]) / 2;
            const int sh = (int)(h * 1.3), sw = (int)(w * 1.3), sq = (int)(fmax(w, h) * 1.2);
            ck_assert(pu_window(&img, 0, (int)(cy - sh / 2), img.width, sh, &v));
            study_variant(det, fit, &v, 7, "wide strip", faces, nfaces);
            pu_free(&v);
            ck_assert(pu_window(&img, (int)(cx - sw / 2), 0, sw, img.height, &v));
            study_variant(det, fit, &v, 8, "tall strip", faces, nfaces);
            pu_free(&v);
            ck_assert(pu_window(&img, (int)(cx - sq / 2), (int)(cy - sq / 2), sq, sq, &v));
            study_variant(det, fit, &v, 9, "tight square", faces, nfaces);
            pu_free(&v);
        }
        ck_assert(pu_window(&img, -img.width, 0, img.width * 3, img.height, &v));
        study_variant(det, fit, &v, 10, "padded 3:1", faces, nfaces);
        pu_free(&v);
        ck_assert(pu_window(&img, 0, -img.height, img.width, img.height * 3, &v));
        study_variant(det, fit, &v, 11, "padded 1:3", faces, nfaces);
        pu_free(&v);
        fs_image_free(&img);
    }
    study_row total[STUDY_MODES];
    memset(total, 0, sizeof(total));
    for (int mode = 0; mode < STUDY_MODES; mode++) {
        total[mode].name = "**all**";
        for (int r = 0; r < STUDY_ROWS; r++) {
            total[mode].faces += rows[mode][r].faces;
            total[mode].found += rows[mode][r].found;
            total[mode].iou += rows[mode][r].iou;
            total[mode].centre += rows[mode][r].centre;
            total[mode].fit_ok += rows[mode][r].fit_ok;
        }
    }
    static const char *const heads[STUDY_MODES] = {"squash", "letterbox", "letterbox + rotations"};
    printf("\nDetection: found / mean IoU with the landmark extent / mean centre error (%% of face size)\n\n");
    printf("| copy | faces | %s | %s | %s |\n| --- | ---: | ---: | ---: | ---: |\n", heads[0], heads[1], heads[2]);
    for (int r = 0; r <= STUDY_ROWS; r++) {
        const study_row *m0 = r < STUDY_ROWS ? &rows[0][r] : &total[0];
        printf("| %s | %.0f", m0->name, m0->faces);
        for (int mode = 0; mode < STUDY_MODES; mode++) {
            const study_row *m = r < STUDY_ROWS ? &rows[mode][r] : &total[mode];
            printf(" | %.1f %% / %.3f / %.1f %%", 100 * m->found / fmax(1, m->faces),
                   m->iou / fmax(1, m->found), 100 * m->centre / fmax(1, m->found));
        }
        printf(" |\n");
    }
    printf("\nEnd to end: the default fitter from that detection lands within 5 %% of the upright fit\n\n");
    printf("| copy | faces | %s | %s | %s |\n| --- | ---: | ---: | ---: | ---: |\n", heads[0], heads[1], heads[2]);
    for (int r = 0; r <= STUDY_ROWS; r++) {
        const study_row *m0 = r < STUDY_ROWS ? &rows[0][r] : &total[0];
        printf("| %s | %.0f", m0->name, m0->faces);
        for (int mode = 0; mode < STUDY_MODES; mode++) {
            const study_row *m = r < STUDY_ROWS ? &rows[mode][r] : &total[mode];
            printf(" | %.1f %%", 100 * m->fit_ok / fmax(1, m->faces));
        }
        printf(" |\n");
    }
    fflush(stdout);
    /* The default (letterbox) must not lose faces the reference mode finds,
     * overall and on upright photos. */
    ck_assert(total[1].found >= total[0].found);
    ck_assert(total[1].fit_ok >= total[0].fit_ok);
    ck_assert(rows[1][0].found == rows[1][0].faces);
    /* Rotations find the upside-down faces that an upright pass misdescribes. */
    ck_assert(rows[2][4].fit_ok >= rows[2][0].fit_ok - 1); /* 180 degrees: as upright, give or take a face */
    ck_assert(total[2].fit_ok >= total[1].fit_ok);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("detect");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, sha256_vectors);
    tcase_add_test(pure, pinned_table_matches_script);
    tcase_add_test(pure, js_round);
    tcase_add_test(pure, anchors_and_nms);
    tcase_add_test(pure, postprocess_matches_reference_tensors);
    suite_add_tcase(s, pure);
    TCase *api = tcase_create("api");
    tcase_set_timeout(api, 600);
    tcase_add_test(api, api_contract);
    tcase_add_test(api, parameters);
    tcase_add_test(api, bad_images);
    tcase_add_test(api, formats_give_the_same_faces);
    tcase_add_test(api, tiny_and_flat_images);
    tcase_add_test(api, no_face_images);
    tcase_add_test(api, letterbox_keeps_the_face_shape);
    tcase_add_test(api, runs_allocate_nothing);
    tcase_add_test(api, rotations_find_turned_faces);
    tcase_add_test(api, model_file_checks);
    suite_add_tcase(s, api);
    TCase *study = tcase_create("study");
    tcase_set_timeout(study, 1200);
    tcase_add_test(study, input_mode_study);
    suite_add_tcase(s, study);
    return fs_test_run_suite(s);
}
