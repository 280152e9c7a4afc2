"""The Python layer over the C API: Context, images, Detector, Fitter.

Rules carried over from the C headers:
- A call blocks the calling thread until the C function returns. ctypes
  releases the GIL for the duration of each C call, so other Python threads
  keep running meanwhile.
- One Detector or Fitter must not be used by two threads at once (the C rule);
  here a second thread entering the same object gets a RuntimeError instead
  of undefined behaviour. Create one object per thread; they may share a
  Context once it is configured.
- Objects are freed by close(), by `with`, or when garbage-collected. A
  Context outlives the detectors and fitters made from it, whatever the
  order in which Python drops them.
"""

import ctypes
import numbers
import os
import threading
import weakref

import numpy as np

from . import _lib
from ._errors import ERROR_CLASSES, STATUS_CODES, FaceswapError
from ._lib import (
    IDENTITY_LARGEST_FACE, SWAP_FACES_ALL, SWAP_FACES_LARGEST, SWAP_MAX_FACES, Blend, Color,
    DebugKind, FsSwapFaceReport, RendererParam, SwapOutcome, CheckFlag, FsSourceCheck,
    FS_CHECK_CRITERIA,
    FS_FACE_KEYPOINTS, FS_MESH_LANDMARKS, Backend, ContextParam, DetectorInput,
    DetectorParam, FitterAlign, FitterParam, FsFaceBox, FsFaceLandmarks, FsImage, LogLevel,
    Memory, PixelFormat,
)

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_INT32_MAX = (1 << 31) - 1


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


def status_name(status):
    """fs_status_name(): e.g. "FS_ERR_NO_FACE"; "FS_ERR_UNKNOWN" for an unknown code."""
    return _text(_lib.load().fs_status_name(int(status)))


def status_message(status):
    """fs_status_message(): the fixed English message of a code."""
    return _text(_lib.load().fs_status_message(int(status)))


def _error(status, detail=""):
    cls = ERROR_CLASSES.get(status, FaceswapError)
    return cls(status, status_name(status), status_message(status), detail)


def _check(status, detail_fn=None):
    if status != 0:
        raise _error(status, detail_fn() if detail_fn else "")


def _enum_value(enum_cls, value, what):
    """An IntEnum member from a member, an int, or a case-insensitive name."""
    if isinstance(value, str):
        try:
            return enum_cls[value.upper()]
        except KeyError:
            names = ", ".join(m.name.lower() for m in enum_cls)
            raise ValueError("%s: unknown value %r (one of %s)" % (what, value, names)) from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("%s: expected an int or a name, got %s" % (what, type(value).__name__))
    try:
        return enum_cls(int(value))
    except ValueError:
        # Unknown values still go to the library, which reports them properly.
        return int(value)


def _as_int(value, what):
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, numbers.Integral):
        raise TypeError("%s: expected an int, got %s" % (what, type(value).__name__))
    value = int(value)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _error(STATUS_CODES["ERR_OUT_OF_RANGE"], "%s: %d does not fit int64" % (what, value))
    return value


