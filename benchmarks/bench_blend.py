#!/usr/bin/python3
"""Blend stage vs OpenCV's seamlessClone (issue 3, item 6).

Runs build/benchmarks/bench_blend (lib/compose's Poisson and multi-band
blends on a 400x400 face window of a 1920x1080 target), then
cv2.seamlessClone (NORMAL_CLONE) on the same target, source and mask, and
measures both results with the same seam code (bench_blend --seam). Both
run on one core (this process pins itself to CPU 0; the C program
inherits it; OpenCV is limited to one thread). Prints figures, asserts
nothing.

Needs Debian's python3-opencv (FS_BENCH_DEPS=1 scripts/install-deps.sh), hence
/usr/bin/python3 rather than whatever python3 is first on PATH.

    benchmarks/bench_blend.py BUILD_DIR [IMAGE] [--reps N]
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


def main():
    args = [a for a in sys.argv[1:]]
    reps = 15
    if "--reps" in args:
        i = args.index("--reps")
        reps = int(args[i + 1])
        del args[i:i + 2]
    if not args:
        print(__doc__)
        return 2
    build = args[0]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    image = args[1] if len(args) > 1 else os.path.join(root, "data", "testdata",
                                                       "faceapi_sample1.jpg")
    exe = os.path.join(build, "benchmarks", "bench_blend")
    try:
        os.sched_setaffinity(0, {0})
    except (AttributeError, OSError):
        print("note: could not pin to CPU 0", file=sys.stderr)
    import cv2  # noqa: E402 (after pinning, so its thread pool sees one core)
    cv2.setNumThreads(1)

    with tempfile.TemporaryDirectory(prefix="bench_blend_") as tmp:
        ours = kv(subprocess.run([exe, "--reps", str(reps), "--out", tmp, image], check=True,
                                 capture_output=True, text=True).stdout)
        x, y, w, h = (int(v) for v in ours["window"].split(","))
        dst = cv2.imread(os.path.join(tmp, "target.ppm"))
        src = cv2.imread(os.path.join(tmp, "source.ppm"))
        mask = cv2.imread(os.path.join(tmp, "mask.pgm"), cv2.IMREAD_GRAYSCALE)
        # seamlessClone centres the mask's bounding box on `center`: place it
        # so the source lands exactly on the window.
        bx, by, bw, bh = cv2.boundingRect(mask)
        center = (x + bx + bw // 2, y + by + bh // 2)
        times = []
        res = None
        for _ in range(reps):
            t0 = time.perf_counter()
            res = cv2.seamlessClone(src, dst, mask, center, cv2.NORMAL_CLONE)
            times.append((time.perf_counter() - t0) * 1e3)
        out = os.path.join(tmp, "opencv.ppm")
        cv2.imwrite(out, res)
        cv = kv(subprocess.run([exe, "--seam", os.path.join(tmp, "target.ppm"), out,
                                os.path.join(tmp, "mask.pgm"), str(x), str(y)],
                               check=True, capture_output=True, text=True).stdout)
        po = kv(subprocess.run([exe, "--seam", os.path.join(tmp, "target.ppm"),
                                os.path.join(tmp, "ours_poisson.ppm"),
                                os.path.join(tmp, "mask.pgm"), str(x), str(y)],
                               check=True, capture_output=True, text=True).stdout)
        cv_ms = statistics.median(times)

    print(f"image {os.path.basename(image)} cropped to 1920x1080, face window {w}x{h} at "
          f"{x},{y}, {ours['unknowns']} mask pixels, one core, median of {reps}")
    print(f"{'method':32s} {'ms':>9s} {'seam':>8s}   (seam: mean |grad| across the mask "
          f"contour; target's own {float(ours['target_seam']):.3f})")
    print(f"{'opencv seamlessClone NORMAL':32s} {cv_ms:9.2f} {float(cv['seam_result']):8.3f}")
    print(f"{'libfaceswap poisson':32s} {float(ours['poisson_ms']):9.2f} "
          f"{float(ours['poisson_seam']):8.3f}   ({ours['poisson_cycles']} V-cycles, "
          f"residual {float(ours['poisson_residual']):.3f})")
    print(f"{'libfaceswap multiband':32s} {float(ours['multiband_ms']):9.2f} "
          f"{float(ours['multiband_seam']):8.3f}   ({ours['multiband_levels']} levels, "
          f"+{float(ours['feather_ms']):.2f} ms feather)")
    print(f"{'libfaceswap feathered alpha':32s} {float(ours['alpha_ms']):9.2f} "
          f"{float(ours['alpha_seam']):8.3f}")
    print(f"speed-up poisson vs seamlessClone: {cv_ms / float(ours['poisson_ms']):.1f}x; "
          f"seam {float(ours['poisson_seam']):.3f} vs {float(cv['seam_result']):.3f}")
    print(f"pixels changed outside the mask: ours {po['outside_changed_pixels']}, "
          f"opencv {cv['outside_changed_pixels']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
