"""Speech in a sound, found window by window: 16 kHz mono cut into 32 ms windows, a score per window (a learned
model's speech probability, or this module's energy measure), and hysteresis that turns scores into regions.

    pcm = media.read_audio(path, rate=16000, channels=1)[0]
    regions(energy_scores(pcm))                  # [(0.52, 1.87), (3.10, 4.66)]: seconds from the first sample

Hysteresis: a region starts where the score reaches ``on`` and lasts until it falls below ``off`` (lower, so a
score hovering at the threshold does not chatter); pauses shorter than ``min_silence`` are bridged and regions
shorter than ``min_speech`` dropped. Everything here is plain numpy: the same sound gives the same regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512  # samples per score: 32 ms, the window the learned detector was trained on
WINDOW_S = WINDOW / SAMPLE_RATE


@dataclass(frozen=True)
class Hysteresis:
    """How scores become regions (seconds)."""

    on: float = 0.5
    off: float = 0.35
    min_speech: float = 0.25
    min_silence: float = 0.3
    pad: float = 0.0  # seconds added each side of a region
    lag: float = 0.0  # seconds a detector's score trails the end of speech: taken off each region's end


def windows(pcm: np.ndarray) -> np.ndarray:
    """Mono float32 samples as (n, WINDOW) rows, the last padded with silence."""
    pcm = np.asarray(pcm, np.float32).reshape(-1)
    n = -(-len(pcm) // WINDOW)
    out = np.zeros((n, WINDOW), np.float32)
    out.reshape(-1)[: len(pcm)] = pcm
    return out


def energy_scores(pcm: np.ndarray, *, margin_db: float = 12.0) -> np.ndarray:
    """A classic speech score per window in [0, 1]: its energy in the voice band (200-4000 Hz) above the sound's
    noise floor (the 10th percentile of those energies), 0 at the floor and 1 at ``margin_db`` over it."""
    rows = windows(pcm)
    if not len(rows):
        return np.zeros(0, np.float32)
    spectrum = np.abs(np.fft.rfft(rows * np.hanning(WINDOW).astype(np.float32), axis=1)) ** 2
    hz = np.fft.rfftfreq(WINDOW, 1 / SAMPLE_RATE)
    band = spectrum[:, (hz >= 200) & (hz <= 4000)].sum(axis=1)
    db = 10 * np.log10(band + 1e-10)
    floor = np.percentile(db, 10)
    return np.clip((db - floor) / margin_db, 0, 1).astype(np.float32)


def regions(scores: np.ndarray, rule: Hysteresis = Hysteresis(), *, length_s: float | None = None) -> list[tuple]:
    """Speech regions (start, end) in seconds from window scores, by ``rule``; clipped to ``length_s``."""
    raw: list[list[float]] = []
    speaking = False
    for k, p in enumerate(np.asarray(scores, np.float64)):
        if not speaking and p >= rule.on:
            speaking = True
            raw.append([k * WINDOW_S, 0.0])
        elif speaking and p < rule.off:
            speaking = False
            raw[-1][1] = k * WINDOW_S
    if speaking:
        raw[-1][1] = len(scores) * WINDOW_S
    merged: list[list[float]] = []
    for a, b in raw:
        if merged and a - merged[-1][1] < rule.min_silence:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    end = len(scores) * WINDOW_S if length_s is None else length_s
    out = []
    for a, b in merged:
        if b - a < rule.min_speech:
            continue
        b = max(a + WINDOW_S, b - rule.lag)
        out.append((round(max(0.0, a - rule.pad), 4), round(min(end, b + rule.pad), 4)))
    return out


def frame_labels(spans: list[tuple], length_s: float, step: float = 0.01) -> np.ndarray:
    """Booleans per ``step`` seconds: inside one of ``spans`` or not (for frame-level scores)."""
    t = (np.arange(int(round(length_s / step))) + 0.5) * step
    out = np.zeros(len(t), bool)
    for a, b in spans:
        out |= (t >= a) & (t < b)
    return out


def f1(found: np.ndarray, truth: np.ndarray) -> float:
    """The F1 score of boolean labels against the truth."""
    tp = float(np.sum(found & truth))
    fp, fn = float(np.sum(found & ~truth)), float(np.sum(~found & truth))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
