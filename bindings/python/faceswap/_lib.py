"""ctypes declarations of the public C API (include/faceswap/*.h), one to one.

Nothing here is Pythonic on purpose: the structures have exactly the C
layouts, the functions exactly the C signatures. The friendly layer is in
_core.py. The tests compare every layout with the C compiler's (offsetof /
sizeof from a small probe built against the headers) and every declared
function with the linker map.
"""

import ctypes
import ctypes.util
import enum
import glob
import os
import threading

# ---------------------------------------------------------------- constants

FS_FACE_KEYPOINTS = 6
FS_MESH_LANDMARKS = 468
FS_LANDMARKS = 478

# The binding speaks ABI 0 (libfaceswap.so.0) and needs at least 0.1.0.
ABI_VERSION = 0
MIN_VERSION = 100  # FS_VERSION_NUMBER(0, 1, 0)


def version_number(major, minor, patch):
    """FS_VERSION_NUMBER()."""
    return major * 10000 + minor * 100 + patch


class Backend(enum.IntEnum):
    AUTO = 0
    CPU = 1
    CUDA = 2


class ContextParam(enum.IntEnum):
    BACKEND = 0
    THREADS = 1
    FORCE_REFERENCE = 2
    MAX_PIXELS = 3
    VERIFY_MODELS = 4
    DEVICE = 5


class LogLevel(enum.IntEnum):
    ERROR = 0
    WARNING = 1
    INFO = 2
    DEBUG = 3


class PixelFormat(enum.IntEnum):
    RGB8 = 1
    RGBA8 = 2
    BGR8 = 3
    BGRA8 = 4
    GRAY8 = 5


class Memory(enum.IntEnum):
    HOST = 0
    DEVICE = 1


class Keypoint(enum.IntEnum):
    RIGHT_EYE = 0
    LEFT_EYE = 1
    NOSE = 2
    MOUTH = 3
    RIGHT_EAR = 4
    LEFT_EAR = 5


class DetectorInput(enum.IntEnum):
    SQUASH = 0
    LETTERBOX = 1


class DetectorParam(enum.IntEnum):
    SCORE_THRESHOLD = 0
    NMS_THRESHOLD = 1
    MAX_FACES = 2
    INPUT_MODE = 3


class FitterAlign(enum.IntEnum):
    NONE = 0
    ROLL = 1


class FitterParam(enum.IntEnum):
    ALIGN = 0
    MIN_CONFIDENCE = 1
    IRIS = 2


class Color(enum.IntEnum):
    NONE = 0
    MEANSTD = 1
    FULL = 2


class Blend(enum.IntEnum):
    ALPHA = 0
    MULTIBAND = 1
    POISSON = 2


class RendererParam(enum.IntEnum):
    COLOR = 0
    BLEND = 1
    SUBDIVISION = 2
    SWAP_EYES_MOUTH = 3
    MASK_ERODE = 4
    MASK_FEATHER = 5
    KEEP_DEBUG = 6
    MIN_FACE = 7
    MAX_YAW = 8
    SHAPE = 9
    MATCH_DETAIL = 10
    SKIN_GUARD = 11


class SwapOutcome(enum.IntEnum):
    """fs_swap_outcome: what a whole-image swap did with one face."""
    SWAPPED = 0
    NOT_CHOSEN = 1
    SKIPPED_FIT = 2
    SKIPPED_SMALL = 3
    SKIPPED_TURNED = 4
    FAILED = 5


class CheckFlag(enum.IntFlag):
    """fs_check_flag: what the selfie check found wrong with a source photo (0.4)."""
    SMALL = 1 << 0
    TURNED = 1 << 1
    DARK = 1 << 2
    BRIGHT = 1 << 3
    COLOURED = 1 << 4
    BLURRED = 1 << 5
    EYES_CLOSED = 1 << 6
    COVERED = 1 << 7
    CUT = 1 << 8
    CROWDED = 1 << 9


FS_CHECK_CRITERIA = 10


