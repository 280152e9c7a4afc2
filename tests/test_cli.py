#!/usr/bin/env python3
"""Tests of the `faceswap` command-line tool (examples/faceswap.c).

Standard library only, so it runs wherever meson's Python does:
    python3 tests/test_cli.py BUILD/examples/faceswap
or under pytest with FACESWAP_CLI=BUILD/examples/faceswap.
Test data from $FS_TESTDATA_DIR and models from $FS_MODEL_DIR (meson sets both).
"""

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLI = os.environ.get("FACESWAP_CLI", "")
TESTDATA = os.environ.get("FS_TESTDATA_DIR") or os.path.join(ROOT, "data", "testdata")

# Exit codes, as documented in `faceswap --help` and doc/cli.md.
EXIT_OK, EXIT_USAGE, EXIT_INPUT, EXIT_MODEL, EXIT_OUTPUT = 0, 1, 2, 3, 4
EXIT_NO_FACE = 6  # swap only
EXIT_CHECK = 8  # check; swap, video with --strict-source


def data(name):
    path = os.path.join(TESTDATA, name)
    if not os.path.isfile(path):
        raise unittest.SkipTest("missing %s: run scripts/fetch-data.sh" % path)
    return path


def run(*args, timeout=300):
    return subprocess.run([CLI] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def strict_json(text):
    """json.loads that rejects NaN / Infinity (not JSON, though Python accepts them)."""
    def bad_constant(name):
        raise ValueError("non-JSON constant %s in output" % name)
    return json.loads(text, parse_constant=bad_constant)


# ---------------------------------------------------------------- tiny image codecs
# Enough PNG to read what the library and common tools write (8-bit, not
# interlaced, gray / RGB / RGBA, all five filters), and writers for BMP and
# PPM, so the tests can compare decoded pixels without third-party modules.

def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    """(width, height, channels, bytes rows packed)."""
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path
    pos, idat, hdr = 8, [], None
    while pos < len(blob):
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        body = blob[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and interlace == 0, "unsupported PNG in test: %r" % (hdr,)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = bytearray(stride * height)
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ftype == 4:
                line[i] = (line[i] + _paeth(a, b, c)) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return width, height, channels, bytes(out)


def to_rgb(width, height, channels, pixels):
    if channels == 3:
        return pixels
    out = bytearray(width * height * 3)
    for i in range(width * height):
        px = pixels[i * channels:(i + 1) * channels]
        out[i * 3:i * 3 + 3] = px[:3] if channels >= 3 else bytes([px[0]] * 3)
    return bytes(out)


def write_ppm(path, width, height, rgb):
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (width, height))
        f.write(rgb)


def write_bmp(path, width, height, rgb):
    """24-bit bottom-up BMP."""
    row = (width * 3 + 3) & ~3
    with open(path, "wb") as f:
        f.write(b"BM" + struct.pack("<IHHI", 54 + row * height, 0, 0, 54))
        f.write(struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, row * height,
                            2835, 2835, 0, 0))
        for y in range(height - 1, -1, -1):
            line = bytearray()
            for x in range(width):
                r, g, b = rgb[(y * width + x) * 3:(y * width + x) * 3 + 3]
                line += bytes((b, g, r))
            f.write(bytes(line) + b"\0" * (row - width * 3))


def write_bmp_v2(path, width, height, rgb):
    """32-bit BMP with a 52-byte info header (BITMAPV2INFOHEADER) holding BI_BITFIELDS
    masks, rows top-down: valid, and refused by stb."""
    masks = struct.pack("<III", 0x00FF0000, 0x0000FF00, 0x000000FF)
    with open(path, "wb") as f:
        f.write(b"BM" + struct.pack("<IHHI", 14 + 52 + width * height * 4, 0, 0, 14 + 52))
        f.write(struct.pack("<IiiHHIIiiII", 52, width, -height, 1, 32, 3, width * height * 4,
                            2835, 2835, 0, 0) + masks)
        line = bytearray()
        for i in range(width * height):
            r, g, b = rgb[i * 3:i * 3 + 3]
            line += bytes((b, g, r, 0))
        f.write(bytes(line))


def png_with_chunk(png, ctype, body=b""):
    """The PNG with one more chunk, of type ctype (any four bytes), before its first IDAT."""
    at = png.index(b"IDAT") - 4
    chunk = struct.pack(">I", len(body)) + ctype + body
    chunk += struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)
    return png[:at] + chunk + png[at:]


def add_exif_orientation(jpeg, orientation):
    """The JPEG with an APP1 Exif segment holding only the Orientation tag."""
    assert jpeg[:2] == b"\xff\xd8"
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8)             # big-endian, IFD at 8
    tiff += struct.pack(">H", 1)                             # one entry
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)  # SHORT, count 1
    tiff += struct.pack(">I", 0)                             # no next IFD
    body = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return jpeg[:2] + app1 + jpeg[2:]


# ---------------------------------------------------------------- tests


class CliTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not CLI or not os.access(CLI, os.X_OK):
            raise unittest.SkipTest("FACESWAP_CLI (or argv[1]) must name the built faceswap tool")
        cls.tmp = tempfile.mkdtemp(prefix="fs_cli_test_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tmp_path(self, name):
        return os.path.join(self.tmp, name)

    def detect_json(self, image, *options):
        r = run("detect", image, "--json", *options)
        self.assertEqual(r.returncode, EXIT_OK, r.stderr.decode(errors="replace"))
        return strict_json(r.stdout.decode())

    def assert_fails(self, result, code, *needles):
        err = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, code, "stderr: %s" % err)
        self.assertEqual(result.stdout, b"", "nothing on stdout after an error")
        for needle in needles:
            self.assertIn(needle, err)
        self.assertTrue(err.startswith("faceswap: "), err)


class TestCommandLine(CliTestCase):
    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, EXIT_OK)
        out = r.stdout.decode()
        self.assertRegex(out, r"^faceswap \d+\.\d+\.\d+ \(libfaceswap \d+\.\d+\.\d+\)\n$")

    def test_help_documents_exit_codes(self):
        for args in (["--help"], ["-h"], ["detect", "--help"]):
            r = run(*args)
            self.assertEqual(r.returncode, EXIT_OK, args)
            out = r.stdout.decode()
            self.assertIn("faceswap detect IMAGE", out)
            for code in range(6):
                self.assertRegex(out, r"\n  %d  " % code)
            for opt in ("--json", "--overlay", "--detector-input", "--align", "--max-faces",
                        "--min-score", "--models", "--max-pixels", "--reference"):
                self.assertIn(opt, out)

    def test_usage_errors(self):
        astronaut = data("astronaut.png")
        cases = [
            [],
            ["frobnicate"],
            ["--bogus"],
            ["detect"],
            ["detect", astronaut, "--bogus"],
            ["detect", astronaut, astronaut],
            ["detect", astronaut, "--max-faces"],
            ["detect", astronaut, "--max-faces", "abc"],
            ["detect", astronaut, "--max-faces", "3x"],
            ["detect", astronaut, "--max-faces", "0"],
            ["detect", astronaut, "--max-faces", "101"],
            ["detect", astronaut, "--max-faces=-1"],
            ["detect", astronaut, "--min-score", "1.5"],
            ["detect", astronaut, "--min-score", "nan"],
            ["detect", astronaut, "--detector-input", "stretch"],
            ["detect", astronaut, "--align", "yaw"],
            ["detect", astronaut, "--json=1"],
            ["detect", astronaut, "--max-pixels", "0"],
            ["detect", astronaut, "--threads", "0"],
            ["detect", astronaut, "--overlay="],
        ]
        for args in cases:
            with self.subTest(args=args[2:] if len(args) > 2 else args):
                r = run(*args)
                self.assertEqual(r.returncode, EXIT_USAGE, r.stderr)
                self.assertEqual(r.stdout, b"")
                self.assertIn(b"faceswap", r.stderr)

    def test_unknown_option_names_it(self):
        r = run("detect", data("astronaut.png"), "--frobnicate")
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertIn(b"--frobnicate", r.stderr)


