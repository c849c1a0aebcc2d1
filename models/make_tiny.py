"""Build the tiny random-weight checkpoints (LTX-Video, a second LTX take, LTX-2, SD img2img, per-frame ONNX).

    python models/make_tiny.py models        # the same as: nbedit models make-tiny models

They load through the same code as a real checkpoint; the tests and `nbedit demo` use them.
"""

from __future__ import annotations

import sys

from nbedit.cli import main

if __name__ == "__main__":
    sys.exit(main(["models", "make-tiny", *(sys.argv[1:] or ["models"])]))
