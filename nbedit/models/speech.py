"""The learned speech detector: Silero VAD (MIT), as the ``silero-vad`` wheel ships it in ONNX, run with ONNX
Runtime on 16 kHz mono, one 32 ms window at a time with the recurrent state carried from window to window.

    runner = SileroVad.load(installed)      # what ModelPool.bundled("speech-detector", ...) keeps resident
    scores = runner.scores(pcm)             # speech probability per 512-sample window
    nbedit.tools.speech.regions(scores)     # the same hysteresis the classic energy detector uses

The graph takes each window with the 64 samples before it (context) and a (2, 1, 128) state, and gives a
probability and the next state; one thread, a fixed order of windows and no batching make it deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tools.speech import SAMPLE_RATE, WINDOW, windows
from .bundled import BUNDLED, Bundled, Installed

NAME = "speech-detector"
TASK = "speech-detection"
CONTEXT = 64  # samples of the previous window the graph sees before each one

BUNDLED.append(
    Bundled(
        name=NAME,
        task=TASK,
        runtime="onnxruntime",
        package="silero-vad",
        version="6.2.3",
        licence="MIT",
        files={"silero_vad/data/silero_vad.onnx": "silero_vad.onnx"},
        weights="silero_vad.onnx",
        inputs=f"{SAMPLE_RATE} Hz mono float32: {WINDOW}-sample windows after {CONTEXT} of context; state (2, 1, 128)",
        outputs="speech probability per window; the next state",
    )
)


class SileroVad:
    """One ONNX Runtime session of the Silero graph; :meth:`scores` runs a whole sound through it."""

    # its probability stays high for two to three windows after speech ends (measured at 10-20 dB SNR on
    # espeak-ng sentences other than the tests' own: 0.05-0.13 s late): regions end this much earlier
    lag = 0.064

    def __init__(self, session: Any):
        self.session = session

    @classmethod
    def load(cls, installed: Installed, device: str = "cpu") -> tuple[SileroVad, int]:
        """(runner, bytes it holds): the ``load`` ModelPool.bundled calls. A model this small runs on the CPU."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # one thread: the same sums in the same order, run after run
        opts.inter_op_num_threads = 1
        session = ort.InferenceSession(str(installed.weights), sess_options=opts, providers=["CPUExecutionProvider"])
        return cls(session), installed.weights.stat().st_size * 2

    def scores(self, pcm: np.ndarray, step: Callable[[int], None] | None = None) -> np.ndarray:
        """Speech probability of each 512-sample window of 16 kHz mono ``pcm``; ``step(n)`` after every n windows."""
        rows = windows(pcm)
        state = np.zeros((2, 1, 128), np.float32)
        context = np.zeros(CONTEXT, np.float32)
        sr = np.array(SAMPLE_RATE, np.int64)
        out = np.zeros(len(rows), np.float32)
        for k, row in enumerate(rows):
            x = np.concatenate([context, row])[None, :]
            prob, state = self.session.run(None, {"input": x, "state": state, "sr": sr})
            out[k] = float(prob.reshape(-1)[0])
            context = row[-CONTEXT:]
            if step is not None and k % 100 == 99:
                step(100)
        if step is not None and len(rows) % 100:
            step(len(rows) % 100)
        return out
