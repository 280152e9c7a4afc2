/*
 * The template file (lib/template/file.c): a round trip keeps every field,
 * and every kind of damaged file gets its own status, never a crash or a
 * read outside the buffer (the ASan build checks that part).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "sha256.h"
#include "template/template.h"
#include "testutil.h"

/* A small template: 5 frames, 2 tracks, faces in frames 0-3 (track 0) and 2-4 (track 1). */
static void make_data(fs_tpl_data *d)
{
    memset(d, 0, sizeof(*d));
    d->width = 1280;
    d->height = 720;
    d->rotation = 90;
    d->tb_num = 1;
    d->tb_den = 12800;
    d->fps_num = 25;
    d->fps_den = 1;
    d->duration = 0.2;
    d->decode_errors = 1;
    for (int i = 0; i < 32; i++)
        d->hash[i] = (uint8_t)(i * 7 + 1);
    d->file_size = 123456;
    d->track_choice = -1;
    d->protagonist = 0;
    d->poster_frame = 2;
    d->n_frames = 5;
    d->n_tracks = 2;
    d->frames = calloc(5, sizeof(*d->frames));
    d->tracks = calloc(2, sizeof(*d->tracks));
    static const int track_of[] = {0, 0, 0, 1, 0, 1, 1};
    static const int frame_of[] = {0, 1, 2, 2, 3, 3, 4};
    d->n_faces = 7;
    d->faces = calloc(7, sizeof(*d->faces));
    ck_assert(d->frames && d->tracks && d->faces);
    for (int i = 0; i < 5; i++)
        d->frames[i].pts = 512 * i + 3;
    for (uint32_t i = 0; i < d->n_faces; i++) {
        fs_tpl_face *f = &d->faces[i];
        f->track = track_of[i];
        f->flags = FS_TPL_FACE_FITTED | (i % 2 ? FS_TPL_FACE_STATS : 0u) |
                   (i % 3 ? FS_TPL_FACE_LIGHT : 0u);
        f->confidence = 0.5f + 0.01f * (float)i;
        for (int k = 0; k < 4; k++)
            f->box[k] = 10.0f * (float)i + (float)k;
        for (int p = 0; p < FS_LANDMARKS; p++)
            for (int c = 0; c < 3; c++)
                f->points[p][c] = (float)(p * 3 + c) * 0.25f + (float)i;
        for (int k = 0; k < 16; k++)
            f->pose[k] = (float)k - 3.5f;
        for (int k = 0; k < FS_TPL_STATS; k++)
            f->stats[k] = 50.0f + (float)k;
        for (int k = 0; k < FS_TPL_LIGHT && (f->flags & FS_TPL_FACE_LIGHT); k++)
            f->light[k] = 0.05f * (float)(k - 6) + 0.01f * (float)i;
        fs_tpl_frame *fr = &d->frames[frame_of[i]];
        if (fr->n_faces == 0)
            fr->first_face = i;
        fr->n_faces++;
    }
    d->frames[0].first_face = 0;
    d->tracks[0] = (fs_tpl_track){0, 0, 3, 4, 200.0f};
    d->tracks[1] = (fs_tpl_track){1, 2, 4, 3, 120.0f};
}

static void save(const fs_tpl_data *d, uint8_t **buf, size_t *size)
{
    fs_error_buf err;
    const fs_status st = fs_tpl_save(d, buf, size, &err);
    ck_assert_msg(st == FS_OK, "save: %s %s", fs_status_name(st), err.text);
}

/* Recomputes the checksum after an edit, so that a test reaches the field checks. */
static void reseal(uint8_t *b, size_t size)
{
    fs_sha256_ctx c;
    fs_sha256_init(&c);
    fs_sha256_update(&c, b, 24);
    fs_sha256_update(&c, b + 64, size - 64);
    fs_sha256_final(&c, b + 24);
}

static fs_status load(const uint8_t *b, size_t size, fs_tpl_data *out, fs_error_buf *err)
{
    /* a copy of exactly size bytes, so ASan sees any read past the end */
    uint8_t *copy = malloc(size ? size : 1);
    ck_assert(copy);
    memcpy(copy, b, size);
    const fs_status st = fs_tpl_load(copy, size, out, err);
    free(copy);
    return st;
}

