"""What this machine has for video: NVENC encoders, NVDEC decoding, a CUDA torch; asked once, never raising.

``nbedit.hardware()`` reports it::

    >>> nbedit.hardware()  # on a machine without an NVIDIA driver
    {'h264_nvenc': 'absent: h264_nvenc did not open (Operation not permitted); no NVIDIA driver (libcuda not found)',
     'hevc_nvenc': 'absent: ...', 'nvdec': 'absent: no CUDA device context (Operation not permitted); ...',
     'cuda_torch': 'absent: no NVIDIA driver (libcuda not found), so no CUDA device for torch'}

A PyAV wheel lists h264_nvenc whether or not a driver is there, so "present" means it was tried: an encoder
really opened at a small size, a CUDA device context really was made, torch really sees a device.
"""

from __future__ import annotations

import ctypes.util
import functools
import sys
from dataclasses import dataclass
from fractions import Fraction

# NVENC refuses pictures below about 145x49 on some GPUs: the probe uses a size every one of them takes
PROBE_SIZE = 256
NVENC = ("h264_nvenc", "hevc_nvenc")


@dataclass(frozen=True)
class Found:
    """Whether one hardware path works here, and why not when it does not."""

    name: str
    present: bool
    reason: str = ""  # why it is absent (empty when present)

    def __str__(self) -> str:
        return "present" if self.present else f"absent: {self.reason}"


@functools.cache
def driver() -> str | None:
    """The NVIDIA driver's CUDA library as the loader finds it (None: no driver here, so no NVENC nor CUDA)."""
    return ctypes.util.find_library("cuda")


def _driver_hint() -> str:
    return "" if driver() else "; no NVIDIA driver (libcuda not found)"


@functools.cache
def nvenc(codec: str = "h264_nvenc") -> Found:
    """Does encoder ``codec`` (h264_nvenc, hevc_nvenc) open here? Tried once per process (about a millisecond
    without a driver, a few hundred with one)."""
    try:
        import av

        ctx = av.CodecContext.create(codec, "w")
        ctx.width = ctx.height = PROBE_SIZE
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = Fraction(1, 24)
        ctx.open()
        ctx.close()
    except Exception as e:  # any failure means "not here": a probe never stops a render
        return Found(codec, False, f"{codec} did not open ({getattr(e, 'strerror', None) or e}){_driver_hint()}")
    return Found(codec, True)


@functools.cache
def nvdec() -> Found:
    """Can FFmpeg make a CUDA device for the h264 decoder (NVDEC through ``av.codec.hwaccel.HWAccel("cuda")``)?"""
    try:
        import av
        from av.codec.hwaccel import HWAccel, hwdevices_available

        if "cuda" not in hwdevices_available():
            return Found("nvdec", False, "this FFmpeg was built without CUDA")
        HWAccel("cuda", allow_software_fallback=False).create(av.codec.Codec("h264", "r"))
    except Exception as e:
        return Found("nvdec", False, f"no CUDA device context ({getattr(e, 'strerror', None) or e}){_driver_hint()}")
    return Found("nvdec", True)


@functools.cache
def cuda_torch() -> Found:
    """Does torch see a CUDA device? Without a driver the answer is no without importing torch (seconds)."""
    if "torch" not in sys.modules and driver() is None:
        return Found("cuda_torch", False, "no NVIDIA driver (libcuda not found), so no CUDA device for torch")
    try:
        import torch

        if not torch.cuda.is_available():
            return Found("cuda_torch", False, f"torch {torch.__version__} has no CUDA device")
        torch.zeros(1, device="cuda")  # a device that is listed but cannot be used is not present
    except Exception as e:
        return Found("cuda_torch", False, f"{type(e).__name__}: {e}")
    return Found("cuda_torch", True)


def report() -> dict[str, str]:
    """Each hardware path and whether it works here: ``nbedit.hardware()``."""
    found = [*(nvenc(c) for c in NVENC), nvdec(), cuda_torch()]
    return {f.name: str(f) for f in found}