def _as_float(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s: expected a number, got %s" % (what, type(value).__name__))
    return float(value)


class _Handle:
    """An owned C handle with close(), `with` support and a one-thread-at-a-time guard."""

    _destroy = None  # name of the C destroy function

    def __init__(self):
        self._h = None
        self._busy = threading.Lock()

    def _handle(self):
        if self._h is None:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._h

    def _enter(self):
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("%s is in use by another thread; objects are not thread-safe, "
                               "create one per thread" % type(self).__name__)

    def _leave(self):
        self._busy.release()

    def _free(self):
        h, self._h = self._h, None
        if h is not None:
            getattr(_lib.load(), self._destroy)(h)

    def close(self):
        """Frees the C object now; later calls raise ValueError. Idempotent."""
        self._free()

    @property
    def closed(self):
        return self._h is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone
            pass


# ---------------------------------------------------------------- Context


class Context(_Handle):
    """fs_context: backend, threads, model folder, limits, log callback.

    Context(backend='auto'|'cpu'|'cuda', threads=1, model_dir=None,
            force_reference=False, max_pixels=50_000_000, verify_models=True,
            device=0, log=None, log_level=LogLevel.WARNING)

    Arguments left as None keep the library defaults (model_dir: $FS_MODEL_DIR,
    else the installed folder; force_reference: $FS_FORCE_REFERENCE). Values
    outside fs_context_param_bounds() raise OutOfRangeError. Setters are not
    thread-safe against each other or against creating objects from the context.
    """

    _destroy = "fs_context_destroy"

    def __init__(self, backend=None, threads=None, model_dir=None, force_reference=None,
                 max_pixels=None, verify_models=None, device=None, log=None,
                 log_level=LogLevel.WARNING):
        super().__init__()
        self._children = weakref.WeakSet()
        self._open_children = 0
        self._closing = False
        self._count_lock = threading.Lock()
        self._log_cb = None
        lib = _lib.load()
        h = ctypes.c_void_p()
        _check(lib.fs_context_create(ctypes.byref(h)))
        self._h = h.value
        try:
            if backend is not None:
                self.backend = backend
            if threads is not None:
                self.threads = threads
            if force_reference is not None:
                self.force_reference = force_reference
            if max_pixels is not None:
                self.max_pixels = max_pixels
            if verify_models is not None:
                self.verify_models = verify_models
            if device is not None:
                self.device = device
            if model_dir is not None:
                self.model_dir = model_dir
            if log is not None:
                self.set_log_callback(log, log_level)
        except BaseException:
            self._free()
            raise

    # Children (detectors, fitters) count themselves in and out, so that the
    # C context is destroyed only after the last of them, even when the
    # garbage collector finalises a cycle in arbitrary order.
    def _adopt(self, child):
        with self._count_lock:
            self._open_children += 1
            self._children.add(child)

    def _release(self):
        with self._count_lock:
            self._open_children -= 1
            last = self._open_children == 0 and self._closing
        if last:
            self._free()

    def close(self):
        """Closes every detector and fitter made from this context, then the context."""
        for child in list(self._children):
            child.close()
        self.__del__()

    def __del__(self):
        try:
            with self._count_lock:
                self._closing = True
                idle = self._open_children == 0
            if idle:
                self._free()
        except Exception:
            pass

    # -- integer parameters
    def set(self, param, value):
        """fs_context_set(): sets a ContextParam."""
        param = _enum_value(ContextParam, param, "param")
        value = _as_int(value, "context parameter %s" % getattr(param, "name", param))
        _check(_lib.load().fs_context_set(self._handle(), int(param), value),
               lambda: self.last_error)

    def get(self, param):
        """fs_context_get(): the value of a ContextParam."""
        param = _enum_value(ContextParam, param, "param")
        v = ctypes.c_int64()
        _check(_lib.load().fs_context_get(self._handle(), int(param), ctypes.byref(v)),
               lambda: self.last_error)
        return v.value

    @staticmethod
    def bounds(param):
        """fs_context_param_bounds(): inclusive (min, max) of a ContextParam."""
        param = _enum_value(ContextParam, param, "param")
        lo, hi = ctypes.c_int64(), ctypes.c_int64()
        _check(_lib.load().fs_context_param_bounds(int(param), ctypes.byref(lo), ctypes.byref(hi)))
        return lo.value, hi.value

    @staticmethod
    def default(param):
        """fs_context_param_default(): what a new context gives a ContextParam."""
        param = _enum_value(ContextParam, param, "param")
        v = ctypes.c_int64()
        _check(_lib.load().fs_context_param_default(int(param), ctypes.byref(v)))
        return v.value

    @property
    def backend(self):
        return Backend(self.get(ContextParam.BACKEND))

    @backend.setter
    def backend(self, value):
        self.set(ContextParam.BACKEND, _enum_value(Backend, value, "backend"))

    @property
    def threads(self):
        return self.get(ContextParam.THREADS)

    @threads.setter
    def threads(self, value):
        self.set(ContextParam.THREADS, value)

    @property
    def force_reference(self):
        return bool(self.get(ContextParam.FORCE_REFERENCE))

    @force_reference.setter
    def force_reference(self, value):
        self.set(ContextParam.FORCE_REFERENCE, _as_int(value, "force_reference"))

    @property
    def max_pixels(self):
        return self.get(ContextParam.MAX_PIXELS)

    @max_pixels.setter
    def max_pixels(self, value):
        self.set(ContextParam.MAX_PIXELS, value)

    @property
    def verify_models(self):
        return bool(self.get(ContextParam.VERIFY_MODELS))

    @verify_models.setter
    def verify_models(self, value):
        self.set(ContextParam.VERIFY_MODELS, _as_int(value, "verify_models"))

    @property
    def device(self):
        return self.get(ContextParam.DEVICE)

    @device.setter
    def device(self, value):
        self.set(ContextParam.DEVICE, value)

    @property
    def model_dir(self):
        """The model folder (str)."""
        return os.fsdecode(_lib.load().fs_context_model_dir(self._handle()) or b"")

    @model_dir.setter
    def model_dir(self, path):
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError("model_dir: expected a path, got %s" % type(path).__name__)
        _check(_lib.load().fs_context_set_model_dir(self._handle(), os.fsencode(path)),
               lambda: self.last_error)

    @property
    def active_backend(self):
        """fs_context_active_backend(): CPU or CUDA once objects exist."""
        return Backend(_lib.load().fs_context_active_backend(self._handle()))

    @property
    def last_error(self):
        """fs_context_last_error(): detail of this thread's last failing call, "" if none."""
        return _text(_lib.load().fs_context_last_error(self._handle()))

    def set_log_callback(self, fn, level=LogLevel.WARNING):
        """Calls fn(level: LogLevel, message: str) for library messages up to `level`.

        fn may be called from any thread using the context; exceptions it
        raises are swallowed (they cannot cross into C). None removes it.
        """
        level = _enum_value(LogLevel, level, "log level")
        if fn is None:
            cb = _lib.LOG_FN()
        elif not callable(fn):
            raise TypeError("log callback must be callable")
        else:
            def trampoline(_user, lvl, message):
                try:
                    fn(LogLevel(lvl) if lvl in LogLevel._value2member_map_ else lvl,
                       _text(message))
                except BaseException:
                    pass
            cb = _lib.LOG_FN(trampoline)
        _lib.load().fs_context_set_log_callback(self._handle(), cb, None, int(level))
        self._log_cb = cb  # keeps the C thunk alive while installed

    def __repr__(self):
        if self.closed:
            return "<faceswap.Context closed>"
        return "<faceswap.Context backend=%s threads=%d model_dir=%r>" % (
            self.backend.name.lower(), self.threads, self.model_dir)


def _context_or_new(ctx):
    if ctx is None:
        return Context()
    if not isinstance(ctx, Context):
        raise TypeError("ctx must be a faceswap.Context, got %s" % type(ctx).__name__)
    return ctx


# ---------------------------------------------------------------- images

_FORMAT_NAMES = {
    "RGB": PixelFormat.RGB8, "RGB8": PixelFormat.RGB8,
    "RGBA": PixelFormat.RGBA8, "RGBA8": PixelFormat.RGBA8,
    "BGR": PixelFormat.BGR8, "BGR8": PixelFormat.BGR8,
    "BGRA": PixelFormat.BGRA8, "BGRA8": PixelFormat.BGRA8,
    "GRAY": PixelFormat.GRAY8, "GRAY8": PixelFormat.GRAY8, "L": PixelFormat.GRAY8,
}
_CHANNELS = {PixelFormat.RGB8: 3, PixelFormat.BGR8: 3, PixelFormat.RGBA8: 4,
             PixelFormat.BGRA8: 4, PixelFormat.GRAY8: 1}
_DEFAULT_FORMAT = {1: PixelFormat.GRAY8, 3: PixelFormat.RGB8, 4: PixelFormat.RGBA8}


def _pixel_format(format, channels):
    if format is None:
        fmt = _DEFAULT_FORMAT.get(channels)
        if fmt is None:
            raise ValueError("image has %d channels; expected 1, 3 or 4" % channels)
        return fmt
    if isinstance(format, str):
        fmt = _FORMAT_NAMES.get(format.upper())
        if fmt is None:
            raise ValueError("unknown pixel format %r (RGB, BGR, RGBA, BGRA, GRAY)" % format)
    elif isinstance(format, PixelFormat):
        fmt = format
    else:
        raise TypeError("format must be a str or PixelFormat, got %s" % type(format).__name__)
    if _CHANNELS[fmt] != channels:
        raise ValueError("format %s needs %d channels, the image has %d"
                         % (fmt.name, _CHANNELS[fmt], channels))
    return fmt


def _image_view(image, format=None):
    """An FsImage over a numpy array, plus the array that must stay alive.

    HxW (gray) or HxWxC uint8; rows may be padded (a crop of a bigger array
    is used in place); any other layout is copied to a C-contiguous array.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError("image must be a numpy.ndarray, got %s" % type(image).__name__)
    if image.dtype != np.uint8:
        raise TypeError("image must have dtype uint8, got %s" % image.dtype)
    if image.ndim == 2:
        channels = 1
    elif image.ndim == 3:
        channels = image.shape[2]
    else:
        raise ValueError("image must be HxW or HxWxC, got shape %s" % (image.shape,))
    fmt = _pixel_format(format, channels)
    height, width = image.shape[0], image.shape[1]
    if height <= 0 or width <= 0:
        raise ValueError("image is empty: shape %s" % (image.shape,))
    row_bytes = width * channels
    if height > _INT32_MAX or row_bytes > _INT32_MAX:
        raise ValueError("image dimensions exceed the C API's int32 range: %s" % (image.shape,))

    # Strides of size-1 dimensions carry no meaning in numpy; ignore them.
    strides = image.strides
    row = strides[0] if height > 1 else row_bytes
    pixel = strides[1] if width > 1 else channels
    sample = strides[2] if image.ndim == 3 and channels > 1 else 1
    if sample != 1 or pixel != channels or row < row_bytes or row > _INT32_MAX:
        image = np.ascontiguousarray(image)
        row = row_bytes
    view = FsImage(width=width, height=height, stride=row, format=int(fmt),
                   memory=int(Memory.HOST), data=image.ctypes.data)
    return view, image


def _copy_out(view):
    """A new numpy array holding a copy of an FsImage's pixels."""
    fmt = PixelFormat(view.format)
    channels = _CHANNELS[fmt]
    h, w, stride = view.height, view.width, view.stride
    if h <= 0 or w <= 0 or stride < w * channels or not view.data:
        raise _error(STATUS_CODES["ERR_INTERNAL"], "library returned an invalid image view")
    size = stride * (h - 1) + w * channels
    buf = np.ctypeslib.as_array((ctypes.c_uint8 * size).from_address(view.data))
    pixels = np.lib.stride_tricks.as_strided(buf, shape=(h, w, channels),
                                             strides=(stride, channels, 1))
    out = pixels.copy()
    return out[:, :, 0] if channels == 1 else out


def read_image(path, ctx=None):
    """Decodes a JPEG (EXIF orientation applied), PNG, BMP or binary PPM file.

    Returns an HxWx3 uint8 RGB array. `ctx` gives the pixel limit
    (max_pixels); a default Context is used when None.
    Raises NotFoundError, TruncatedError, CorruptError, UnsupportedError,
    TooLargeError, InputOutputError, OutOfMemoryError.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError("path: expected a path, got %s" % type(path).__name__)
    ctx = _context_or_new(ctx)
    lib = _lib.load()
    view = FsImage()
    _check(lib.fs_image_read_file(ctx._handle(), os.fsencode(path), ctypes.byref(view)),
           lambda: ctx.last_error)
    try:
        return _copy_out(view)
    finally:
        lib.fs_image_free(ctypes.byref(view))


def read_image_bytes(data, ctx=None):
    """As read_image(), from an encoded file held in memory (bytes-like)."""
    try:
        mem = memoryview(data).cast("B")
    except TypeError:
        raise TypeError("data: expected a bytes-like object, got %s"
                        % type(data).__name__) from None
    ctx = _context_or_new(ctx)
    lib = _lib.load()
    # A private copy: the library must not see the caller's buffer change under it.
    raw = (ctypes.c_uint8 * len(mem)).from_buffer_copy(mem) if len(mem) else (ctypes.c_uint8 * 1)()
    view = FsImage()
    _check(lib.fs_image_read_memory(ctx._handle(), ctypes.cast(raw, ctypes.c_void_p), len(mem),
                                    ctypes.byref(view)),
           lambda: ctx.last_error)
    try:
        return _copy_out(view)
    finally:
        lib.fs_image_free(ctypes.byref(view))


def write_image(path, image, format=None, ctx=None):
    """Encodes an image; the file type follows the extension (.png, .jpg, .bmp, .ppm).

    The file is written under a temporary name and renamed: a failure never
    leaves a half-written file. Raises UnsupportedError, InputOutputError.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError("path: expected a path, got %s" % type(path).__name__)
    view, keep = _image_view(image, format)
    ctx = _context_or_new(ctx)
    _check(_lib.load().fs_image_write_file(ctx._handle(), ctypes.byref(view), os.fsencode(path)),
           lambda: ctx.last_error)
    del keep


# ---------------------------------------------------------------- results


class Face:
    """One detected face (fs_face_box), in image pixels.

    Face(box=(x, y, w, h), score=1.0, keypoints=None) makes one by hand, e.g.
    from another detector, to pass to Fitter.fit().
    """

    __slots__ = ("_raw",)

    def __init__(self, box, score=1.0, keypoints=None):
        raw = FsFaceBox()
        try:
            raw.x, raw.y, raw.width, raw.height = (_as_float(v, "box") for v in box)
        except ValueError:
            raise ValueError("box must be (x, y, width, height)") from None
        raw.score = _as_float(score, "score")
        if keypoints is not None:
            kp = np.asarray(keypoints, dtype=np.float64)
            if kp.shape != (FS_FACE_KEYPOINTS, 2):
                raise ValueError("keypoints must have shape (6, 2), got %s" % (kp.shape,))
            for i in range(FS_FACE_KEYPOINTS):
                raw.keypoints[i][0], raw.keypoints[i][1] = float(kp[i, 0]), float(kp[i, 1])
        self._raw = raw

    @classmethod
    def _from_raw(cls, raw):
        face = cls.__new__(cls)
        face._raw = FsFaceBox.from_buffer_copy(raw)
        return face

    @property
    def box(self):
        """(x, y, width, height), floats."""
        r = self._raw
        return (r.x, r.y, r.width, r.height)

    @property
    def score(self):
        return self._raw.score

    @property
    def keypoints(self):
        """ndarray (6, 2) float32: x, y of each Keypoint."""
        return np.ctypeslib.as_array(self._raw.keypoints).copy()

    def __repr__(self):
        return "Face(box=(%.1f, %.1f, %.1f, %.1f), score=%.3f)" % (self.box + (self.score,))


class Pose:
    """Head pose (fs_head_pose): landmark ~= scale * rotation @ canonical + translation."""

    __slots__ = ("rotation", "translation", "scale", "yaw", "pitch", "roll")

    def __init__(self, raw):
        self.rotation = np.ctypeslib.as_array(raw.rotation).reshape(3, 3).copy()
        self.translation = np.ctypeslib.as_array(raw.translation).copy()
        self.scale = raw.scale
        self.yaw, self.pitch, self.roll = raw.yaw, raw.pitch, raw.roll

    def as_dict(self):
        return {"rotation": self.rotation, "translation": self.translation, "scale": self.scale,
                "yaw": self.yaw, "pitch": self.pitch, "roll": self.roll}

    def __repr__(self):
        return "Pose(yaw=%.1f, pitch=%.1f, roll=%.1f, scale=%.3f)" % (
            self.yaw, self.pitch, self.roll, self.scale)


class Landmarks:
    """478 3D landmarks of a face (fs_face_landmarks).

    points: ndarray (478, 3) float32, x and y in image pixels, z in the same
    scale (smaller is nearer); 0..467 the FaceMesh mesh, 468..477 the irises.
    confidence: the FaceMesh face flag, 0..1. pose: Pose. box: the Face the fit
    started from. crop: (centre x, centre y, side, angle in rad, 0).
    Fitter.track() starts from the landmarks as the library returned them:
    changes made to these arrays are not seen by it.
    """

    __slots__ = ("_raw", "points", "confidence", "pose", "box", "crop")

    def __init__(self, raw):
        self._raw = FsFaceLandmarks.from_buffer_copy(raw)
        self.points = np.ctypeslib.as_array(self._raw.points).copy()
        self.confidence = self._raw.confidence
        self.pose = Pose(self._raw.pose)
        self.box = Face._from_raw(self._raw.box)
        self.crop = tuple(self._raw.crop)

    @property
    def mesh(self):
        """The 468 FaceMesh points, (468, 3)."""
        return self.points[:FS_MESH_LANDMARKS]

    @property
    def iris(self):
        """The 10 iris points, (10, 3): 5 per eye."""
        return self.points[FS_MESH_LANDMARKS:]

    def __repr__(self):
        return "Landmarks(%d points, confidence=%.3f, %r)" % (
            len(self.points), self.confidence, self.pose)


# ---------------------------------------------------------------- Detector / Fitter


class _Child(_Handle):
    """A handle created from a Context; keeps the context alive and counted."""

    def __init__(self, ctx, create_name):
        super().__init__()
        self.ctx = None
        ctx = _context_or_new(ctx)
        h = ctypes.c_void_p()
        _check(getattr(_lib.load(), create_name)(ctx._handle(), ctypes.byref(h)),
               lambda: ctx.last_error)
        self._h = h.value
        self.ctx = ctx
        ctx._adopt(self)

    def _free(self):
        had = self._h is not None
        super()._free()
        if had and self.ctx is not None:
            self.ctx._release()


class Detector(_Child):
    """fs_detector: faces in an image (BlazeFace).

    Detector(ctx=None, score_threshold=None, nms_threshold=None,
             max_faces=None, input_mode=None)  # 'squash' or 'letterbox'
    Loads the model from ctx.model_dir; a default Context is made when ctx is None.
    """

    _destroy = "fs_detector_destroy"

    def __init__(self, ctx=None, score_threshold=None, nms_threshold=None, max_faces=None,
                 input_mode=None):
        super().__init__(ctx, "fs_detector_create")
        try:
            if score_threshold is not None:
                self.score_threshold = score_threshold
            if nms_threshold is not None:
                self.nms_threshold = nms_threshold
            if max_faces is not None:
                self.max_faces = max_faces
            if input_mode is not None:
                self.input_mode = input_mode
        except BaseException:
            self.close()
            raise

    @property
    def last_error(self):
        return _text(_lib.load().fs_detector_last_error(self._handle()))

    def set(self, param, value):
        param = _enum_value(DetectorParam, param, "param")
        value = _as_float(value, "detector parameter %s" % getattr(param, "name", param))
        _check(_lib.load().fs_detector_set(self._handle(), int(param), value),
               lambda: self.last_error)

    def get(self, param):
        param = _enum_value(DetectorParam, param, "param")
        v = ctypes.c_double()
        _check(_lib.load().fs_detector_get(self._handle(), int(param), ctypes.byref(v)),
               lambda: self.last_error)
        return v.value

    @staticmethod
    def bounds(param):
        param = _enum_value(DetectorParam, param, "param")
        lo, hi = ctypes.c_double(), ctypes.c_double()
        _check(_lib.load().fs_detector_param_bounds(int(param), ctypes.byref(lo),
                                                    ctypes.byref(hi)))
        return lo.value, hi.value

    @staticmethod
    def default(param):
        """fs_detector_param_default(): what a new detector gives a DetectorParam."""
        param = _enum_value(DetectorParam, param, "param")
        v = ctypes.c_double()
        _check(_lib.load().fs_detector_param_default(int(param), ctypes.byref(v)))
        return v.value

    @property
    def score_threshold(self):
        return self.get(DetectorParam.SCORE_THRESHOLD)

    @score_threshold.setter
    def score_threshold(self, value):
        self.set(DetectorParam.SCORE_THRESHOLD, value)

    @property
    def nms_threshold(self):
        return self.get(DetectorParam.NMS_THRESHOLD)

    @nms_threshold.setter
    def nms_threshold(self, value):
        self.set(DetectorParam.NMS_THRESHOLD, value)

    @property
    def max_faces(self):
        return int(self.get(DetectorParam.MAX_FACES))

    @max_faces.setter
    def max_faces(self, value):
        self.set(DetectorParam.MAX_FACES, _as_int(value, "max_faces"))

    @property
    def input_mode(self):
        return DetectorInput(int(self.get(DetectorParam.INPUT_MODE)))

    @input_mode.setter
    def input_mode(self, value):
        self.set(DetectorParam.INPUT_MODE, int(_enum_value(DetectorInput, value, "input_mode")))

    def detect(self, image, format=None):
        """Faces in `image`, best score first: a list of Face (empty if none).

        image: uint8 ndarray HxW (gray) or HxWxC, C = 1, 3 or 4. format: 'RGB'
        (default for 3 channels), 'BGR', 'RGBA' (default for 4), 'BGRA', 'GRAY'.
        """
        view, keep = _image_view(image, format)
        lib = _lib.load()
        self._enter()
        try:
            h = self._handle()
            capacity = self.max_faces
            boxes = (FsFaceBox * max(capacity, 1))()
            count = ctypes.c_int(0)
            _check(lib.fs_detector_run(h, ctypes.byref(view), boxes, capacity,
                                       ctypes.byref(count)),
                   lambda: self.last_error)
        finally:
            self._leave()
        del keep
        n = max(0, min(count.value, capacity))
        return [Face._from_raw(boxes[i]) for i in range(n)]


class Fitter(_Child):
    """fs_fitter: 478 3D landmarks, confidence and head pose of a face.

    Fitter(ctx=None, align=None, min_confidence=None, iris=None)
    align: 'roll' (library default: crop rotated by the eyes' roll) or 'none'.
    """

    _destroy = "fs_fitter_destroy"

    def __init__(self, ctx=None, align=None, min_confidence=None, iris=None):
        super().__init__(ctx, "fs_fitter_create")
        try:
            if align is not None:
                self.align = align
            if min_confidence is not None:
                self.min_confidence = min_confidence
            if iris is not None:
                self.iris = iris
        except BaseException:
            self.close()
            raise

    @property
    def last_error(self):
        return _text(_lib.load().fs_fitter_last_error(self._handle()))

    def set(self, param, value):
        param = _enum_value(FitterParam, param, "param")
        value = _as_float(value, "fitter parameter %s" % getattr(param, "name", param))
        _check(_lib.load().fs_fitter_set(self._handle(), int(param), value),
               lambda: self.last_error)

    def get(self, param):
        param = _enum_value(FitterParam, param, "param")
        v = ctypes.c_double()
        _check(_lib.load().fs_fitter_get(self._handle(), int(param), ctypes.byref(v)),
               lambda: self.last_error)
        return v.value

    @staticmethod
    def bounds(param):
        param = _enum_value(FitterParam, param, "param")
        lo, hi = ctypes.c_double(), ctypes.c_double()
        _check(_lib.load().fs_fitter_param_bounds(int(param), ctypes.byref(lo), ctypes.byref(hi)))
        return lo.value, hi.value

    @staticmethod
    def default(param):
        """fs_fitter_param_default(): what a new fitter gives a FitterParam."""
        param = _enum_value(FitterParam, param, "param")
        v = ctypes.c_double()
        _check(_lib.load().fs_fitter_param_default(int(param), ctypes.byref(v)))
        return v.value

    @property
    def align(self):
        return FitterAlign(int(self.get(FitterParam.ALIGN)))

    @align.setter
    def align(self, value):
        self.set(FitterParam.ALIGN, int(_enum_value(FitterAlign, value, "align")))

    @property
    def min_confidence(self):
        return self.get(FitterParam.MIN_CONFIDENCE)

    @min_confidence.setter
    def min_confidence(self, value):
        self.set(FitterParam.MIN_CONFIDENCE, value)

    @property
    def iris(self):
        return bool(self.get(FitterParam.IRIS))

    @iris.setter
    def iris(self, value):
        self.set(FitterParam.IRIS, _as_int(value, "iris"))

    def _run(self, fn_name, image, start, format):
        view, keep = _image_view(image, format)
        out = FsFaceLandmarks()
        lib = _lib.load()
        self._enter()
        try:
            _check(getattr(lib, fn_name)(self._handle(), ctypes.byref(view), ctypes.byref(start),
                                         ctypes.byref(out)),
                   lambda: self.last_error)
        finally:
            self._leave()
        del keep
        return Landmarks(out)

    def fit(self, image, face, format=None):
        """Landmarks of `face` (a Face from Detector.detect or made by hand).

        Raises NoFaceError when the face confidence is below min_confidence.
        """
        if not isinstance(face, Face):
            raise TypeError("face must be a faceswap.Face, got %s" % type(face).__name__)
        return self._run("fs_fitter_run", image, face._raw, format)

    def track(self, image, previous, format=None):
        """Landmarks in `image` starting from the previous frame's `previous` (no detection).

        Raises NoFaceError when the track is lost: detect again.
        """
        if not isinstance(previous, Landmarks):
            raise TypeError("previous must be faceswap.Landmarks, got %s"
                            % type(previous).__name__)
        return self._run("fs_fitter_track", image, previous._raw, format)


def library_version():
    """fs_version_string() of the loaded library, e.g. "0.1.0"."""
    return _text(_lib.load().fs_version_string())


def library_path():
    """The path the library was loaded from."""
    return _lib.load().faceswap_path


# ---------------------------------------------------------------- identity and renderer (0.2)


class Identity(_Child):
    """fs_identity: a face captured once from a photo, to swap into other images.

    Identity.from_image(image, face=-1, ctx=None)   # -1: the largest face
    Identity.from_bytes(data, ctx=None) / Identity.load(path, ctx=None)
    identity.to_bytes() / identity.save(path)
    Raises NoFaceError when the photo shows no face.
    """

    _destroy = "fs_identity_destroy"

    def __init__(self, ctx, handle):
        # Made by the class methods below: the C object exists already.
        _Handle.__init__(self)
        self._h = handle
        self.ctx = ctx
        ctx._adopt(self)

    @classmethod
    def from_image(cls, image, face=IDENTITY_LARGEST_FACE, ctx=None, format=None):
        ctx = _context_or_new(ctx)
        view, _keep = _image_view(image, format)
        h = ctypes.c_void_p()
        _check(_lib.load().fs_identity_create_from_image(ctx._handle(), ctypes.byref(view),
                                                         _as_int(face, "face"), ctypes.byref(h)),
               lambda: ctx.last_error)
        return cls(ctx, h.value)

    @classmethod
    def from_bytes(cls, data, ctx=None):
        ctx = _context_or_new(ctx)
        data = bytes(data)
        h = ctypes.c_void_p()
        _check(_lib.load().fs_identity_load_memory(ctx._handle(), data, len(data),
                                                   ctypes.byref(h)),
               lambda: ctx.last_error)
        return cls(ctx, h.value)

    @classmethod
    def load(cls, path, ctx=None):
        ctx = _context_or_new(ctx)
        h = ctypes.c_void_p()
        _check(_lib.load().fs_identity_load_file(ctx._handle(), os.fsencode(path),
                                                 ctypes.byref(h)),
               lambda: ctx.last_error)
        return cls(ctx, h.value)

    def to_bytes(self):
        lib = _lib.load()
        buf, size = ctypes.c_void_p(), ctypes.c_size_t()
        _check(lib.fs_identity_save_memory(self._handle(), ctypes.byref(buf), ctypes.byref(size)),
               lambda: self.ctx.last_error)
        try:
            return ctypes.string_at(buf.value, size.value)
        finally:
            lib.fs_identity_free_memory(buf)

    def save(self, path):
        _check(_lib.load().fs_identity_save_file(self._handle(), os.fsencode(path)),
               lambda: self.ctx.last_error)

    @property
    def source_face(self):
        """(faces in the photo, index of the face taken, its Face) from
        fs_identity_source_face(); (0, -1, None) for a loaded identity."""
        n, index, box = ctypes.c_int(), ctypes.c_int(), FsFaceBox()
        _check(_lib.load().fs_identity_source_face(self._handle(), ctypes.byref(n),
                                                   ctypes.byref(index), ctypes.byref(box)))
        return n.value, index.value, (Face._from_raw(box) if index.value >= 0 else None)

    @property
    def check(self):
        """The SourceCheck of the photo this identity was captured from
        (fs_identity_get_check); NotFoundError for an identity loaded from
        bytes or a file, which does not keep it."""
        raw = FsSourceCheck()
        _check(_lib.load().fs_identity_get_check(self._handle(), ctypes.byref(raw)),
               lambda: self.ctx.last_error)
        return SourceCheck(raw)

    @property
    def landmarks(self):
        """The 478 x 3 landmarks (float32) captured in the source photo's pixels."""
        raw = FsFaceLandmarks()
        _check(_lib.load().fs_identity_get_landmarks(self._handle(), ctypes.byref(raw)))
        return np.ctypeslib.as_array(raw.points).copy()

    @property
    def atlas(self):
        """A copy of the texture atlas: N x N x 4 uint8 RGBA in the mesh's UV
        layout (forehead at the top), alpha 0 outside the face."""
        view = FsImage()
        _check(_lib.load().fs_identity_get_atlas(self._handle(), ctypes.byref(view)))
        return _copy_out(view)


class SourceCheck:
    """The selfie check of a source photo (fs_source_check, check.h).

    flags: CheckFlag of the criteria that fail (0: a good source); passed:
    no flag; score: 0..1, the lowest quality (>= 0.5 exactly when passed);
    quality: {criterion name: 0..1}, a criterion fails below 0.5; faces,
    face_index, face (Face): the photo's detections and the one checked;
    the measures: face_size (px), yaw, pitch, roll (degrees), luma,
    clipped, dark, skin_a, skin_b, cast, sharpness, eye_openness, covered,
    confidence, outside, crowd (see check.h).
    """

    MEASURES = ("face_size", "yaw", "pitch", "roll", "luma", "clipped", "dark", "skin_a",
                "skin_b", "cast", "sharpness", "eye_openness", "covered", "confidence",
                "outside", "crowd")
    __slots__ = ("flags", "score", "quality", "faces", "face_index", "face") + MEASURES

    def __init__(self, raw):
        lib = _lib.load()
        self.flags = CheckFlag(raw.flags)
        self.score = raw.score
        self.quality = {_text(lib.fs_check_flag_name(1 << i)): raw.quality[i]
                        for i in range(FS_CHECK_CRITERIA)}
        self.faces = raw.faces
        self.face_index = raw.face_index
        self.face = Face._from_raw(raw.box)
        for name in self.MEASURES:
            setattr(self, name, getattr(raw, name))

    @property
    def passed(self):
        return not self.flags

    @property
    def failed(self):
        """Names of the criteria that fail, in bit order ("small", "turned", ...)."""
        return [name for i, name in enumerate(self.quality) if self.flags & (1 << i)]

    def __repr__(self):
        return "SourceCheck(score=%.2f, failed=%s, face_size=%.0f)" % (
            self.score, self.failed, self.face_size)


def check_image(image, face=IDENTITY_LARGEST_FACE, ctx=None, format=None):
    """The selfie check of a photo without capturing an identity
    (fs_identity_check_image): a SourceCheck. A face that fails is a result,
    not an error; NoFaceError when the photo shows none, OutOfRangeError
    for a face index beyond those found."""
    ctx = _context_or_new(ctx)
    view, _keep = _image_view(image, format)
    raw = FsSourceCheck()
    _check(_lib.load().fs_identity_check_image(ctx._handle(), ctypes.byref(view),
                                               _as_int(face, "face"), ctypes.byref(raw)),
           lambda: ctx.last_error)
    return SourceCheck(raw)


class SwapReport:
    """What a whole-image swap did with one face (fs_swap_face_report).

    face: the detection (Face); outcome: SwapOutcome; status: the fs_status
    name ("FS_OK", "FS_ERR_NO_FACE", ...); face_size (px), yaw (degrees) and
    confidence of the fit, 0 when the face was not fitted.
    """

    __slots__ = ("face", "outcome", "status", "face_size", "yaw", "confidence")

    def __init__(self, raw):
        self.face = Face._from_raw(raw.box)
        self.outcome = SwapOutcome(raw.outcome)
        self.status = status_name(raw.status)
        self.face_size = raw.face_size
        self.yaw = raw.yaw
        self.confidence = raw.confidence

    def __repr__(self):
        return "SwapReport(%s, %s, face_size=%.1f, yaw=%.1f)" % (
            self.outcome.name, self.status, self.face_size, self.yaw)


class Renderer(_Child):
    """fs_renderer: swaps an Identity onto the faces of images.

    Renderer(ctx=None, color=None, blend=None)   # Color / Blend values or their names
    renderer.swap_image(identity, image, faces="all")  -> (new image, faces swapped)
    renderer.swap_image_report(identity, image, faces="all")  -> (new image, [SwapReport])
    faces: "all", "largest" or an index (detector order).
    """

    _destroy = "fs_renderer_destroy"

    def __init__(self, ctx=None, color=None, blend=None):
        super().__init__(ctx, "fs_renderer_create")
        try:
            if color is not None:
                self.set(RendererParam.COLOR, _enum_value(Color, color, "color"))
            if blend is not None:
                self.set(RendererParam.BLEND, _enum_value(Blend, blend, "blend"))
        except BaseException:
            self.close()
            raise

    @property
    def last_error(self):
        return _text(_lib.load().fs_renderer_last_error(self._handle()))

    def set(self, param, value):
        param = _enum_value(RendererParam, param, "param")
        value = _as_float(value, "renderer parameter %s" % getattr(param, "name", param))
        _check(_lib.load().fs_renderer_set(self._handle(), int(param), value),
               lambda: self.last_error)

    def get(self, param):
        param = _enum_value(RendererParam, param, "param")
        v = ctypes.c_double()
        _check(_lib.load().fs_renderer_get(self._handle(), int(param), ctypes.byref(v)),
               lambda: self.last_error)
        return v.value

    @staticmethod
    def bounds(param):
        """fs_renderer_param_bounds(): inclusive (min, max) of a RendererParam."""
        param = _enum_value(RendererParam, param, "param")
        lo, hi = ctypes.c_double(), ctypes.c_double()
        _check(_lib.load().fs_renderer_param_bounds(int(param), ctypes.byref(lo), ctypes.byref(hi)))
        return lo.value, hi.value

    @staticmethod
    def default(param):
        """fs_renderer_param_default(): what a new renderer gives a RendererParam."""
        param = _enum_value(RendererParam, param, "param")
        v = ctypes.c_double()
        _check(_lib.load().fs_renderer_param_default(int(param), ctypes.byref(v)))
        return v.value

    @staticmethod
    def _faces_arg(faces):
        if faces == "all":
            return SWAP_FACES_ALL
        if faces == "largest":
            return SWAP_FACES_LARGEST
        which = _as_int(faces, "faces")
        if which < 0:
            raise ValueError("faces must be 'all', 'largest' or an index >= 0")
        return which

    def swap_image_report(self, identity, image, faces="all", format=None):
        """swap_image() that also returns a SwapReport per face found
        (detector order): (new image, [SwapReport]). When no face could be
        swapped the NoFaceError raised carries them as .reports."""
        if not isinstance(identity, Identity):
            raise TypeError("identity must be a faceswap.Identity")
        which = self._faces_arg(faces)
        out = np.array(image, dtype=np.uint8, copy=True, order="C")
        view, out = _image_view(out, format)
        raw = (FsSwapFaceReport * SWAP_MAX_FACES)()
        n = ctypes.c_int()
        self._enter()
        try:
            st = _lib.load().fs_renderer_swap_image_report(
                self._handle(), identity._handle(), ctypes.byref(view), which, raw,
                SWAP_MAX_FACES, ctypes.byref(n))
        finally:
            self._leave()
        reports = [SwapReport(raw[i]) for i in range(min(n.value, SWAP_MAX_FACES))]
        try:
            _check(st, lambda: self.last_error)
        except FaceswapError as e:
            e.reports = reports
            raise
        return out, reports

    def swap_image(self, identity, image, faces="all", format=None):
        if not isinstance(identity, Identity):
            raise TypeError("identity must be a faceswap.Identity")
        which = self._faces_arg(faces)
        out = np.array(image, dtype=np.uint8, copy=True, order="C")
        view, out = _image_view(out, format)
        n = ctypes.c_int()
        self._enter()
        try:
            _check(_lib.load().fs_renderer_swap_image(self._handle(), identity._handle(),
                                                      ctypes.byref(view), which, ctypes.byref(n)),
                   lambda: self.last_error)
        finally:
            self._leave()
        return out, n.value

    def debug_images(self):
        """The intermediate images of the faces the last swap call swapped
        (detector order), kept when RendererParam.KEEP_DEBUG is 1 (else []):
        a list of dicts with "x", "y" (the window's corner in the target),
        "render" (HxWx3 RGB), "mask" (HxW blend weight 0..255) and
        "coverage" (HxW, 255 where the mesh covers). Copies."""
        lib = _lib.load()
        faces = []
        for k in range(SWAP_MAX_FACES + 1):
            face = {}
            for name, kind in (("render", DebugKind.RENDER), ("mask", DebugKind.MASK),
                               ("coverage", DebugKind.COVERAGE)):
                view, x0, y0 = FsImage(), ctypes.c_int(), ctypes.c_int()
                st = lib.fs_renderer_debug_image(self._handle(), k, int(kind), ctypes.byref(view),
                                                 ctypes.byref(x0), ctypes.byref(y0))
                if st == STATUS_CODES["ERR_OUT_OF_RANGE"]:
                    return faces
                _check(st)
                face["x"], face["y"], face[name] = x0.value, y0.value, _copy_out(view)
            faces.append(face)
        return faces


# ---------------------------------------------------------------- Template / Video


def _progress_callback(progress):
    """A PROGRESS_FN for a Python callable progress(done, total) -> truthy to cancel.
    An exception in the callable cancels the call; it is re-raised afterwards."""
    box = {"exc": None}
    if progress is None:
        return _lib.PROGRESS_FN(), box

    def call(_user, done, total):
        try:
            return 1 if progress(done, total) else 0
        except BaseException as e:  # noqa: BLE001: re-raised by the caller
            box["exc"] = e
            return 1

    return _lib.PROGRESS_FN(call), box


def _track_arg(track):
    if track in ("main", "protagonist"):
        return _lib.TRACK_PROTAGONIST
    if track == "all":
        return _lib.TRACK_ALL
    return _as_int(track, "track")


class Template(_Child):
    """fs_template: a template video analysed once (faces tracked and smoothed).

    t = Template(ctx=None)
    t.analyse("film.mp4", progress=None)   # progress(done, total) -> True cancels
    t.save("film.fst"); Template.load("film.fst")
    t.info -> dict; t.tracks -> [dict]; t.face(frame, track) -> Landmarks or None
    """

    _destroy = "fs_template_destroy"

    def __init__(self, ctx=None, track=None):
        super().__init__(ctx, "fs_template_create")
        if track is not None:
            try:
                self.set(_lib.TemplateParam.TRACK, _track_arg(track))
            except BaseException:
                self.close()
                raise

    @classmethod
    def load(cls, path, ctx=None):
        t = cls(ctx)
        try:
            _check(_lib.load().fs_template_load_file(t._handle(), os.fsencode(path)),
                   lambda: t.last_error)
        except BaseException:
            t.close()
            raise
        return t

    @property
    def last_error(self):
        return _text(_lib.load().fs_template_last_error(self._handle()))

    def set(self, param, value):
        param = _enum_value(_lib.TemplateParam, param, "param")
        value = _as_float(value, "template parameter %s" % getattr(param, "name", param))
        _check(_lib.load().fs_template_set(self._handle(), int(param), value),
               lambda: self.last_error)

    def get(self, param):
        param = _enum_value(_lib.TemplateParam, param, "param")
        v = ctypes.c_double()
        _check(_lib.load().fs_template_get(self._handle(), int(param), ctypes.byref(v)),
               lambda: self.last_error)
        return v.value

    def analyse(self, path, progress=None):
        cb, box = _progress_callback(progress)
        self._enter()
        try:
            st = _lib.load().fs_template_analyse(self._handle(), os.fsencode(path), cb, None)
        finally:
            self._leave()
        if box["exc"] is not None:
            raise box["exc"]
        _check(st, lambda: self.last_error)
        return self

    def save(self, path):
        _check(_lib.load().fs_template_save_file(self._handle(), os.fsencode(path)),
               lambda: self.last_error)

    @property
    def info(self):
        raw = _lib.FsTemplateInfo()
        _check(_lib.load().fs_template_get_info(self._handle(), ctypes.byref(raw)),
               lambda: self.last_error or "nothing analysed")
        return {
            "width": raw.width, "height": raw.height, "rotation": raw.rotation,
            "fps": (raw.fps_num, raw.fps_den), "frames": raw.frames, "duration": raw.duration,
            "tracks": raw.tracks, "protagonist": raw.protagonist,
            "poster_frame": raw.poster_frame, "decode_errors": raw.decode_errors,
            "frames_with_face": raw.frames_with_face,
            "content_sha256": bytes(raw.content_hash).hex(),
        }

    @property
    def tracks(self):
        out = []
        for i in range(self.info["tracks"]):
            raw = _lib.FsTemplateTrackInfo()
            _check(_lib.load().fs_template_get_track(self._handle(), i, ctypes.byref(raw)))
            out.append({"id": raw.id, "first_frame": raw.first_frame,
                        "last_frame": raw.last_frame, "frames": raw.frames,
                        "mean_size": raw.mean_size})
        return out

    def face(self, frame, track="main"):
        """The smoothed Landmarks of a track in a frame, None where it has no face."""
        track = _track_arg(track)
        if track == _lib.TRACK_PROTAGONIST:
            track = self.info["protagonist"]
        raw = FsFaceLandmarks()
        st = _lib.load().fs_template_get_face(self._handle(), _as_int(frame, "frame"), track,
                                              ctypes.byref(raw))
        if st == STATUS_CODES["ERR_NO_FACE"]:
            return None
        _check(st, lambda: self.last_error)
        return Landmarks(raw)


class Video(_Child):
    """fs_video: renders an Identity into a template video (MP4, sound kept).

    v = Video(ctx=None, crf=None, preset=None, poster=None)
    v.render(renderer, identity, template, "film.mp4", "out.mp4", progress=None) -> report dict
    """

    _destroy = "fs_video_destroy"

    def __init__(self, ctx=None, crf=None, preset=None, poster=None):
        super().__init__(ctx, "fs_video_create")
        try:
            if crf is not None:
                self.set(_lib.VideoParam.CRF, crf)
            if preset is not None:
                self.set(_lib.VideoParam.PRESET, _enum_value(_lib.Preset, preset, "preset"))
            if poster is not None:
                self.poster = poster
        except BaseException:
            self.close()
            raise

    @property
    def last_error(self):
        return _text(_lib.load().fs_video_last_error(self._handle()))

    def set(self, param, value):
        param = _enum_value(_lib.VideoParam, param, "param")
        value = _as_float(value, "video parameter %s" % getattr(param, "name", param))
        _check(_lib.load().fs_video_set(self._handle(), int(param), value),
               lambda: self.last_error)

    def get(self, param):
        param = _enum_value(_lib.VideoParam, param, "param")
        v = ctypes.c_double()
        _check(_lib.load().fs_video_get(self._handle(), int(param), ctypes.byref(v)),
               lambda: self.last_error)
        return v.value

    @property
    def poster(self):
        return getattr(self, "_poster", None)

    @poster.setter
    def poster(self, path):
        _check(_lib.load().fs_video_set_poster(self._handle(),
                                               None if path is None else os.fsencode(path)),
               lambda: self.last_error)
        self._poster = path

    def render(self, renderer, identity, template, video_path, out_path, progress=None):
        if not isinstance(renderer, Renderer):
            raise TypeError("renderer must be a faceswap.Renderer")
        if not isinstance(identity, Identity):
            raise TypeError("identity must be a faceswap.Identity")
        if not isinstance(template, Template):
            raise TypeError("template must be a faceswap.Template")
        cb, box = _progress_callback(progress)
        self._enter()
        try:
            st = _lib.load().fs_video_render(
                self._handle(), renderer._handle(), identity._handle(), template._handle(),
                os.fsencode(video_path), os.fsencode(out_path), cb, None)
        finally:
            self._leave()
        if box["exc"] is not None:
            raise box["exc"]
        _check(st, lambda: self.last_error)
        return self.report

    @property
    def report(self):
        raw = _lib.FsVideoReport()
        _check(_lib.load().fs_video_get_report(self._handle(), ctypes.byref(raw)),
               lambda: "no render yet")
        audio = {0: "none", 1: "copied", 2: "aac"}.get(raw.audio, str(raw.audio))
        return {
            "frames": raw.frames, "frames_swapped": raw.frames_swapped,
            "faces_skipped": raw.faces_skipped, "decode_errors": raw.decode_errors,
            "audio": audio, "threads": raw.threads, "seconds": raw.seconds,
            "decode_seconds": raw.decode_seconds, "swap_seconds": raw.swap_seconds,
            "encode_seconds": raw.encode_seconds, "wait_seconds": raw.wait_seconds,
            "encoder": raw.encoder.decode("ascii", "replace"),
        }
