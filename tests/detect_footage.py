"""Footage whose truth is known exactly, for the detectors' tests and bench/accuracy_speech_shots.py.

    path, truth = spoken(d / "talk.mp4", [(1.0, "hello there"), (4.0, "good morning")], seconds=7, snr_db=10)
    path, cuts = shots(d / "shots.mp4", ["astronaut", "coffee", "chelsea"], frames=24)

Speech is Debian's espeak-ng, mixed into Gaussian noise at a known signal-to-noise ratio; ``truth`` holds each
utterance's extent (its first to last sound above -35 dB of its loudest 10 ms). Shots are scikit-image's photos,
each panned by a known path, joined by hard cuts at known frames.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from nbedit import media

RATE = 48000


def say(text: str, rate: int = RATE) -> np.ndarray:
    """espeak-ng's voice saying ``text``, mono float32 at ``rate``."""
    with tempfile.TemporaryDirectory() as d:
        wav = os.path.join(d, "say.wav")
        subprocess.run(["espeak-ng", "-w", wav, text], check=True, capture_output=True)
        return media.read_audio(wav, rate=rate, channels=1)[0]


def extent(pcm: np.ndarray, rate: int = RATE) -> tuple[float, float]:
    """(first, last) second of a clean utterance above -35 dB of its loudest 10 ms."""
    hop = rate // 100
    n = len(pcm) // hop
    rms = np.sqrt(np.mean(pcm[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    on = np.nonzero(20 * np.log10(rms / rms.max()) > -35)[0]
    return on[0] * hop / rate, (on[-1] + 1) * hop / rate


def speech_track(
    utterances: list[tuple[float, str]], seconds: float, snr_db: float | None, seed: int = 0, bursts: bool = False
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """(mono samples at RATE, truth spans in seconds): the utterances at their times, over noise ``snr_db`` below
    the speech (None: no noise). ``bursts``: the noise comes and goes every 0.4 s (loud or quiet by chance, the
    same power on average), as traffic or a crowd would."""
    out = np.zeros(round(seconds * RATE), np.float32)
    truth, power = [], []
    for at, text in utterances:
        pcm = 0.5 * say(text)
        a, b = extent(pcm)
        k = round(at * RATE)
        out[k : k + len(pcm)] += pcm[: len(out) - k]
        truth.append((at + a, at + b))
        power.append(np.mean(pcm[round(a * RATE) : round(b * RATE)] ** 2))
    if snr_db is not None:
        noise_power = float(np.mean(power)) / 10 ** (snr_db / 10)
        rng = np.random.default_rng(seed)
        noise = rng.normal(0, np.sqrt(noise_power), len(out))
        if bursts:
            hop = round(0.4 * RATE)
            level = np.sqrt(rng.choice([0.2, 1.8], size=-(-len(out) // hop)))
            noise *= np.repeat(level, hop)[: len(out)]
        out += noise.astype(np.float32)
    return np.clip(out, -1, 1), truth


def spoken(
    path: str | os.PathLike,
    utterances: list[tuple[float, str]],
    *,
    seconds: float,
    snr_db: float | None = 10.0,
    seed: int = 0,
    bursts: bool = False,
    fps: int = 24,
    size: tuple[int, int] = (160, 120),
    video: bool = True,
) -> tuple[str, list[tuple[float, float]]]:
    """A file (H.264 with its frame number drawn + AAC, or a WAV when ``video=False``) of speech in noise, and
    the truth spans."""
    pcm, truth = speech_track(utterances, seconds, snr_db, seed, bursts)
    path = str(Path(path).absolute())
    with av.open(path, "w") as c:
        if video:
            vs = c.add_stream("libx264", rate=fps, options={"crf": "23", "preset": "ultrafast", "bframes": "0"})
            vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
            vs.time_base = Fraction(1, fps)
        aus = c.add_stream("aac" if video else "pcm_s16le", rate=RATE)
        aus.layout = "mono"
        if video:
            for n in range(round(seconds * fps)):
                img = np.full((size[1], size[0], 3), 60, np.uint8)
                media.draw_counter(img, n)
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = n
                for p in vs.encode(frame):
                    c.mux(p)
            for p in vs.encode():
                c.mux(p)
        step = 1024
        for k in range(0, len(pcm), step):
            chunk = pcm[k : k + step][None, :]
            if not video:
                chunk = np.round(chunk * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(chunk), format="fltp" if video else "s16", layout="mono"
            )
            frame.sample_rate, frame.pts = RATE, k
            for p in aus.encode(frame):
                c.mux(p)
        for p in aus.encode():
            c.mux(p)
    return path, truth


def photo(name: str, size: tuple[int, int]) -> np.ndarray:
    """A scikit-image photo as RGB uint8, cropped to the aspect of ``size`` and scaled a little larger than it
    (room to pan)."""
    import cv2
    from skimage import data

    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    w, h = size
    big = (int(w * 1.25), int(h * 1.25))
    ih, iw = img.shape[:2]
    k = min(iw / big[0], ih / big[1])
    cw, ch = int(big[0] * k), int(big[1] * k)
    img = img[(ih - ch) // 2 : (ih - ch) // 2 + ch, (iw - cw) // 2 : (iw - cw) // 2 + cw]
    return cv2.resize(np.ascontiguousarray(img), big, interpolation=cv2.INTER_AREA)


def shot_frames(names: list[str], frames: int, size: tuple[int, int] = (160, 120)) -> tuple[np.ndarray, list[int]]:
    """Each photo panned left to right (and a little down) over ``frames`` frames, one after another: (T, H, W, 3)
    frames and the frame numbers where a new shot starts."""
    w, h = size
    out, cuts = [], []
    for k, name in enumerate(names):
        img = photo(name, size)
        if k:
            cuts.append(len(out))
        dx, dy = img.shape[1] - w, img.shape[0] - h
        for j in range(frames):
            u = j / max(frames - 1, 1)
            x, y = round(u * dx), round(u * dy * 0.5)
            out.append(img[y : y + h, x : x + w])
    return np.stack(out), cuts


def shots(path: str | os.PathLike, names: list[str], *, frames: int = 24, fps: int = 24, size=(160, 120)):
    """Lossless footage of :func:`shot_frames` at ``fps``; returns (path, cut frames)."""
    from nbedit.ops.derived import write_video

    pictures, cuts = shot_frames(names, frames, size)
    return str(write_video(Path(path).absolute(), pictures, fps)), cuts
