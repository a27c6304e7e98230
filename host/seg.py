"""The seg reader: host/segment.py cuts the captcha into digits, a small CNN reads each one.

`preprocess` is the one function that turns an image into the CNN's input; training
(training/train_seg.py) imports it, so both sides see the same crops by construction.
Each kind has its own .tflite file with a fixed batch of `kind.digits` crops, so one
invoke reads a whole captcha.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from host.kinds import KINDS, Kind
from host.runtime import make_interpreter
from host.segment import CROP, PLANES, segment


def preprocess(rgb: np.ndarray, kind: Kind) -> np.ndarray | None:
    """RGB uint8 (H, W, 3) -> float32 (digits, CROP, CROP, PLANES) CNN input, or None.

    None when the image does not come apart into exactly `kind.digits` digits.
    """
    crops = segment(rgb, kind.digits)
    if crops is None:
        return None
    return np.ascontiguousarray(crops.transpose(0, 2, 3, 1))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature`, in float64."""
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class SegReader:
    """Loads the seg model of each kind listed in models.json; `read` as in ARCHITECTURE.md."""

    method = "seg"

    def __init__(self, models_dir: Path, kinds: list[Kind] | None = None) -> None:
        """Load the model of every kind in `kinds` (default all); raise if one fails."""
        meta = json.loads((models_dir / "models.json").read_text(encoding="utf-8"))["models"]
        self._models: dict[str, tuple[Any, int, int, float]] = {}
        for kind in kinds if kinds is not None else list(KINDS.values()):
            entry = meta[f"seg_{kind.name}"]
            temperature = float(entry.get("calibration", {}).get("temperature", 1.0))
            self._load(models_dir / entry["file"], kind, temperature)

    @classmethod
    def for_file(cls, path: Path, kind: Kind, temperature: float = 1.0) -> SegReader:
        """A reader of one .tflite file outside models.json (training compares variants)."""
        reader = cls.__new__(cls)
        reader._models = {}
        reader._load(path, kind, temperature)
        return reader

    def _load(self, path: Path, kind: Kind, temperature: float) -> None:
        interpreter = make_interpreter(path)
        inp = interpreter.get_input_details()[0]
        out = interpreter.get_output_details()[0]
        shape = (kind.digits, CROP, CROP, PLANES)
        if tuple(inp["shape"]) != shape or tuple(out["shape"]) != (kind.digits, 10):
            raise ValueError(
                f"{path.name}: input {inp['shape']} / output {out['shape']} "
                f"do not read {kind.digits} digits"
            )
        if inp["dtype"] != np.float32 or out["dtype"] != np.float32:
            raise ValueError(f"{path.name}: input and output must be float32")
        self._models[kind.name] = (interpreter, inp["index"], out["index"], temperature)

    def logits(self, crops: np.ndarray, kind: Kind) -> np.ndarray:
        """Raw (digits, 10) logits for preprocessed crops (training uses this to calibrate)."""
        interpreter, inp, out, _ = self._models[kind.name]
        interpreter.set_tensor(inp, crops)
        interpreter.invoke()
        return interpreter.get_tensor(out).copy()

    def read(self, rgb: np.ndarray, kind: Kind) -> np.ndarray | None:
        """(digits, 10) per-position digit probabilities, or None if segmentation fails."""
        crops = preprocess(rgb, kind)
        if crops is None:
            return None
        return softmax(self.logits(crops, kind), self._models[kind.name][3])
