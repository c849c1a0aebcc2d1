"""Frame rates and times as exact fractions: a file's rate snapped to the rate it means, a user's ``rate=``,
OTIO times as seconds, and rates written back out."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import opentimelineio as otio
from opentimelineio.opentime import RationalTime

from ..errors import EditError

_NTSC = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(48000, 1001), Fraction(60000, 1001))


def snap_rate(rate: float | Fraction) -> Fraction:
    """A file's rate as an exact fraction: 29.97 and 29.97002997 are both 30000/1001."""
    r = Fraction(rate).limit_denominator(1001)
    for ntsc in _NTSC:
        if abs(r - ntsc) < Fraction(1, 200):
            return ntsc
    return r if abs(r - round(r)) > Fraction(1, 1000) else Fraction(round(r))


def user_rate(rate: Any) -> Fraction:
    """The ``rate=`` a user gave: a number or a "30000/1001" string, above 0 and at most 1000."""
    try:
        if isinstance(rate, bool) or not isinstance(rate, int | float | str | Fraction):
            raise ValueError
        r = Fraction(rate)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise EditError(f"rate must be a number or a fraction like '30000/1001', not {rate!r}") from None
    if not 0 < r <= 1000:
        raise EditError(f"rate must be above 0 and at most 1000 frames per second, not {rate!r}")
    return snap_rate(r)


def seconds(t: RationalTime) -> Fraction:
    """An OTIO time in seconds, exactly (its rate snapped); a ValueError for a time that is not finite."""
    if not (math.isfinite(t.value) and math.isfinite(t.rate)) or t.rate <= 0:
        raise ValueError(f"{t!r} is not a usable time")
    return Fraction(t.value).limit_denominator(10**6) / snap_rate(t.rate)


def timecode(frames: int, rate: Fraction) -> str:
    """A frame as timecode, for messages ("frame N" at rates OTIO has no timecode for)."""
    try:
        return otio.opentime.to_timecode(RationalTime(frames, float(rate)), float(rate))
    except Exception:  # rates OTIO has no timecode for
        return f"frame {frames}"


def literal_rate(rate: Fraction) -> str | int:
    """A rate as a recipe writes it: 24, or "30000/1001"."""
    return rate.numerator if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def literal_fraction(r: Fraction) -> str:
    """A rate as a media pool entry keeps it: always "n/d"."""
    return f"{r.numerator}/{r.denominator}"
