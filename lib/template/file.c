/*
 * The template file. Little-endian:
 *
 *   0  "FSTP"
 *   4  u32 format version (FORMAT_VERSION)
 *   8  u32 header size (HEADER)
 *  12  u32 zero
 *  16  u64 payload length
 *  24  SHA-256 of bytes 0..23 followed by the payload
 *  56  u64 zero
 *  64  payload:
 *      u32 library version; i32 width, height, rotation, tb_num, tb_den,
 *      fps_num, fps_den; f64 duration; i64 decode errors; u8 video hash[32];
 *      u64 video file size; i32 track choice, protagonist; i64 poster frame;
 *      i64 frames; i32 tracks; u32 faces;
 *      tracks x (i32 id, i64 first, i64 last, i64 frames, f32 mean size)
 *      frames x (i64 pts, u32 first face, u32 faces)
 *      faces  x (i32 track, u32 flags, f32 confidence, f32 box[4],
 *                f32 points[478][3], f32 pose[16], f32 stats[8], f32 light[18])
 *
 * Version 1 had no light[] (its faces are 72 bytes shorter); it is still
 * read, its faces without FS_TPL_FACE_LIGHT.
 *
 * Track ids are the tracks' indices. Every count, index and value is
 * checked on load, so a file from anywhere cannot make the render read out
 * of bounds or see a non-finite landmark.
 */
#include "template/template.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "bytes.h"
#include "sha256.h"

#define FORMAT_VERSION 2u
#define HEADER 64u
#define FIXED 136u
#define TRACK_BYTES 32u
#define FRAME_BYTES 16u
#define FACE_FLOATS_V1 (1 + 4 + FS_LANDMARKS * 3 + 16 + FS_TPL_STATS)
#define FACE_FLOATS (FACE_FLOATS_V1 + FS_TPL_LIGHT)

/* A face's bytes in a file of format @p version (1 or FORMAT_VERSION). */
static uint64_t face_bytes(uint32_t version)
{
    return 8u + 4u * (uint64_t)(version == 1u ? FACE_FLOATS_V1 : FACE_FLOATS);
}

static const uint8_t magic[4] = {'F', 'S', 'T', 'P'};

void fs_tpl_data_free(fs_tpl_data *d)
{
    if (!d)
        return;
    free(d->frames);
    free(d->tracks);
    free(d->faces);
    d->frames = NULL;
    d->tracks = NULL;
    d->faces = NULL;
    d->n_frames = 0;
    d->n_tracks = 0;
    d->n_faces = 0;
}

const fs_tpl_face *fs_tpl_find(const fs_tpl_data *d, int64_t frame, int32_t track)
{
    if (!d || frame < 0 || frame >= d->n_frames)
        return NULL;
    const fs_tpl_frame *f = &d->frames[frame];
    for (uint32_t i = 0; i < f->n_faces; i++)
        if (d->faces[f->first_face + i].track == track)
            return &d->faces[f->first_face + i];
    return NULL;
}

static void digest(const uint8_t *file, size_t payload_len, uint8_t out[FS_SHA256_SIZE])
{
    fs_sha256_ctx c;
    fs_sha256_init(&c);
    fs_sha256_update(&c, file, 24);
    fs_sha256_update(&c, file + HEADER, payload_len);
    fs_sha256_final(&c, out);
}

/* Bytes of a file with these counts, 0 when it would not fit a size_t. */
static size_t file_size(int64_t frames, int64_t tracks, uint64_t faces, uint32_t version)
{
    if (frames < 0 || tracks < 0 || frames > FS_TPL_MAX_FRAMES || tracks > FS_TPL_MAX_TRACKS ||
        faces > (uint64_t)FS_TPL_MAX_FRAMES * FS_TPL_MAX_FACES_PER_FRAME)
        return 0;
    const uint64_t n = HEADER + FIXED + (uint64_t)tracks * TRACK_BYTES +
                       (uint64_t)frames * FRAME_BYTES + faces * face_bytes(version);
    return n > SIZE_MAX ? 0 : (size_t)n;
}