class TemplateParam(enum.IntEnum):
    TRACK = 0
    REDETECT_INTERVAL = 1
    MAX_MISS = 2
    SMOOTH = 3
    MAX_SECONDS = 4
    MAX_FACES = 5
    JOIN_SHOTS = 6


class VideoParam(enum.IntEnum):
    CRF = 0
    PRESET = 1
    MAX_KBITRATE = 2
    ENCODER = 3
    TRACK = 4


class Preset(enum.IntEnum):
    ULTRAFAST = 0
    SUPERFAST = 1
    VERYFAST = 2
    FASTER = 3
    FAST = 4
    MEDIUM = 5
    SLOW = 6
    SLOWER = 7
    VERYSLOW = 8


class Encoder(enum.IntEnum):
    AUTO = 0
    X264 = 1
    NVENC = 2


TRACK_PROTAGONIST = -1
TRACK_ALL = -2


class DebugKind(enum.IntEnum):
    RENDER = 0
    MASK = 1
    COVERAGE = 2


SWAP_FACES_ALL = -1
SWAP_FACES_LARGEST = -2
SWAP_MAX_FACES = 16
IDENTITY_LARGEST_FACE = -1


# ---------------------------------------------------------------- structures


class FsImage(ctypes.Structure):
    """struct fs_image (image.h)."""
    _fields_ = [
        ("width", ctypes.c_int32),
        ("height", ctypes.c_int32),
        ("stride", ctypes.c_int32),
        ("format", ctypes.c_int32),
        ("memory", ctypes.c_int32),
        ("reserved0", ctypes.c_int32),
        ("data", ctypes.c_void_p),
        ("reserved", ctypes.c_void_p * 4),
    ]


class FsFaceBox(ctypes.Structure):
    """struct fs_face_box (detector.h)."""
    _fields_ = [
        ("x", ctypes.c_float),
        ("y", ctypes.c_float),
        ("width", ctypes.c_float),
        ("height", ctypes.c_float),
        ("score", ctypes.c_float),
        ("keypoints", (ctypes.c_float * 2) * FS_FACE_KEYPOINTS),
        ("reserved", ctypes.c_float * 7),
    ]


class FsHeadPose(ctypes.Structure):
    """struct fs_head_pose (fitter.h)."""
    _fields_ = [
        ("rotation", ctypes.c_float * 9),
        ("translation", ctypes.c_float * 3),
        ("scale", ctypes.c_float),
        ("yaw", ctypes.c_float),
        ("pitch", ctypes.c_float),
        ("roll", ctypes.c_float),
        ("reserved", ctypes.c_float * 8),
    ]


class FsFaceLandmarks(ctypes.Structure):
    """struct fs_face_landmarks (fitter.h)."""
    _fields_ = [
        ("points", (ctypes.c_float * 3) * FS_LANDMARKS),
        ("confidence", ctypes.c_float),
        ("pose", FsHeadPose),
        ("box", FsFaceBox),
        ("crop", ctypes.c_float * 5),
        ("reserved", ctypes.c_float * 11),
    ]


class FsSwapFaceReport(ctypes.Structure):
    """struct fs_swap_face_report (renderer.h)."""
    _fields_ = [
        ("box", FsFaceBox),
        ("outcome", ctypes.c_int32),
        ("status", ctypes.c_int32),
        ("face_size", ctypes.c_float),
        ("yaw", ctypes.c_float),
        ("confidence", ctypes.c_float),
        ("reserved", ctypes.c_float * 11),
    ]


class FsTemplateInfo(ctypes.Structure):
    """struct fs_template_info (template.h)."""
    _fields_ = [
        ("width", ctypes.c_int32),
        ("height", ctypes.c_int32),
        ("rotation", ctypes.c_int32),
        ("fps_num", ctypes.c_int32),
        ("fps_den", ctypes.c_int32),
        ("frames", ctypes.c_int64),
        ("duration", ctypes.c_double),
        ("tracks", ctypes.c_int32),
        ("protagonist", ctypes.c_int32),
        ("poster_frame", ctypes.c_int64),
        ("decode_errors", ctypes.c_int64),
        ("frames_with_face", ctypes.c_int64),
        ("content_hash", ctypes.c_uint8 * 32),
        ("reserved", ctypes.c_int32 * 16),
    ]


