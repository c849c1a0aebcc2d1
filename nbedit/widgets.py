"""anywidget widgets bound to a Session (filled in by the widgets issue)."""

from __future__ import annotations


class WidgetOps:
    """Session methods that open widgets; Session inherits them."""
