"""A generation's arguments as checked values: prompts, numbers, seeds, sizes, and the card defaults they fall
back on; and the labels that name what was made.

    >>> common(card, seed=None, steps=None, guidance=None, negative_prompt=None)   # (Job fields, pins)
    >>> size((768, 512))                                                            # (768, 512), or EditError
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from ..errors import EditError
from .cards import Card
from .pipelines import size_for


@dataclass(frozen=True)
class Knobs:
    """The parameters every generation takes, as the call gave them (None: the model card's default)."""

    seed: int | None
    steps: int | None
    guidance: float | None
    negative_prompt: str | None
    size: tuple[int, int] | None
    weights_sha256: str | None
    allow_pickle: bool


def common(card: Card, seed: Any, steps: Any, guidance: Any, negative_prompt: Any) -> tuple[dict, dict]:
    """Seed, steps, guidance and negative prompt as used (card defaults filled in): Job fields, and pins."""
    used_seed = random.SystemRandom().randrange(2**31) if seed is None else checked_seed(seed)
    used_steps = card.default("steps") if steps is None else steps
    if isinstance(used_steps, bool) or not isinstance(used_steps, int) or not 1 <= used_steps <= 1000:
        raise EditError(f"steps must be a whole number from 1 to 1000, not {used_steps!r}")
    used_guidance = number(card.default("guidance") if guidance is None else guidance, "guidance")
    if used_guidance < 0:
        raise EditError(f"guidance must not be negative, not {guidance!r}")
    negative = card.default("negative_prompt") if negative_prompt is None else negative_prompt
    negative = None if negative is None else text(negative, "negative_prompt")
    job = {"negative_prompt": negative, "seed": used_seed, "steps": used_steps, "guidance": used_guidance}
    pins = {"seed": used_seed, "steps": used_steps, "guidance": used_guidance}
    if negative is not None:
        pins["negative_prompt"] = negative
    return job, pins


def stylize_task(card: Card) -> str:
    """What stylize asks of a model: per-frame (ONNX), image-to-image, or video-to-video (LTX)."""
    return next((t for t in ("per-frame", "image-to-image", "video-to-video") if t in card.tasks), "image-to-image")


def checked_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise EditError(f"seed must be a whole number from 0 to 2**63 - 1, not {seed!r}")
    return seed


def text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise EditError(f"{what} must be text, not {type(value).__name__}")
    return value


def number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EditError(f"{what} must be a number, not {value!r}")
    return float(value)


def positive(value: Any, what: str) -> float:
    v = number(value, what)
    if not 0 < v <= 3600:
        raise EditError(f"{what} must be above 0 and at most an hour, not {value!r}")
    return v


def size(value: Any) -> tuple[int, int]:
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 8192 for v in value)
    ):
        raise EditError(f"size must be (width, height) in whole pixels, not {value!r}")
    return int(value[0]), int(value[1])


def fit(width: Any, height: Any, card: Card, multiple: int) -> tuple[int, int]:
    """A source's shape scaled to the model's default picture area, in the sizes it makes."""
    dw, dh = size(card.default("size"))
    scale = math.sqrt(dw * dh / (int(width) * int(height)))
    return size_for(round(int(width) * scale), round(int(height) * scale), multiple)


def slug(value: str) -> str:
    """Lower-case letters and digits, runs of anything else made one ``-`` (``"generated"`` if nothing is left)."""
    out = "".join(c if c.isalnum() else "-" for c in value.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "generated"


def label(prompt: str) -> str:
    return slug(prompt)[:24].strip("-") or "generated"