class FsTemplateTrackInfo(ctypes.Structure):
    """struct fs_template_track_info (template.h)."""
    _fields_ = [
        ("id", ctypes.c_int32),
        ("reserved0", ctypes.c_int32),
        ("first_frame", ctypes.c_int64),
        ("last_frame", ctypes.c_int64),
        ("frames", ctypes.c_int64),
        ("mean_size", ctypes.c_float),
        ("reserved", ctypes.c_float * 15),
    ]


class FsVideoReport(ctypes.Structure):
    """struct fs_video_report (video.h)."""
    _fields_ = [
        ("frames", ctypes.c_int64),
        ("frames_swapped", ctypes.c_int64),
        ("faces_skipped", ctypes.c_int64),
        ("decode_errors", ctypes.c_int64),
        ("audio", ctypes.c_int32),
        ("threads", ctypes.c_int32),
        ("seconds", ctypes.c_double),
        ("decode_seconds", ctypes.c_double),
        ("swap_seconds", ctypes.c_double),
        ("encode_seconds", ctypes.c_double),
        ("wait_seconds", ctypes.c_double),
        ("encoder", ctypes.c_char * 16),
        ("reserved", ctypes.c_double * 8),
    ]


class FsSourceCheck(ctypes.Structure):
    """struct fs_source_check (check.h, 0.4)."""
    _fields_ = [
        ("flags", ctypes.c_uint32),
        ("score", ctypes.c_float),
        ("quality", ctypes.c_float * 16),
        ("faces", ctypes.c_int32),
        ("face_index", ctypes.c_int32),
        ("box", FsFaceBox),
        ("face_size", ctypes.c_float),
        ("yaw", ctypes.c_float),
        ("pitch", ctypes.c_float),
        ("roll", ctypes.c_float),
        ("luma", ctypes.c_float),
        ("clipped", ctypes.c_float),
        ("dark", ctypes.c_float),
        ("skin_a", ctypes.c_float),
        ("skin_b", ctypes.c_float),
        ("cast", ctypes.c_float),
        ("sharpness", ctypes.c_float),
        ("eye_openness", ctypes.c_float),
        ("covered", ctypes.c_float),
        ("confidence", ctypes.c_float),
        ("outside", ctypes.c_float),
        ("crowd", ctypes.c_float),
        ("reserved", ctypes.c_float * 16),
    ]


# The ABI-0 sizes that follow from the headers (floats and int32 are 4 bytes
# on every platform the library builds for; fs_image has 5 pointers).
assert ctypes.sizeof(FsFaceBox) == 4 * (5 + 12 + 7)
assert ctypes.sizeof(FsHeadPose) == 4 * (9 + 3 + 4 + 8)
assert ctypes.sizeof(FsFaceLandmarks) == (
    4 * (FS_LANDMARKS * 3 + 1 + 5 + 11) + ctypes.sizeof(FsHeadPose) + ctypes.sizeof(FsFaceBox))
assert ctypes.sizeof(FsImage) == 6 * 4 + 5 * ctypes.sizeof(ctypes.c_void_p)
assert ctypes.sizeof(FsSwapFaceReport) == ctypes.sizeof(FsFaceBox) + 4 * (2 + 3 + 11)

# The handles are opaque: plain pointers.
fs_context_p = ctypes.c_void_p
fs_detector_p = ctypes.c_void_p
fs_fitter_p = ctypes.c_void_p
fs_identity_p = ctypes.c_void_p
fs_renderer_p = ctypes.c_void_p
fs_template_p = ctypes.c_void_p
fs_video_p = ctypes.c_void_p

# enums are int-sized in C; fs_status is an enum.
c_enum = ctypes.c_int
fs_status = ctypes.c_int

# typedef void (*fs_log_fn)(void *user, fs_log_level level, const char *message);
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, c_enum, ctypes.c_char_p)
# typedef int (*fs_progress_fn)(void *user, int64_t done, int64_t total);
PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64)

