"""Detector and Fitter on the test images, input layouts and bad arguments."""

import shutil
import threading

import numpy as np
import pytest

import faceswap


def assert_same_faces(a, b, atol=1e-3):
    assert len(a) == len(b)
    for fa, fb in zip(a, b):
        np.testing.assert_allclose(fa.box, fb.box, atol=atol)
        np.testing.assert_allclose(fa.score, fb.score, atol=atol)
        np.testing.assert_allclose(fa.keypoints, fb.keypoints, atol=atol)


@pytest.fixture(scope="module")
def reference(detector, fitter, astronaut):
    faces = detector.detect(astronaut)
    assert len(faces) == 1
    return faces, fitter.fit(astronaut, faces[0])


def test_astronaut_detection(reference, astronaut):
    faces, _ = reference
    face = faces[0]
    x, y, w, h = face.box
    assert all(isinstance(v, float) for v in face.box)
    assert 60 < w < 250 and 60 < h < 250
    assert 180 < x + w / 2 < 280 and 70 < y + h / 2 < 190
    assert 0.5 < face.score <= 1
    kp = face.keypoints
    assert kp.shape == (6, 2) and kp.dtype == np.float32
    right_eye, left_eye = kp[faceswap.Keypoint.RIGHT_EYE], kp[faceswap.Keypoint.LEFT_EYE]
    nose, mouth = kp[faceswap.Keypoint.NOSE], kp[faceswap.Keypoint.MOUTH]
    assert right_eye[0] < left_eye[0], "subject's right eye is on the image's left"
    assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]
    assert "Face(" in repr(face)


def test_astronaut_landmarks(reference, astronaut):
    faces, lm = reference
    pts = lm.points
    assert pts.shape == (478, 3) and pts.dtype == np.float32
    assert np.isfinite(pts).all()
    h, w = astronaut.shape[:2]
    assert (pts[:, 0] >= 0).all() and (pts[:, 0] < w).all()
    assert (pts[:, 1] >= 0).all() and (pts[:, 1] < h).all()
    assert lm.mesh.shape == (468, 3) and lm.iris.shape == (10, 3)
    x, y, bw, bh = faces[0].box
    cx, cy = pts[:, 0].mean(), pts[:, 1].mean()
    assert x < cx < x + bw and y < cy < y + bh, "the mesh sits on the detected face"
    assert 0.5 * bw < np.ptp(pts[:, 0]) < 2 * bw
    assert 0.5 < lm.confidence <= 1
    np.testing.assert_allclose(lm.box.box, faces[0].box)
    assert len(lm.crop) == 5
    pose = lm.pose
    r = pose.rotation
    assert r.shape == (3, 3)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-3)
    assert abs(np.linalg.det(r) - 1) < 1e-3
    assert pose.scale > 0
    assert abs(pose.yaw) < 40 and abs(pose.pitch) < 40 and abs(pose.roll) < 30
    assert pose.translation.shape == (3,)
    assert x - bw < pose.translation[0] < x + 2 * bw
    assert set(pose.as_dict()) == {"rotation", "translation", "scale", "yaw", "pitch", "roll"}
    assert "Landmarks(478 points" in repr(lm)


def test_track_follows(reference, fitter, astronaut):
    _, lm = reference
    tracked = fitter.track(astronaut, lm)
    assert tracked.points.shape == (478, 3)
    d = np.linalg.norm(tracked.points[:, :2] - lm.points[:, :2], axis=1)
    assert d.mean() < 5, d.mean()
    shifted = np.zeros_like(astronaut)
    shifted[:, 8:] = astronaut[:, :-8]  # the face moves 8 px right
    moved = fitter.track(shifted, tracked)
    assert 4 < moved.points[:, 0].mean() - lm.points[:, 0].mean() < 12


def test_hand_made_face(reference, fitter, astronaut):
    faces, lm = reference
    face = faceswap.Face(faces[0].box, score=0.9, keypoints=faces[0].keypoints)
    again = fitter.fit(astronaut, face)
    np.testing.assert_allclose(again.points, lm.points, atol=1e-3)
    with pytest.raises(ValueError):
        faceswap.Face((1, 2, 3))
    with pytest.raises(ValueError):
        faceswap.Face((1, 2, 3, 4), keypoints=np.zeros((5, 2)))
    with pytest.raises(TypeError):
        faceswap.Face((1, 2, 3, "4"))


