/*
 * Prints the C compiler's view of the public structures as JSON, so the
 * Python tests can compare it with the ctypes declarations field by field.
 * Uses only the public headers and links nothing from the library.
 */
#include <stddef.h>
#include <stdio.h>

#include <faceswap/faceswap.h>

#define FIELD(type, name)                                                                    \
    printf("%s\"%s\":[%zu,%zu]", first ? "" : ",", #name, offsetof(type, name),               \
           sizeof(((type *)0)->name));                                                       \
    first = 0

#define BEGIN(type)                                                                          \
    printf("%s\"%s\":{\"sizeof\":%zu,\"fields\":{", nstruct++ ? "," : "", #type, sizeof(type)); \
    first = 1

#define END() printf("}}")

int main(void)
{
    int first = 1, nstruct = 0;
    printf("{");
    BEGIN(fs_image);
    FIELD(fs_image, width);
    FIELD(fs_image, height);
    FIELD(fs_image, stride);
    FIELD(fs_image, format);
    FIELD(fs_image, memory);
    FIELD(fs_image, reserved0);
    FIELD(fs_image, data);
    FIELD(fs_image, reserved);
    END();
    BEGIN(fs_face_box);
    FIELD(fs_face_box, x);
    FIELD(fs_face_box, y);
    FIELD(fs_face_box, width);
    FIELD(fs_face_box, height);
    FIELD(fs_face_box, score);
    FIELD(fs_face_box, keypoints);
    FIELD(fs_face_box, reserved);
    END();
    BEGIN(fs_head_pose);
    FIELD(fs_head_pose, rotation);
    FIELD(fs_head_pose, translation);
    FIELD(fs_head_pose, scale);
    FIELD(fs_head_pose, yaw);
    FIELD(fs_head_pose, pitch);
    FIELD(fs_head_pose, roll);
    FIELD(fs_head_pose, reserved);
    END();
    BEGIN(fs_face_landmarks);
    FIELD(fs_face_landmarks, points);
    FIELD(fs_face_landmarks, confidence);
    FIELD(fs_face_landmarks, pose);
    FIELD(fs_face_landmarks, box);
    FIELD(fs_face_landmarks, crop);
    FIELD(fs_face_landmarks, reserved);
    END();
    BEGIN(fs_swap_face_report);
    FIELD(fs_swap_face_report, box);
    FIELD(fs_swap_face_report, outcome);
    FIELD(fs_swap_face_report, status);
    FIELD(fs_swap_face_report, face_size);
    FIELD(fs_swap_face_report, yaw);
    FIELD(fs_swap_face_report, confidence);
    FIELD(fs_swap_face_report, reserved);
    END();
    BEGIN(fs_template_info);
    FIELD(fs_template_info, width);
    FIELD(fs_template_info, height);
    FIELD(fs_template_info, rotation);
    FIELD(fs_template_info, fps_num);
    FIELD(fs_template_info, fps_den);
    FIELD(fs_template_info, frames);
    FIELD(fs_template_info, duration);
    FIELD(fs_template_info, tracks);
    FIELD(fs_template_info, protagonist);
    FIELD(fs_template_info, poster_frame);
    FIELD(fs_template_info, decode_errors);
    FIELD(fs_template_info, frames_with_face);
    FIELD(fs_template_info, content_hash);
    FIELD(fs_template_info, reserved);
    END();
    BEGIN(fs_template_track_info);
    FIELD(fs_template_track_info, id);
    FIELD(fs_template_track_info, reserved0);
    FIELD(fs_template_track_info, first_frame);
    FIELD(fs_template_track_info, last_frame);
    FIELD(fs_template_track_info, frames);
    FIELD(fs_template_track_info, mean_size);
    FIELD(fs_template_track_info, reserved);
    END();
    BEGIN(fs_video_report);
    FIELD(fs_video_report, frames);
    FIELD(fs_video_report, frames_swapped);
    FIELD(fs_video_report, faces_skipped);
    FIELD(fs_video_report, decode_errors);
    FIELD(fs_video_report, audio);
    FIELD(fs_video_report, threads);
    FIELD(fs_video_report, seconds);
    FIELD(fs_video_report, decode_seconds);
    FIELD(fs_video_report, swap_seconds);
    FIELD(fs_video_report, encode_seconds);
    FIELD(fs_video_report, wait_seconds);
    FIELD(fs_video_report, encoder);
    FIELD(fs_video_report, reserved);
    END();
    BEGIN(fs_source_check);
    FIELD(fs_source_check, flags);
    FIELD(fs_source_check, score);
    FIELD(fs_source_check, quality);
    FIELD(fs_source_check, faces);
    FIELD(fs_source_check, face_index);
    FIELD(fs_source_check, box);
    FIELD(fs_source_check, face_size);
    FIELD(fs_source_check, yaw);
    FIELD(fs_source_check, pitch);
    FIELD(fs_source_check, roll);
    FIELD(fs_source_check, luma);
    FIELD(fs_source_check, clipped);
    FIELD(fs_source_check, dark);
    FIELD(fs_source_check, skin_a);
    FIELD(fs_source_check, skin_b);
    FIELD(fs_source_check, cast);
    FIELD(fs_source_check, sharpness);
    FIELD(fs_source_check, eye_openness);
    FIELD(fs_source_check, covered);
    FIELD(fs_source_check, confidence);
    FIELD(fs_source_check, outside);
    FIELD(fs_source_check, crowd);
    FIELD(fs_source_check, reserved);
    END();
    printf(",\"enum_size\":%zu,\"fs_status_size\":%zu", sizeof(fs_pixel_format), sizeof(fs_status));
    printf(",\"constants\":{\"FS_FACE_KEYPOINTS\":%d,\"FS_MESH_LANDMARKS\":%d,\"FS_LANDMARKS\":%d}",
           FS_FACE_KEYPOINTS, FS_MESH_LANDMARKS, FS_LANDMARKS);

    /* every enum constant the binding mirrors */
    static const struct {
        const char *name;
        long value;
    } enums[] = {
#define E(x) {#x, (long)(x)}
        E(FS_BACKEND_AUTO), E(FS_BACKEND_CPU), E(FS_BACKEND_CUDA),
        E(FS_CONTEXT_BACKEND), E(FS_CONTEXT_THREADS), E(FS_CONTEXT_FORCE_REFERENCE),
        E(FS_CONTEXT_MAX_PIXELS), E(FS_CONTEXT_VERIFY_MODELS), E(FS_CONTEXT_DEVICE),
        E(FS_LOG_ERROR), E(FS_LOG_WARNING), E(FS_LOG_INFO), E(FS_LOG_DEBUG),
        E(FS_PIXEL_RGB8), E(FS_PIXEL_RGBA8), E(FS_PIXEL_BGR8), E(FS_PIXEL_BGRA8), E(FS_PIXEL_GRAY8),
        E(FS_MEMORY_HOST), E(FS_MEMORY_DEVICE),
        E(FS_KEYPOINT_RIGHT_EYE), E(FS_KEYPOINT_LEFT_EYE), E(FS_KEYPOINT_NOSE),
        E(FS_KEYPOINT_MOUTH), E(FS_KEYPOINT_RIGHT_EAR), E(FS_KEYPOINT_LEFT_EAR),
        E(FS_DETECTOR_INPUT_SQUASH), E(FS_DETECTOR_INPUT_LETTERBOX),
        E(FS_DETECTOR_SCORE_THRESHOLD), E(FS_DETECTOR_NMS_THRESHOLD), E(FS_DETECTOR_MAX_FACES),
        E(FS_DETECTOR_INPUT_MODE),
        E(FS_FITTER_ALIGN_NONE), E(FS_FITTER_ALIGN_ROLL),
        E(FS_FITTER_ALIGN), E(FS_FITTER_MIN_CONFIDENCE), E(FS_FITTER_IRIS),
        E(FS_COLOR_NONE), E(FS_COLOR_MEANSTD), E(FS_COLOR_FULL),
        E(FS_BLEND_ALPHA), E(FS_BLEND_MULTIBAND), E(FS_BLEND_POISSON),
        E(FS_RENDERER_COLOR), E(FS_RENDERER_BLEND), E(FS_RENDERER_SUBDIVISION),
        E(FS_RENDERER_SWAP_EYES_MOUTH), E(FS_RENDERER_MASK_ERODE), E(FS_RENDERER_MASK_FEATHER),
        E(FS_RENDERER_KEEP_DEBUG), E(FS_RENDERER_MIN_FACE), E(FS_RENDERER_MAX_YAW),
        E(FS_RENDERER_SHAPE), E(FS_RENDERER_MATCH_DETAIL), E(FS_RENDERER_SKIN_GUARD),
        E(FS_SWAP_SWAPPED), E(FS_SWAP_NOT_CHOSEN), E(FS_SWAP_SKIPPED_FIT),
        E(FS_SWAP_SKIPPED_SMALL), E(FS_SWAP_SKIPPED_TURNED), E(FS_SWAP_FAILED),
        E(FS_DEBUG_RENDER), E(FS_DEBUG_MASK), E(FS_DEBUG_COVERAGE),
        E(FS_TEMPLATE_TRACK), E(FS_TEMPLATE_REDETECT_INTERVAL), E(FS_TEMPLATE_MAX_MISS),
        E(FS_TEMPLATE_SMOOTH), E(FS_TEMPLATE_MAX_SECONDS), E(FS_TEMPLATE_MAX_FACES),
        E(FS_TEMPLATE_JOIN_SHOTS),
        E(FS_TRACK_PROTAGONIST), E(FS_TRACK_ALL),
        E(FS_VIDEO_CRF), E(FS_VIDEO_PRESET), E(FS_VIDEO_MAX_KBITRATE), E(FS_VIDEO_ENCODER),
        E(FS_VIDEO_TRACK),
        E(FS_PRESET_ULTRAFAST), E(FS_PRESET_SUPERFAST), E(FS_PRESET_VERYFAST), E(FS_PRESET_FASTER),
        E(FS_PRESET_FAST), E(FS_PRESET_MEDIUM), E(FS_PRESET_SLOW), E(FS_PRESET_SLOWER),
        E(FS_PRESET_VERYSLOW),
        E(FS_ENCODER_AUTO), E(FS_ENCODER_X264), E(FS_ENCODER_NVENC),
        E(FS_CHECK_SMALL), E(FS_CHECK_TURNED), E(FS_CHECK_DARK), E(FS_CHECK_BRIGHT),
        E(FS_CHECK_COLOURED), E(FS_CHECK_BLURRED), E(FS_CHECK_EYES_CLOSED), E(FS_CHECK_COVERED),
        E(FS_CHECK_CUT), E(FS_CHECK_CROWDED), E(FS_CHECK_CRITERIA),
        E(FS_VERSION), E(FS_ABI_VERSION),
#undef E
#define S(name, value, message) {"FS_" #name, (long)(FS_##name)},
        FS_STATUS_LIST(S)
#undef S
    };
    printf(",\"enums\":{");
    for (size_t i = 0; i < sizeof(enums) / sizeof(enums[0]); i++)
        printf("%s\"%s\":%ld", i ? "," : "", enums[i].name, enums[i].value);
    printf("}}\n");
    return 0;
}