_P = ctypes.POINTER

# name: (restype, [argtypes]); every function of lib/libfaceswap.map.
FUNCTIONS = {
    # common.h
    "fs_status_name": (ctypes.c_char_p, [fs_status]),
    "fs_status_message": (ctypes.c_char_p, [fs_status]),
    "fs_version": (ctypes.c_int, []),
    "fs_version_string": (ctypes.c_char_p, []),
    # context.h
    "fs_context_create": (fs_status, [_P(fs_context_p)]),
    "fs_context_destroy": (None, [fs_context_p]),
    "fs_context_set": (fs_status, [fs_context_p, c_enum, ctypes.c_int64]),
    "fs_context_get": (fs_status, [fs_context_p, c_enum, _P(ctypes.c_int64)]),
    "fs_context_param_bounds": (fs_status, [c_enum, _P(ctypes.c_int64), _P(ctypes.c_int64)]),
    "fs_context_param_default": (fs_status, [c_enum, _P(ctypes.c_int64)]),
    "fs_context_set_model_dir": (fs_status, [fs_context_p, ctypes.c_char_p]),
    "fs_context_model_dir": (ctypes.c_char_p, [fs_context_p]),
    "fs_context_set_log_callback": (None, [fs_context_p, LOG_FN, ctypes.c_void_p, c_enum]),
    "fs_context_active_backend": (c_enum, [fs_context_p]),
    "fs_context_last_error": (ctypes.c_char_p, [fs_context_p]),
    # image.h
    "fs_pixel_format_channels": (ctypes.c_int, [c_enum]),
    "fs_image_read_file": (fs_status, [fs_context_p, ctypes.c_char_p, _P(FsImage)]),
    "fs_image_read_memory": (fs_status, [fs_context_p, ctypes.c_void_p, ctypes.c_size_t,
                                         _P(FsImage)]),
    "fs_image_free": (None, [_P(FsImage)]),
    "fs_image_write_file": (fs_status, [fs_context_p, _P(FsImage), ctypes.c_char_p]),
    # detector.h
    "fs_detector_create": (fs_status, [fs_context_p, _P(fs_detector_p)]),
    "fs_detector_destroy": (None, [fs_detector_p]),
    "fs_detector_set": (fs_status, [fs_detector_p, c_enum, ctypes.c_double]),
    "fs_detector_get": (fs_status, [fs_detector_p, c_enum, _P(ctypes.c_double)]),
    "fs_detector_param_bounds": (fs_status, [c_enum, _P(ctypes.c_double), _P(ctypes.c_double)]),
    "fs_detector_param_default": (fs_status, [c_enum, _P(ctypes.c_double)]),
    "fs_detector_run": (fs_status, [fs_detector_p, _P(FsImage), _P(FsFaceBox), ctypes.c_int,
                                    _P(ctypes.c_int)]),
    "fs_detector_last_error": (ctypes.c_char_p, [fs_detector_p]),
    # fitter.h
    "fs_fitter_create": (fs_status, [fs_context_p, _P(fs_fitter_p)]),
    "fs_fitter_destroy": (None, [fs_fitter_p]),
    "fs_fitter_set": (fs_status, [fs_fitter_p, c_enum, ctypes.c_double]),
    "fs_fitter_get": (fs_status, [fs_fitter_p, c_enum, _P(ctypes.c_double)]),
    "fs_fitter_param_bounds": (fs_status, [c_enum, _P(ctypes.c_double), _P(ctypes.c_double)]),
    "fs_fitter_param_default": (fs_status, [c_enum, _P(ctypes.c_double)]),
    "fs_fitter_run": (fs_status, [fs_fitter_p, _P(FsImage), _P(FsFaceBox),
                                  _P(FsFaceLandmarks)]),
    "fs_fitter_track": (fs_status, [fs_fitter_p, _P(FsImage), _P(FsFaceLandmarks),
                                    _P(FsFaceLandmarks)]),
    "fs_fitter_last_error": (ctypes.c_char_p, [fs_fitter_p]),
    # identity.h (0.2)
    "fs_identity_create_from_image": (fs_status, [fs_context_p, _P(FsImage), ctypes.c_int,
                                                  _P(fs_identity_p)]),
    "fs_identity_destroy": (None, [fs_identity_p]),
    "fs_identity_save_memory": (fs_status, [fs_identity_p, _P(ctypes.c_void_p),
                                            _P(ctypes.c_size_t)]),
    "fs_identity_free_memory": (None, [ctypes.c_void_p]),
    "fs_identity_load_memory": (fs_status, [fs_context_p, ctypes.c_void_p, ctypes.c_size_t,
                                            _P(fs_identity_p)]),
    "fs_identity_save_file": (fs_status, [fs_identity_p, ctypes.c_char_p]),
    "fs_identity_load_file": (fs_status, [fs_context_p, ctypes.c_char_p, _P(fs_identity_p)]),
    # renderer.h (0.2)
    "fs_renderer_create": (fs_status, [fs_context_p, _P(fs_renderer_p)]),
    "fs_renderer_destroy": (None, [fs_renderer_p]),
    "fs_renderer_set": (fs_status, [fs_renderer_p, c_enum, ctypes.c_double]),
    "fs_renderer_get": (fs_status, [fs_renderer_p, c_enum, _P(ctypes.c_double)]),
    "fs_renderer_param_bounds": (fs_status, [c_enum, _P(ctypes.c_double), _P(ctypes.c_double)]),
    "fs_renderer_param_default": (fs_status, [c_enum, _P(ctypes.c_double)]),
    "fs_renderer_swap_face": (fs_status, [fs_renderer_p, fs_identity_p, _P(FsImage),
                                          _P(FsFaceLandmarks)]),
    "fs_renderer_swap_image": (fs_status, [fs_renderer_p, fs_identity_p, _P(FsImage),
                                           ctypes.c_int, _P(ctypes.c_int)]),
    "fs_renderer_last_error": (ctypes.c_char_p, [fs_renderer_p]),
    "fs_renderer_swap_image_report": (fs_status, [fs_renderer_p, fs_identity_p, _P(FsImage),
                                                  ctypes.c_int, _P(FsSwapFaceReport),
                                                  ctypes.c_int, _P(ctypes.c_int)]),
    "fs_identity_source_face": (fs_status, [fs_identity_p, _P(ctypes.c_int), _P(ctypes.c_int),
                                            _P(FsFaceBox)]),
    "fs_identity_get_landmarks": (fs_status, [fs_identity_p, _P(FsFaceLandmarks)]),
    "fs_identity_get_atlas": (fs_status, [fs_identity_p, _P(FsImage)]),
    # check.h (0.4)
    "fs_identity_check_image": (fs_status, [fs_context_p, _P(FsImage), ctypes.c_int,
                                            _P(FsSourceCheck)]),
    "fs_identity_get_check": (fs_status, [fs_identity_p, _P(FsSourceCheck)]),
    "fs_check_flag_name": (ctypes.c_char_p, [ctypes.c_uint32]),
    "fs_renderer_debug_image": (fs_status, [fs_renderer_p, ctypes.c_int, c_enum, _P(FsImage),
                                            _P(ctypes.c_int), _P(ctypes.c_int)]),
    # template.h (0.3)
    "fs_template_create": (fs_status, [fs_context_p, _P(fs_template_p)]),
    "fs_template_destroy": (None, [fs_template_p]),
    "fs_template_set": (fs_status, [fs_template_p, c_enum, ctypes.c_double]),
    "fs_template_get": (fs_status, [fs_template_p, c_enum, _P(ctypes.c_double)]),
    "fs_template_param_bounds": (fs_status, [c_enum, _P(ctypes.c_double), _P(ctypes.c_double)]),
    "fs_template_analyse": (fs_status, [fs_template_p, ctypes.c_char_p, PROGRESS_FN,
                                        ctypes.c_void_p]),
    "fs_template_save_file": (fs_status, [fs_template_p, ctypes.c_char_p]),
    "fs_template_load_file": (fs_status, [fs_template_p, ctypes.c_char_p]),
    "fs_template_get_info": (fs_status, [fs_template_p, _P(FsTemplateInfo)]),
    "fs_template_get_track": (fs_status, [fs_template_p, ctypes.c_int, _P(FsTemplateTrackInfo)]),
    "fs_template_get_face": (fs_status, [fs_template_p, ctypes.c_int64, ctypes.c_int,
                                         _P(FsFaceLandmarks)]),
    "fs_template_last_error": (ctypes.c_char_p, [fs_template_p]),
    # video.h (0.3)
    "fs_video_create": (fs_status, [fs_context_p, _P(fs_video_p)]),
    "fs_video_destroy": (None, [fs_video_p]),
    "fs_video_set": (fs_status, [fs_video_p, c_enum, ctypes.c_double]),
    "fs_video_get": (fs_status, [fs_video_p, c_enum, _P(ctypes.c_double)]),
    "fs_video_param_bounds": (fs_status, [c_enum, _P(ctypes.c_double), _P(ctypes.c_double)]),
    "fs_video_set_poster": (fs_status, [fs_video_p, ctypes.c_char_p]),
    "fs_video_render": (fs_status, [fs_video_p, fs_renderer_p, fs_identity_p, fs_template_p,
                                    ctypes.c_char_p, ctypes.c_char_p, PROGRESS_FN,
                                    ctypes.c_void_p]),
    "fs_video_get_report": (fs_status, [fs_video_p, _P(FsVideoReport)]),
    "fs_video_last_error": (ctypes.c_char_p, [fs_video_p]),
}

