"""Generative clips from local diffusers models (filled in by its issue)."""

from __future__ import annotations


class GenerateOps:
    """Session operations that generate clips; Session inherits them."""