fs_status fs_tpl_save(const fs_tpl_data *d, uint8_t **out, size_t *out_size, fs_error_buf *err)
{
    if (!d || !out || !out_size || d->n_frames <= 0)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "template save: nothing analysed");
    const size_t total = file_size(d->n_frames, d->n_tracks, d->n_faces, FORMAT_VERSION);
    if (total == 0)
        return fs_fail(err, FS_ERR_TOO_LARGE, "template save: too many frames or faces");
    uint8_t *b = calloc(1, total);
    if (!b)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "template save: out of memory (%zu bytes)", total);
    memcpy(b, magic, 4);
    fs_put_u32(b + 4, FORMAT_VERSION);
    fs_put_u32(b + 8, HEADER);
    fs_put_u64(b + 16, total - HEADER);
    uint8_t *p = b + HEADER;
    fs_put_u32(p, FS_VERSION);
    const int32_t ints[] = {d->width,  d->height,  d->rotation, d->tb_num,
                            d->tb_den, d->fps_num, d->fps_den};
    for (int i = 0; i < 7; i++)
        fs_put_u32(p + 4 + 4 * i, (uint32_t)ints[i]);
    fs_put_f64(p + 32, d->duration);
    fs_put_u64(p + 40, (uint64_t)d->decode_errors);
    memcpy(p + 48, d->hash, 32);
    fs_put_u64(p + 80, d->file_size);
    fs_put_u32(p + 88, (uint32_t)d->track_choice);
    fs_put_u32(p + 92, (uint32_t)d->protagonist);
    fs_put_u64(p + 96, (uint64_t)d->poster_frame);
    fs_put_u64(p + 104, (uint64_t)d->n_frames);
    fs_put_u32(p + 112, (uint32_t)d->n_tracks);
    fs_put_u32(p + 116, d->n_faces);
    p += FIXED;
    for (int32_t i = 0; i < d->n_tracks; i++, p += TRACK_BYTES) {
        const fs_tpl_track *t = &d->tracks[i];
        fs_put_u32(p, (uint32_t)t->id);
        fs_put_u64(p + 4, (uint64_t)t->first);
        fs_put_u64(p + 12, (uint64_t)t->last);
        fs_put_u64(p + 20, (uint64_t)t->frames);
        fs_put_f32(p + 28, t->mean_size);
    }
    for (int64_t i = 0; i < d->n_frames; i++, p += FRAME_BYTES) {
        fs_put_u64(p, (uint64_t)d->frames[i].pts);
        fs_put_u32(p + 8, d->frames[i].first_face);
        fs_put_u32(p + 12, d->frames[i].n_faces);
    }
    for (uint32_t i = 0; i < d->n_faces; i++) {
        const fs_tpl_face *f = &d->faces[i];
        fs_put_u32(p, (uint32_t)f->track);
        fs_put_u32(p + 4, f->flags);
        p += 8;
        fs_put_f32(p, f->confidence);
        p += 4;
        for (int k = 0; k < 4; k++, p += 4)
            fs_put_f32(p, f->box[k]);
        for (int k = 0; k < FS_LANDMARKS; k++)
            for (int c = 0; c < 3; c++, p += 4)
                fs_put_f32(p, f->points[k][c]);
        for (int k = 0; k < 16; k++, p += 4)
            fs_put_f32(p, f->pose[k]);
        for (int k = 0; k < FS_TPL_STATS; k++, p += 4)
            fs_put_f32(p, f->stats[k]);
        for (int k = 0; k < FS_TPL_LIGHT; k++, p += 4)
            fs_put_f32(p, f->light[k]);
    }
    digest(b, total - HEADER, b + 24);
    *out = b;
    *out_size = total;
    return FS_OK;
}

static int finite_in(float v, float lim)
{
    return isfinite(v) && fabsf(v) <= lim;
}

/* Why a parsed face is unacceptable, or NULL. */
static const char *check_face(const fs_tpl_face *f, int32_t n_tracks)
{
    if (f->track < 0 || f->track >= n_tracks)
        return "track id out of range";
    if (f->flags & ~(uint32_t)(FS_TPL_FACE_FITTED | FS_TPL_FACE_BRIDGED | FS_TPL_FACE_STATS |
                               FS_TPL_FACE_LIGHT))
        return "unknown face flags";
    if (!(f->confidence >= 0.0f && f->confidence <= 1.0f))
        return "confidence outside 0..1";
    for (int k = 0; k < 4; k++)
        if (!finite_in(f->box[k], 1e6f))
            return "box not finite";
    for (int k = 0; k < FS_LANDMARKS; k++)
        for (int c = 0; c < 3; c++)
            if (!finite_in(f->points[k][c], 1e6f))
                return "landmark not finite or far out";
    for (int k = 0; k < 16; k++)
        if (!finite_in(f->pose[k], 1e6f))
            return "pose not finite";
    for (int k = 0; k < FS_TPL_STATS; k++)
        if (!finite_in(f->stats[k], 1e6f))
            return "statistics not finite";
    /* A light's terms are a few units at most (its mean over the skin is
     * 1); a wild one would light the face white or black. */
    for (int k = 0; k < FS_TPL_LIGHT; k++)
        if (!finite_in(f->light[k], 100.0f))
            return "light not finite or far out";
    return NULL;
}

