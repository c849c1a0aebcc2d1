"""Learned interpolation (RIFE) and upscaling (Real-ESRGAN) against their classic fallbacks, on real photos.

    python bench/accuracy_interp_upscale.py [--size 320x256] [--repeat 3] [--x4plus]

Interpolation: scikit-image's astronaut, coffee and chelsea photos, each moved along a known pan and zoom
(5 px right, 3 px down and 1% larger a frame), and a subject (chelsea's face) moving over a panning photo
(it hides and uncovers background); frames 0 and 2 go in, the true frame 1 is the truth. RIFE
(the bundled folder), the optical-flow interpolator (the fallback) and a plain blend make it; PSNR and SSIM
against the truth, ms per frame.

Upscaling: each photo downscaled by the factor (area averaging), clean and through JPEG at quality 40 (what a
download gives), then upscaled back by Real-ESRGAN (ncnn) and by bicubic and Lanczos (the fallback); PSNR, SSIM,
and sharpness (variance of the Laplacian) as a share of the original's, ms per frame.

Times are medians of ``--repeat`` runs, the methods alternated within each round; the load average is printed
with them (the machine may be shared). ``rows()`` gives the same figures to bench/tools_accuracy.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea")
SHIFT, ZOOM = (5.0, 3.0), 0.01


def photo(name: str) -> np.ndarray:
    from skimage import data

    return getattr(data, name)()


def moved(img: np.ndarray, t: float, size: tuple[int, int]) -> np.ndarray:
    k = 1 + ZOOM * t
    m = np.float32([[k, 0, SHIFT[0] * t - 60], [0, k, SHIFT[1] * t - 40]])
    return cv2.warpAffine(img, m, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def subject(t: float, size: tuple[int, int]) -> np.ndarray:
    """A subject in front of a background, moving its own way: chelsea's face (96 px) 12 px right and 6 down a
    frame over the coffee photo panning 2 px left, so it hides and uncovers background between frames."""
    w, h = size
    bg = cv2.warpAffine(photo("coffee"), np.float32([[1, 0, -2 * t - 40], [0, 1, -30]]), size)
    face = photo("chelsea")[40:136, 150:246]
    x, y = round(20 + 12 * t), round(h // 2 - 60 + 6 * t)
    out = bg.copy()
    out[y : y + 96, x : x + 96] = face
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    from nbedit.tools.synthetic import psnr as p

    return float(p(a, b))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=2))


def sharpness(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def jpeg(img: np.ndarray, quality: int = 40) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


def models_folder() -> Path:
    """The bundled folders: $NBEDIT_MODELS when it has them, else built now into a temporary folder."""
    from nbedit.models import bundled

    for root in os.environ.get("NBEDIT_MODELS", "").split(os.pathsep):
        if root and bundled.folder_for("rife", [Path(root)]) is not None:
            return Path(root)
    d = Path(tempfile.mkdtemp(prefix="nbedit-bench-models-"))
    bundled.install(d, ["rife", "realesr-animevideov3-x2", "realesr-animevideov3-x4", "realesrgan-x4plus"])
    return d


def timed(methods: dict[str, Callable[[], np.ndarray]], repeat: int) -> dict[str, tuple[np.ndarray, float]]:
    """Each method's output and median ms, the methods alternated in every round (after one warm-up round)."""
    times: dict[str, list[float]] = {k: [] for k in methods}
    out: dict[str, np.ndarray] = {}
    for r in range(repeat + 1):
        for name, fn in methods.items():
            t = time.perf_counter()
            out[name] = fn()
            if r:
                times[name].append((time.perf_counter() - t) * 1000)
    return {k: (out[k], statistics.median(v)) for k, v in times.items()}


