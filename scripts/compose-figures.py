#!/usr/bin/python3
"""Composes doc/img figures from `faceswap swap --debug DIR` folders.

Called by scripts/make-figures.sh; reads and writes images with libfaceswap
itself (the Python binding in bindings/python, through ctypes) and numpy, so
that it needs no imaging package.

    compose-figures.py faces DEBUGDIR OUT.jpg     # per face: before over after
    compose-figures.py full DEBUGDIR OUT.jpg      # whole target: before | after
    compose-figures.py strip DEBUGDIR FACE OUT.jpg
        # one face: source crop | atlas | render | mask | after

The library is found through $FACESWAP_LIBRARY (make-figures.sh sets it).
"""
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import faceswap  # noqa: E402

GAP = 6           # white pixels between tiles
WHITE = 255


def read(path):
    img = faceswap.read_image(path)  # RGB8, alpha dropped
    return img


def read_rgba(path):
    """An 8-bit RGBA PNG as HxWx4. The library's reader drops alpha, and the
    atlas needs it (0 outside the face) to be shown on grey: a minimal
    decoder (zlib from the standard library, the five PNG filters)."""
    import struct
    import zlib
    with open(path, "rb") as f:
        blob = f.read()
    pos, idat, hdr = 8, [], None
    while pos < len(blob):
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        body = blob[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    w, h, depth, ctype = hdr[0], hdr[1], hdr[2], hdr[3]
    if depth != 8 or ctype != 6 or hdr[6] != 0:
        raise ValueError("%s: not an 8-bit RGBA PNG" % path)
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, w * 4 + 1)
    out = np.zeros((h, w * 4), np.int32)
    prev = np.zeros(w * 4, np.int32)
    for y in range(h):
        ftype, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 255
        else:  # Sub, Average, Paeth depend on the left pixel: per pixel
            cur = np.zeros_like(line)
            for i in range(w * 4):
                a = cur[i - 4] if i >= 4 else 0
                b = prev[i]
                c = prev[i - 4] if i >= 4 else 0
                if ftype == 1:
                    p = a
                elif ftype == 3:
                    p = (a + b) >> 1
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (line[i] + p) & 255
        out[y] = cur
        prev = cur
    return out.reshape(h, w, 4).astype(np.uint8)


def resize(img, height=None, width=None):
    """Area reduction by an integer factor, then bilinear to the exact size."""
    h, w = img.shape[:2]
    if height is None:
        height = max(1, int(round(h * width / w)))
    if width is None:
        width = max(1, int(round(w * height / h)))
    f = img.astype(np.float64)
    k = int(min(h / height, w / width))
    if k >= 2:
        hh, ww = h // k * k, w // k * k
        f = f[:hh, :ww].reshape(hh // k, k, ww // k, k, -1).mean(axis=(1, 3))
        h, w = f.shape[:2]
    ys = (np.arange(height) + 0.5) * h / height - 0.5
    xs = (np.arange(width) + 0.5) * w / width - 0.5
    y0 = np.clip(np.floor(ys).astype(int), 0, h - 1)
    x0 = np.clip(np.floor(xs).astype(int), 0, w - 1)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy = np.clip(ys - y0, 0, 1)[:, None, None]
    wx = np.clip(xs - x0, 0, 1)[None, :, None]
    top = f[y0][:, x0] * (1 - wx) + f[y0][:, x1] * wx
    bot = f[y1][:, x0] * (1 - wx) + f[y1][:, x1] * wx
    out = top * (1 - wy) + bot * wy
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(height, width, -1)


def rgb(img):
    if img.ndim == 2:
        img = img[:, :, None]
    return np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img[:, :, :3]


def hstack(tiles):
    h = max(t.shape[0] for t in tiles)
    parts = []
    for i, t in enumerate(tiles):
        if i:
            parts.append(np.full((h, GAP, 3), WHITE, np.uint8))
        pad = np.full((h, t.shape[1], 3), WHITE, np.uint8)
        pad[:t.shape[0]] = t
        parts.append(pad)
    return np.concatenate(parts, axis=1)


def vstack(rows):
    w = max(r.shape[1] for r in rows)
    parts = []
    for i, r in enumerate(rows):
        if i:
            parts.append(np.full((GAP, w, 3), WHITE, np.uint8))
        pad = np.full((r.shape[0], w, 3), WHITE, np.uint8)
        pad[:, :r.shape[1]] = r
        parts.append(pad)
    return np.concatenate(parts, axis=0)


def faces_of(dbg):
    with open(os.path.join(dbg, "faces.json")) as f:
        return json.load(f)


def window(face, shape, grow=0.15):
    """The face's window grown by @grow of its size, clipped to the image."""
    h, w = shape[:2]
    m = int(round(grow * max(face["width"], face["height"])))
    x0, y0 = max(0, face["x"] - m), max(0, face["y"] - m)
    x1 = min(w, face["x"] + face["width"] + m)
    y1 = min(h, face["y"] + face["height"] + m)
    return slice(y0, y1), slice(x0, x1)


def write(path, img):
    faceswap.write_image(path, np.ascontiguousarray(img))


def fig_faces(dbg, out, tile=300, max_width=1200):
    """One face: before | after. Several: a column per face, before above
    after, the tiles made smaller so that the figure stays max_width wide."""
    before, after = read(os.path.join(dbg, "before.png")), read(os.path.join(dbg, "after.png"))
    crops = [window(face, before.shape) for face in faces_of(dbg)]
    if len(crops) == 1:
        ys, xs = crops[0]
        write(out, hstack([resize(before[ys, xs], height=360), resize(after[ys, xs], height=360)]))
        return
    aspect = sum((xs.stop - xs.start) / (ys.stop - ys.start) for ys, xs in crops)
    tile = int(min(tile, (max_width - GAP * (len(crops) - 1)) / aspect))
    cols = [(resize(before[ys, xs], height=tile), resize(after[ys, xs], height=tile))
            for ys, xs in crops]
    write(out, vstack([hstack([c[0] for c in cols]), hstack([c[1] for c in cols])]))


def fig_full(dbg, out, width=600):
    before, after = read(os.path.join(dbg, "before.png")), read(os.path.join(dbg, "after.png"))
    write(out, hstack([resize(before, width=width), resize(after, width=width)]))


def fig_strip(dbg, face_index, out, height=256):
    face = [f for f in faces_of(dbg) if f["face"] == face_index][0]
    crop = read(os.path.join(dbg, "source_crop.png"))
    atlas = read_rgba(os.path.join(dbg, "atlas.png")).astype(np.float64)
    alpha = atlas[:, :, 3:4] / 255.0
    atlas = np.rint(atlas[:, :, :3] * alpha + 128.0 * (1 - alpha)).astype(np.uint8)
    render = read(os.path.join(dbg, "face%d_render.png" % face_index))
    mask = read(os.path.join(dbg, "face%d_mask.png" % face_index))
    after = read(os.path.join(dbg, "after.png"))
    x, y = face["x"], face["y"]
    after = after[y:y + face["height"], x:x + face["width"]]
    tiles = [crop, atlas, render, rgb(mask), after]
    write(out, hstack([resize(t, height=height) for t in tiles]))


def main(argv):
    if len(argv) == 3 and argv[0] == "faces":
        fig_faces(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "full":
        fig_full(argv[1], argv[2])
    elif len(argv) == 4 and argv[0] == "strip":
        fig_strip(argv[1], int(argv[2]), argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
