"""Exceptions raised for the library's fs_status codes.

Every failing call raises a subclass of FaceswapError chosen by the status
code; the exception carries the code, its name (e.g. "FS_ERR_NO_FACE") and
the handle's detail string, which names the file, op or argument at fault.
"""

# Mirror of FS_STATUS_LIST in include/faceswap/common.h: name -> value.
# The values are fixed for ever and only appended to (the tests compare this
# table with the header and with fs_status_name()).
STATUS_CODES = {
    "OK": 0,
    "ERR_INVALID_ARGUMENT": -1,
    "ERR_OUT_OF_RANGE": -2,
    "ERR_OUT_OF_MEMORY": -3,
    "ERR_IO": -4,
    "ERR_NOT_FOUND": -5,
    "ERR_TRUNCATED": -6,
    "ERR_CORRUPT": -7,
    "ERR_UNSUPPORTED": -8,
    "ERR_TOO_LARGE": -9,
    "ERR_CHECKSUM": -10,
    "ERR_MODEL": -11,
    "ERR_SHAPE": -12,
    "ERR_NO_FACE": -13,
    "ERR_BACKEND_UNAVAILABLE": -14,
    "ERR_GPU": -15,
    "ERR_VERSION": -16,
    "ERR_BUFFER_TOO_SMALL": -17,
    "ERR_CANCELLED": -18,
    "ERR_INTERNAL": -19,
    "ERR_VIDEO": -20,
}


class FaceswapError(Exception):
    """A libfaceswap call failed.

    Attributes:
        status: the fs_status code (negative int).
        name: its name, e.g. "FS_ERR_NOT_FOUND".
        message: the library's fixed English message for the code.
        detail: the handle's detail string for this failure ("" if none).
    """

    status = None

    def __init__(self, status, name, message, detail=""):
        self.status = status
        self.name = name
        self.message = message
        self.detail = detail or ""
        super().__init__("%s: %s" % (name, self.detail or message))


class InvalidArgumentError(FaceswapError, ValueError):
    status = STATUS_CODES["ERR_INVALID_ARGUMENT"]


class OutOfRangeError(FaceswapError, ValueError):
    status = STATUS_CODES["ERR_OUT_OF_RANGE"]


class OutOfMemoryError(FaceswapError, MemoryError):
    status = STATUS_CODES["ERR_OUT_OF_MEMORY"]


class InputOutputError(FaceswapError):
    status = STATUS_CODES["ERR_IO"]


class NotFoundError(FaceswapError):
    status = STATUS_CODES["ERR_NOT_FOUND"]


class TruncatedError(FaceswapError):
    status = STATUS_CODES["ERR_TRUNCATED"]


class CorruptError(FaceswapError):
    status = STATUS_CODES["ERR_CORRUPT"]


class UnsupportedError(FaceswapError):
    status = STATUS_CODES["ERR_UNSUPPORTED"]


class TooLargeError(FaceswapError):
    status = STATUS_CODES["ERR_TOO_LARGE"]


class ChecksumError(FaceswapError):
    status = STATUS_CODES["ERR_CHECKSUM"]


class ModelError(FaceswapError):
    status = STATUS_CODES["ERR_MODEL"]


class ShapeError(FaceswapError):
    status = STATUS_CODES["ERR_SHAPE"]


class NoFaceError(FaceswapError):
    status = STATUS_CODES["ERR_NO_FACE"]


class BackendUnavailableError(FaceswapError):
    status = STATUS_CODES["ERR_BACKEND_UNAVAILABLE"]


class GPUError(FaceswapError):
    status = STATUS_CODES["ERR_GPU"]


class VersionError(FaceswapError):
    status = STATUS_CODES["ERR_VERSION"]


class BufferTooSmallError(FaceswapError):
    status = STATUS_CODES["ERR_BUFFER_TOO_SMALL"]


class CancelledError(FaceswapError):
    status = STATUS_CODES["ERR_CANCELLED"]


class InternalError(FaceswapError):
    status = STATUS_CODES["ERR_INTERNAL"]


class VideoError(FaceswapError):
    status = STATUS_CODES["ERR_VIDEO"]


ERROR_CLASSES = {
    cls.status: cls
    for cls in (
        InvalidArgumentError, OutOfRangeError, OutOfMemoryError, InputOutputError,
        NotFoundError, TruncatedError, CorruptError, UnsupportedError, TooLargeError,
        ChecksumError, ModelError, ShapeError, NoFaceError, BackendUnavailableError,
        GPUError, VersionError, BufferTooSmallError, CancelledError, InternalError,
        VideoError,
    )
}

# Every error code of the table has its class, and no two classes share one.
assert sorted(ERROR_CLASSES) == sorted(v for v in STATUS_CODES.values() if v != 0)
