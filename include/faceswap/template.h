/*
 * fs_template: a template video analysed once, so that every user's render
 * costs only the swap and the encode. The analysis decodes every frame in
 * order and finds the faces: detection, then tracking from the previous
 * frame's landmarks, detection again when a track is lost, at scene cuts
 * and at a regular interval. Faces keep a track id through short misses.
 * Each track's landmarks are smoothed over time in a frame normalised by
 * head pose and size (a face that does not move does not jitter; one that
 * moves fast does not lag), and so is each face's light, which the swap
 * puts on the user's face. The result can be saved to a versioned, checksummed file
 * that records the video's size, frame count, timing and a hash of its
 * bytes, so it is never applied to another video.
 *
 * Threading: one template must not be analysed, loaded or changed by two
 * threads at once; once analysed or loaded it is read-only for
 * fs_video_render(), and any number of renders on any threads may share it.
 */
#ifndef FS_TEMPLATE_H
#define FS_TEMPLATE_H

#include "common.h"
#include "context.h"
#include "fitter.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_template fs_template;

/** FS_TEMPLATE_TRACK value: the protagonist, the track present in most
 *  frames (the larger mean face on ties). */
#define FS_TRACK_PROTAGONIST (-1)
/** FS_TEMPLATE_TRACK value: every track. */
#define FS_TRACK_ALL (-2)

/** Template parameters; values pass as double. See fs_template_param_bounds(). Since 0.3. */
typedef enum fs_template_param {
    /** Which faces a render swaps: FS_TRACK_PROTAGONIST (default), FS_TRACK_ALL, or a
     *  track id 0.. (fs_template_track_info). Stored in the template file. */
    FS_TEMPLATE_TRACK = 0,
    /** Frames between two detections while every track is held, 1..1000, default 12
     *  (about half a second): new faces entering the picture are found this late at most. */
    FS_TEMPLATE_REDETECT_INTERVAL = 1,
    /** Frames a track may miss (occlusion, a head turned past the fitter) and keep its
     *  id, 0..300, default 12. Misses are not swapped; they pass through. */
    FS_TEMPLATE_MAX_MISS = 2,
    /** 1 (default) smooths landmarks, light and statistics over time; 0 keeps the raw
     *  per-frame fits (for comparison). */
    FS_TEMPLATE_SMOOTH = 3,
    /** Longest video analysed, seconds, 1..3600, default 600. Longer: FS_ERR_TOO_LARGE. */
    FS_TEMPLATE_MAX_SECONDS = 4,
    /** Most faces tracked at once, 1..16, default 4 (the largest are kept). */
    FS_TEMPLATE_MAX_FACES = 5,
    /** 1 (default) joins the tracks of one person across shots: every cut
     *  ends the tracks, and a track of a later shot whose face looks like an
     *  earlier track's (faceres embeddings of their best views, when the
     *  faceres model is in the model folder) takes its id, so that the
     *  protagonist of a film that cuts back and forth is one track. 0 keeps
     *  one track per shot. */
    FS_TEMPLATE_JOIN_SHOTS = 6
} fs_template_param;

/** Summary of an analysed template. Fixed layout for ABI 0. Since 0.3. */
typedef struct fs_template_info {
    int32_t width, height;      /**< decoded frame size, px (before rotation) */
    int32_t rotation;           /**< display rotation of the video, degrees clockwise */
    int32_t fps_num, fps_den;   /**< average frame rate (0/1 unknown) */
    int64_t frames;             /**< frames decoded */
    double duration;            /**< seconds, first to last frame plus one frame */
    int32_t tracks;             /**< tracks found */
    int32_t protagonist;        /**< track id of the protagonist, -1 when no face */
    int64_t poster_frame;       /**< the frame where the protagonist's face is largest
                                 *   and most frontal, -1 when no face */
    int64_t decode_errors;      /**< packets the decoder refused (their frames are missing) */
    int64_t frames_with_face;   /**< frames where the chosen track(s) have a face */
    uint8_t content_hash[32];   /**< SHA-256 of the video file's bytes */
    int32_t reserved[16];       /**< zero */
} fs_template_info;

/** One track of a template. Fixed layout for ABI 0. Since 0.3. */
typedef struct fs_template_track_info {
    int32_t id;            /**< 0.., stable for the life of the template */
    int32_t reserved0;     /**< zero */
    int64_t first_frame;   /**< first frame with a face */
    int64_t last_frame;    /**< last frame with a face */
    int64_t frames;        /**< frames with a face (misses not counted) */
    float mean_size;       /**< mean face size, px (larger side of the mesh's box) */
    float reserved[15];    /**< zero */
} fs_template_track_info;