class TestDetect(CliTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.astronaut = data("astronaut.png")
        r = run("detect", cls.astronaut, "--json")
        if r.returncode != 0:
            raise AssertionError("faceswap detect astronaut.png --json failed (%d): %s"
                                 % (r.returncode, r.stderr.decode(errors="replace")))
        cls.result = strict_json(r.stdout.decode())

    def test_schema(self):
        res = self.result
        self.assertEqual(set(res), {"image", "faces"})
        self.assertEqual(res["image"], {"width": 512, "height": 512})
        self.assertIsInstance(res["faces"], list)
        for face in res["faces"]:
            self.assertEqual(set(face), {"box", "score", "keypoints", "confidence", "landmarks",
                                         "pose"})
            self.assertEqual(len(face["box"]), 4)
            self.assertEqual(len(face["keypoints"]), 6)
            self.assertTrue(all(len(k) == 2 for k in face["keypoints"]))
            self.assertEqual(len(face["landmarks"]), 478)
            self.assertTrue(all(len(p) == 3 for p in face["landmarks"]))
            self.assertEqual(set(face["pose"]), {"yaw", "pitch", "roll"})
            numbers = (face["box"] + [face["score"], face["confidence"]]
                       + [v for k in face["keypoints"] for v in k]
                       + [v for p in face["landmarks"] for v in p] + list(face["pose"].values()))
            for v in numbers:
                self.assertIsInstance(v, (int, float))

    def test_astronaut_values(self):
        faces = self.result["faces"]
        self.assertEqual(len(faces), 1)
        face = faces[0]
        x, y, w, h = face["box"]
        # The face of astronaut.png (Eileen Collins) lies around x 170..290, y 60..190.
        self.assertTrue(60 < w < 250 and 60 < h < 250, face["box"])
        self.assertTrue(0 <= x and 0 <= y and x + w <= 512 and y + h <= 512, face["box"])
        cx, cy = x + w / 2, y + h / 2
        self.assertTrue(180 < cx < 280 and 70 < cy < 190, (cx, cy))
        self.assertTrue(0.5 < face["score"] <= 1.0, face["score"])
        self.assertTrue(0.5 < face["confidence"] <= 1.0, face["confidence"])
        for kx, ky in face["keypoints"][:4]:  # eyes, nose, mouth lie inside the box
            self.assertTrue(x <= kx <= x + w and y <= ky <= y + h, (kx, ky))
        for px, py, _ in face["landmarks"]:
            self.assertTrue(0 <= px < 512 and 0 <= py < 512, (px, py))
        # landmarks spread over the face: their extent is comparable to the box
        xs = [p[0] for p in face["landmarks"]]
        ys = [p[1] for p in face["landmarks"]]
        self.assertTrue(0.5 * w < max(xs) - min(xs) < 2.0 * w)
        self.assertTrue(0.5 * h < max(ys) - min(ys) < 2.0 * h)
        pose = face["pose"]
        self.assertLess(abs(pose["yaw"]), 40)
        self.assertLess(abs(pose["pitch"]), 40)
        self.assertLess(abs(pose["roll"]), 30)

    def test_exactly_one_json_object(self):
        r = run("detect", self.astronaut, "--json")
        text = r.stdout.decode()
        decoder = json.JSONDecoder()
        obj, end = decoder.raw_decode(text)
        self.assertEqual(text[end:].strip(), "")
        self.assertEqual(obj, self.result, "deterministic output")

    def test_summary(self):
        r = run("detect", self.astronaut)
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        out = r.stdout.decode()
        self.assertIn("512x512", out)
        self.assertIn("1 face", out)
        self.assertIn("face 0:", out)

    def test_options_keep_the_face(self):
        for opts in (["--detector-input", "squash", "--align", "none"],
                     ["--detector-input=letterbox", "--align=roll"],
                     ["--reference"],
                     ["--threads", "2", "--min-score", "0.5", "--max-pixels", "262144"]):
            with self.subTest(opts=opts):
                res = self.detect_json(self.astronaut, *opts)
                self.assertEqual(len(res["faces"]), 1)
                box = res["faces"][0]["box"]
                ref = self.result["faces"][0]["box"]
                # same face: centres within 15 px
                self.assertLess(abs(box[0] + box[2] / 2 - ref[0] - ref[2] / 2), 15)
                self.assertLess(abs(box[1] + box[3] / 2 - ref[1] - ref[3] / 2), 15)

    def test_min_score_filters(self):
        sample = data("faceapi_sample5.jpg")
        everything = self.detect_json(sample, "--min-score", "0")["faces"]
        # The cut half-way between two neighbouring scores: a cut at a score
        # itself compares the face's exact score with its printed, rounded
        # value, which may lie on either side.
        scores = sorted(f["score"] for f in everything)
        k = len(scores) // 2
        self.assertGreater(k, 0)
        self.assertGreater(scores[k] - scores[k - 1], 1e-5)
        cut = (scores[k - 1] + scores[k]) / 2
        kept = self.detect_json(sample, "--min-score", repr(cut))["faces"]
        self.assertTrue(all(f["score"] >= cut for f in kept))
        self.assertEqual(len(kept), sum(f["score"] >= cut for f in everything))
        self.assertEqual(len(kept), len(scores) - k)

    def test_no_face(self):
        for name in ("noface_12.png", "noface_3.png"):
            with self.subTest(name=name):
                res = self.detect_json(data(name))
                self.assertEqual(res["faces"], [])
                self.assertEqual(res["image"], {"width": 200, "height": 200})
                r = run("detect", data(name))
                self.assertEqual(r.returncode, EXIT_OK)
                self.assertIn(b"0 faces", r.stdout)

    def test_max_faces(self):
        sample = data("faceapi_sample5.jpg")
        all_faces = self.detect_json(sample)["faces"]
        self.assertGreaterEqual(len(all_faces), 3, "faceapi_sample5 shows 5 people")
        for n in (1, 2):
            with self.subTest(max_faces=n):
                faces = self.detect_json(sample, "--max-faces", str(n))["faces"]
                self.assertEqual(len(faces), n)
                # best scores first, the same faces as without the limit
                self.assertEqual([f["box"] for f in faces], [f["box"] for f in all_faces[:n]])
        scores = [f["score"] for f in all_faces]
        self.assertEqual(scores, sorted(scores, reverse=True))

    def test_overlay(self):
        out = self.tmp_path("overlay.png")
        r = run("detect", self.astronaut, "--overlay", out)
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertTrue(os.path.isfile(out))
        w, h, c, over = read_png(out)
        self.assertEqual((w, h), (512, 512))
        over = to_rgb(w, h, c, over)
        iw, ih, ic, orig = read_png(self.astronaut)
        orig = to_rgb(iw, ih, ic, orig)
        diff = [i for i in range(0, len(orig), 3) if orig[i:i + 3] != over[i:i + 3]]
        self.assertGreater(len(diff), 1000, "the overlay draws something")
        # everything drawn lies near the face: the bottom half of the image is untouched
        face = self.result["faces"][0]
        bottom = int(max(p[1] for p in face["landmarks"]) + 20) + 1
        bottom = max(bottom, int(face["box"][1] + face["box"][3]) + 20)
        start = bottom * 512 * 3
        self.assertEqual(over[start:], orig[start:])
        # JSON and overlay together
        out2 = self.tmp_path("overlay2.png")
        res = self.detect_json(self.astronaut, "--overlay", out2)
        self.assertEqual(res, self.result)
        self.assertEqual(read_png(out2)[3], read_png(out)[3])

    def test_overlay_without_faces_is_the_image(self):
        out = self.tmp_path("noface_overlay.png")
        r = run("detect", data("noface_12.png"), "--overlay", out)
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        w, h, c, over = read_png(out)
        iw, ih, ic, orig = read_png(data("noface_12.png"))
        self.assertEqual(to_rgb(w, h, c, over), to_rgb(iw, ih, ic, orig))

    def test_other_formats_same_result(self):
        w, h, c, px = read_png(self.astronaut)
        rgb = to_rgb(w, h, c, px)
        ppm, bmp = self.tmp_path("astronaut.ppm"), self.tmp_path("astronaut.bmp")
        bmp_v2 = self.tmp_path("astronaut_v2.bmp")
        write_ppm(ppm, w, h, rgb)
        write_bmp(bmp, w, h, rgb)
        write_bmp_v2(bmp_v2, w, h, rgb)
        for path in (ppm, bmp, bmp_v2):
            with self.subTest(path=os.path.basename(path)):
                self.assertEqual(self.detect_json(path), self.result)

    def test_jpeg_exif_orientation(self):
        with open(data("messi5.jpg"), "rb") as f:
            jpeg = f.read()
        plain = self.detect_json(data("messi5.jpg"))
        self.assertEqual(plain["image"], {"width": 548, "height": 342})
        rotated = self.tmp_path("messi5_exif6.jpg")
        with open(rotated, "wb") as f:
            f.write(add_exif_orientation(jpeg, 6))  # 6: display rotated 90 degrees clockwise
        res = self.detect_json(rotated)
        self.assertEqual(res["image"], {"width": 342, "height": 548})


class TestErrors(CliTestCase):
    def test_missing_file(self):
        missing = self.tmp_path("does-not-exist.png")
        r = run("detect", missing, "--json")
        self.assert_fails(r, EXIT_INPUT, "FS_ERR_NOT_FOUND", "does-not-exist.png")

    def test_corrupt_files(self):
        with open(data("astronaut.png"), "rb") as f:
            png = f.read()
        cases = {
            "empty.png": (b"", ["FS_ERR_TRUNCATED"]),
            "garbage.png": (bytes(range(256)) * 64, ["FS_ERR_"]),
            "truncated.png": (png[:len(png) // 3], ["FS_ERR_"]),
            "header-only.png": (png[:33], ["FS_ERR_"]),
        }
        for name, (blob, needles) in cases.items():
            with self.subTest(name=name):
                path = self.tmp_path(name)
                with open(path, "wb") as f:
                    f.write(blob)
                self.assert_fails(run("detect", path, "--json"), EXIT_INPUT, name, *needles)

    def test_corrupt_jpeg(self):
        """Data the JPEG decoder rejects: a format error in libjpeg's words,
        naming JPEG (issue 10 found "bad png sig", a stale message, and a
        frame header disagreeing with its data decoded to garbage)."""
        with open(data("messi5.jpg"), "rb") as f:
            jpg = f.read()
        sos = jpg.index(b"\xff\xda")
        scan = sos + 2 + int.from_bytes(jpg[sos + 2:sos + 4], "big")
        garbage = jpg[:scan] + b"\xfe\x00" * ((len(jpg) - scan - 2) // 2) + b"\xff\xd9"
        sof = jpg.index(b"\xff\xc0")
        wide = jpg[:sof + 5] + b"\x00\x01\xff\xff" + jpg[sof + 9:]  # 65535x1
        for name, blob in {"garbage-scan.jpg": garbage, "frame-65535x1.jpg": wide}.items():
            with self.subTest(name=name):
                path = self.tmp_path(name)
                with open(path, "wb") as f:
                    f.write(blob)
                r = run("detect", path, "--json")
                self.assert_fails(r, EXIT_INPUT, name, "FS_ERR_CORRUPT", "JPEG")
                self.assertNotIn(b"png", r.stderr)

    def test_directory_as_image(self):
        self.assert_fails(run("detect", self.tmp, "--json"), EXIT_INPUT, "FS_ERR_")

    def test_pixel_limit(self):
        r = run("detect", data("astronaut.png"), "--max-pixels", "1000")
        self.assert_fails(r, EXIT_INPUT, "FS_ERR_TOO_LARGE")

    def test_missing_models(self):
        empty = self.tmp_path("no-models")
        os.makedirs(empty, exist_ok=True)
        r = run("detect", data("astronaut.png"), "--json", "--models", empty)
        self.assert_fails(r, EXIT_MODEL, "FS_ERR_NOT_FOUND", "no-models")
        # only the detector's files: the fitter's absence is reported even
        # when the image has no face to fit
        models = os.environ.get("FS_MODEL_DIR") or os.path.join(ROOT, "data", "models")
        half = self.tmp_path("detector-only")
        os.makedirs(half, exist_ok=True)
        for name in ("blazeface.json", "blazeface.bin"):
            shutil.copy(os.path.join(models, name), half)
        r = run("detect", data("noface_12.png"), "--json", "--models", half)
        self.assert_fails(r, EXIT_MODEL, "FS_ERR_NOT_FOUND", "facemesh")

    def test_altered_model(self):
        models = os.environ.get("FS_MODEL_DIR") or os.path.join(ROOT, "data", "models")
        altered = self.tmp_path("altered-models")
        shutil.copytree(models, altered, dirs_exist_ok=True)
        with open(os.path.join(altered, "blazeface.bin"), "r+b") as f:
            f.seek(4096)
            byte = f.read(1)
            f.seek(4096)
            f.write(bytes([byte[0] ^ 0xFF]))
        r = run("detect", data("astronaut.png"), "--json", "--models", altered)
        self.assert_fails(r, EXIT_MODEL, "FS_ERR_CHECKSUM", "blazeface")

    def test_overlay_not_writable(self):
        target = self.tmp_path(os.path.join("no-such-dir", "out.png"))
        r = run("detect", data("astronaut.png"), "--overlay", target)
        self.assert_fails(r, EXIT_OUTPUT, "FS_ERR_", "out.png")
        self.assertFalse(os.path.exists(target))
        r = run("detect", data("astronaut.png"), "--overlay", self.tmp_path("out.xyz"))
        self.assert_fails(r, EXIT_OUTPUT, "FS_ERR_UNSUPPORTED")
        self.assertFalse(os.path.exists(self.tmp_path("out.xyz")))


class TestSwap(CliTestCase):
    def test_swap_writes_output(self):
        out = self.tmp_path("swapped.png")
        dbg = self.tmp_path("debug")
        os.mkdir(dbg)
        target = data("messi5.jpg")
        r = run("swap", "--source", data("astronaut.png"), "--target", target,
                "--output", out, "--faces", "largest", "--blend", "poisson", "--debug", dbg)
        self.assertEqual(r.returncode, EXIT_OK, r.stderr.decode(errors="replace"))
        self.assertIn("1 face swapped", r.stdout.decode())
        for name in ("before.png", "after.png", "identity.fsid"):
            self.assertTrue(os.path.isfile(os.path.join(dbg, name)), name)
        before, after = read_png(os.path.join(dbg, "before.png")), read_png(out)
        self.assertEqual(before[:3], after[:3])  # width, height, channels
        self.assertNotEqual(before[3], after[3])  # pixels changed
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(".")], [],
                         "no temporary file left beside the output")

    def test_swap_source_without_face(self):
        out = self.tmp_path("never.png")
        r = run("swap", "--source", data("noface_3.png"), "--target", data("astronaut.png"),
                "--output", out)
        self.assert_fails(r, EXIT_NO_FACE, "no face in the source photo", "FS_ERR_NO_FACE")
        self.assertFalse(os.path.exists(out))

    def test_swap_usage_errors(self):
        a = data("astronaut.png")
        for args in (["swap"], ["swap", "--source", a, "--target", a],
                     ["swap", "--source", a, "--target", a, "--output", "x.png", "--blend", "x"],
                     ["swap", "--source", a, "--target", a, "--output", "x.png", "--faces", "-3"],
                     ["swap", "--source", a, "--target", a, "--output", "x.png", "--bogus", "1"],
                     ["swap", "--source", a, "--target", a, "--output", "x.png", "--shape", "1.5"],
                     ["swap", "--source", a, "--target", a, "--output", "x.png", "--shape", "x"],
                     ["swap", "--source", a, "--target", a, "--output", "x.png", "--detail", "1"],
                     ["swap", "--source", a, "--target", a, "--output", "x.png",
                      "--eyes-mouth", "both"]):
            self.assert_fails(run(*args), EXIT_USAGE)

    def test_swap_options_change_the_result(self):
        # --shape 0, --detail off, --skin-guard off, --eyes-mouth source and
        # --eyes-mouth gaze each give another result than the defaults; the
        # defaults spelled out give the same bytes as no option at all. The
        # target's face is 198 px: on messi5's 35 px face the detail match
        # may find the sharpness within its 5% and leave the render alone.
        base = ["swap", "--source", data("astronaut.png"), "--target", data("faceapi_sample1.jpg"),
                "--faces", "largest"]
        outs = {}
        for name, extra in (("default", []),
                            ("spelled", ["--shape", "0.5", "--detail", "on", "--skin-guard", "on",
                                         "--eyes-mouth", "target"]),
                            ("shape0", ["--shape", "0"]), ("nodetail", ["--detail", "off"]),
                            ("noguard", ["--skin-guard", "off"]),
                            ("eyes", ["--eyes-mouth", "source"]),
                            ("gaze", ["--eyes-mouth", "gaze"])):
            out = self.tmp_path(name + ".png")
            r = run(*(base + ["--output", out] + extra))
            self.assertEqual(r.returncode, EXIT_OK, r.stderr.decode(errors="replace"))
            outs[name] = read_png(out)[3]
        self.assertEqual(outs["default"], outs["spelled"])
        for name in ("shape0", "nodetail", "noguard", "eyes", "gaze"):
            self.assertNotEqual(outs["default"], outs[name], name)


class TestSwapReport(CliTestCase):
    """What `swap` did with each face: lines on stderr, --json, --min-face, --max-yaw."""

    def test_lines_per_target_face_and_source_choice(self):
        out = self.tmp_path("out.png")
        r = run("swap", "--source", data("faceapi_sample5.jpg"),
                "--target", data("faceapi_sample2.jpg"), "--output", out, "--max-yaw", "50")
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, EXIT_OK, err)
        self.assertIn("2 faces swapped", r.stdout.decode())
        lines = err.splitlines()
        # a group photo as the source: a warning, not a refusal (no --strict-source)
        self.assertRegex(lines[0], r"^faceswap: warning: source photo '.*faceapi_sample5.jpg' "
                                   r"fails the selfie check \(score 0\.\d\d\): several faces ")
        # five faces in the source: which one was taken is said
        self.assertRegex(lines[1], r"^faceswap: source: 5 faces in '.*faceapi_sample5.jpg', "
                                   r"took face \d+ ")
        faces = [l for l in lines if l.startswith("faceswap: target face ")]
        self.assertEqual(len(faces), len(lines) - 2, err)
        self.assertEqual([int(l.split()[3]) for l in faces], list(range(len(faces))))
        self.assertEqual(sum(": swapped (" in l for l in faces), 2, err)
        turned = [l for l in faces if "skipped: turned: yaw -5" in l]
        self.assertEqual(len(turned), 1, err)
        self.assertIn("beyond --max-yaw 50", turned[0])
        self.assertGreaterEqual(sum("skipped: fit rejected" in l for l in faces), 1, err)
        self.assertTrue(os.path.isfile(out))

    def test_all_too_small_exits_6(self):
        out = self.tmp_path("never.png")
        r = run("swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                "--output", out, "--min-face", "40")
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, EXIT_NO_FACE, err)
        self.assertEqual(r.stdout, b"")
        self.assertRegex(err, r"target face 0 at [-\d,x ]+: skipped: too small: 3\d\.\d px "
                              r"< --min-face 40\n")
        self.assertIn("faceswap: no face to swap in the target", err)
        self.assertIn("1 smaller than FS_RENDERER_MIN_FACE", err)
        self.assertFalse(os.path.exists(out))
        # the default limit (24) swaps messi5's 35 px face
        r = run("swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                "--output", out, "--faces", "largest")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr.decode(errors="replace"))
        self.assertRegex(r.stderr.decode(), r"target face 0 at .*: swapped \(3\d px, yaw ")

    def test_json(self):
        out = self.tmp_path("out.png")
        r = run("swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                "--output", out, "--json")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr.decode(errors="replace"))
        self.assertEqual(r.stderr, b"", "--json: the report goes to stdout only")
        doc = strict_json(r.stdout.decode())
        self.assertEqual(doc["source"]["faces"], 1)
        self.assertEqual(doc["source"]["index"], 0)
        self.assertEqual(doc["target"], {"width": 548, "height": 342})
        self.assertEqual(doc["swapped"], 1)
        self.assertEqual([f["index"] for f in doc["faces"]], list(range(len(doc["faces"]))))
        outcomes = [f["outcome"] for f in doc["faces"]]
        self.assertEqual(outcomes.count("swapped"), 1)
        for f in doc["faces"]:
            self.assertIn(f["outcome"], ("swapped", "skipped_fit"))
            self.assertEqual(len(f["box"]), 4)
            self.assertEqual(f["status"], "FS_OK" if f["outcome"] == "swapped" else "FS_ERR_NO_FACE")
            if f["outcome"] == "swapped":
                self.assertGreater(f["face_size"], 24)
                self.assertGreater(f["confidence"], 0.5)
        # nothing swapped: the JSON still says why, and the exit status is 6
        r = run("swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                "--output", out + ".2.png", "--json", "--max-yaw", "10")
        self.assertEqual(r.returncode, EXIT_NO_FACE, r.stderr.decode(errors="replace"))
        doc = strict_json(r.stdout.decode())
        self.assertEqual(doc["swapped"], 0)
        self.assertIn("skipped_turned", [f["outcome"] for f in doc["faces"]])
        self.assertIn("FS_ERR_NO_FACE", r.stderr.decode())
        self.assertFalse(os.path.exists(out + ".2.png"))

    def test_option_errors(self):
        a = data("astronaut.png")
        base = ["swap", "--source", a, "--target", a, "--output", self.tmp_path("x.png")]
        for extra in (["--min-face", "7"], ["--min-face", "4097"], ["--min-face", "ten"],
                      ["--max-yaw", "-1"], ["--max-yaw", "91"], ["--max-yaw", "nan"],
                      ["--min-face"]):
            self.assert_fails(run(*(base + extra)), EXIT_USAGE,
                              extra[0] if len(extra) > 1 else "needs a value")


class TestCheck(CliTestCase):
    """`faceswap check PHOTO`: the selfie check; swap's warning and --strict-source."""

    CRITERIA = ["small", "turned", "dark", "bright", "coloured", "blurred", "eyes_closed",
                "covered", "cut", "crowded"]

    def check_json(self, photo, code, *extra):
        r = run("check", data(photo), "--json", *extra)
        self.assertEqual(r.returncode, code, r.stderr.decode(errors="replace"))
        self.assertEqual(r.stderr, b"")
        self.assertEqual(r.stdout.count(b"\n"), 1, "one line")
        return strict_json(r.stdout.decode())

    def test_pass_text(self):
        r = run("check", data("astronaut.png"))
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        lines = r.stdout.decode().splitlines()
        self.assertRegex(lines[0], r"astronaut.png: passes the selfie check \(score 0\.\d\d\)$")
        self.assertEqual([l.split()[0] for l in lines[2:]], self.CRITERIA)
        self.assertTrue(all(l.split()[1] == "ok" for l in lines[2:]), lines)

    def test_json_schema_and_contract(self):
        j = self.check_json("astronaut.png", EXIT_OK)
        self.assertEqual((j["width"], j["height"], j["pass"], j["flags"]), (512, 512, True, []))
        self.assertEqual((j["faces"], j["face_index"]), (1, 0))
        self.assertEqual(len(j["box"]), 4)
        self.assertEqual(list(j["quality"]), self.CRITERIA)
        self.assertAlmostEqual(j["score"], min(j["quality"].values()), places=3)
        self.assertGreaterEqual(j["score"], 0.5)
        for key in ("face_size", "yaw", "pitch", "roll", "luma", "clipped", "dark", "skin_a",
                    "skin_b", "cast", "sharpness", "eye_openness", "covered", "confidence",
                    "outside", "crowd"):
            self.assertIsInstance(j["measures"][key], (int, float), key)
        self.assertTrue(90 < j["measures"]["face_size"] < 120, j["measures"])

    def test_fails_exit_8(self):
        # messi5: a 35-px face; a group photo: several faces of one size
        j = self.check_json("messi5.jpg", EXIT_CHECK)
        self.assertEqual((j["pass"], j["flags"]), (False, ["small"]))
        self.assertLess(j["score"], 0.5)
        self.assertLess(j["measures"]["face_size"], 40)
        j = self.check_json("faceapi_sample1.jpg", EXIT_CHECK)
        self.assertIn("crowded", j["flags"])
        r = run("check", data("messi5.jpg"))
        self.assertEqual(r.returncode, EXIT_CHECK)
        self.assertRegex(r.stdout.decode(), r"messi5.jpg: fails the selfie check \(score 0\.\d\d\): small\n")
        self.assertIn("\n  small        FAIL ", r.stdout.decode())

    def test_face_option(self):
        j = self.check_json("faceapi_sample1.jpg", EXIT_CHECK, "--face", "1")
        self.assertEqual(j["face_index"], 1)
        self.assert_fails(run("check", data("astronaut.png"), "--face", "3"), EXIT_NO_FACE,
                          "no face to check", "FS_ERR_OUT_OF_RANGE", "face 3 asked, 1 found")

    def test_errors(self):
        self.assert_fails(run("check", data("noface_3.png")), EXIT_NO_FACE, "FS_ERR_NO_FACE")
        self.assert_fails(run("check", self.tmp_path("missing.png")), EXIT_INPUT,
                          "FS_ERR_NOT_FOUND")
        self.assert_fails(run("check", data("astronaut.png"), "--models", self.tmp), EXIT_MODEL)
        self.assert_fails(run("check", data("astronaut.png"), "--max-pixels", "100"), EXIT_INPUT,
                          "FS_ERR_TOO_LARGE", "512x512")
        a = data("astronaut.png")
        for args in ([], [a, a], [a, "--bogus"], [a, "--face", "x"], [a, "--face", "-1"],
                     [a, "--threads", "0"], [a, "--face"], [a, "--max-pixels", "0"]):
            with self.subTest(args=args):
                self.assert_fails(run("check", *args), EXIT_USAGE)
        r = run("check", "--help")
        self.assertEqual(r.returncode, EXIT_OK)
        self.assertIn("faceswap check PHOTO", r.stdout.decode())
        self.assertRegex(r.stdout.decode(), r"\n  8  ")

    def test_swap_warns_or_refuses(self):
        out = self.tmp_path("check-swap.png")
        base = ["swap", "--source", data("messi5.jpg"), "--target", data("astronaut.png"),
                "--output", out]
        r = run(*base)
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, EXIT_OK, err)
        self.assertRegex(err, r"^faceswap: warning: source photo '.*messi5.jpg' fails the selfie "
                              r"check \(score 0\.\d\d\): face too small \(face 3\d px across\)\n")
        self.assertTrue(os.path.isfile(out))
        os.remove(out)
        r = run(*base, "--strict-source")
        self.assert_fails(r, EXIT_CHECK, "fails the selfie check", "face too small")
        self.assertFalse(os.path.exists(out))
        # a good source: no warning, and --strict-source changes nothing
        r = run("swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                "--output", out, "--strict-source")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertNotIn(b"selfie check", r.stderr)


def jpeg_size(path):
    """(width, height) from a baseline or progressive JPEG's SOF segment."""
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:2] == b"\xff\xd8", "%s is not a JPEG" % path
    pos = 2
    while pos + 4 <= len(blob):
        assert blob[pos] == 0xFF, "%s: bad marker at %d" % (path, pos)
        marker, length = blob[pos + 1], struct.unpack(">H", blob[pos + 2:pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", blob[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    raise AssertionError("%s: no SOF segment" % path)


class TestSwapDebug(CliTestCase):
    """swap --debug DIR: the intermediate images, each decoded and checked."""

    def test_debug_files(self):
        dbg = self.tmp_path("debug-made")  # missing: the tool makes it
        out = self.tmp_path("debug-out.jpg")
        r = run("swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                "--output", out, "--debug", dbg)
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, EXIT_OK, err)
        names = sorted(os.listdir(dbg))
        for name in ("source_crop.png", "atlas.png", "before.png", "after.png",
                     "before_after.jpg", "faces.json", "identity.fsid"):
            self.assertIn(name, names)
        self.assertEqual([n for n in names if n.startswith(".")], [], "temporary files left")
        with open(os.path.join(dbg, "identity.fsid"), "rb") as f:
            self.assertEqual(f.read(4), b"FSID")

        width, height = 548, 342  # messi5.jpg
        before = read_png(os.path.join(dbg, "before.png"))
        after = read_png(os.path.join(dbg, "after.png"))
        self.assertEqual(before[:3], (width, height, 3))
        self.assertEqual(after[:3], (width, height, 3))
        # side by side with an 8 px gap, not scaled below 1024 px
        self.assertEqual(jpeg_size(os.path.join(dbg, "before_after.jpg")), (2 * width + 8, height))

        cw, ch, cc, _ = read_png(os.path.join(dbg, "source_crop.png"))
        self.assertEqual(cc, 3)
        self.assertTrue(100 <= cw <= 512 and 100 <= ch <= 512, (cw, ch))
        aw, ah, ac, atlas = read_png(os.path.join(dbg, "atlas.png"))
        self.assertEqual((ac, aw), (4, ah), "a square RGBA atlas")
        alphas = atlas[3::4]
        self.assertEqual(alphas[0], 0, "the atlas' corner lies outside the mesh")
        self.assertGreater(alphas.count(255), len(alphas) // 4)

        # one render and mask per face swapped, named by the index on stderr
        with open(os.path.join(dbg, "faces.json")) as f:
            faces = strict_json(f.read())
        swapped = sorted(int(l.split()[3]) for l in err.splitlines()
                         if l.startswith("faceswap: target face ") and ": swapped (" in l)
        self.assertEqual([f["face"] for f in faces], swapped)
        self.assertGreaterEqual(len(faces), 1)
        self.assertEqual(sorted(n for n in names if n.startswith("face") and n.endswith(".png")),
                         sorted("face%d_%s.png" % (f["face"], k) for f in faces
                                for k in ("render", "mask")))
        for f in faces:
            x, y, w, h = f["x"], f["y"], f["width"], f["height"]
            self.assertTrue(x >= 0 and y >= 0 and x + w <= width and y + h <= height, f)
            rw, rh, rc, _ = read_png(os.path.join(dbg, "face%d_render.png" % f["face"]))
            mw, mh, mc, mask = read_png(os.path.join(dbg, "face%d_mask.png" % f["face"]))
            self.assertEqual((rw, rh, rc), (w, h, 3))
            self.assertEqual((mw, mh, mc), (w, h, 1))
            self.assertEqual(mask[0], 0, "the window's corner is outside the mask")
            self.assertEqual(max(mask), 255)
        # outside the face windows the result is the target, byte for byte
        row = width * 3
        for yy in range(height):
            line_b, line_a = before[3][yy * row:(yy + 1) * row], after[3][yy * row:(yy + 1) * row]
            if line_b == line_a:
                continue
            for xx in range(width):
                if line_b[xx * 3:xx * 3 + 3] != line_a[xx * 3:xx * 3 + 3]:
                    self.assertTrue(any(f["x"] <= xx < f["x"] + f["width"] and
                                        f["y"] <= yy < f["y"] + f["height"] for f in faces),
                                    "pixel %d,%d changed outside the face windows" % (xx, yy))

    def test_debug_folder_not_usable(self):
        out = self.tmp_path("never-debug.png")
        blocker = self.tmp_path("a-file")
        with open(blocker, "w") as f:
            f.write("not a folder")
        missing_parent = self.tmp_path(os.path.join("no-such-parent", "dbg"))
        for dbg in (blocker, missing_parent):
            r = run("swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                    "--output", out, "--debug", dbg)
            self.assert_fails(r, EXIT_OUTPUT, "cannot create debug folder", "FS_ERR_IO")
            self.assertFalse(os.path.exists(out), "fails before writing anything")
        self.assertFalse(os.path.exists(os.path.dirname(missing_parent)), "one level only")
        if os.geteuid() != 0:  # root writes into read-only folders
            ro = self.tmp_path("read-only")
            os.mkdir(ro, 0o500)
            try:
                r = run("swap", "--source", data("astronaut.png"), "--target",
                        data("messi5.jpg"), "--output", out, "--debug", ro)
                self.assert_fails(r, EXIT_OUTPUT, "cannot write debug file", "FS_ERR_IO")
                self.assertFalse(os.path.exists(out))
            finally:
                os.chmod(ro, 0o700)


class TestProbeFindings(CliTestCase):
    """Bad input a probe of 0.3 found (issue 10, item 9): each is handled, and said."""

    def models_with(self, name, victim, kind):
        """A copy of the model folder with file `victim` replaced by a special file."""
        folder = self.tmp_path(name)
        shutil.rmtree(folder, ignore_errors=True)
        models = os.environ.get("FS_MODEL_DIR") or os.path.join(ROOT, "data", "models")
        shutil.copytree(models, folder)
        path = os.path.join(folder, victim)
        os.remove(path)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "zero":
            os.symlink("/dev/zero", path)
        elif kind == "folder":
            os.mkdir(path)
        else:  # unreadable
            shutil.copy(os.path.join(models, victim), path)
            os.chmod(path, 0)
        return folder

    def test_unreadable_models_same_exit_everywhere(self):
        # a model that is a FIFO or a link to /dev/zero hung both commands; one
        # that could not be read (a folder in its place, no permission) was 3
        # for detect and 5 for swap
        a = data("astronaut.png")
        kinds = ["fifo", "zero", "folder"] + (["unreadable"] if os.geteuid() != 0 else [])
        for victim in ("blazeface.bin", "facemesh.json", "iris.bin"):
            for kind in kinds:
                models = self.models_with("models-" + kind, victim, kind)
                out = self.tmp_path("never-" + kind + ".png")
                for cmd in (["detect", a], ["swap", "--source", a, "--target", a, "--output", out],
                            ["analyse", a, "--output", self.tmp_path("never.fst")]):
                    with self.subTest(victim=victim, kind=kind, cmd=cmd[0]):
                        r = run(*(cmd + ["--models", models]), timeout=60)
                        self.assert_fails(r, EXIT_MODEL, "cannot load the", victim, "FS_ERR_IO")
                        self.assertFalse(os.path.exists(out))
                if kind == "unreadable":
                    os.chmod(os.path.join(models, victim), 0o644)

    def test_control_bytes_escaped(self):
        # stb quotes an unknown critical chunk's type; ESC [ 2 J would clear the screen
        with open(data("astronaut.png"), "rb") as f:
            png = f.read()
        evil = self.tmp_path("evil.png")
        with open(evil, "wb") as f:
            f.write(png_with_chunk(png, b"\x1b[2J"))
        for cmd in (["detect", evil], ["swap", "--source", evil, "--target", data("astronaut.png"),
                                       "--output", self.tmp_path("never.png")]):
            r = run(*cmd)
            self.assert_fails(r, EXIT_INPUT, "\\x1b[2J", "FS_ERR_")
            self.assertNotIn(b"\x1b", r.stderr)
            self.assertTrue(all(c >= 0x20 or c == 0x0A for c in r.stderr), r.stderr)

    def test_stdout_full(self):
        # the report to a full stdout: said on stderr, exit 4 (it was 4, silently)
        out = self.tmp_path("full.png")
        for args in (["swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                      "--output", out, "--json"],
                     ["swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                      "--output", out],
                     ["detect", data("astronaut.png"), "--json"], ["--version"], ["--help"]):
            with self.subTest(args=args[:2]), open("/dev/full", "wb") as full:
                r = subprocess.run([CLI] + args, stdout=full, stderr=subprocess.PIPE, timeout=300)
                self.assertEqual(r.returncode, EXIT_OUTPUT, r.stderr)
                self.assertIn(b"faceswap: cannot write to standard output: ", r.stderr)

    def test_stale_temporary_removed(self):
        # a swap killed while writing leaves OUT.tmp-PID-N; the next write to OUT
        # removes it (its process is gone, it is an hour old) and nothing else
        folder = self.tmp_path("stale")
        shutil.rmtree(folder, ignore_errors=True)
        os.mkdir(folder)
        child = subprocess.Popen(["true"])
        child.wait()
        dead = child.pid
        names = {"out.png.tmp-%d-0" % dead: True,            # a killed writer's
                 "out.png.tmp-%d-0" % os.getpid(): False,     # a live process's
                 "other.png.tmp-%d-0" % dead: False,          # another target's
                 "out.png.tmp-%d-x" % dead: False,            # not the pattern
                 "out.png.bak": False, "out.png.tmp": False}
        for name in names:
            with open(os.path.join(folder, name), "wb") as f:
                f.write(b"half-written")
            os.utime(os.path.join(folder, name), (1, 1))
        out = os.path.join(folder, "out.png")
        r = run("swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                "--output", out, "--faces", "largest")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr.decode(errors="replace"))
        left = set(os.listdir(folder))
        self.assertEqual(left, {"out.png"} | {n for n, gone in names.items() if not gone})

    def test_max_pixels_for_every_command(self):
        a, m = data("astronaut.png"), data("messi5.jpg")
        r = run("swap", "--source", a, "--target", m, "--output", self.tmp_path("never.png"),
                "--max-pixels", "200000")
        self.assert_fails(r, EXIT_INPUT, "FS_ERR_TOO_LARGE", "astronaut.png", "512x512")
        r = run("swap", "--source", m, "--target", a, "--output", self.tmp_path("never.png"),
                "--max-pixels=200000")
        self.assert_fails(r, EXIT_INPUT, "FS_ERR_TOO_LARGE", "astronaut.png")
        for cmd in (["swap", "--source", a, "--target", a, "--output", "x.png"],
                    ["video", "--source", a, "--video", "v.mp4", "--output", "x.mp4"],
                    ["analyse", "v.mp4", "--output", "x.fst"]):
            for bad in ("0", "ten", "99999999999"):
                with self.subTest(cmd=cmd[0], value=bad):
                    self.assert_fails(run(*(cmd + ["--max-pixels", bad])), EXIT_USAGE,
                                      "--max-pixels")
        r = run("--help")
        self.assertIn("--models DIR, --max-pixels N, --threads N", r.stdout.decode())

    def test_output_extension_checked_before_any_work(self):
        # the source does not exist: an extension checked first is what fails
        missing = self.tmp_path("no-such-photo.png")
        r = run("swap", "--source", missing, "--target", missing, "--output",
                self.tmp_path("out.xyz"))
        self.assert_fails(r, EXIT_OUTPUT, "FS_ERR_UNSUPPORTED", "out.xyz", ".png, .jpg")
        r = run("detect", missing, "--overlay", self.tmp_path("o.gif"))
        self.assert_fails(r, EXIT_OUTPUT, "FS_ERR_UNSUPPORTED", "o.gif")
        r = run("video", "--source", missing, "--video", missing, "--output",
                self.tmp_path("v.mp4"), "--poster", self.tmp_path("p.tiff"))
        self.assert_fails(r, EXIT_OUTPUT, "FS_ERR_UNSUPPORTED", "p.tiff")
        for ext in ("PNG", "jpeg", "JPG", "bmp", "ppm"):  # what is written passes
            r = run("swap", "--source", missing, "--target", missing, "--output",
                    self.tmp_path("out." + ext))
            self.assert_fails(r, EXIT_INPUT, "FS_ERR_NOT_FOUND")

    def test_no_such_face(self):
        out = self.tmp_path("never.png")
        base = ["swap", "--source", data("astronaut.png"), "--target", data("messi5.jpg"),
                "--output", out]
        r = run(*(base + ["--faces", "99"]))
        self.assert_fails(r, EXIT_NO_FACE, "no face 99 to swap in the target", "5 found",
                          "--faces counts from 0")
        self.assertFalse(os.path.exists(out))
        r = run(*(base + ["--faces", "5", "--json"]))
        self.assertEqual(r.returncode, EXIT_NO_FACE, r.stderr)
        doc = strict_json(r.stdout.decode())
        self.assertEqual(doc["swapped"], 0)
        self.assertEqual({f["outcome"] for f in doc["faces"]}, {"not_chosen"})
        self.assertIn(b"no face 5 to swap", r.stderr)
        self.assertFalse(os.path.exists(out))


# ---------------------------------------------------------------- analyse / video

EXIT_VIDEO = 7  # analyse, video: the video or the template file


def find_make_clip():
    """make_clip from $FS_MAKE_CLIP (meson sets it), else beside the tool's build."""
    cand = [os.environ.get("FS_MAKE_CLIP", "")]
    if CLI:
        cand.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(CLI))),
                                 "tests", "make_clip"))
    for c in cand:
        if c and os.access(c, os.X_OK):
            return c
    return None


def ffprobe_frames(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                        "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return int(r.stdout.decode().strip() or -1)


class VideoTestCase(CliTestCase):
    """A 1-s 640x360 clip of astronaut.png panning, with a sine track (make_clip), and
    its template, made once for the class."""

    FRAMES = 25

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
            raise unittest.SkipTest("no ffmpeg/ffprobe tool")
        make_clip = find_make_clip()
        if not make_clip:
            raise unittest.SkipTest("make_clip not built (FS_MAKE_CLIP)")
        cls.clip = os.path.join(cls.tmp, "clip.mp4")
        r = subprocess.run([make_clip, "--scenario", "short", "--size", "640x360", "--face", "150",
                            "--seconds", "1", cls.clip, os.path.join(cls.tmp, "clip.txt")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if r.returncode != 0:
            raise AssertionError("make_clip failed: %s" % r.stderr.decode(errors="replace"))
        cls.template = os.path.join(cls.tmp, "clip.fst")
        r = run("analyse", cls.clip, "--output", cls.template)
        if r.returncode != 0:
            raise AssertionError("analyse failed: %s" % r.stderr.decode(errors="replace"))

    def folder(self, name):
        """A new empty folder: after a command, what is in it is all it wrote."""
        path = self.tmp_path(name)
        shutil.rmtree(path, ignore_errors=True)
        os.mkdir(path)
        return path

    def assert_only(self, folder, *names):
        self.assertEqual(sorted(os.listdir(folder)), sorted(names),
                         "files in %s (temporaries left?)" % folder)


class TestAnalyse(VideoTestCase):
    def test_summary(self):
        out = self.folder("summary")
        fst = os.path.join(out, "t.fst")
        r = run("analyse", self.clip, "--output", fst, "--progress", "on")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        line = r.stdout.decode()
        self.assertRegex(line, r"^%s: 640x360, %d frames, 1\.00 s, 1 track, protagonist track 0, "
                         r"face in \d+ frames, poster frame \d+\n$" % (re.escape(fst), self.FRAMES))
        self.assertIn("frames", r.stderr.decode(), "progress bar on stderr")
        self.assert_only(out, "t.fst")
        with open(fst, "rb") as f:
            self.assertEqual(f.read(4), b"FSTP")

    def test_json(self):
        out = self.folder("json")
        fst = os.path.join(out, "t.fst")
        r = run("analyse", self.clip, "--output", fst, "--json")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertEqual(r.stdout.count(b"\n"), 1, "one line")
        j = strict_json(r.stdout.decode())
        for key in ("template", "width", "height", "rotation", "fps", "frames", "duration",
                    "decode_errors", "protagonist", "poster_frame", "frames_with_face",
                    "content_sha256", "tracks"):
            self.assertIn(key, j)
        self.assertEqual(j["template"], fst)
        self.assertEqual((j["width"], j["height"], j["rotation"]), (640, 360, 0))
        self.assertEqual(j["fps"], [25, 1])
        self.assertEqual(j["frames"], self.FRAMES)
        self.assertEqual(j["frames"], ffprobe_frames(self.clip))
        self.assertAlmostEqual(j["duration"], 1.0, delta=0.001)
        self.assertEqual(j["decode_errors"], 0)
        with open(self.clip, "rb") as f:
            self.assertEqual(j["content_sha256"], hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(len(j["tracks"]), 1)
        t = j["tracks"][0]
        self.assertEqual(set(t), {"id", "first_frame", "last_frame", "frames", "mean_size"})
        self.assertEqual(t["id"], j["protagonist"])
        self.assertEqual((t["first_frame"], t["last_frame"]), (0, self.FRAMES - 1))
        self.assertEqual(t["frames"], j["frames_with_face"])
        self.assertGreaterEqual(t["frames"], self.FRAMES - 2)
        # make_clip's face is 150 px (larger side of the mesh's box), zoom 1 in this path
        self.assertAlmostEqual(t["mean_size"], 150, delta=25)
        self.assertTrue(0 <= j["poster_frame"] < self.FRAMES)

    def test_track(self):
        out = self.folder("track")
        sizes = {}
        for track in ("main", "all", "0"):
            fst = os.path.join(out, "t-%s.fst" % track)
            r = run("analyse", self.clip, "--output", fst, "--track", track, "--json")
            self.assertEqual(r.returncode, EXIT_OK, r.stderr)
            self.assertEqual(strict_json(r.stdout.decode())["frames"], self.FRAMES)
            sizes[track] = os.path.getsize(fst)
        # the same analysis; only the stored choice differs
        self.assertEqual(len(set(sizes.values())), 1)
        with open(os.path.join(out, "t-main.fst"), "rb") as a, \
                open(os.path.join(out, "t-all.fst"), "rb") as b:
            self.assertNotEqual(a.read(), b.read())
        # a track the video does not have: usage error, nothing written
        r = run("analyse", self.clip, "--output", os.path.join(out, "t-5.fst"), "--track", "5")
        self.assert_fails(r, EXIT_USAGE, "--track")
        self.assertFalse(os.path.exists(os.path.join(out, "t-5.fst")))

    def test_not_a_video(self):
        out = self.folder("notvideo")
        text = os.path.join(out, "text.mp4")
        with open(text, "w") as f:
            f.write("not a video\n")
        fst = os.path.join(out, "t.fst")
        r = run("analyse", text, "--output", fst)
        self.assert_fails(r, EXIT_VIDEO, "cannot analyse", "FS_ERR_VIDEO", "text.mp4")
        r = run("analyse", data("astronaut.png"), "--output", fst)
        self.assert_fails(r, EXIT_VIDEO, "FS_ERR_VIDEO")
        r = run("analyse", os.path.join(out, "missing.mp4"), "--output", fst)
        self.assert_fails(r, EXIT_VIDEO, "FS_ERR_NOT_FOUND", "missing.mp4")
        audio = os.path.join(out, "tone.m4a")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", self.clip, "-vn",
                        "-c:a", "copy", audio], check=True, timeout=120)
        r = run("analyse", audio, "--output", fst)
        self.assert_fails(r, EXIT_VIDEO, "FS_ERR_VIDEO", "no video stream")
        self.assert_only(out, "text.mp4", "tone.m4a")

    def test_usage_errors(self):
        out = self.folder("usage")
        fst = os.path.join(out, "t.fst")
        cases = [
            ["analyse"],
            ["analyse", self.clip],
            ["analyse", "--output", fst],
            ["analyse", self.clip, "--output", fst, "--track", "bogus"],
            ["analyse", self.clip, "--output", fst, "--track", "-1"],
            ["analyse", self.clip, "--output", fst, "--track", "65536"],
            ["analyse", self.clip, "--output", fst, "--crf", "20"],
            ["analyse", self.clip, "--output", fst, "--poster", "p.jpg"],
            ["analyse", self.clip, "--output", fst, "--progress", "maybe"],
            ["analyse", self.clip, "--output", fst, "--bogus"],
            ["analyse", self.clip, self.clip, "--output", fst],
        ]
        for args in cases:
            with self.subTest(args=args[1:]):
                r = run(*args)
                self.assertEqual(r.returncode, EXIT_USAGE, r.stderr)
                self.assertEqual(r.stdout, b"")
                self.assertIn(b"faceswap", r.stderr)
        self.assert_only(out)


class TestVideo(VideoTestCase):
    def render(self, folder, *extra):
        out = os.path.join(folder, "out.mp4")
        return out, run("video", "--source", data("astronaut.png"), "--video", self.clip,
                        "--output", out, "--preset", "ultrafast", *extra)

    def test_default_threads_follow_the_affinity_mask(self):
        # As ffmpeg counts cores: pinned to one CPU (taskset, a container's
        # cpuset), the default is one thread, however many the machine has.
        folder = self.folder("pinned")
        out = os.path.join(folder, "out.mp4")
        cpu = min(os.sched_getaffinity(0))
        r = subprocess.run([CLI, "video", "--source", data("astronaut.png"), "--video", self.clip,
                            "--template", self.template, "--output", out, "--preset", "ultrafast",
                            "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=300, preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertEqual(strict_json(r.stdout.decode())["threads"], 1)

    def test_with_template_json_poster(self):
        folder = self.folder("with-template")
        poster = os.path.join(folder, "poster.jpg")
        out, r = self.render(folder, "--template", self.template, "--poster", poster, "--json")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertEqual(r.stdout.count(b"\n"), 1, "one line")
        j = strict_json(r.stdout.decode())
        for key in ("output", "poster", "frames", "frames_swapped", "faces_skipped",
                    "decode_errors", "audio", "encoder", "threads", "seconds", "decode_seconds",
                    "swap_seconds", "encode_seconds", "wait_seconds", "protagonist"):
            self.assertIn(key, j)
        self.assertEqual(j["output"], out)
        self.assertEqual(j["poster"], poster)
        self.assertEqual(j["frames"], self.FRAMES)
        self.assertGreaterEqual(j["frames_swapped"], self.FRAMES - 2)
        self.assertLessEqual(j["frames_swapped"], self.FRAMES)
        self.assertEqual(j["decode_errors"], 0)
        self.assertEqual(j["audio"], "copied")
        self.assertEqual(j["encoder"], "libx264")
        self.assertGreaterEqual(j["threads"], 1)
        self.assertGreater(j["seconds"], 0)
        for key in ("decode_seconds", "swap_seconds", "encode_seconds", "wait_seconds"):
            self.assertGreaterEqual(j[key], 0)
        self.assertEqual(ffprobe_frames(out), self.FRAMES)
        with open(poster, "rb") as f:
            self.assertEqual(f.read(3), b"\xff\xd8\xff", "poster is a JPEG")
        self.assertEqual(jpeg_size(poster), (640, 360))
        self.assert_only(folder, "out.mp4", "poster.jpg")

    def test_without_template(self):
        folder = self.folder("no-template")
        out, r = self.render(folder)
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertRegex(r.stdout.decode(), r"^%s: %d frames, face swapped in \d+, [0-9.]+ s "
                         r"\([0-9.]+ fps\)\n$" % (re.escape(out), self.FRAMES))
        self.assertEqual(ffprobe_frames(out), self.FRAMES)
        self.assert_only(folder, "out.mp4")

    def test_source_without_face(self):
        folder = self.folder("noface")
        out = os.path.join(folder, "out.mp4")
        r = run("video", "--source", data("noface_3.png"), "--video", self.clip, "--template",
                self.template, "--output", out, "--poster", os.path.join(folder, "p.jpg"))
        self.assert_fails(r, EXIT_NO_FACE, "no face in the source photo", "FS_ERR_NO_FACE")
        self.assert_only(folder)

    def test_strict_source(self):
        # messi5's face is 35 px: refused before any analysis or output, exit 8
        folder = self.folder("strict")
        out = os.path.join(folder, "out.mp4")
        r = run("video", "--source", data("messi5.jpg"), "--video", self.clip, "--template",
                self.template, "--output", out, "--strict-source")
        self.assert_fails(r, EXIT_CHECK, "source photo", "fails the selfie check",
                          "face too small")
        self.assert_only(folder)

    def test_template_of_another_video(self):
        folder = self.folder("another")
        other = self.tmp_path("other.mp4")
        # the same frames in other bytes: a remux with a title
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", self.clip, "-c",
                        "copy", "-metadata", "title=other", other], check=True, timeout=120)
        out = os.path.join(folder, "out.mp4")
        r = run("video", "--source", data("astronaut.png"), "--video", other, "--template",
                self.template, "--output", out, "--poster", os.path.join(folder, "p.jpg"))
        self.assert_fails(r, EXIT_VIDEO, "FS_ERR_CHECKSUM", "not the video")
        self.assert_only(folder)

    def test_damaged_template(self):
        folder = self.folder("damaged")
        with open(self.template, "rb") as f:
            good = f.read()
        cases = [("cut.fst", good[:len(good) // 2], "FS_ERR_TRUNCATED"),
                 ("altered.fst", good[:-1] + bytes([good[-1] ^ 1]), "FS_ERR_CHECKSUM"),
                 ("v9.fst", good[:4] + struct.pack("<I", 9) + good[8:], "FS_ERR_VERSION")]
        for name, blob, status in cases:
            with self.subTest(name=name):
                fst = self.tmp_path(name)
                with open(fst, "wb") as f:
                    f.write(blob)
                r = run("video", "--source", data("astronaut.png"), "--video", self.clip,
                        "--template", fst, "--output", os.path.join(folder, "out.mp4"))
                self.assert_fails(r, EXIT_VIDEO, "cannot load the template", status, name)
        r = run("video", "--source", data("astronaut.png"), "--video", self.clip, "--template",
                self.tmp_path("missing.fst"), "--output", os.path.join(folder, "out.mp4"))
        self.assert_fails(r, EXIT_VIDEO, "FS_ERR_NOT_FOUND")
        self.assert_only(folder)

    def test_usage_errors(self):
        folder = self.folder("video-usage")
        out = os.path.join(folder, "out.mp4")
        base = ["video", "--source", data("astronaut.png"), "--video", self.clip, "--template",
                self.template, "--output", out]
        cases = [
            ["--crf", "52"], ["--crf", "-1"], ["--crf", "abc"], ["--crf", "20.5"], ["--crf"],
            ["--preset", "bogus"], ["--preset", "ULTRA"], ["--preset", ""],
            ["--max-kbitrate", "-5"], ["--encoder", "vaapi"], ["--track", "x"],
            ["--track", "3"],  # the template has one track
            ["--bogus"],
        ]
        for extra in cases:
            with self.subTest(extra=extra):
                r = run(*(base + extra))
                self.assertEqual(r.returncode, EXIT_USAGE, r.stderr)
                self.assertEqual(r.stdout, b"")
                self.assertIn(b"faceswap", r.stderr)
        for missing in ("--source", "--video", "--output"):
            with self.subTest(missing=missing):
                args = list(base)
                i = args.index(missing)
                del args[i:i + 2]
                r = run(*args)
                self.assertEqual(r.returncode, EXIT_USAGE, r.stderr)
        self.assert_only(folder)

    def test_help_lists_exit_7(self):
        r = run("--help")
        self.assertEqual(r.returncode, EXIT_OK)
        out = r.stdout.decode()
        for text in ("faceswap analyse VIDEO", "faceswap video --source PHOTO", "--template",
                     "--poster", "--crf", "--preset"):
            self.assertIn(text, out)
        self.assertRegex(out, r"\n  6  ")
        self.assertRegex(out, r"\n  7  ")


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        CLI = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
