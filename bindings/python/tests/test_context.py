"""Context parameters, bounds, errors and object lifetimes."""

import gc
import os

import pytest

import faceswap
from faceswap import ContextParam


def test_defaults(model_dir):
    with faceswap.Context() as c:
        assert c.threads == 1
        assert c.max_pixels == 50_000_000
        assert c.verify_models is True
        assert c.device == 0
        assert c.backend == faceswap.Backend.AUTO
        env = os.environ.get("FS_FORCE_REFERENCE", "")
        assert c.force_reference == bool(env and env != "0")
        if os.environ.get("FS_MODEL_DIR"):
            assert c.model_dir == os.environ["FS_MODEL_DIR"]
        assert c.last_error == ""
        assert c.active_backend in (faceswap.Backend.CPU, faceswap.Backend.CUDA)
        assert "Context" in repr(c)
    assert c.closed and "closed" in repr(c)


def test_constructor_arguments(model_dir, tmp_path):
    c = faceswap.Context(backend="cpu", threads=3, model_dir=tmp_path, force_reference=True,
                         max_pixels=1234, verify_models=False, device=0)
    assert c.backend == faceswap.Backend.CPU
    assert c.threads == 3
    assert c.model_dir == str(tmp_path)
    assert c.force_reference is True
    assert c.max_pixels == 1234
    assert c.verify_models is False
    c.model_dir = model_dir
    assert c.model_dir == model_dir
    c.close()
    c.close()  # idempotent


@pytest.mark.parametrize("param", [p for p in ContextParam if p != ContextParam.BACKEND])
def test_bounds_are_enforced(param):
    lo, hi = faceswap.Context.bounds(param)
    assert lo <= hi
    with faceswap.Context() as c:
        for v in (lo, hi):
            c.set(param, v)
            assert c.get(param) == v
        for bad in (lo - 1, hi + 1):
            with pytest.raises(faceswap.OutOfRangeError) as ei:
                c.set(param, bad)
            e = ei.value
            assert e.status == -2 and e.name == "FS_ERR_OUT_OF_RANGE"
            assert isinstance(e, faceswap.FaceswapError) and isinstance(e, ValueError)
            assert e.detail and e.detail == c.last_error
            assert c.get(param) == hi, "untouched on failure"


def test_known_bounds():
    assert faceswap.Context.bounds("threads") == (1, 256)
    assert faceswap.Context.bounds(ContextParam.FORCE_REFERENCE) == (0, 1)
    assert faceswap.Context.bounds("backend") == (0, 2)


def test_defaults():
    """Every object's param default is what a new one holds (0.3)."""
    assert faceswap.Context.default("threads") == 1
    assert faceswap.Context.default(ContextParam.MAX_PIXELS) == 50000000
    with faceswap.Context(force_reference=False) as c:
        for p in ContextParam:
            lo, hi = faceswap.Context.bounds(p)
            assert lo <= faceswap.Context.default(p) <= hi
            if p != ContextParam.FORCE_REFERENCE:
                assert c.get(p) == faceswap.Context.default(p)
        r = faceswap.Renderer(c)
        try:
            for p in faceswap.RendererParam:
                lo, hi = faceswap.Renderer.bounds(p)
                assert lo <= faceswap.Renderer.default(p) <= hi
                assert r.get(p) == faceswap.Renderer.default(p)
        finally:
            r.close()
    assert faceswap.Detector.default("score_threshold") == pytest.approx(0.2)
    assert faceswap.Fitter.default("iris") == 1
    with pytest.raises(ValueError):
        faceswap.Context.default(99)


def test_backend():
    with faceswap.Context() as c:
        c.backend = "cpu"
        assert c.backend == faceswap.Backend.CPU
        c.backend = faceswap.Backend.AUTO
        try:
            c.backend = "cuda"
        except faceswap.BackendUnavailableError as e:  # no GPU here
            assert e.status == -14 and e.detail
            assert c.backend == faceswap.Backend.AUTO
        else:
            assert c.backend == faceswap.Backend.CUDA


def test_bad_arguments():
    with faceswap.Context() as c:
        with pytest.raises(TypeError):
            c.threads = "2"
        with pytest.raises(TypeError):
            c.threads = 1.5
        with pytest.raises(ValueError):
            c.backend = "gpu"
        with pytest.raises(ValueError):
            c.set("no_such_param", 1)
        with pytest.raises(faceswap.InvalidArgumentError) as ei:
            c.set(99, 1)  # unknown to Python and C alike: the library judges it
        assert ei.value.status == -1
        with pytest.raises(faceswap.OutOfRangeError):
            c.max_pixels = 1 << 70
        with pytest.raises(TypeError):
            c.model_dir = 42
        with pytest.raises(faceswap.InvalidArgumentError):
            faceswap.Context.bounds(42)
    with pytest.raises(faceswap.OutOfRangeError):
        faceswap.Context(threads=0)
    with pytest.raises(ValueError):
        c.threads  # closed


def test_error_classes():
    for code, cls in faceswap._errors.ERROR_CLASSES.items():
        e = faceswap._core._error(code, "the detail")
        assert type(e) is cls and isinstance(e, faceswap.FaceswapError)
        assert e.status == code and e.name == faceswap.status_name(code)
        assert e.detail == "the detail" and str(e) == "%s: the detail" % e.name
    assert isinstance(faceswap._core._error(-3), MemoryError)
    unknown = faceswap._core._error(-77)
    assert type(unknown) is faceswap.FaceswapError and unknown.name == "FS_ERR_UNKNOWN"


def test_log_callback(model_dir):
    seen = []
    c = faceswap.Context(model_dir=model_dir, log=lambda level, msg: seen.append((level, msg)),
                         log_level="debug")
    faceswap.Detector(c).close()
    for level, msg in seen:
        assert isinstance(level, (faceswap.LogLevel, int)) and isinstance(msg, str)

    def broken(level, msg):
        raise RuntimeError("must not cross into C")
    c.set_log_callback(broken, faceswap.LogLevel.DEBUG)
    faceswap.Detector(c).close()
    c.set_log_callback(None)
    with pytest.raises(TypeError):
        c.set_log_callback(42)
    c.close()


def test_children_keep_context_alive(model_dir, testdata):
    det = faceswap.Detector(faceswap.Context(model_dir=model_dir))
    gc.collect()
    image = faceswap.read_image(testdata("astronaut.png"))
    assert len(det.detect(image)) == 1
    del det
    gc.collect()


def test_context_close_closes_children(model_dir, astronaut):
    c = faceswap.Context(model_dir=model_dir)
    det, fit = faceswap.Detector(c), faceswap.Fitter(c)
    c.close()
    assert det.closed and fit.closed and c.closed
    with pytest.raises(ValueError):
        det.detect(astronaut)


def test_cycle_collection_order(model_dir):
    # A cycle holding a detector and its context: whatever order the
    # collector finalises them in, the context must go last (no crash).
    for _ in range(20):
        c = faceswap.Context(model_dir=model_dir)
        holder = {"det": faceswap.Detector(c), "ctx": c}
        holder["self"] = holder
        del c, holder
        gc.collect()
