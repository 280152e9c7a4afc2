"""read_image / read_image_bytes / write_image and the array checks."""

import struct

import numpy as np
import pytest

import faceswap


def add_exif_orientation(jpeg, orientation):
    """The JPEG with an APP1 Exif segment holding only the Orientation tag."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def test_read_test_images(testdata, astronaut):
    assert astronaut.shape == (512, 512, 3) and astronaut.dtype == np.uint8
    assert astronaut.flags.c_contiguous and astronaut.flags.writeable
    assert astronaut.std() > 20, "a real picture, not a blank"
    messi = faceswap.read_image(testdata("messi5.jpg"))
    assert messi.shape == (342, 548, 3)
    noface = faceswap.read_image(testdata("noface_12.png"))  # RGBA file: alpha dropped
    assert noface.shape == (200, 200, 3)


def test_read_bytes_equals_file(testdata, astronaut):
    with open(testdata("astronaut.png"), "rb") as f:
        blob = f.read()
    assert np.array_equal(faceswap.read_image_bytes(blob), astronaut)
    assert np.array_equal(faceswap.read_image_bytes(bytearray(blob)), astronaut)
    assert np.array_equal(faceswap.read_image_bytes(memoryview(blob)), astronaut)
    with pytest.raises(TypeError):
        faceswap.read_image_bytes(12)
    with pytest.raises(faceswap.TruncatedError):
        faceswap.read_image_bytes(b"")


def test_exif_orientation(testdata):
    with open(testdata("messi5.jpg"), "rb") as f:
        jpeg = f.read()
    plain = faceswap.read_image_bytes(jpeg)
    # 6: the stored picture must be turned 90 degrees clockwise for display
    turned = faceswap.read_image_bytes(add_exif_orientation(jpeg, 6))
    assert turned.shape == (548, 342, 3)
    assert np.array_equal(turned, np.rot90(plain, k=-1))
    # 3: upside down
    assert np.array_equal(faceswap.read_image_bytes(add_exif_orientation(jpeg, 3)),
                          plain[::-1, ::-1])
    # 1: as stored
    assert np.array_equal(faceswap.read_image_bytes(add_exif_orientation(jpeg, 1)), plain)


@pytest.mark.parametrize("ext", ["png", "bmp", "ppm"])
def test_lossless_round_trip(tmp_path, astronaut, ext):
    path = tmp_path / ("a." + ext)
    faceswap.write_image(path, astronaut)
    assert np.array_equal(faceswap.read_image(path), astronaut)


def test_jpeg_round_trip(tmp_path, astronaut):
    path = tmp_path / "a.jpg"
    faceswap.write_image(str(path), astronaut)
    back = faceswap.read_image(path)
    assert back.shape == astronaut.shape
    assert np.abs(back.astype(int) - astronaut).mean() < 4


def test_write_formats(tmp_path, astronaut):
    bgr = np.ascontiguousarray(astronaut[:, :, ::-1])
    faceswap.write_image(tmp_path / "bgr.png", bgr, format="BGR")
    assert np.array_equal(faceswap.read_image(tmp_path / "bgr.png"), astronaut)
    gray = astronaut[:, :, 1].copy()
    faceswap.write_image(tmp_path / "gray.png", gray)
    back = faceswap.read_image(tmp_path / "gray.png")
    assert all(np.array_equal(back[:, :, i], gray) for i in range(3))
    view = astronaut[100:300:2, 50:250]  # strided view: copied on the way in
    faceswap.write_image(tmp_path / "view.png", view)
    assert np.array_equal(faceswap.read_image(tmp_path / "view.png"), view)


def test_write_errors(tmp_path, astronaut):
    target = tmp_path / "missing-dir" / "a.png"
    with pytest.raises(faceswap.FaceswapError) as ei:
        faceswap.write_image(target, astronaut)
    assert ei.value.status in (-4, -5)  # FS_ERR_IO (or NOT_FOUND for the folder)
    assert not target.exists()
    with pytest.raises(faceswap.UnsupportedError):
        faceswap.write_image(tmp_path / "a.xyz", astronaut)
    assert list(tmp_path.iterdir()) == [], "nothing half-written left behind"


def test_read_errors(tmp_path, testdata):
    with pytest.raises(faceswap.NotFoundError) as ei:
        faceswap.read_image(tmp_path / "missing.png")
    assert ei.value.status == -5 and ei.value.name == "FS_ERR_NOT_FOUND"
    assert "missing.png" in ei.value.detail

    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(faceswap.TruncatedError):
        faceswap.read_image(tmp_path / "empty.png")

    (tmp_path / "garbage.png").write_bytes(bytes(range(256)) * 16)
    with pytest.raises((faceswap.UnsupportedError, faceswap.CorruptError)):
        faceswap.read_image(tmp_path / "garbage.png")

    png = open(testdata("astronaut.png"), "rb").read()
    (tmp_path / "cut.png").write_bytes(png[: len(png) // 2])
    with pytest.raises((faceswap.TruncatedError, faceswap.CorruptError)):
        faceswap.read_image(tmp_path / "cut.png")

    with pytest.raises(faceswap.TooLargeError):
        faceswap.read_image(testdata("astronaut.png"), faceswap.Context(max_pixels=512 * 511))
    assert faceswap.read_image(testdata("astronaut.png"),
                               faceswap.Context(max_pixels=512 * 512)).shape == (512, 512, 3)

    with pytest.raises(TypeError):
        faceswap.read_image(42)
    with pytest.raises(TypeError):
        faceswap.read_image(testdata("astronaut.png"), ctx="not a context")


@pytest.mark.parametrize("bad, exc", [
    ([[1, 2], [3, 4]], TypeError),                         # not an ndarray
    (np.zeros((4, 4, 3), np.float32), TypeError),         # wrong dtype
    (np.zeros((4, 4, 3), np.int8), TypeError),
    (np.zeros((4, 4, 3), bool), TypeError),
    (np.zeros((4,), np.uint8), ValueError),                # 1-D
    (np.zeros((2, 4, 4, 3), np.uint8), ValueError),        # 4-D
    (np.zeros((4, 4, 2), np.uint8), ValueError),           # 2 channels
    (np.zeros((0, 4, 3), np.uint8), ValueError),           # empty
    (np.zeros((4, 0), np.uint8), ValueError),
])
def test_array_checks(tmp_path, bad, exc):
    with pytest.raises(exc):
        faceswap.write_image(tmp_path / "x.png", bad)


def test_format_checks(tmp_path, astronaut):
    with pytest.raises(ValueError):
        faceswap.write_image(tmp_path / "x.png", astronaut, format="RGBA")  # 3 channels
    with pytest.raises(ValueError):
        faceswap.write_image(tmp_path / "x.png", astronaut, format="YUV")
    with pytest.raises(TypeError):
        faceswap.write_image(tmp_path / "x.png", astronaut, format=3)
