"""Identity.landmarks / .atlas and Renderer.debug_images (KEEP_DEBUG)."""
import numpy as np
import pytest

import faceswap


def test_identity_landmarks_and_atlas(ctx, testdata):
    src = faceswap.read_image(testdata("astronaut.png"), ctx=ctx)
    ident = faceswap.Identity.from_image(src, ctx=ctx)
    lm = ident.landmarks
    assert lm.shape == (faceswap.FS_LANDMARKS, 3) and lm.dtype == np.float32
    assert 0 < lm[:, 0].min() < lm[:, 0].max() < src.shape[1]
    assert 0 < lm[:, 1].min() < lm[:, 1].max() < src.shape[0]
    atlas = ident.atlas
    assert atlas.ndim == 3 and atlas.shape[0] == atlas.shape[1] and atlas.shape[2] == 4
    assert atlas[0, 0, 3] == 0 and (atlas[:, :, 3] == 255).mean() > 0.25
    again = faceswap.Identity.from_bytes(ident.to_bytes(), ctx=ctx)
    assert np.array_equal(again.landmarks, lm)
    assert np.array_equal(again.atlas, atlas)


def test_debug_images(ctx, testdata):
    src = faceswap.read_image(testdata("astronaut.png"), ctx=ctx)
    tgt = faceswap.read_image(testdata("messi5.jpg"), ctx=ctx)
    ident = faceswap.Identity.from_image(src, ctx=ctx)
    with faceswap.Renderer(ctx, blend="alpha") as ren:
        out, n = ren.swap_image(ident, tgt, faces="largest")
        assert n == 1 and ren.debug_images() == []  # KEEP_DEBUG is off by default
        ren.set(faceswap.RendererParam.KEEP_DEBUG, 1)
        out, n = ren.swap_image(ident, tgt, faces="largest")
        faces = ren.debug_images()
    assert len(faces) == 1
    f = faces[0]
    h, w = f["mask"].shape
    assert f["render"].shape == (h, w, 3) and f["coverage"].shape == (h, w)
    assert f["mask"].dtype == np.uint8 and f["mask"].max() == 255 and f["mask"][0, 0] == 0
    x, y = f["x"], f["y"]
    window = out[y:y + h, x:x + w]
    full = f["mask"] == 255
    # alpha blend: the render where the weight is 1, the target where it is 0
    assert np.array_equal(window[full], f["render"][full])
    zero = f["mask"] == 0
    assert np.array_equal(window[zero], tgt[y:y + h, x:x + w][zero])
    assert not np.any((f["mask"] > 0) & (f["coverage"] == 0))
    with pytest.raises(faceswap.OutOfRangeError):
        ren2 = faceswap.Renderer(ctx)
        try:
            ren2.set(faceswap.RendererParam.KEEP_DEBUG, 2)
        finally:
            ren2.close()
