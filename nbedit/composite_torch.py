"""Compositing in YUV 4:2:0 with torch, on a GPU: the arithmetic of render.YuvBackend on tensors.

A render on a machine with CUDA uses it (render.engines); the Compositor's plan is the same, only where the sums
are done moves. Each source frame goes to the device once, the output comes back once.

Against the numpy backend (measured in tests/test_hardware.py on torch's CPU device): dissolves and opacity are
the same float32 sums rounded to nearest, at most 1 level apart; an inset is resized by torch (bicubic, antialiased
to shrink) instead of libswscale: sharp edges in it differ by up to a few tens of levels (libswscale also sites
chroma to the left, torch at the centre), the whole frame stays above 40 dB PSNR against the numpy backend's.

    >>> from nbedit.composite_torch import TorchBackend
    >>> frame = comp.yuv_frame(n, backend=TorchBackend("cuda"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import av
import numpy as np

from .planes import overlaps

if TYPE_CHECKING:
    from .render import Geometry


def plane_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """(rows, columns) of the Y, U and V planes of a yuv420p picture."""
    half = ((height + 1) // 2, (width + 1) // 2)
    return [(height, width), half, half]


class TorchBackend:
    """YUV planes as uint8 tensors on ``device`` ("cuda", or "cpu" to compare with the numpy backend)."""

    name = "torch"

    def __init__(self, device: str = "cuda"):
        import torch

        self.torch = torch
        self.device = torch.device(device)

    def canvas(self, width: int, height: int, *, black: bool) -> tuple[tuple[int, int], list]:
        planes = [self.torch.empty(s, dtype=self.torch.uint8, device=self.device) for s in plane_sizes(width, height)]
        if black:
            planes[0].fill_(16)  # black, as the numpy backend's
            planes[1].fill_(128)
            planes[2].fill_(128)
        return (width, height), planes

    def source(self, frame: av.VideoFrame, width: int, height: int) -> list:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")  # nv12 from NVDEC: the same samples, moved
        planes = []
        for p in frame.planes:
            # whole rows (line_size) go up in one contiguous copy; the padding is cut off on the device
            rows = self.torch.from_numpy(np.frombuffer(p, np.uint8).reshape(p.height, p.line_size))
            planes.append(rows.to(self.device)[:, : p.width])
        if (frame.width, frame.height) != (width, height):
            planes = self._resize(planes, width, height, shrink=width < frame.width)
        return planes

    def _resize(self, planes: list, width: int, height: int, *, shrink: bool) -> list:
        F = self.torch.nn.functional
        out = []
        for p, size in zip(planes, plane_sizes(width, height), strict=True):
            x = p.to(self.torch.float32)[None, None]
            # antialiased bicubic came nearest libswscale's AREA when shrinking (torch's "area" is a box filter
            # 2x as far off); plain bicubic when enlarging, as libswscale's BICUBIC
            y = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=shrink)
            out.append(y[0, 0].round_().clamp_(0, 255).to(self.torch.uint8))
        return out

    def under(self, canvas: list, *, fresh: bool) -> list:
        return [self.torch.empty_like(p) if fresh else p.clone() for p in canvas]

    def paste(self, canvas: list, part: list, g: Geometry, opacity: float) -> None:
        """As render.paste_yuv: chroma at half the offsets, the part clipped to the canvas."""
        if opacity <= 0:
            return
        for dst, src, (inside, within) in overlaps(canvas, part, g.x, g.y):
            piece = src[within]
            region = dst[inside]
            if opacity >= 1:
                region.copy_(piece)
            else:
                region.copy_(self._weigh(piece, opacity, region, 1.0 - opacity))

    def mix(self, out: list, a: list, b: list, w: float) -> None:
        for dst, x, y in zip(out, a, b, strict=True):
            dst.copy_(self._weigh(x, 1.0 - w, y, w))  # out may be a or b: the sum is made before it is written

    def _weigh(self, x, wx: float, y, wy: float):
        # float32 products summed and rounded half to even: cv2.addWeighted's arithmetic on uint8
        s = x.to(self.torch.float32) * wx + y.to(self.torch.float32) * wy
        return s.round_().clamp_(0, 255).to(self.torch.uint8)

    def finish(self, size: tuple[int, int], canvas: list) -> av.VideoFrame:
        out = av.VideoFrame(size[0], size[1], "yuv420p")
        flat = self.torch.cat([p.reshape(-1) for p in canvas]).cpu().numpy()  # one copy back, one wait
        k = 0
        for p in out.planes:
            dst = np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
            n = dst.size
            dst[:] = flat[k : k + n].reshape(dst.shape)
            k += n
        return out