def interpolation_rows(models: Path, size: tuple[int, int], repeat: int) -> list[dict]:
    from nbedit.models import bundled, rife
    from nbedit.tools.interpolate import FlowInterpolator

    net = rife.load(bundled.folder_for("rife", [models]), "cpu")[0]
    flow = FlowInterpolator()
    rows = []
    scenes = {"pan and zoom of a photo": lambda t: moved(photo(PHOTOS[int(t) // 10]), t % 10, size)}
    scenes["a subject moving over a panning photo"] = lambda t: subject(t % 10, size)
    for scene, at in scenes.items():
        starts = [10 * k for k in range(len(PHOTOS))] if scene.startswith("pan") else [0]
        rows += _interpolation(scene, [[at(t0 + k) for k in range(3)] for t0 in starts], net, flow, size, repeat)
    return rows


def _interpolation(scene, cases, net, flow, size, repeat) -> list[dict]:
    from nbedit.tools.interpolate import blend

    per: dict[str, list[tuple[float, float, float]]] = {}
    for a, truth, b in cases:
        got = timed(
            {
                "learned: rife": lambda a=a, b=b: net.between(net.pair(a, b), 0.5),
                "classic: optical flow": lambda a=a, b=b: flow.between(flow.pair(a, b), 0.5),
                "classic: plain blend": lambda a=a, b=b: blend(a, b, 0.5),
            },
            repeat,
        )
        for method, (made, ms) in got.items():
            per.setdefault(method, []).append((psnr(made, truth), ssim(made, truth), ms))
    rows = []
    for method, vals in per.items():
        p, s, ms = (float(np.mean([v[k] for v in vals])) for k in range(3))
        what = f"interpolation {size[0]}x{size[1]}, {scene}"
        rows.append({"task": what, "method": method, "metric": "PSNR dB", "value": round(p, 2), "ms": round(ms)})
        rows.append({"task": what, "method": method, "metric": "SSIM", "value": round(s, 3), "ms": round(ms)})
    return rows


def upscale_rows(models: Path, size: tuple[int, int], repeat: int, x4plus: bool) -> list[dict]:
    from nbedit.models import bundled, upscaler

    nets = {2: ["realesr-animevideov3-x2"], 4: ["realesr-animevideov3-x4"] + (["realesrgan-x4plus"] * x4plus)}
    rows = []
    for factor, names in nets.items():
        runners = {n: upscaler.load(bundled.folder_for(n, [models]), "cpu")[0] for n in names}
        for degraded in (False, True):
            per: dict[str, list[tuple[float, float, float, float]]] = {}
            for name in PHOTOS:
                img = cv2.resize(photo(name), size, interpolation=cv2.INTER_AREA)  # the original
                small = cv2.resize(img, (size[0] // factor, size[1] // factor), interpolation=cv2.INTER_AREA)
                small = jpeg(small) if degraded else small
                methods = {f"learned: {n}": (lambda r=r, small=small: r.run(small)) for n, r in runners.items()}
                methods["classic: bicubic"] = lambda small=small: cv2.resize(small, size, interpolation=cv2.INTER_CUBIC)
                methods["classic: lanczos"] = lambda small=small, f=factor: upscaler.classic(small, f)
                for method, (made, ms) in timed(methods, repeat).items():
                    per.setdefault(method, []).append(
                        (psnr(made, img), ssim(made, img), sharpness(made) / sharpness(img), ms)
                    )
            what = f"upscale x{factor} to {size[0]}x{size[1]}" + (", JPEG q40 input" if degraded else "")
            for method, vals in per.items():
                p, s, sh, ms = (float(np.mean([v[k] for v in vals])) for k in range(4))
                for metric, value in (("PSNR dB", round(p, 2)), ("SSIM", round(s, 3)), ("sharpness", round(sh, 2))):
                    rows.append({"task": what, "method": method, "metric": metric, "value": value, "ms": round(ms)})
    return rows


def rows(size=(320, 256), repeat: int = 3, x4plus: bool = False, only: str | None = None) -> list[dict]:
    """One row per (task, method, metric): value and ms per frame (means over the photos)."""
    models = models_folder()
    found = [] if only == "upscale" else interpolation_rows(models, size, repeat)
    return found + ([] if only == "interpolation" else upscale_rows(models, size, repeat, x4plus))


def table(found: list[dict]) -> str:
    lines = ["| task | method | metric | value | ms / frame |", "|---|---|---|---|---|"]
    lines += [f"| {r['task']} | {r['method']} | {r['metric']} | {r['value']} | {r['ms']} |" for r in found]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="320x256", help="frame size WxH (default 320x256)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each method (default 3)")
    ap.add_argument("--only", choices=("interpolation", "upscale"), default=None, help="one half of the table")
    ap.add_argument("--x4plus", action="store_true", help="also realesrgan-x4plus (seconds a frame on a CPU)")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.lower().split("x"))
    before = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    found = rows((w, h), a.repeat, a.x4plus, a.only)
    after = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    print(table(found))
    print(f"\nload average before {' '.join(before)}, after {' '.join(after)}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
