"""The ctc reader: a CRNN reads the whole image; greedy CTC decoding turns its frames into digits.

Preprocessing and decoding live here and training imports them, so the model sees the
same input in training and in the host (parity by construction).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from host.kinds import KINDS, Kind
from host.runtime import make_interpreter

BLANK = 10  # class index of the CTC blank; 0-9 are the digits
CLASSES = 11


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> float32 (H, W, 3) ink in [0, 1]: white paper is 0.

    Colour is kept because neighbouring digits differ in colour, which separates
    overlapping strokes better than grey levels do.
    """
    return 1.0 - rgb.astype(np.float32) / 255.0


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature`."""
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


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


class CtcReader:
    """Loads the ctc model of each kind listed in models.json; `read` as in ARCHITECTURE.md."""

    method = "ctc"

    def __init__(self, models_dir: Path, kinds: list[Kind] | None = None) -> None:
        """Load the model of every kind in `kinds` (default all); raise if one fails."""
        meta = json.loads((models_dir / "models.json").read_text(encoding="utf-8"))["models"]
        self._models: dict[str, tuple[Any, int, int, float]] = {}
        for kind in kinds if kinds is not None else list(KINDS.values()):
            entry = meta[f"ctc_{kind.name}"]
            temperature = float(entry.get("calibration", {}).get("temperature", 1.0))
            self._load(models_dir / entry["file"], kind, temperature)

    @classmethod
    def for_file(cls, path: Path, kind: Kind, temperature: float = 1.0) -> CtcReader:
        """A reader of one .tflite file outside models.json (training compares variants)."""
        reader = cls.__new__(cls)
        reader._models = {}
        reader._load(path, kind, temperature)
        return reader

    def _load(self, path: Path, kind: Kind, temperature: float) -> None:
        interpreter = make_interpreter(path)
        inp = interpreter.get_input_details()[0]
        out = interpreter.get_output_details()[0]
        if tuple(inp["shape"]) != (1, kind.height, kind.width, 3):
            raise ValueError(f"{path.name}: input shape {inp['shape']} is not {kind}")
        if inp["dtype"] != np.float32 or out["dtype"] != np.float32:
            raise ValueError(f"{path.name}: input and output must be float32")
        self._models[kind.name] = (interpreter, inp["index"], out["index"], temperature)

    def logits(self, rgb: np.ndarray, kind: Kind) -> np.ndarray:
        """The model's raw (frames, 11) output for one image of the kind's size."""
        interpreter, inp, out, _ = self._models[kind.name]
        interpreter.set_tensor(inp, preprocess(rgb)[None])
        interpreter.invoke()
        return interpreter.get_tensor(out)[0].copy()

    def read(self, rgb: np.ndarray, kind: Kind) -> np.ndarray | None:
        """Per-position digit probabilities (kind.digits, 10), or None when the length is wrong."""
        return read_probs(self.logits(rgb, kind), kind, self._models[kind.name][3])
