"""Session methods that open the editor widgets (imported only when asked for: anywidget is not light)."""

from __future__ import annotations

from typing import Any


class WidgetOps:
    """Session methods that open widgets; Session inherits them."""

    def ui(self) -> Any:
        """The editor: preview, transport and timeline, bound to this session. ``s.ui()``"""
        from ..widgets import Editor

        return Editor(self)

    def preview(self) -> Any:
        """Just the preview and transport. ``s.preview()``"""
        from ..widgets import Editor

        return Editor(self, parts="preview")

    def timeline_widget(self) -> Any:
        """Just the timeline. ``s.timeline_widget()``"""
        from ..widgets import Editor

        return Editor(self, parts="timeline")
