"""AI editing tools: interpolation, auto-reframe, masking, compositing (filled in by its issue)."""

from __future__ import annotations


class ToolOps:
    """Session operations for the AI editing tools; Session inherits them."""