/**
 * Progress of a long call: @p done of @p total units (frames); @p total is an
 * estimate, 0 when unknown. Return 0 to go on, non-zero to cancel: the call
 * then returns FS_ERR_CANCELLED and leaves nothing behind. Called on the
 * thread that made the call, once per frame.
 */
typedef int (*fs_progress_fn)(void *user, int64_t done, int64_t total);

/**
 * Creates an empty template with default parameters.
 * @param[out] out untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_MEMORY.
 * Since 0.3.
 */
FS_API fs_status fs_template_create(fs_context *ctx, fs_template **out);

/** Destroys a template. Accepts NULL. Since 0.3. */
FS_API void fs_template_destroy(fs_template *t);

/** Sets a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_RANGE. Since 0.3. */
FS_API fs_status fs_template_set(fs_template *t, fs_template_param param, double value);
/** Reads a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT. Since 0.3. */
FS_API fs_status fs_template_get(const fs_template *t, fs_template_param param, double *value);
/** Inclusive bounds of a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT. Since 0.3. */
FS_API fs_status fs_template_param_bounds(fs_template_param param, double *min, double *max);

/**
 * Analyses the video at @p path (any container and codec FFmpeg reads: MP4,
 * MOV, MKV, WebM, AVI; H.264, HEVC, VP9, MPEG-4 ...), replacing what the
 * template held. Uses the context's threads for decoding and the models.
 * Frames the decoder cannot decode are counted (decode_errors), not fatal.
 * 10-bit video is converted to 8 bits; HDR (PQ, HLG) is refused.
 * @param progress may be NULL; called with frames done and the expected count.
 * @return FS_OK (also when no face is found: every frame then passes through),
 *         FS_ERR_INVALID_ARGUMENT, FS_ERR_NOT_FOUND, FS_ERR_IO,
 *         FS_ERR_VIDEO (not a video, no video stream, an unreadable container),
 *         FS_ERR_TRUNCATED (no frame could be decoded), FS_ERR_UNSUPPORTED (HDR),
 *         FS_ERR_TOO_LARGE (frame over FS_CONTEXT_MAX_PIXELS, longer than
 *         FS_TEMPLATE_MAX_SECONDS), FS_ERR_CANCELLED, FS_ERR_OUT_OF_MEMORY, and the
 *         model-loading statuses of fs_detector_create(). On failure the
 *         template is left empty. Detail in fs_template_last_error().
 * Since 0.3.
 */
FS_API fs_status fs_template_analyse(fs_template *t, const char *path, fs_progress_fn progress,
                                     void *user);

/**
 * Writes the template to @p path atomically (a temporary file, then a rename).
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (nothing analysed), FS_ERR_IO,
 *         FS_ERR_OUT_OF_MEMORY.
 * Since 0.3.
 */
FS_API fs_status fs_template_save_file(const fs_template *t, const char *path);

/**
 * Replaces the template's content with a file of fs_template_save_file().
 * Parameters are taken from the file. Never reads outside the file.
 * @return FS_OK, FS_ERR_NOT_FOUND, FS_ERR_IO (also not a regular file: a FIFO,
 *         device or folder is refused unread), FS_ERR_TRUNCATED, FS_ERR_CORRUPT (not
 *         a template, a field out of range), FS_ERR_VERSION (another format
 *         version), FS_ERR_CHECKSUM (altered), FS_ERR_TOO_LARGE, FS_ERR_OUT_OF_MEMORY.
 *         On failure the template is left as it was.
 * Since 0.3.
 */
FS_API fs_status fs_template_load_file(fs_template *t, const char *path);

/** Summary. @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL, or nothing analysed). Since 0.3. */
FS_API fs_status fs_template_get_info(const fs_template *t, fs_template_info *out);

/**
 * The @p index-th track (0.. < info.tracks, in order of first appearance).
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_RANGE.
 * Since 0.3.
 */
FS_API fs_status fs_template_get_track(const fs_template *t, int index,
                                       fs_template_track_info *out);

/**
 * The smoothed landmarks of track @p track_id in frame @p frame, as the
 * render uses them (points, pose, confidence; box and crop of the fit).
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_RANGE (frame outside
 *         0..frames-1), FS_ERR_NO_FACE (the track has no face in that frame).
 * Since 0.3.
 */
FS_API fs_status fs_template_get_face(const fs_template *t, int64_t frame, int track_id,
                                      fs_face_landmarks *out);

/** Detail of the template's last error, "" when none. Owned by the template. Since 0.3. */
FS_API const char *fs_template_last_error(const fs_template *t);

#ifdef __cplusplus
}
#endif

#endif /* FS_TEMPLATE_H */
