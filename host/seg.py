"""The seg reader: host/segment.py cuts the captcha into digits, a small CNN reads each one.

`preprocess` is the one function that turns an image into the CNN's input; training
(training/train_seg.py) imports it, so both sides see the same crops by construction.
Each kind has its own .tflite file with a fixed batch of `kind.digits` crops, so one
invoke reads a whole captcha.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host.kinds import Kind
from host.limits import MAX_IMAGES
from host.reader import ModelReader, softmax
from host.segment import CROP, PLANES, segment

# The crops of the last few images: the seg read and the glyph check (host/glyph.py) of one
# solve cut each of its renderings once. Each (shape, digits, pixels, read-only crops or None).
_recent: list[tuple[tuple[int, ...], int, bytes, np.ndarray | None]] = []


def preprocess(rgb: np.ndarray, kind: Kind) -> np.ndarray | None:
    """RGB uint8 (H, W, 3) -> float32 (digits, CROP, CROP, PLANES) CNN input (read-only), or None.

    None when the image does not come apart into exactly `kind.digits` digits.
    """
    global _recent
    key = (rgb.shape, kind.digits, rgb.tobytes())
    for entry in _recent:
        if entry[:3] == key:
            return entry[3]
    crops = segment(rgb, kind.digits)
    out = None if crops is None else np.ascontiguousarray(crops.transpose(0, 2, 3, 1))
    if out is not None:
        out.flags.writeable = False
    _recent = [(*key, out), *_recent[: MAX_IMAGES - 1]]  # a new list: safe to read meanwhile
    return out


class SegReader(ModelReader):
    """The seg model of one kind; `read` as in ARCHITECTURE.md."""

    method = "seg"

    def check_shapes(self, path: Path, kind: Kind, inp: tuple, out: tuple) -> None:
        if inp != (kind.digits, CROP, CROP, PLANES) or out != (kind.digits, 10):
            raise ValueError(
                f"{path.name}: input {list(inp)} / output {list(out)} "
                f"do not read {kind.digits} digits"
            )

    def logits(self, crops: np.ndarray) -> np.ndarray:
        """Raw (digits, 10) logits for preprocessed crops (training uses this to calibrate)."""
        return self.invoke(crops)

    def read(self, rgb: np.ndarray) -> np.ndarray | None:
        """(digits, 10) per-position digit probabilities, or None if segmentation fails."""
        crops = preprocess(rgb, self.kind)
        if crops is None:
            return None
        return softmax(self.logits(crops), self.temperature)
