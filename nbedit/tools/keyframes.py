"""Parameters that change over time: a value is either static or a list of keys read at any position.

A parameter as stored in clip or track metadata (``metadata["nbedit"]``) is one of

    12.0                                   a static number
    [0, 255, 0]                            a static vector (a colour, a camera centre)
    "screen"                               a static choice (never keyed)
    {"keys": [[12, 4.0], [36, 12.0, "hold"], [60, 0.0]]}

Each key is ``[position, value]`` or ``[position, value, ease]``. The ease says how the value goes from this key to
the next one: "linear" (the default), "smooth" (eases in and out) or "hold" (stays until the next key; a cut).
Before the first key the first value holds, after the last key the last one.

Positions are source positions for clip parameters (frames of the clip's media, counted at the edit rate, as
``model.source_at`` gives them), so trims, splits, slips and speed changes keep every key on the picture it was
set on; track parameters are keyed by timeline frame.

    >>> value_at({"keys": [[0, 0.0], [10, 10.0]]}, 2.5)
    2.5
    >>> value_at([1, 2], 99)
    (1.0, 2.0)
"""

from __future__ import annotations

import bisect
import math
from fractions import Fraction
from typing import Any

from ..model import EASES


def is_keyed(param: Any) -> bool:
    return hasattr(param, "get") and "keys" in param


def value_at(param: Any, pos: float | Fraction) -> Any:
    """The value of a parameter at ``pos``: numbers as float, vectors as tuples of floats, anything else as is."""
    if not is_keyed(param):
        return plain(param)
    keys = list(param["keys"])
    positions = [float(k[0]) for k in keys]
    x = float(pos)
    i = bisect.bisect_right(positions, x) - 1
    if i < 0:
        return plain(keys[0][1])
    if i >= len(keys) - 1:
        return plain(keys[-1][1])
    a, b = keys[i], keys[i + 1]
    ease = a[2] if len(a) > 2 else "linear"
    if ease == "hold" or positions[i + 1] == positions[i]:
        return plain(a[1])
    u = (x - positions[i]) / (positions[i + 1] - positions[i])
    if ease == "smooth":
        u = u * u * (3 - 2 * u)
    return _lerp(plain(a[1]), plain(b[1]), u)


def _lerp(a: Any, b: Any, u: float) -> Any:
    if isinstance(a, tuple):
        return tuple(x + (y - x) * u for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a + (b - a) * u
    return a if u < 0.5 else b  # a choice (a blend mode, say) switches half way


def plain(value: Any) -> Any:
    """OTIO metadata values (AnyVector, int64) as plain Python: float, tuple of floats, str, bool, None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Fraction):
        return float(value)
    if hasattr(value, "__iter__"):
        return tuple(plain(v) for v in value)
    return value


def with_key(param: Any, pos: float, value: Any, ease: str = "linear") -> dict:
    """``param`` with a key at ``pos`` added (or replaced): a static value becomes keys."""
    if ease not in EASES:
        raise ValueError(f"ease must be one of {', '.join(EASES)}, not {ease!r}")
    keys = [list(k) for k in param["keys"]] if is_keyed(param) else []
    keys = [k for k in keys if not math.isclose(float(k[0]), pos, abs_tol=1e-6)]
    key = [_number(pos), _stored(value)] + ([ease] if ease != "linear" else [])
    keys.append(key)
    keys.sort(key=lambda k: float(k[0]))
    return {"keys": keys}


def make_keys(pairs: list[tuple[float, Any]] | list[tuple[float, Any, str]]) -> dict:
    """Keys from ``[(position, value), (position, value, ease), ...]`` (positions already converted)."""
    param: Any = None
    for pair in pairs:
        param = with_key(param, float(pair[0]), pair[1], pair[2] if len(pair) > 2 else "linear")
    return param


def _number(x: float) -> float | int:
    """Whole positions stay ints (they read better in the .otio file)."""
    return int(x) if float(x).is_integer() else round(float(x), 6)


def _stored(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_stored(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return float(value)
    return value