START_TEST(round_trip)
{
    fs_tpl_data d, e;
    make_data(&d);
    uint8_t *buf = NULL;
    size_t size = 0;
    save(&d, &buf, &size);
    fs_error_buf err;
    ck_assert_int_eq(load(buf, size, &e, &err), FS_OK);
    ck_assert_int_eq(e.width, 1280);
    ck_assert_int_eq(e.height, 720);
    ck_assert_int_eq(e.rotation, 90);
    ck_assert_int_eq(e.tb_den, 12800);
    ck_assert_int_eq(e.fps_num, 25);
    ck_assert(e.duration == 0.2);
    ck_assert_int_eq(e.decode_errors, 1);
    ck_assert_mem_eq(e.hash, d.hash, 32);
    ck_assert_uint_eq(e.file_size, 123456);
    ck_assert_int_eq(e.track_choice, -1);
    ck_assert_int_eq(e.protagonist, 0);
    ck_assert_int_eq(e.poster_frame, 2);
    ck_assert_int_eq(e.n_frames, 5);
    ck_assert_int_eq(e.n_tracks, 2);
    ck_assert_uint_eq(e.n_faces, 7);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(e.frames[i].pts, d.frames[i].pts);
        ck_assert_uint_eq(e.frames[i].first_face, d.frames[i].first_face);
        ck_assert_uint_eq(e.frames[i].n_faces, d.frames[i].n_faces);
    }
    ck_assert_mem_eq(e.faces, d.faces, sizeof(fs_tpl_face) * 7);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(e.tracks[i].id, d.tracks[i].id);
        ck_assert_int_eq(e.tracks[i].first, d.tracks[i].first);
        ck_assert_int_eq(e.tracks[i].last, d.tracks[i].last);
        ck_assert_int_eq(e.tracks[i].frames, d.tracks[i].frames);
        ck_assert(e.tracks[i].mean_size == d.tracks[i].mean_size);
    }
    /* lookups */
    ck_assert_ptr_nonnull(fs_tpl_find(&e, 3, 1));
    ck_assert_int_eq(fs_tpl_find(&e, 3, 1)->track, 1);
    ck_assert_ptr_null(fs_tpl_find(&e, 4, 0));
    ck_assert_ptr_null(fs_tpl_find(&e, 5, 0));
    ck_assert_ptr_null(fs_tpl_find(&e, -1, 0));
    /* the same bytes again */
    uint8_t *buf2 = NULL;
    size_t size2 = 0;
    save(&e, &buf2, &size2);
    ck_assert_uint_eq(size2, size);
    ck_assert_mem_eq(buf2, buf, size);
    free(buf);
    free(buf2);
    fs_tpl_data_free(&d);
    fs_tpl_data_free(&e);
}
END_TEST

