"""Template and Video (0.3): analyse, save, load, info, tracks, faces, parameters,
progress and cancel through the callback, render, report, poster, and errors raised
as the right FaceswapError subclasses. The clip is made with the ffmpeg tool (the
tests are skipped without it): one second of astronaut.png, still, with a tone."""
import hashlib
import os
import shutil
import subprocess

import numpy as np
import pytest

import faceswap

FRAMES = 25


@pytest.fixture(scope="module")
def clip(testdata, tmp_path_factory):
    if not shutil.which("ffmpeg"):
        pytest.skip("no ffmpeg tool")
    path = str(tmp_path_factory.mktemp("video") / "clip.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-loop", "1", "-framerate",
                    "25", "-i", testdata("astronaut.png"), "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1", "-frames:v", str(FRAMES), "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    path], check=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def template(ctx, clip):
    t = faceswap.Template(ctx)
    t.analyse(clip)
    yield t
    t.close()


@pytest.fixture(scope="module")
def identity(ctx, testdata):
    return faceswap.Identity.from_image(faceswap.read_image(testdata("astronaut.png")), ctx=ctx)


def test_analyse_info_tracks_face(template, clip):
    info = template.info
    assert (info["width"], info["height"], info["rotation"]) == (512, 512, 0)
    assert info["fps"] == (25, 1)
    assert info["frames"] == FRAMES
    assert info["duration"] == pytest.approx(1.0, abs=1e-3)
    assert info["decode_errors"] == 0
    assert info["tracks"] == 1 and info["protagonist"] == 0
    assert info["frames_with_face"] == FRAMES
    assert 0 <= info["poster_frame"] < FRAMES
    with open(clip, "rb") as f:
        assert info["content_sha256"] == hashlib.sha256(f.read()).hexdigest()
    tracks = template.tracks
    assert len(tracks) == 1
    assert tracks[0]["id"] == 0
    assert (tracks[0]["first_frame"], tracks[0]["last_frame"]) == (0, FRAMES - 1)
    assert tracks[0]["frames"] == FRAMES
    assert 100 < tracks[0]["mean_size"] < 512
    lm = template.face(0)
    assert lm is not None
    assert lm.points.shape == (478, 3) and lm.points.dtype == np.float32
    assert np.all(np.isfinite(lm.points))
    assert 0 < lm.points[:, 0].min() and lm.points[:, 0].max() < 512
    # a still picture: the smoothed face stays put, on average within 0.5% of
    # its size, every point within 2% (the first frame's fit starts from the
    # detection, the next ones from the previous landmarks: a step of about
    # half a pixel in the raw fits, which the smoother spreads out)
    last = template.face(FRAMES - 1, track=0)
    moved = np.abs(last.points[:, :2] - lm.points[:, :2])
    assert moved.mean() < 0.005 * tracks[0]["mean_size"]
    assert moved.max() < 0.02 * tracks[0]["mean_size"]
    assert template.face(0, track=5) is None
    with pytest.raises(faceswap.OutOfRangeError):
        template.face(FRAMES)


def test_save_load(ctx, template, tmp_path):
    path = tmp_path / "t.fst"
    template.save(path)
    blob = path.read_bytes()
    assert blob[:4] == b"FSTP"
    again = faceswap.Template.load(path, ctx=ctx)
    assert again.info == template.info
    assert again.tracks == template.tracks
    assert np.array_equal(again.face(3).points, template.face(3).points)
    # damaged copies raise the status's class, and leave a loaded template as it was
    cut, bad, v9 = tmp_path / "cut.fst", tmp_path / "bad.fst", tmp_path / "v9.fst"
    cut.write_bytes(blob[:len(blob) // 2])
    bad.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    v9.write_bytes(blob[:4] + (9).to_bytes(4, "little") + blob[8:])
    for p, cls in ((cut, faceswap.TruncatedError), (bad, faceswap.ChecksumError),
                   (v9, faceswap.VersionError), (tmp_path / "missing.fst", faceswap.NotFoundError)):
        with pytest.raises(cls) as e:
            faceswap.Template.load(p, ctx=ctx)
        assert p.name in e.value.detail
    with pytest.raises(faceswap.ChecksumError):
        faceswap.Template.load(bad, ctx=ctx)
    # an empty template has nothing to save or show
    empty = faceswap.Template(ctx)
    with pytest.raises(faceswap.InvalidArgumentError):
        empty.save(tmp_path / "empty.fst")
    with pytest.raises(faceswap.InvalidArgumentError):
        empty.info
    assert not (tmp_path / "empty.fst").exists()
    empty.close()


def test_parameters(ctx):
    t = faceswap.Template(ctx, track="all")
    assert t.get(faceswap.TemplateParam.TRACK) == -2  # FS_TRACK_ALL
    assert t.get("max_seconds") == 600
    t.set("smooth", 0)
    assert t.get(faceswap.TemplateParam.SMOOTH) == 0
    with pytest.raises(faceswap.OutOfRangeError) as e:
        t.set(faceswap.TemplateParam.MAX_FACES, 17)
    assert e.value.detail
    with pytest.raises(faceswap.OutOfRangeError):
        t.set(faceswap.TemplateParam.REDETECT_INTERVAL, 1.5)
    with pytest.raises(ValueError):
        t.set("no_such_param", 1)
    with pytest.raises(TypeError):
        t.set("smooth", "1")
    t.close()
    with pytest.raises(ValueError):
        t.info  # closed
    v = faceswap.Video(ctx, crf=30, preset="ultrafast")
    assert v.get(faceswap.VideoParam.CRF) == 30
    assert v.get("preset") == faceswap.Preset.ULTRAFAST
    assert v.get(faceswap.VideoParam.TRACK) == -3  # the template's choice
    for param, value in ((faceswap.VideoParam.CRF, 52), (faceswap.VideoParam.CRF, -1),
                         (faceswap.VideoParam.PRESET, 9), (faceswap.VideoParam.ENCODER, 3)):
        with pytest.raises(faceswap.OutOfRangeError):
            v.set(param, value)
    with pytest.raises(ValueError):
        faceswap.Video(ctx, preset="warp")
    with pytest.raises(faceswap.InvalidArgumentError):
        v.report  # no render yet
    v.close()


def test_progress_and_cancel(ctx, clip):
    seen = []
    t = faceswap.Template(ctx)
    t.analyse(clip, progress=lambda done, total: seen.append((done, total)))
    assert [d for d, _ in seen] == list(range(1, FRAMES + 1))
    assert all(total == FRAMES for _, total in seen)

    # a truthy return cancels; the template is left empty
    calls = []
    with pytest.raises(faceswap.CancelledError) as e:
        t.analyse(clip, progress=lambda done, total: calls.append(done) or done >= 5)
    assert calls == [1, 2, 3, 4, 5]
    assert "cancel" in e.value.detail
    with pytest.raises(faceswap.InvalidArgumentError):
        t.info

    # an exception in the callback cancels the call and comes out as itself
    class Stop(Exception):
        pass

    def boom(done, total):
        if done == 3:
            raise Stop("from the callback")
    with pytest.raises(Stop, match="from the callback"):
        t.analyse(clip, progress=boom)
    with pytest.raises(faceswap.InvalidArgumentError):
        t.info
    t.close()


def test_render_report_poster(ctx, clip, template, identity, tmp_path):
    out, poster = tmp_path / "out.mp4", tmp_path / "poster.jpg"
    ren = faceswap.Renderer(ctx)
    with faceswap.Video(ctx, preset="ultrafast", poster=poster) as v:
        assert v.poster == poster
        done = []
        report = v.render(ren, identity, template, clip, out,
                          progress=lambda d, t: done.append(d))
        assert report == v.report
    assert done == list(range(1, FRAMES + 1))
    assert report["frames"] == FRAMES
    assert report["frames_swapped"] == FRAMES
    assert report["faces_skipped"] == 0 and report["decode_errors"] == 0
    assert report["audio"] == "copied"
    assert report["encoder"] == "libx264"
    assert report["threads"] >= 1
    assert report["seconds"] > 0
    for key in ("decode_seconds", "swap_seconds", "encode_seconds", "wait_seconds"):
        assert report[key] >= 0
    assert sorted(os.listdir(tmp_path)) == ["out.mp4", "poster.jpg"]
    assert out.read_bytes()[4:8] == b"ftyp"
    img = faceswap.read_image(poster)
    assert img.shape == (512, 512, 3)
    ren.close()


def test_render_errors(ctx, clip, template, identity, tmp_path, testdata):
    ren = faceswap.Renderer(ctx)
    v = faceswap.Video(ctx, preset="ultrafast", poster=tmp_path / "p.jpg")
    out = tmp_path / "out.mp4"
    # the template of another video: the same frames remuxed
    other = str(tmp_path / "other.mkv")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", clip, "-c", "copy",
                    other], check=True, timeout=120)
    with pytest.raises(faceswap.ChecksumError) as e:
        v.render(ren, identity, template, other, out)
    assert "not the video" in e.value.detail
    with pytest.raises(faceswap.NotFoundError):
        v.render(ren, identity, template, tmp_path / "missing.mp4", out)
    # not a video, no video stream: VideoError (also a FaceswapError)
    text = tmp_path / "text.mp4"
    text.write_text("not a video\n")
    t = faceswap.Template(ctx)
    with pytest.raises(faceswap.VideoError) as e:
        t.analyse(text)
    assert isinstance(e.value, faceswap.FaceswapError)
    assert e.value.name == "FS_ERR_VIDEO" and "text.mp4" in e.value.detail
    tone = str(tmp_path / "tone.m4a")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", clip, "-vn", "-c:a",
                    "copy", tone], check=True, timeout=120)
    with pytest.raises(faceswap.VideoError, match="no video stream"):
        t.analyse(tone)
    with pytest.raises(faceswap.NotFoundError):
        t.analyse(tmp_path / "missing.mp4")
    with pytest.raises(faceswap.TooLargeError):
        t.set("max_seconds", 1)
        long = str(tmp_path / "long.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "color=s=64x64:r=25:d=3", "-c:v", "libx264", "-preset", "ultrafast", long],
                       check=True, timeout=120)
        t.analyse(long)
    # an empty template, a track it does not have, wrong types
    with pytest.raises(faceswap.InvalidArgumentError):
        v.render(ren, identity, t, clip, out)
    v.set(faceswap.VideoParam.TRACK, 4)
    with pytest.raises(faceswap.OutOfRangeError):
        v.render(ren, identity, template, clip, out)
    v.set(faceswap.VideoParam.TRACK, -3)
    with pytest.raises(TypeError):
        v.render(ren, "identity", template, clip, out)
    with pytest.raises(TypeError):
        v.render(ren, identity, "template", clip, out)
    # cancel, and an exception from the callback: CancelledError / the exception
    with pytest.raises(faceswap.CancelledError):
        v.render(ren, identity, template, clip, out, progress=lambda d, total: d >= 3)

    def boom(done, total):
        raise KeyError("stop")
    with pytest.raises(KeyError):
        v.render(ren, identity, template, clip, out, progress=boom)
    # nothing written by any of them
    assert sorted(os.listdir(tmp_path)) == ["long.mp4", "other.mkv", "text.mp4", "tone.m4a"]
    t.close()
    v.close()
    ren.close()