def test_channel_orders_agree(detector, fitter, astronaut, reference):
    faces, lm = reference
    alpha = np.full(astronaut.shape[:2] + (1,), 255, np.uint8)
    variants = {
        "BGR": astronaut[:, :, ::-1].copy(),
        "RGBA": np.concatenate([astronaut, alpha], axis=2),
        "BGRA": np.concatenate([astronaut[:, :, ::-1], alpha], axis=2),
    }
    for fmt, img in variants.items():
        got = detector.detect(img, format=fmt)
        assert_same_faces(got, faces)
        np.testing.assert_allclose(fitter.fit(img, got[0], format=fmt).points, lm.points,
                                   atol=1e-2, err_msg=fmt)
    # 4 channels default to RGBA
    assert_same_faces(detector.detect(variants["RGBA"]), faces)


def test_grayscale(detector, fitter, astronaut, reference):
    faces, _ = reference
    gray = (astronaut @ np.array([0.299, 0.587, 0.114])).round().astype(np.uint8)
    got = detector.detect(gray)
    assert len(got) == 1
    assert abs(got[0].box[0] - faces[0].box[0]) < 20 and abs(got[0].box[1] - faces[0].box[1]) < 20
    lm = fitter.fit(gray, got[0])
    assert lm.points.shape == (478, 3) and lm.confidence > 0.5
    assert_same_faces(detector.detect(gray[:, :, None]), got)
    assert_same_faces(detector.detect(gray, format="GRAY"), got)


def test_layouts_agree(detector, astronaut, reference):
    faces, _ = reference
    half = astronaut[::2, ::2]  # non-contiguous
    assert not half.flags.c_contiguous
    assert_same_faces(detector.detect(half), detector.detect(np.ascontiguousarray(half)))
    assert_same_faces(detector.detect(np.asfortranarray(astronaut)), faces)
    padded = np.zeros((512, 512 + 13, 3), np.uint8)
    padded[:, :512] = astronaut
    view = padded[:, :512]  # rows padded: used in place
    assert not view.flags.c_contiguous
    assert_same_faces(detector.detect(view), faces)
    flipped = astronaut[::-1]
    assert_same_faces(detector.detect(flipped), detector.detect(flipped.copy()))
    ro = astronaut.copy()
    ro.flags.writeable = False
    assert_same_faces(detector.detect(ro), faces)
    assert np.array_equal(ro, astronaut), "input untouched"


def test_no_face(detector, fitter, testdata):
    # The detector proposes weak candidates on noface_12 (the reference does
    # too, tests/golden/noface_12.txt); the fitter rejects every one of them.
    image = faceswap.read_image(testdata("noface_12.png"))
    candidates = detector.detect(image)
    assert all(f.score < 0.6 for f in candidates)
    for face in candidates:
        with pytest.raises(faceswap.NoFaceError) as ei:
            fitter.fit(image, face)
        assert ei.value.status == -13 and ei.value.name == "FS_ERR_NO_FACE"
    for value in (0, 128, 255):
        assert detector.detect(np.full((64, 64, 3), value, np.uint8)) == []


def test_max_faces_and_order(ctx, testdata):
    image = faceswap.read_image(testdata("faceapi_sample5.jpg"))
    det = faceswap.Detector(ctx)
    everything = det.detect(image)
    assert len(everything) >= 3
    scores = [f.score for f in everything]
    assert scores == sorted(scores, reverse=True)
    det.max_faces = 2
    assert det.max_faces == 2
    assert_same_faces(det.detect(image), everything[:2])
    det.close()


