"""The ctc reader: a CRNN reads the whole image; greedy CTC decoding turns its frames into digits.

Preprocessing and decoding live here and training imports them, so the model sees the
same input in training and in the host (parity by construction).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host.kinds import Kind
from host.reader import ModelReader, softmax

BLANK = 10  # class index of the CTC blank; 0-9 are the digits
CLASSES = 11


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> float32 (H, W, 3) ink in [0, 1]: white paper is 0.

    Colour is kept because neighbouring digits differ in colour, which separates
    overlapping strokes better than grey levels do.
    """
    return 1.0 - rgb.astype(np.float32) / 255.0


def greedy_decode(probs: np.ndarray) -> tuple[str, np.ndarray]:
    """Best path decoding of (frames, 11) probabilities.

    Returns the text and, per character, the digit distribution (10,) of the frame where
    that character peaks, renormalised over the digits. A character's run of frames is
    the maximal run of one class, as CTC collapses it.
    """
    best = probs.argmax(axis=1)
    text: list[str] = []
    rows: list[np.ndarray] = []
    t = 0
    while t < len(best):
        cls = best[t]
        end = t
        while end + 1 < len(best) and best[end + 1] == cls:
            end += 1
        if cls != BLANK:
            peak = t + int(probs[t : end + 1, cls].argmax())
            digits = probs[peak, :BLANK]
            text.append(str(cls))
            rows.append(digits / max(digits.sum(), 1e-12))
        t = end + 1
    return "".join(text), np.array(rows, dtype=np.float64).reshape(-1, 10)


def read_probs(logits: np.ndarray, kind: Kind, temperature: float) -> np.ndarray | None:
    """(digits, 10) per-position probabilities from one image's logits, or None (wrong length)."""
    text, rows = greedy_decode(softmax(logits, temperature))
    return rows if len(text) == kind.digits else None


class CtcReader(ModelReader):
    """The ctc model of one kind; `read` as in ARCHITECTURE.md."""

    method = "ctc"
    # Builtin kernels: XNNPACK packing the weights took 10.5 ms (ais6) and 7.9 ms (ais3) of a
    # cold start and saved 0.25 ms (ais6) and nothing (ais3) per read (docs/BENCHMARKS.md).
    xnnpack = False

    def check_shapes(self, path: Path, kind: Kind, inp: tuple, out: tuple) -> None:
        if inp != (1, kind.height, kind.width, 3):
            raise ValueError(f"{path.name}: input shape {list(inp)} is not {kind}")

    def logits(self, rgb: np.ndarray) -> np.ndarray:
        """The model's raw (frames, 11) output for one image of the kind's size."""
        return self.invoke(preprocess(rgb)[None])[0]

    def read(self, rgb: np.ndarray) -> np.ndarray | None:
        """Per-position digit probabilities (kind.digits, 10), or None when the length is wrong."""
        return read_probs(self.logits(rgb), self.kind, self.temperature)