/* Why the header fields are unacceptable, or NULL. */
static const char *check_fields(const fs_tpl_data *d)
{
    if (d->width < 1 || d->height < 1 || d->width > FS_TPL_MAX_SIDE || d->height > FS_TPL_MAX_SIDE)
        return "frame size out of range";
    if (d->rotation != 0 && d->rotation != 90 && d->rotation != 180 && d->rotation != 270)
        return "rotation not a multiple of 90 degrees";
    if (d->tb_num < 1 || d->tb_den < 1 || d->fps_num < 0 || d->fps_den < 1)
        return "time base or frame rate out of range";
    if (!(d->duration >= 0.0 && d->duration < 1e7))
        return "duration out of range";
    if (d->decode_errors < 0)
        return "negative decode error count";
    if (d->track_choice < -2 || d->track_choice >= d->n_tracks)
        return "track choice out of range";
    if (d->protagonist < -1 || d->protagonist >= d->n_tracks)
        return "protagonist out of range";
    if (d->poster_frame < -1 || d->poster_frame >= d->n_frames)
        return "poster frame out of range";
    return NULL;
}

static const char *check_tables(const fs_tpl_data *d)
{
    for (int32_t i = 0; i < d->n_tracks; i++) {
        const fs_tpl_track *t = &d->tracks[i];
        if (t->id != i)
            return "track ids not in order";
        if (t->first < 0 || t->last < t->first || t->last >= d->n_frames || t->frames < 0 ||
            t->frames > t->last - t->first + 1 || !finite_in(t->mean_size, 1e6f) ||
            t->mean_size < 0)
            return "track range out of bounds";
    }
    uint64_t next = 0;
    for (int64_t i = 0; i < d->n_frames; i++) {
        const fs_tpl_frame *f = &d->frames[i];
        if (i > 0 && f->pts <= d->frames[i - 1].pts)
            return "frame timestamps not increasing";
        if (f->first_face != next || f->n_faces > FS_TPL_MAX_FACES_PER_FRAME)
            return "frame face index out of order";
        next += f->n_faces;
        for (uint32_t a = 0; a < f->n_faces; a++)
            for (uint32_t b = a + 1; b < f->n_faces; b++)
                if (d->faces[f->first_face + a].track == d->faces[f->first_face + b].track)
                    return "a track twice in one frame";
    }
    if (next != d->n_faces)
        return "face count does not match the frames";
    return NULL;
}

