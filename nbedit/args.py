"""Argument checks: numbers, frame rates, sizes, seeds and choices as users give them, or a clear EditError.

Every check names what was wrong in the words of the call (``fps must be ...``), so the message reads like the
line of code that caused it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import EditError


@dataclass
class Limits:
    """What nbedit accepts from users and files; change them for unusual work: ``nbedit.args.LIMITS.max_seconds = ...``

    A timeline longer than a day or a picture larger than 100 megapixels is almost always a mistake (a time in
    frames given as seconds, a corrupt file), and would cost hours or gigabytes before anything said so.
    """

    max_seconds: float = 24 * 3600  # any time or duration on a timeline
    max_pixels: int = 100_000_000  # a picture: media at import, the timeline's format
    max_scale: float = 100.0  # a clip's transform scale
    max_nesting: int = 16  # stacks inside stacks in a timeline file (compound clips, nested sequences)


LIMITS = Limits()


def finite(value: Any) -> bool:
    """True for an int or float (not a bool) that is finite."""
    return isinstance(value, int | float | Fraction) and not isinstance(value, bool) and math.isfinite(value)


def number(value: Any, what: str, *, lo: float | None = None, hi: float | None = None) -> float:
    """A finite number, within [lo, hi] when given."""
    if not finite(value):
        raise EditError(f"{what} must be a number, not {value!r}")
    v = float(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        span = (
            f"between {lo:g} and {hi:g}"
            if lo is not None and hi is not None
            else (f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
        )
        raise EditError(f"{what} must be {span}, not {value!r}")
    return v


def positive(value: Any, what: str) -> float:
    if not (finite(value) and value > 0):
        raise EditError(f"{what} must be positive, not {value!r}")
    return float(value)


def whole(value: Any, what: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number (not a bool), within [lo, hi] when given."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise EditError(f"{what} must be a whole number, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        span = (
            f"from {lo} to {hi}"
            if lo is not None and hi is not None
            else (f"at least {lo}" if lo is not None else f"at most {hi}")
        )
        raise EditError(f"{what} must be a whole number {span}, not {value!r}")
    return int(value)


def seed(value: Any) -> int:
    """A random seed: a whole number from 0 to 2**63 - 1."""
    return whole(value, "seed", lo=0, hi=2**63 - 1)


def rate(fps: Any, what: str = "fps") -> Fraction:
    """A frame rate given as a number or a "30000/1001" string, above 0 and at most 1000."""
    try:
        if isinstance(fps, bool) or not isinstance(fps, int | float | str | Fraction):
            raise ValueError
        if isinstance(fps, float) and not math.isfinite(fps):
            raise ValueError
        r = Fraction(fps)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise EditError(f"{what} must be a number or a fraction like '30000/1001', not {fps!r}") from None
    r = r.limit_denominator(1001)
    if not 0 < r <= 1000:
        raise EditError(f"{what} must be above 0 and at most 1000, not {fps!r}")
    return r


def rate_text(r: Fraction) -> str:
    """A rate as a recipe or a card writes it: "24" or "30000/1001"."""
    return str(r.numerator) if r.denominator == 1 else f"{r.numerator}/{r.denominator}"


def even_size(width: Any, height: Any, what: str = "width and height") -> tuple[int, int]:
    """A picture size for yuv420p output: two positive even whole numbers, at most LIMITS.max_pixels."""
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 and v % 2 == 0 for v in (width, height)):
        raise EditError(f"{what} must be positive even whole numbers, not {width!r}x{height!r}")
    if width * height > LIMITS.max_pixels:
        raise EditError(
            f"{width}x{height} is {width * height / 1e6:.0f} megapixels: the limit is "
            f"{LIMITS.max_pixels / 1e6:.0f} (nbedit.args.LIMITS.max_pixels)"
        )
    return int(width), int(height)


def choice(value: Any, options: Iterable[str], what: str) -> str:
    options = tuple(options)
    if value not in options:
        raise EditError(f"{what} must be one of {', '.join(options)}, not {value!r}")
    return value


def crop(value: Any, width: int, height: int) -> tuple[int, int, int, int]:
    """A crop of (left, top, right, bottom) source pixels that leaves some of a width x height picture."""
    if (
        not isinstance(value, tuple | list)
        or len(value) != 4
        or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in value)
    ):
        raise EditError(f"crop is four non-negative pixel counts (left, top, right, bottom), not {value!r}")
    if value[0] + value[2] >= width or value[1] + value[3] >= height:
        raise EditError(f"crop {tuple(value)} leaves nothing of a {width}x{height} picture")
    return tuple(int(c) for c in value)  # type: ignore[return-value]
