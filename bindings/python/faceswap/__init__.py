"""libfaceswap for Python: face detection and 3D landmarks, over the C library via ctypes.

    import faceswap
    image = faceswap.read_image("photo.jpg")          # HxWx3 uint8, RGB
    ctx = faceswap.Context(threads=2)
    det = faceswap.Detector(ctx)
    fit = faceswap.Fitter(ctx, align="roll")
    for face in det.detect(image):
        lm = fit.fit(image, face)                       # NoFaceError if rejected
        print(face.box, lm.points.shape, lm.pose.yaw)

The shared library is found through $FACESWAP_LIBRARY, then next to this
package, then in the build*/lib folders of a source checkout, then by
ctypes.util.find_library("faceswap") and the dynamic loader.

Calls block until the C function returns (the GIL is released meanwhile).
A Detector or Fitter must not be used by two threads at once: make one per
thread (a second thread entering one raises RuntimeError). Errors raise
FaceswapError subclasses carrying .status, .name and .detail.
"""

from ._errors import (
    STATUS_CODES, BackendUnavailableError, BufferTooSmallError, CancelledError, ChecksumError,
    CorruptError, FaceswapError, GPUError, InputOutputError, InternalError, InvalidArgumentError,
    ModelError, NoFaceError, NotFoundError, OutOfMemoryError, OutOfRangeError, ShapeError,
    TooLargeError, TruncatedError, UnsupportedError, VersionError, VideoError,
)
from ._lib import (
    FS_FACE_KEYPOINTS, FS_LANDMARKS, FS_MESH_LANDMARKS, Backend, ContextParam, DetectorInput,
    DetectorParam, FitterAlign, FitterParam, Keypoint, LogLevel, PixelFormat,
    Blend, Color, DebugKind, RendererParam, SwapOutcome, TemplateParam, VideoParam, Preset,
    Encoder, TRACK_ALL, TRACK_PROTAGONIST, CheckFlag,
)
from ._core import (
    Context, Detector, Face, Fitter, Identity, Landmarks, Pose, Renderer, SwapReport, Template,
    Video, SourceCheck, check_image, library_path,
    library_version, read_image,
    read_image_bytes, status_message, status_name, write_image,
)

__version__ = "0.4.0"

__all__ = [
    "Context", "Detector", "Fitter", "Face", "Landmarks", "Pose", "Identity", "Renderer",
    "Blend", "Color", "DebugKind", "RendererParam", "SwapOutcome", "SwapReport",
    "Template", "Video", "TemplateParam", "VideoParam", "Preset", "Encoder",
    "TRACK_ALL", "TRACK_PROTAGONIST", "CheckFlag", "SourceCheck", "check_image",
    "read_image", "read_image_bytes", "write_image",
    "library_version", "library_path", "status_name", "status_message",
    "Backend", "ContextParam", "DetectorInput", "DetectorParam", "FitterAlign", "FitterParam",
    "Keypoint", "LogLevel", "PixelFormat",
    "FS_FACE_KEYPOINTS", "FS_LANDMARKS", "FS_MESH_LANDMARKS", "STATUS_CODES",
    "FaceswapError", "InvalidArgumentError", "OutOfRangeError", "OutOfMemoryError",
    "InputOutputError", "NotFoundError", "TruncatedError", "CorruptError", "UnsupportedError",
    "TooLargeError", "ChecksumError", "ModelError", "ShapeError", "NoFaceError",
    "BackendUnavailableError", "GPUError", "VersionError", "BufferTooSmallError",
    "CancelledError", "InternalError", "VideoError",
]
