"""nbedit: a Jupyter-native, local, reproducible AI video editor.

import nbedit
s = nbedit.Session("my-edit")
a = s.import_media("interview.mp4")
c1 = s.append(a, track="V1", src_in=2.0, src_out=9.5)
s.render("out.mp4")
"""

from . import media
from .convert import convert
from .errors import (
    ClipNotFoundError,
    EditError,
    MediaError,
    NbeditError,
    ProjectError,
    ProjectLockedError,
    RenderError,
    TimeRangeError,
)
from .machine import report as hardware
from .models import ModelError, ModelNotFoundError, ModelTaskError, PlacementNotice, WeightsError
from .session import Clip, Media, Session
from .version import __version__

__all__ = [
    "__version__",
    "convert",
    "hardware",
    "Session",
    "Clip",
    "Media",
    "media",
    "NbeditError",
    "MediaError",
    "TimeRangeError",
    "ClipNotFoundError",
    "EditError",
    "ProjectError",
    "ProjectLockedError",
    "RenderError",
    "ModelError",
    "ModelNotFoundError",
    "ModelTaskError",
    "WeightsError",
    "PlacementNotice",
]