def test_detector_parameters(ctx):
    det = faceswap.Detector(ctx, score_threshold=0.5, nms_threshold=0.3, max_faces=7,
                            input_mode="letterbox")
    assert det.score_threshold == pytest.approx(0.5)
    assert det.nms_threshold == pytest.approx(0.3)
    assert det.max_faces == 7
    assert det.input_mode == faceswap.DetectorInput.LETTERBOX
    det.input_mode = faceswap.DetectorInput.SQUASH
    assert det.input_mode == faceswap.DetectorInput.SQUASH
    assert faceswap.Detector.bounds("max_faces") == (1, 100)
    assert faceswap.Detector.bounds(faceswap.DetectorParam.SCORE_THRESHOLD) == (0, 1)
    with pytest.raises(faceswap.OutOfRangeError) as ei:
        det.max_faces = 0
    assert ei.value.detail == det.last_error != ""
    with pytest.raises(faceswap.OutOfRangeError):
        det.score_threshold = 1.5
    with pytest.raises(TypeError):
        det.max_faces = 2.5
    with pytest.raises(TypeError):
        det.score_threshold = "high"
    with pytest.raises(ValueError):
        det.input_mode = "stretch"
    with pytest.raises(faceswap.OutOfRangeError):
        faceswap.Detector(ctx, max_faces=101)
    det.close()


def test_fitter_parameters(ctx):
    fit = faceswap.Fitter(ctx, align="none", min_confidence=0.4, iris=False)
    assert fit.align == faceswap.FitterAlign.NONE
    assert fit.min_confidence == pytest.approx(0.4)
    assert fit.iris is False
    fit.align = "roll"
    assert fit.align == faceswap.FitterAlign.ROLL
    with pytest.raises(faceswap.OutOfRangeError):
        fit.min_confidence = -0.1
    with pytest.raises(ValueError):
        fit.align = "yaw"
    fit.close()


def test_input_modes_and_alignment_find_the_face(ctx, astronaut, reference):
    faces, lm = reference
    for mode in ("squash", "letterbox"):
        got = faceswap.Detector(ctx, input_mode=mode).detect(astronaut)
        assert len(got) == 1
        assert np.allclose(got[0].box, faces[0].box, atol=15), mode
        for align in ("none", "roll"):
            pts = faceswap.Fitter(ctx, align=align).fit(astronaut, got[0]).points
            assert np.abs(pts[:, :2] - lm.points[:, :2]).mean() < 5, (mode, align)


def test_no_face_fit(ctx, testdata):
    image = faceswap.read_image(testdata("noface_12.png"))
    fit = faceswap.Fitter(ctx, min_confidence=0.999)
    with pytest.raises(faceswap.NoFaceError) as ei:
        fit.fit(image, faceswap.Face((50, 50, 100, 100)))
    assert ei.value.status == -13 and ei.value.name == "FS_ERR_NO_FACE"
    fit.close()


def test_bad_arguments(detector, fitter, astronaut, reference):
    faces, lm = reference
    with pytest.raises(TypeError):
        detector.detect(astronaut.tolist())
    with pytest.raises(TypeError):
        detector.detect(astronaut.astype(np.float32))
    with pytest.raises(ValueError):
        detector.detect(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(ValueError):
        detector.detect(astronaut, format="GRAY")
    with pytest.raises(TypeError):
        fitter.fit(astronaut, faces[0].box)
    with pytest.raises(TypeError):
        fitter.track(astronaut, faces[0])
    with pytest.raises(TypeError):
        faceswap.Detector("context")
    with pytest.raises(faceswap.InvalidArgumentError):
        detector.set(17, 1.0)


def test_missing_and_altered_models(tmp_path, model_dir):
    with pytest.raises(faceswap.NotFoundError) as ei:
        faceswap.Detector(faceswap.Context(model_dir=tmp_path))
    assert ei.value.status == -5 and ei.value.detail
    with pytest.raises(faceswap.NotFoundError):
        faceswap.Fitter(faceswap.Context(model_dir=tmp_path))
    altered = tmp_path / "altered"
    shutil.copytree(model_dir, altered)
    with open(altered / "blazeface.bin", "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0x55]))
    with pytest.raises(faceswap.ChecksumError) as ei:
        faceswap.Detector(faceswap.Context(model_dir=altered))
    assert "blazeface" in ei.value.detail


def test_one_object_one_thread(detector, astronaut):
    detector._busy.acquire()  # as if another thread were inside detect()
    try:
        with pytest.raises(RuntimeError, match="thread"):
            detector.detect(astronaut)
    finally:
        detector._busy.release()


def test_threads_with_own_detectors(ctx, astronaut, reference):
    faces, _ = reference
    results, errors = [None] * 3, []

    def work(i):
        try:
            with faceswap.Detector(ctx) as det:
                results[i] = det.detect(astronaut)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        assert_same_faces(r, faces)
