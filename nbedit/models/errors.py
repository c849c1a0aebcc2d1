"""Typed errors for model folders: each says what was wrong and what to do, and changes nothing."""

from __future__ import annotations

from ..errors import NbeditError


class ModelError(NbeditError):
    """A model cannot be found, trusted, loaded or used as asked."""


class ModelNotFoundError(ModelError):
    """No model folder of that name in any of the places nbedit looks (the message lists them)."""


class ModelTaskError(ModelError):
    """The model cannot do what the operation needs (a text-to-video call on an image-to-image model, say)."""


class WeightsError(ModelError):
    """The weights are not the ones expected: corrupt or truncated files, pickled files, a sha256 mismatch."""