fs_status fs_tpl_load(const uint8_t *data, size_t size, fs_tpl_data *out, fs_error_buf *err)
{
    if (!out || (!data && size))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "template load: NULL argument");
    if (size >= 4 && memcmp(data, magic, 4) != 0)
        return fs_fail(err, FS_ERR_CORRUPT, "template load: not a template file (no FSTP magic)");
    if (size < HEADER)
        return fs_fail(err, FS_ERR_TRUNCATED, "template load: truncated (%zu bytes, the header needs %u)",
                       size, HEADER);
    const uint32_t version = fs_get_u32(data + 4);
    if (version != FORMAT_VERSION && version != 1u)
        return fs_fail(err, FS_ERR_VERSION,
                       "template load: format version %u, this library reads 1 to %u (analyse the "
                       "video again)", (unsigned)version, FORMAT_VERSION);
    if (fs_get_u32(data + 8) != HEADER || fs_get_u32(data + 12) != 0 || fs_get_u64(data + 56) != 0)
        return fs_fail(err, FS_ERR_CORRUPT, "template load: bad header");
    const uint64_t payload = fs_get_u64(data + 16);
    if (size - HEADER < payload)
        return fs_fail(err, FS_ERR_TRUNCATED, "template load: truncated (%zu payload bytes of %llu)",
                       size - HEADER, (unsigned long long)payload);
    if (size - HEADER > payload)
        return fs_fail(err, FS_ERR_CORRUPT, "template load: %llu bytes after the payload",
                       (unsigned long long)(size - HEADER - payload));
    uint8_t sum[FS_SHA256_SIZE];
    digest(data, (size_t)payload, sum);
    if (memcmp(sum, data + 24, FS_SHA256_SIZE) != 0)
        return fs_fail(err, FS_ERR_CHECKSUM, "template load: checksum mismatch (file altered)");
    if (payload < FIXED)
        return fs_fail(err, FS_ERR_CORRUPT, "template load: payload of %llu bytes",
                       (unsigned long long)payload);

    const uint8_t *p = data + HEADER;
    fs_tpl_data d;
    memset(&d, 0, sizeof(d));
    int32_t *const ints[] = {&d.width,  &d.height,  &d.rotation, &d.tb_num,
                             &d.tb_den, &d.fps_num, &d.fps_den};
    for (int i = 0; i < 7; i++)
        *ints[i] = (int32_t)fs_get_u32(p + 4 + 4 * i);
    d.duration = fs_get_f64(p + 32);
    d.decode_errors = (int64_t)fs_get_u64(p + 40);
    memcpy(d.hash, p + 48, 32);
    d.file_size = fs_get_u64(p + 80);
    d.track_choice = (int32_t)fs_get_u32(p + 88);
    d.protagonist = (int32_t)fs_get_u32(p + 92);
    d.poster_frame = (int64_t)fs_get_u64(p + 96);
    const uint64_t n_frames = fs_get_u64(p + 104);
    const uint32_t n_tracks = fs_get_u32(p + 112);
    const uint32_t n_faces = fs_get_u32(p + 116);
    if (n_frames < 1 || n_frames > (uint64_t)FS_TPL_MAX_FRAMES || n_tracks > FS_TPL_MAX_TRACKS ||
        file_size((int64_t)n_frames, n_tracks, n_faces, version) != size)
        return fs_fail(err, FS_ERR_CORRUPT,
                       "template load: %zu bytes for %llu frames, %u tracks, %u faces", size,
                       (unsigned long long)n_frames, (unsigned)n_tracks, (unsigned)n_faces);
    d.n_frames = (int64_t)n_frames;
    d.n_tracks = (int32_t)n_tracks;
    d.n_faces = n_faces;
    const char *why = check_fields(&d);
    if (why)
        return fs_fail(err, FS_ERR_CORRUPT, "template load: %s", why);

    d.frames = malloc(sizeof(*d.frames) * (size_t)d.n_frames);
    d.tracks = malloc(sizeof(*d.tracks) * (size_t)(d.n_tracks ? d.n_tracks : 1));
    d.faces = malloc(sizeof(*d.faces) * (size_t)(d.n_faces ? d.n_faces : 1));
    if (!d.frames || !d.tracks || !d.faces) {
        fs_tpl_data_free(&d);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "template load: out of memory");
    }
    p += FIXED;
    for (int32_t i = 0; i < d.n_tracks; i++, p += TRACK_BYTES) {
        fs_tpl_track *t = &d.tracks[i];
        t->id = (int32_t)fs_get_u32(p);
        t->first = (int64_t)fs_get_u64(p + 4);
        t->last = (int64_t)fs_get_u64(p + 12);
        t->frames = (int64_t)fs_get_u64(p + 20);
        t->mean_size = fs_get_f32(p + 28);
    }
    for (int64_t i = 0; i < d.n_frames; i++, p += FRAME_BYTES) {
        d.frames[i].pts = (int64_t)fs_get_u64(p);
        d.frames[i].first_face = fs_get_u32(p + 8);
        d.frames[i].n_faces = fs_get_u32(p + 12);
    }
    why = NULL;
    for (uint32_t i = 0; i < d.n_faces && !why; i++) {
        fs_tpl_face *f = &d.faces[i];
        f->track = (int32_t)fs_get_u32(p);
        f->flags = fs_get_u32(p + 4);
        p += 8;
        f->confidence = fs_get_f32(p);
        p += 4;
        for (int k = 0; k < 4; k++, p += 4)
            f->box[k] = fs_get_f32(p);
        for (int k = 0; k < FS_LANDMARKS; k++)
            for (int c = 0; c < 3; c++, p += 4)
                f->points[k][c] = fs_get_f32(p);
        for (int k = 0; k < 16; k++, p += 4)
            f->pose[k] = fs_get_f32(p);
        for (int k = 0; k < FS_TPL_STATS; k++, p += 4)
            f->stats[k] = fs_get_f32(p);
        memset(f->light, 0, sizeof(f->light));
        if (version == 1u && (f->flags & FS_TPL_FACE_LIGHT))
            why = "unknown face flags";
        for (int k = 0; version != 1u && k < FS_TPL_LIGHT; k++, p += 4)
            f->light[k] = fs_get_f32(p);
        if (!why)
            why = check_face(f, d.n_tracks);
    }
    if (!why)
        why = check_tables(&d);
    if (why) {
        fs_tpl_data_free(&d);
        return fs_fail(err, FS_ERR_CORRUPT, "template load: %s", why);
    }
    *out = d;
    return FS_OK;
}

fs_status fs_tpl_hash_file(const char *path, uint8_t hash[32], uint64_t *size, fs_error_buf *err)
{
    int fd = -1;
    uint64_t file_size = 0;
    const fs_status st = fs_file_open_regular(path, "", &fd, &file_size, err);
    if (st != FS_OK)
        return st;
    /* The st_size bytes only: a file that grows meanwhile cannot keep this
     * going, and one that shrank hashes to what it became. */
    uint64_t total = 0;
    const int e = fs_fd_sha256(fd, file_size, hash, &total);
    close(fd);
    if (e != 0)
        return fs_fail(err, FS_ERR_IO, "%s: read error while hashing: %s", path, strerror(e));
    *size = total;
    return FS_OK;
}
