#!/usr/bin/python3
"""Blend stage vs OpenCV's seamlessClone (issue 3, item 6).

Runs build/benchmarks/bench_blend, then cv2.seamlessClone (NORMAL_CLONE) on
the same target, region, source and mask, and measures both results with
the same seam code (bench_blend --seam: item 4's border-gradient measure).

Default: the swap's own blend input. bench_blend runs the swap pipeline once
(SOURCE, default data/testdata/astronaut.png, onto the largest face of IMAGE
cropped to 1920x1080) with the Poisson blend, and times lib/compose's
Poisson, multi-band and alpha blends on exactly the face window, render and
hard mask that the swap blended (pipeline_diff_*: each blend's result
against the swap's own output for that mode; 0 means the same pixels).
--synthetic: the earlier stand-in (a 400x400 window mirrored and colour
shifted, an ellipse mask).

Both sides run on one core (this process pins itself to CPU 0; the C program
inherits it; OpenCV is limited to one thread). Prints figures, asserts
nothing.

Needs Debian's python3-opencv (FS_BENCH_DEPS=1 scripts/install-deps.sh), hence
/usr/bin/python3 rather than whatever python3 is first on PATH.

    benchmarks/bench_blend.py BUILD_DIR [IMAGE ...] [--source SOURCE] [--synthetic] [--reps N]

With no IMAGE it runs the six face-api samples (faceapi_sample1..6.jpg, the
largest face of each): OpenCV's time depends on its DFT sizes, that is on the
mask's bounding box, and varies about fourfold between similar faces, so one
face says little. With several images it ends with one line per face and the
speed-up's range and median.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time


def kv(text):
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def take_option(args, name, default=None, flag=False):
    if name not in args:
        return default
    i = args.index(name)
    if flag:
        del args[i]
        return True
    value = args[i + 1]
    del args[i:i + 2]
    return value


def opencv_center(mask, x, y):
    """The `p` that makes seamlessClone put the source's window on (x, y).

    OpenCV 4.x's seamlessClone clears the mask's outer 1-pixel frame
    (copyMakeBorder of the inner part), takes the bounding box roi_s of what
    is left, and pastes it at (p.x - roi_s.width / 2, p.y - roi_s.height / 2)
    (integer division). Returns p and the mask pixels the frame clearing
    dropped (the mask touching the window edge)."""
    import cv2
    inner = mask.copy()
    inner[0, :] = 0
    inner[-1, :] = 0
    inner[:, 0] = 0
    inner[:, -1] = 0
    bx, by, bw, bh = cv2.boundingRect(inner)
    dropped = int((mask > 0).sum() - (inner > 0).sum())
    return (x + bx + bw // 2, y + by + bh // 2), dropped


def placement_check(res, src, mask, x, y):
    """Mean |gradient of the result - gradient of the source| well inside the
    mask (OpenCV takes the source's gradients only there: it erodes the mask
    by 3 px), for the result's window shifted by -3..3 px. An exact placement
    has its minimum at (0, 0)."""
    import cv2
    import numpy as np
    h, w = mask.shape
    inner = cv2.erode((mask > 0).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=5)
    inner = inner[:-1, :-1] & inner[1:, :-1] & inner[:-1, 1:]
    s = src.astype(np.float32)
    sgx, sgy = s[:-1, 1:] - s[:-1, :-1], s[1:, :-1] - s[:-1, :-1]
    best = {}
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            r = res[y + dy:y + dy + h, x + dx:x + dx + w].astype(np.float32)
            gx, gy = r[:-1, 1:] - r[:-1, :-1], r[1:, :-1] - r[:-1, :-1]
            err = np.abs(gx - sgx) + np.abs(gy - sgy)
            best[(dx, dy)] = float(err[inner > 0].mean())
    order = sorted(best, key=best.get)
    return order[0], best[order[0]], order[1], best[order[1]]


def main():
    args = list(sys.argv[1:])
    reps = int(take_option(args, "--reps", "15"))
    synthetic = take_option(args, "--synthetic", False, flag=True)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = take_option(args, "--source", os.path.join(root, "data", "testdata", "astronaut.png"))
    if not args:
        print(__doc__)
        return 2
    build = args[0]
    images = args[1:] or [os.path.join(root, "data", "testdata", f"faceapi_sample{i}.jpg")
                          for i in range(1, 7)]
    exe = os.path.join(build, "benchmarks", "bench_blend")
    env = dict(os.environ)
    env.setdefault("FS_MODEL_DIR", os.path.join(root, "data", "models"))
    try:
        os.sched_setaffinity(0, {0})
    except (AttributeError, OSError):
        print("note: could not pin to CPU 0", file=sys.stderr)
    import cv2  # noqa: E402 (after pinning, so its thread pool sees one core)
    cv2.setNumThreads(1)
    rows = []
    for image in images:
        rows.append(run_one(cv2, exe, env, image, source, synthetic, reps))
        if len(images) > 1:
            print()
    if len(rows) > 1:
        print(f"{'image':24s} {'window':>9s} {'mask px':>8s} {'opencv ms':>10s} {'ours ms':>8s} "
              f"{'speed-up':>8s} {'seam ours':>10s} {'opencv':>7s}")
        for r in rows:
            print(f"{r['image']:24s} {r['window']:>9s} {r['mask']:8d} {r['cv_ms']:10.2f} "
                  f"{r['ours_ms']:8.2f} {r['cv_ms'] / r['ours_ms']:7.1f}x {r['seam']:10.3f} "
                  f"{r['cv_seam']:7.3f}")
        ups = sorted(r["cv_ms"] / r["ours_ms"] for r in rows)
        print(f"speed-up poisson vs seamlessClone over {len(rows)} faces: min {ups[0]:.1f}x, "
              f"median {statistics.median(ups):.1f}x, max {ups[-1]:.1f}x; at least 10x on "
              f"{sum(u >= 10 for u in ups)} of {len(ups)}; seam no worse than OpenCV's on "
              f"{sum(r['seam'] <= r['cv_seam'] for r in rows)} of {len(rows)}")
    return 0


def run_one(cv2, exe, env, image, source, synthetic, reps):
    import numpy as np  # noqa: E402
    load = os.getloadavg()

    def seam(tmp, result, x, y):
        return kv(subprocess.run([exe, "--seam", os.path.join(tmp, "target.ppm"), result,
                                  os.path.join(tmp, "mask.pgm"), str(x), str(y)],
                                 check=True, capture_output=True, text=True, env=env).stdout)

    with tempfile.TemporaryDirectory(prefix="bench_blend_") as tmp:
        mode = ["--synthetic"] if synthetic else ["--source", source]
        ours = kv(subprocess.run([exe, "--reps", str(reps), "--out", tmp] + mode + [image],
                                 check=True, capture_output=True, text=True, env=env).stdout)
        x, y, w, h = (int(v) for v in ours["window"].split(","))
        dst = cv2.imread(os.path.join(tmp, "target.ppm"))
        src = cv2.imread(os.path.join(tmp, "source.ppm"))
        mask = cv2.imread(os.path.join(tmp, "mask.pgm"), cv2.IMREAD_GRAYSCALE)
        center, dropped = opencv_center(mask, x, y)
        # One call untimed: OpenCV's first call of the process is several times slower.
        res = cv2.seamlessClone(src, dst, mask, center, cv2.NORMAL_CLONE)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            res = cv2.seamlessClone(src, dst, mask, center, cv2.NORMAL_CLONE)
            times.append((time.perf_counter() - t0) * 1e3)
        out = os.path.join(tmp, "opencv.ppm")
        cv2.imwrite(out, res)
        cv = seam(tmp, out, x, y)
        po = seam(tmp, os.path.join(tmp, "ours_poisson.ppm"), x, y)
        ours_po = cv2.imread(os.path.join(tmp, "ours_poisson.ppm"))
        cv_ms = statistics.median(times)
        shift, shift_err, shift2, shift2_err = placement_check(res, src, mask, x, y)
        _, ours_err, _, _ = placement_check(ours_po, src, mask, x, y)
        inside = mask > 0
        win_cv = res[y:y + h, x:x + w].astype(np.int16)
        win_po = ours_po[y:y + h, x:x + w].astype(np.int16)
        content_diff = float(np.abs(win_cv - win_po)[inside].mean())
        # Where OpenCV changed the image: its bounding box (roi_d), not the mask.
        changed = np.any(res != dst, axis=2)
        ys, xs = np.nonzero(changed)
        cbox = (f"{xs.min()},{ys.min()} {xs.max() - xs.min() + 1}x{ys.max() - ys.min() + 1}"
                if len(xs) else "none")

    poisson_ms = float(ours["poisson_ms"])
    print(f"mode {ours['mode']}: image {os.path.basename(image)} cropped to 1920x1080"
          + (f", source {os.path.basename(ours['source'])}, target face "
             f"{ours['target_face']} (face size {ours['face_size']} px)"
             if ours["mode"] == "swap" else ""))
    print(f"face window {w}x{h} at {x},{y}, {ours['mask_pixels']} mask pixels, "
          f"{ours['seam_pairs']} contour pairs; one core, median of {reps}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'method':32s} {'ms':>9s} {'seam':>8s} {'outside':>8s}   (seam: mean |grad| across "
          f"the mask contour; target's own {float(ours['target_seam']):.3f}; outside: pixels "
          f"changed outside the mask)")
    print(f"{'opencv seamlessClone NORMAL':32s} {cv_ms:9.2f} {float(cv['seam_result']):8.3f} "
          f"{int(cv['outside_changed_pixels']):8d}   (min {min(times):.2f}, max {max(times):.2f})")
    print(f"{'libfaceswap poisson':32s} {poisson_ms:9.2f} {float(ours['poisson_seam']):8.3f} "
          f"{int(ours['poisson_outside_changed_pixels']):8d}   ({ours['poisson_cycles']} V-cycles, "
          f"residual {float(ours['poisson_residual']):.3f}, opts cycles,tol,rim "
          f"{ours['poisson_opts']})")
    print(f"{'libfaceswap multiband':32s} {float(ours['multiband_ms']):9.2f} "
          f"{float(ours['multiband_seam']):8.3f} "
          f"{int(ours['multiband_outside_changed_pixels']):8d}   "
          f"({ours['multiband_levels']} levels, "
          f"+{float(ours['feather_ms']):.2f} ms feather of {float(ours['feather_px']):.1f} px)")
    print(f"{'libfaceswap feathered alpha':32s} {float(ours['alpha_ms']):9.2f} "
          f"{float(ours['alpha_seam']):8.3f} {int(ours['alpha_outside_changed_pixels']):8d}")
    print(f"speed-up poisson vs seamlessClone: {cv_ms / poisson_ms:.1f}x (item 6: >= 10x); "
          f"seam {float(ours['poisson_seam']):.3f} vs {float(cv['seam_result']):.3f} "
          f"(item 6: no worse)")
    print(f"same seam code: ours poisson re-measured from its file {float(po['seam_result']):.3f}, "
          f"outside {po['outside_changed_pixels']}")
    if ours["mode"] == "swap":
        print(f"blend inputs = the swap's: pixels differing from the swap's own output: poisson "
              f"{ours['pipeline_diff_poisson']}, multiband {ours['pipeline_diff_multiband']}, "
              f"alpha {ours['pipeline_diff_alpha']}; window clipped {ours['window_clipped']}, "
              f"mask pixels on the window edge {ours['mask_pixels_at_window_edge']}")
    print(f"opencv placement: centre {center[0]},{center[1]}; gradient match best at shift "
          f"{shift} ({shift_err:.3f}; next {shift2} {shift2_err:.3f}; ours {ours_err:.3f}); "
          f"mean |opencv - ours poisson| inside the mask {content_diff:.2f}; opencv changed "
          f"pixels in {cbox}; mask pixels OpenCV drops at the window edge {dropped}")
    return {"image": os.path.basename(image), "window": f"{w}x{h}",
            "mask": int(ours["mask_pixels"]), "cv_ms": cv_ms, "ours_ms": poisson_ms,
            "seam": float(ours["poisson_seam"]), "cv_seam": float(cv["seam_result"])}


if __name__ == "__main__":
    sys.exit(main())
