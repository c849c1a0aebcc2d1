"""A generation as data: what it depends on, the key that names its output, and the provenance it leaves.

A :class:`Job` holds every input of one model call in plain JSON values (pictures are referred to by media id
or file path, with their sha256), so it can be written into a clip's ``metadata["nbedit"]["generation"]``, read
back by ``s.regenerate`` and hashed into the cache key of the file it makes.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from .folders import Found
from .loading import Loaded
from .pipelines import Keyframe, Request


@dataclass(frozen=True)
class Job:
    """One model call, described by value."""

    op: str  # the operation that made it: generate, image_to_video, stylize, extend, fill_gap, retake
    task: str  # what it asks of the model (see nbedit.models.cards.TASKS)
    model: str
    prompt: str
    negative_prompt: str | None
    seed: int
    steps: int
    guidance: float
    size: tuple[int, int]
    fps: str  # a fraction, "24" or "30000/1001"
    frames: int  # frames the model makes
    keep: tuple[int, int]  # the made frames [first, last) that become the media
    strength: float | None = None
    # pictures it is conditioned on: {"role": "image" | "video" | "keyframe", "media" or "path", "sha256",
    # "start", "step" (media seconds, as fractions), "count", and for keyframes "index", "strength"}
    sources: tuple[dict, ...] = field(default_factory=tuple)

    @classmethod
    def from_provenance(cls, gen: dict) -> Job:
        names = set(cls.__dataclass_fields__)
        data = {k: v for k, v in gen.items() if k in names}
        data["size"] = tuple(data["size"])
        data["keep"] = tuple(data["keep"])
        data["sources"] = tuple(data.get("sources", ()))
        return cls(**data)

    def but(self, **changes: Any) -> Job:
        return replace(self, **changes)

    def to_json(self) -> dict:
        d = asdict(self)
        d["size"], d["keep"], d["sources"] = list(self.size), list(self.keep), [dict(s) for s in self.sources]
        return d

    def request(self, pictures: dict[int, np.ndarray]) -> Request:
        """The model request, with ``pictures[i]`` the frames of ``sources[i]`` (n, H, W, 3) uint8."""
        image = video = None
        keyframes = []
        for i, src in enumerate(self.sources):
            if src["role"] == "image":
                image = pictures[i][0]
            elif src["role"] == "video":
                video = pictures[i]
            else:
                keyframes.append(Keyframe(pictures[i], int(src["index"]), float(src.get("strength", 1.0))))
        w, h = self.size
        return Request(
            task=self.task,
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            seed=self.seed,
            steps=self.steps,
            guidance=self.guidance,
            width=w,
            height=h,
            frames=self.frames,
            fps=float(Fraction(self.fps)),
            strength=self.strength,
            image=image,
            keyframes=tuple(keyframes),
            video=video,
        )


def versions(kind: str) -> dict[str, str]:
    """The libraries whose versions can change the frames."""
    import torch

    from ..version import __version__

    out = {"nbedit": __version__, "python": platform.python_version(), "torch": torch.__version__}
    if kind == "onnx":
        import onnxruntime

        out["onnxruntime"] = onnxruntime.__version__
    else:
        import diffusers
        import transformers

        out["diffusers"] = diffusers.__version__
        out["transformers"] = transformers.__version__
    return out


def provenance(
    job: Job, m: Loaded | None, *, found: Found, pipeline: str, sha256: str, device: str, dtype: str
) -> dict:
    """The ``generation`` record of a clip: the job, the model, where it ran, the libraries, and the key."""
    gen = job.to_json()
    gen.update(
        {
            "model": job.model,
            "model_path": str(found.path),
            "pipeline": pipeline,
            "weights_sha256": sha256,
            "device": device.split(":")[0],
            "dtype": dtype,
            "placement": None if m is None else m.plan.strategy,
            # CPU and GPU arithmetic differ in the last bits: where the text encoder ran is part of the key
            "text_encoder_on": _text_encoder_device(m, device),
            "versions": versions(found.kind),
            "seconds": float((job.keep[1] - job.keep[0]) / Fraction(job.fps)),
            "frames_kept": job.keep[1] - job.keep[0],
        }
    )
    if m is not None and m.plan.fp8:  # fp8 storage and tiled decoding change the pictures: they are in the key
        gen["fp8"] = list(m.plan.fp8)
    if m is not None and m.plan.tiling:
        gen["vae_tiling"] = True
    gen["key"] = key(gen)
    return gen


def _text_encoder_device(m: Loaded | None, device: str) -> str:
    if m is not None and "cpu" in m.plan.components.values() and m.plan.device != "cpu":
        return "cpu"
    return device.split(":")[0]


# what the frames depend on: everything in the provenance but where things lie and how they were placed
NOT_IN_KEY = {"model", "model_path", "placement", "key", "seconds", "frames_kept", "op", "take_of"}


def key(gen: dict) -> str:
    """sha256 of what determines the frames: equal keys, equal frames (on the same kind of device)."""
    data = {k: v for k, v in gen.items() if k not in NOT_IN_KEY}
    data["versions"] = {k: v for k, v in gen.get("versions", {}).items() if k not in ("nbedit", "python")}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