# ---------------------------------------------------------------- loading

_LIB_NAMES = ("libfaceswap.so.%d" % ABI_VERSION, "libfaceswap.%d.dylib" % ABI_VERSION,
              "faceswap-%d.dll" % ABI_VERSION, "faceswap.dll")


def candidate_paths():
    """Where the library is looked for, in order (FACESWAP_LIBRARY alone if set)."""
    env = os.environ.get("FACESWAP_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, n) for n in _LIB_NAMES]
    paths += [os.path.join(os.path.dirname(here), n) for n in _LIB_NAMES]
    # In a source checkout (bindings/python/faceswap): the most recently built
    # build*/lib/ of the tree.
    root = os.path.normpath(os.path.join(here, os.pardir, os.pardir, os.pardir))
    if os.path.isfile(os.path.join(root, "include", "faceswap", "faceswap.h")):
        built = []
        for path in glob.glob(os.path.join(root, "build*", "lib", _LIB_NAMES[0])):
            try:
                built.append((os.path.getmtime(path), path))
            except OSError:  # a dangling link or a build being cleaned
                pass
        paths += [p for _, p in sorted(built, reverse=True)]
    found = ctypes.util.find_library("faceswap")
    if found:
        paths.append(found)
    paths.append(_LIB_NAMES[0])  # the dynamic loader's own search (LD_LIBRARY_PATH)
    return paths


def _declare(lib):
    for name, (restype, argtypes) in FUNCTIONS.items():
        fn = getattr(lib, name)  # AttributeError names a missing symbol
        fn.restype = restype
        fn.argtypes = argtypes


_lock = threading.Lock()
_lib = None


def load():
    """The loaded, declared and version-checked library (loaded once)."""
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        errors = []
        for path in candidate_paths():
            if os.sep in path and not os.path.exists(path):
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                errors.append("%s: %s" % (path, e))
                continue
            try:
                _declare(lib)
            except AttributeError as e:
                errors.append("%s: %s" % (path, e))
                continue
            version = lib.fs_version()
            if version // 10000 != ABI_VERSION or version < MIN_VERSION:
                errors.append("%s: version %s, this binding needs ABI %d, >= 0.1.0"
                              % (path, lib.fs_version_string().decode(), ABI_VERSION))
                continue
            lib.faceswap_path = path
            _lib = lib
            return lib
        raise OSError("libfaceswap not found or unusable (set FACESWAP_LIBRARY to its path); "
                      "tried: " + ("; ".join(errors) or ", ".join(candidate_paths())))
