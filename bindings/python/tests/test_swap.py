"""Identity and Renderer (0.2): capture, blob round trip, whole-image swap, errors."""
import numpy as np
import pytest

import faceswap


def test_identity_round_trip_and_swap(ctx, testdata, tmp_path):
    src = faceswap.read_image(testdata("astronaut.png"), ctx=ctx)
    tgt = faceswap.read_image(testdata("messi5.jpg"), ctx=ctx)
    ident = faceswap.Identity.from_image(src, ctx=ctx)
    blob = ident.to_bytes()
    assert blob[:4] == b"FSID"
    again = faceswap.Identity.from_bytes(blob, ctx=ctx)
    assert again.to_bytes() == blob
    path = tmp_path / "id.fsid"
    ident.save(path)
    assert faceswap.Identity.load(path, ctx=ctx).to_bytes() == blob

    with faceswap.Renderer(ctx, color="meanstd", blend="poisson") as ren:
        assert ren.get(faceswap.RendererParam.BLEND) == faceswap.Blend.POISSON
        out, n = ren.swap_image(ident, tgt, faces="largest")
        out2, _ = ren.swap_image(again, tgt, faces="largest")
    assert n == 1
    assert out.shape == tgt.shape and out.dtype == np.uint8
    changed = np.any(out != tgt, axis=2)
    assert 100 < changed.sum() < 0.2 * changed.size  # the face, not the image
    assert np.array_equal(out, out2)


def test_errors(ctx, testdata):
    noface = faceswap.read_image(testdata("noface_3.png"), ctx=ctx)
    with pytest.raises(faceswap.NoFaceError):
        faceswap.Identity.from_image(noface, ctx=ctx)
    src = faceswap.read_image(testdata("astronaut.png"), ctx=ctx)
    blob = faceswap.Identity.from_image(src, ctx=ctx).to_bytes()
    with pytest.raises(faceswap.TruncatedError):
        faceswap.Identity.from_bytes(blob[:-1], ctx=ctx)
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 1
    with pytest.raises(faceswap.ChecksumError):
        faceswap.Identity.from_bytes(bytes(bad), ctx=ctx)
    ren = faceswap.Renderer(ctx)
    with pytest.raises(faceswap.OutOfRangeError):
        ren.set(faceswap.RendererParam.SUBDIVISION, 9)
    with pytest.raises(faceswap.NoFaceError):
        ren.swap_image(faceswap.Identity.from_bytes(blob, ctx=ctx), noface)
    ren.close()


def test_swap_image_report_and_source_face(ctx, testdata):
    group = faceswap.read_image(testdata("faceapi_sample5.jpg"), ctx=ctx)
    ident = faceswap.Identity.from_image(group, ctx=ctx)
    n, index, face = ident.source_face
    assert n == 5 and 0 <= index < 5
    assert face.box[2] == max(f.box[2] for f in faceswap.Detector(ctx).detect(group))
    again = faceswap.Identity.from_bytes(ident.to_bytes(), ctx=ctx)
    assert again.source_face == (0, -1, None)

    tgt = faceswap.read_image(testdata("messi5.jpg"), ctx=ctx)
    with faceswap.Renderer(ctx) as ren:
        assert ren.get(faceswap.RendererParam.MIN_FACE) == 24
        assert ren.get(faceswap.RendererParam.MAX_YAW) == 75
        assert ren.get(faceswap.RendererParam.SHAPE) == 0.5
        assert ren.get(faceswap.RendererParam.MATCH_DETAIL) == 1
        assert ren.get(faceswap.RendererParam.SKIN_GUARD) == 1
        out, reports = ren.swap_image_report(ident, tgt)
        assert [r.outcome for r in reports].count(faceswap.SwapOutcome.SWAPPED) == 1
        assert all(r.outcome in (faceswap.SwapOutcome.SWAPPED, faceswap.SwapOutcome.SKIPPED_FIT)
                   for r in reports)
        assert not np.array_equal(out, tgt)
        ren.set(faceswap.RendererParam.MIN_FACE, 40)
        with pytest.raises(faceswap.NoFaceError) as err:
            ren.swap_image_report(ident, tgt)
        with pytest.raises(faceswap.OutOfRangeError):
            ren.set(faceswap.RendererParam.MAX_YAW, 91)
    small = [r for r in err.value.reports if r.outcome == faceswap.SwapOutcome.SKIPPED_SMALL]
    assert len(small) == 1 and small[0].status == "FS_ERR_NO_FACE"
    assert 30 < small[0].face_size < 40
    assert "FS_RENDERER_MIN_FACE" in err.value.detail


def test_selfie_check(ctx, testdata):
    """check_image and Identity.check (0.4): a portrait passes; a darkened copy, a
    35-px face and a group photo fail with their flags; the contract of the score."""
    src = faceswap.read_image(testdata("astronaut.png"), ctx=ctx)
    good = faceswap.check_image(src, ctx=ctx)
    assert good.passed and good.flags == 0 and good.failed == []
    assert good.score >= 0.5 and good.score == min(good.quality.values())
    assert list(good.quality) == ["small", "turned", "dark", "bright", "coloured", "blurred",
                                  "eyes_closed", "covered", "cut", "crowded"]
    assert (good.faces, good.face_index) == (1, 0) and 90 < good.face_size < 120
    assert faceswap.Identity.from_image(src, ctx=ctx).check.luma == good.luma

    dark = faceswap.check_image((src // 4).astype(np.uint8), ctx=ctx)
    assert dark.flags == faceswap.CheckFlag.DARK and dark.failed == ["dark"]
    assert dark.score < 0.5 and dark.luma < 0.3 * good.luma

    messi = faceswap.check_image(faceswap.read_image(testdata("messi5.jpg"), ctx=ctx), ctx=ctx)
    assert messi.flags == faceswap.CheckFlag.SMALL and messi.face_size < 40
    group = faceswap.Identity.from_image(
        faceswap.read_image(testdata("faceapi_sample1.jpg"), ctx=ctx), ctx=ctx)
    assert faceswap.CheckFlag.CROWDED in group.check.flags

    with pytest.raises(faceswap.NotFoundError):  # a loaded identity keeps no check
        faceswap.Identity.from_bytes(group.to_bytes(), ctx=ctx).check
    with pytest.raises(faceswap.NoFaceError):
        faceswap.check_image(faceswap.read_image(testdata("noface_3.png"), ctx=ctx), ctx=ctx)
    with pytest.raises(faceswap.OutOfRangeError):
        faceswap.check_image(src, face=3, ctx=ctx)