START_TEST(damaged_files)
{
    fs_tpl_data d, e;
    make_data(&d);
    uint8_t *buf = NULL;
    size_t size = 0;
    save(&d, &buf, &size);
    fs_error_buf err;
    memset(&e, 0x5a, sizeof(e)); /* untouched on failure */
    const fs_tpl_data before = e;

    /* every truncation */
    for (size_t n = 0; n < size; n += (n < 200 ? 1 : 997)) {
        const fs_status st = load(buf, n, &e, &err);
        ck_assert_msg(st == FS_ERR_TRUNCATED, "prefix of %zu bytes: %s", n, fs_status_name(st));
    }
    ck_assert_int_eq(load(buf, size - 1, &e, &err), FS_ERR_TRUNCATED);
    ck_assert_mem_eq(&e, &before, sizeof(e));

    uint8_t *b = malloc(size + 8);
    ck_assert(b);
    /* a flipped bit anywhere in the payload: checksum */
    for (size_t off = 64; off < size; off += 1031) {
        memcpy(b, buf, size);
        b[off] ^= 0x10;
        ck_assert_int_eq(load(b, size, &e, &err), FS_ERR_CHECKSUM);
    }
    /* another magic, another version, a longer file */
    memcpy(b, buf, size);
    b[0] = 'X';
    ck_assert_int_eq(load(b, size, &e, &err), FS_ERR_CORRUPT);
    memcpy(b, buf, size);
    fs_put_u32(b + 4, 3);
    ck_assert_int_eq(load(b, size, &e, &err), FS_ERR_VERSION);
    ck_assert_msg(strstr(err.text, "version"), "%s", err.text);
    memcpy(b, buf, size);
    memset(b + size, 0, 8);
    ck_assert_int_eq(load(b, size + 8, &e, &err), FS_ERR_CORRUPT);

    /* fields out of range, resealed so that the field checks see them */
    struct {
        size_t off;
        uint32_t v;
        const char *what;
    } const bad[] = {
        {64 + 4, 0, "width 0"},
        {64 + 8, 20000, "height over the limit"},
        {64 + 12, 45, "rotation 45"},
        {64 + 20, 0, "time base 0"},
        {64 + 88, 7, "track choice beyond the tracks"},
        {64 + 92, (uint32_t)-5, "protagonist -5"},
        {64 + 96, 9, "poster beyond the frames"},
        {64 + 136 + 4, 7, "track 0 starting after the last frame"},
        {64 + 136 + 32, 3, "track ids out of order"},
        {64 + 136 + 64 + 16, 2, "frame 1's timestamp going back"},
        {64 + 136 + 64 + 12, 2, "frame 0 with 2 faces"},
        {64 + 136 + 64 + 80, 2, "face 0 in track 2"},
        {64 + 136 + 64 + 80 + 4, 64, "unknown face flag"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(b, buf, size);
        fs_put_u32(b + bad[i].off, bad[i].v);
        reseal(b, size);
        const fs_status st = load(b, size, &e, &err);
        ck_assert_msg(st == FS_ERR_CORRUPT, "%s: %s (%s)", bad[i].what, fs_status_name(st),
                      err.text);
    }
    /* a landmark NaN, a confidence of 2 */
    const size_t face0 = 64 + 136 + 64 + 80;
    memcpy(b, buf, size);
    fs_put_f32(b + face0 + 12 + 16 + 100, NAN);
    reseal(b, size);
    ck_assert_int_eq(load(b, size, &e, &err), FS_ERR_CORRUPT);
    memcpy(b, buf, size);
    fs_put_f32(b + face0 + 8, 2.0f);
    reseal(b, size);
    ck_assert_int_eq(load(b, size, &e, &err), FS_ERR_CORRUPT);
    /* a light term of 500 (face 1 has a light; its last float is its last term) */
    const size_t face_bytes = 8 + 4 * (1 + 4 + FS_LANDMARKS * 3 + 16 + FS_TPL_STATS + FS_TPL_LIGHT);
    memcpy(b, buf, size);
    fs_put_f32(b + face0 + 2 * face_bytes - 4, 500.0f);
    reseal(b, size);
    ck_assert_int_eq(load(b, size, &e, &err), FS_ERR_CORRUPT);
    ck_assert_msg(strstr(err.text, "light"), "%s", err.text);
    /* counts that promise more than the file holds */
    memcpy(b, buf, size);
    fs_put_u32(b + 64 + 116, 0xffffffffu);
    reseal(b, size);
    ck_assert_int_eq(load(b, size, &e, &err), FS_ERR_CORRUPT);
    memcpy(b, buf, size);
    fs_put_u64(b + 64 + 104, UINT64_C(1) << 62);
    reseal(b, size);
    ck_assert_int_eq(load(b, size, &e, &err), FS_ERR_CORRUPT);
    ck_assert_mem_eq(&e, &before, sizeof(e));

    ck_assert_int_eq(fs_tpl_load(NULL, 0, &e, &err), FS_ERR_TRUNCATED);
    ck_assert_int_eq(fs_tpl_load(NULL, 5, &e, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_tpl_load(buf, size, NULL, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(load(buf, 0, &e, &err), FS_ERR_TRUNCATED);
    free(b);
    free(buf);
    fs_tpl_data_free(&d);
}
END_TEST

/* A version 1 file (no light) from the same data: the faces without their
 * light[] floats. */
static uint8_t *as_version1(const uint8_t *v2, size_t size, uint32_t n_faces, size_t *out_size)
{
    const size_t light = 4 * FS_TPL_LIGHT;
    const size_t face_bytes = 8 + 4 * (1 + 4 + FS_LANDMARKS * 3 + 16 + FS_TPL_STATS) + light;
    const size_t faces_at = size - n_faces * face_bytes;
    uint8_t *b = malloc(size);
    ck_assert(b);
    memcpy(b, v2, faces_at);
    size_t at = faces_at;
    for (uint32_t i = 0; i < n_faces; i++) {
        memcpy(b + at, v2 + faces_at + i * face_bytes, face_bytes - light);
        at += face_bytes - light;
    }
    fs_put_u32(b + 4, 1);
    fs_put_u64(b + 16, at - 64);
    reseal(b, at);
    *out_size = at;
    return b;
}

START_TEST(version1_still_read)
{
    fs_tpl_data d, e;
    make_data(&d);
    /* version 1 knew no light: the faces' flags without it */
    for (uint32_t i = 0; i < d.n_faces; i++)
        d.faces[i].flags &= ~FS_TPL_FACE_LIGHT;
    uint8_t *buf = NULL;
    size_t size = 0, size1 = 0;
    save(&d, &buf, &size);
    uint8_t *v1 = as_version1(buf, size, d.n_faces, &size1);
    ck_assert_uint_eq(size - size1, (size_t)d.n_faces * 4 * FS_TPL_LIGHT);
    fs_error_buf err;
    ck_assert_msg(load(v1, size1, &e, &err) == FS_OK, "%s", err.text);
    ck_assert_uint_eq(e.n_faces, d.n_faces);
    for (uint32_t i = 0; i < d.n_faces; i++) {
        ck_assert_uint_eq(e.faces[i].flags, d.faces[i].flags);
        ck_assert_mem_eq(e.faces[i].points, d.faces[i].points, sizeof(d.faces[i].points));
        ck_assert_mem_eq(e.faces[i].stats, d.faces[i].stats, sizeof(d.faces[i].stats));
        for (int k = 0; k < FS_TPL_LIGHT; k++)
            ck_assert(e.faces[i].light[k] == 0.0f);
    }
    fs_tpl_data_free(&e);
    /* a version 1 face claiming a light is damaged */
    const size_t v1_face = 8 + 4 * (1 + 4 + FS_LANDMARKS * 3 + 16 + FS_TPL_STATS);
    const size_t first_face = size1 - (size_t)d.n_faces * v1_face;
    fs_put_u32(v1 + first_face + 4, FS_TPL_FACE_FITTED | FS_TPL_FACE_LIGHT);
    reseal(v1, size1);
    ck_assert_int_eq(load(v1, size1, &e, &err), FS_ERR_CORRUPT);
    /* nor is a version 1 header on version 2 faces read as faces */
    fs_put_u32(buf + 4, 1);
    reseal(buf, size);
    ck_assert_int_eq(load(buf, size, &e, &err), FS_ERR_CORRUPT);
    free(v1);
    free(buf);
    fs_tpl_data_free(&d);
}
END_TEST

START_TEST(empty_template_not_saved)
{
    fs_tpl_data d;
    memset(&d, 0, sizeof(d));
    uint8_t *buf = NULL;
    size_t size = 0;
    fs_error_buf err;
    ck_assert_int_eq(fs_tpl_save(&d, &buf, &size, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(file_hash)
{
    const char *path = fs_test_tmp_path("hash");
    FILE *f = fopen(path, "wb");
    ck_assert(f);
    fputs("abc", f);
    fclose(f);
    uint8_t h[32];
    uint64_t size = 0;
    fs_error_buf err;
    ck_assert_int_eq(fs_tpl_hash_file(path, h, &size, &err), FS_OK);
    ck_assert_uint_eq(size, 3);
    char hex[FS_SHA256_HEX_SIZE];
    fs_sha256_hex(h, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    remove(path);
    ck_assert_int_eq(fs_tpl_hash_file(path, h, &size, &err), FS_ERR_NOT_FOUND);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("template_file");
    TCase *tc = tcase_create("file");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, damaged_files);
    tcase_add_test(tc, version1_still_read);
    tcase_add_test(tc, empty_template_not_saved);
    tcase_add_test(tc, file_hash);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
