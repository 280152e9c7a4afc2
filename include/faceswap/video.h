/*
 * fs_video: the per-user render. An identity x an analysed template -> an
 * MP4 that plays in every browser: H.264 (libx264, or h264_nvenc where the
 * GPU has an encoder), yuv420p, the moov atom first, the template's size,
 * frame rate, frame count and timestamps, its colour tags and rotation, and
 * its audio stream copied packet for packet. Frames where the chosen track
 * has no face, or a face the swap skips (too small, turned too far), pass
 * through unchanged; outside the blended face nothing changes before the
 * encode. Decode, swap and encode overlap on the context's threads. The
 * output is written to a temporary name and renamed when complete: a
 * failed or cancelled render leaves no file.
 *
 * Threading: one fs_video must not be used by two threads at once; distinct
 * fs_video objects may render concurrently and share identities, templates
 * and renderers' settings (the renderer is only read).
 */
#ifndef FS_VIDEO_H
#define FS_VIDEO_H

#include "common.h"
#include "context.h"
#include "identity.h"
#include "renderer.h"
#include "template.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_video fs_video;

/** x264 presets, fastest first (FS_VIDEO_PRESET). Since 0.3. */
typedef enum fs_video_preset {
    FS_PRESET_ULTRAFAST = 0,
    FS_PRESET_SUPERFAST = 1,
    FS_PRESET_VERYFAST = 2,
    FS_PRESET_FASTER = 3,
    FS_PRESET_FAST = 4,
    FS_PRESET_MEDIUM = 5,
    FS_PRESET_SLOW = 6,
    FS_PRESET_SLOWER = 7,
    FS_PRESET_VERYSLOW = 8
} fs_video_preset;

/** Which H.264 encoder (FS_VIDEO_ENCODER). Since 0.3. */
typedef enum fs_video_encoder {
    FS_ENCODER_AUTO = 0,  /**< h264_nvenc where it opens, else libx264 */
    FS_ENCODER_X264 = 1,  /**< libx264 on the host cores */
    FS_ENCODER_NVENC = 2  /**< h264_nvenc; FS_ERR_UNSUPPORTED where no GPU encoder exists
                           *   (H100 and H200 have none) */
} fs_video_encoder;

/** Render parameters; values pass as double. See fs_video_param_bounds(). Since 0.3. */
typedef enum fs_video_param {
    /** x264 constant rate factor, 0..51, default 23: visually clean on a phone
     *  screen at about 1-2 Mbit/s for 720p talking heads. 0 is lossless (High
     *  4:4:4 Predictive profile, which browsers do not play: for tests and
     *  archive copies). */
    FS_VIDEO_CRF = 0,
    /** fs_video_preset, default FS_PRESET_VERYFAST (see doc/video.md: the swap
     *  already costs about as much as the encode; slower presets cost more time
     *  than the few percent of size they save for a one-minute wait). */
    FS_VIDEO_PRESET = 1,
    /** Largest bit rate, kbit/s, 0..100000, default 0 (none; else a VBV cap with a
     *  buffer of twice the rate). */
    FS_VIDEO_MAX_KBITRATE = 2,
    /** fs_video_encoder, default FS_ENCODER_AUTO. */
    FS_VIDEO_ENCODER = 3,
    /** Which faces to swap: FS_TRACK_PROTAGONIST, FS_TRACK_ALL or a track id;
     *  default -3: the template's own FS_TEMPLATE_TRACK. */
    FS_VIDEO_TRACK = 4
} fs_video_param;

/** What the last render did, and where its time went. Fixed layout for ABI 0. Since 0.3. */
typedef struct fs_video_report {
    int64_t frames;          /**< frames written (= the template's frames) */
    int64_t frames_swapped;  /**< frames where at least one face was swapped */
    int64_t faces_skipped;   /**< faces of the chosen tracks the swap skipped (small, turned) */
    int64_t decode_errors;   /**< packets the decoder refused */
    int32_t audio;           /**< 0 none, 1 copied packet for packet, 2 re-encoded to AAC
                              *   (a codec MP4 cannot hold) */
    int32_t threads;         /**< swap workers used */
    double seconds;          /**< wall time of the render */
    double decode_seconds;   /**< decoder thread busy (demux + decode) */
    double swap_seconds;     /**< swap workers busy, summed over workers */
    double encode_seconds;   /**< encoder busy (colour conversion of none: frames stay YUV) */
    double wait_seconds;     /**< encoder waiting for the next frame in order */
    char encoder[16];        /**< "libx264" or "h264_nvenc" */
    double reserved[8];      /**< zero */
} fs_video_report;

/**
 * Creates a render object with default parameters.
 * @param[out] out untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_MEMORY.
 * Since 0.3.
 */
FS_API fs_status fs_video_create(fs_context *ctx, fs_video **out);

/** Destroys a render object. Accepts NULL. Since 0.3. */
FS_API void fs_video_destroy(fs_video *v);

/** Sets a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_RANGE. Since 0.3. */
FS_API fs_status fs_video_set(fs_video *v, fs_video_param param, double value);
/** Reads a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT. Since 0.3. */
FS_API fs_status fs_video_get(const fs_video *v, fs_video_param param, double *value);
/** Inclusive bounds of a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT. Since 0.3. */
FS_API fs_status fs_video_param_bounds(fs_video_param param, double *min, double *max);

/**
 * Also writes the poster: the template's poster frame (its protagonist's face
 * largest and most frontal), swapped, at @p path (atomically), in the format
 * of its extension as fs_image_write_file() writes it (.jpg / .jpeg for the
 * page that shows the film). NULL (default) writes none. The string is copied.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_MEMORY,
 *         FS_ERR_UNSUPPORTED (an extension the writer does not know: refused
 *         here, before any render; the previous poster setting stays).
 * Since 0.3.
 */
FS_API fs_status fs_video_set_poster(fs_video *v, const char *path);

/**
 * Renders @p id into the template video at @p video_path (the file @p tpl was
 * analysed from: its content hash is checked) and writes @p out_path.
 * @param renderer the swap's settings (colour, blend, eyes and mouth, limits...);
 *                 only read, so one renderer may serve concurrent renders.
 * @param progress may be NULL; frames written and the template's frame count.
 * @return FS_OK (also when no frame had a face: the video is then re-encoded
 *         unchanged), FS_ERR_INVALID_ARGUMENT, FS_ERR_CHECKSUM (the video is not
 *         the one the template was analysed from), FS_ERR_NOT_FOUND, FS_ERR_IO,
 *         FS_ERR_VIDEO, FS_ERR_UNSUPPORTED (encoder not available),
 *         FS_ERR_CANCELLED, FS_ERR_OUT_OF_MEMORY. Nothing is left at @p out_path
 *         (or at the poster's path) on failure. Detail in fs_video_last_error().
 * Since 0.3.
 */
FS_API fs_status fs_video_render(fs_video *v, const fs_renderer *renderer, const fs_identity *id,
                                 const fs_template *tpl, const char *video_path,
                                 const char *out_path, fs_progress_fn progress, void *user);

/** What the last successful fs_video_render() did. @return FS_OK, FS_ERR_INVALID_ARGUMENT. Since 0.3. */
FS_API fs_status fs_video_get_report(const fs_video *v, fs_video_report *out);

/** Detail of the last error, "" when none. Owned by the object. Since 0.3. */
FS_API const char *fs_video_last_error(const fs_video *v);

#ifdef __cplusplus
}
#endif

#endif /* FS_VIDEO_H */
