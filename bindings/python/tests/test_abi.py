"""The ctypes declarations against the C headers and the library's exports."""

import ctypes
import json
import os
import re
import shutil
import subprocess

import pytest

import faceswap
from faceswap import _errors, _lib


@pytest.fixture(scope="module")
def probe(tmp_path_factory, source_root):
    """The C compiler's sizeof / offsetof / enum values (tests/layout_probe.c)."""
    exe = os.environ.get("FS_LAYOUT_PROBE")
    if not exe:
        cc = shutil.which("cc") or shutil.which("gcc")
        src = os.path.join(os.path.dirname(__file__), "layout_probe.c")
        if not cc:
            pytest.skip("no FS_LAYOUT_PROBE and no C compiler")
        exe = str(tmp_path_factory.mktemp("probe") / "layout_probe")
        subprocess.run([cc, "-I", os.path.join(source_root, "include"), src, "-o", exe],
                       check=True)
    out = subprocess.run([exe], stdout=subprocess.PIPE, check=True).stdout
    return json.loads(out)


STRUCTS = {
    "fs_image": _lib.FsImage,
    "fs_face_box": _lib.FsFaceBox,
    "fs_head_pose": _lib.FsHeadPose,
    "fs_face_landmarks": _lib.FsFaceLandmarks,
    "fs_swap_face_report": _lib.FsSwapFaceReport,
    "fs_template_info": _lib.FsTemplateInfo,
    "fs_template_track_info": _lib.FsTemplateTrackInfo,
    "fs_video_report": _lib.FsVideoReport,
    "fs_source_check": _lib.FsSourceCheck,
}


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_layout_matches_c(probe, name):
    c = probe[name]
    cls = STRUCTS[name]
    assert ctypes.sizeof(cls) == c["sizeof"]
    assert [f[0] for f in cls._fields_] == list(c["fields"]), "same fields in the same order"
    for field, (offset, size) in c["fields"].items():
        desc = getattr(cls, field)
        assert (desc.offset, desc.size) == (offset, size), field


def test_enums_match_c(probe):
    enums = probe["enums"]
    mirrored = {
        "FS_BACKEND_": _lib.Backend, "FS_CONTEXT_": _lib.ContextParam, "FS_LOG_": _lib.LogLevel,
        "FS_PIXEL_": _lib.PixelFormat, "FS_MEMORY_": _lib.Memory, "FS_KEYPOINT_": _lib.Keypoint,
        "FS_DETECTOR_INPUT_": _lib.DetectorInput, "FS_FITTER_ALIGN_": _lib.FitterAlign,
        "FS_COLOR_": _lib.Color, "FS_BLEND_": _lib.Blend, "FS_RENDERER_": _lib.RendererParam,
        "FS_SWAP_": _lib.SwapOutcome, "FS_DEBUG_": _lib.DebugKind,
        "FS_TEMPLATE_": _lib.TemplateParam, "FS_VIDEO_": _lib.VideoParam,
        "FS_PRESET_": _lib.Preset, "FS_ENCODER_": _lib.Encoder, "FS_CHECK_": _lib.CheckFlag,
    }
    seen = set()
    for prefix, cls in mirrored.items():
        for member in cls:
            key = prefix + member.name
            assert enums[key] == member.value, key
            seen.add(key)
    for member in _lib.DetectorParam:
        key = "FS_DETECTOR_" + member.name
        assert enums[key] == member.value
        seen.add(key)
    for member in _lib.FitterParam:
        key = "FS_FITTER_" + member.name
        assert enums[key] == member.value
        seen.add(key)
    for key, value in (("FS_TRACK_PROTAGONIST", _lib.TRACK_PROTAGONIST),
                       ("FS_TRACK_ALL", _lib.TRACK_ALL),
                       ("FS_CHECK_CRITERIA", _lib.FS_CHECK_CRITERIA)):
        assert enums[key] == value, key
        seen.add(key)
    statuses = {k: v for k, v in enums.items() if k == "FS_OK" or k.startswith("FS_ERR_")}
    assert statuses == {"FS_" + k: v for k, v in _errors.STATUS_CODES.items()}
    seen |= set(statuses)
    assert set(enums) - seen == {"FS_VERSION", "FS_ABI_VERSION"}, "every C enum is mirrored"
    assert enums["FS_ABI_VERSION"] == _lib.ABI_VERSION
    assert probe["enum_size"] == ctypes.sizeof(_lib.c_enum)
    assert probe["fs_status_size"] == ctypes.sizeof(_lib.fs_status)
    assert probe["constants"] == {"FS_FACE_KEYPOINTS": _lib.FS_FACE_KEYPOINTS,
                                  "FS_MESH_LANDMARKS": _lib.FS_MESH_LANDMARKS,
                                  "FS_LANDMARKS": _lib.FS_LANDMARKS}


def test_every_exported_function_is_declared(source_root):
    map_file = os.path.join(source_root, "lib", "libfaceswap.map")
    if not os.path.isfile(map_file):
        pytest.skip("no source tree")
    text = re.sub(r"/\*.*?\*/", "", open(map_file).read(), flags=re.S)
    exported = set(re.findall(r"\b(fs_[a-z0-9_]+)\s*;", text))
    assert exported, "map parsed"
    assert exported == set(_lib.FUNCTIONS)


def test_every_declaration_resolves():
    lib = _lib.load()
    for name, (restype, argtypes) in _lib.FUNCTIONS.items():
        fn = getattr(lib, name)
        assert fn.restype is restype and fn.argtypes == argtypes, name


def test_status_table_matches_library():
    for name, code in _errors.STATUS_CODES.items():
        assert faceswap.status_name(code) == "FS_" + name
        assert faceswap.status_message(code)
    assert faceswap.status_name(-1000) == "FS_ERR_UNKNOWN"
    assert faceswap.status_name(5) == "FS_ERR_UNKNOWN"


def test_version():
    v = faceswap.library_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v)
    major, minor, patch = map(int, v.split("."))
    assert _lib.load().fs_version() == _lib.version_number(major, minor, patch)
    assert major == _lib.ABI_VERSION
    assert os.path.exists(faceswap.library_path()) or "/" not in faceswap.library_path()


def test_library_found_through_env(monkeypatch):
    monkeypatch.setenv("FACESWAP_LIBRARY", "/nonexistent/libfaceswap.so.0")
    assert _lib.candidate_paths() == ["/nonexistent/libfaceswap.so.0"]
    monkeypatch.delenv("FACESWAP_LIBRARY")
    paths = _lib.candidate_paths()
    assert paths[-1] == "libfaceswap.so.0"
    assert any(p.endswith(os.path.join("faceswap", "libfaceswap.so.0")) for p in paths)
