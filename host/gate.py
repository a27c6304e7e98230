"""The gate: a small CNN per kind that says whether an image is an upright AIS captcha of it.

The readers' calibrated confidence holds for AIS captchas only; on anything else (a captcha
turned or mirrored, cut up or cropped, drawn in another font the day the AIS changes its
captcha, noise) they can still be sure of an answer. The gate looks at the whole image and
gives the probability that it is a real one; below its catalogued threshold the solver
caps the answer (host/plausibility.py). Trained by training/train_gate.py, which imports
`preprocess` from here, so both sides see the same input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host.catalogue import GATE, Entry
from host.kinds import KINDS, Kind
from host.reader import ModelReader, sigmoid


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> float32 (H, W, 3) ink in [0, 1]: white paper is 0."""
    return 1.0 - rgb.astype(np.float32) / 255.0


class GateReader(ModelReader):
    """The gate model of one kind: `score(rgb)` is P(an upright captcha of the kind)."""

    method = GATE

    def __init__(self, path: Path, kind: Kind, threshold: float = 0.5) -> None:
        super().__init__(path, kind)
        self.threshold = threshold

    @classmethod
    def for_entry(cls, folder: Path, entry: Entry) -> GateReader:
        threshold = 0.5 if entry.threshold is None else entry.threshold
        return cls(Path(folder) / entry.file, KINDS[entry.kind], threshold)

    def check_shapes(self, path: Path, kind: Kind, inp: tuple, out: tuple) -> None:
        if inp != (1, kind.height, kind.width, 3) or out != (1, 1):
            raise ValueError(f"{path.name}: input {list(inp)} / output {list(out)} gate no {kind}")

    def score(self, rgb: np.ndarray) -> float:
        """The probability that `rgb` (the kind's size) is an upright captcha of the kind."""
        return float(sigmoid(self.invoke(preprocess(rgb)[None]))[0, 0])

    def passes(self, rgb: np.ndarray) -> bool:
        """Whether the score reaches the threshold (a check that has no score, as the glyph
        check for an image not cut into digits, never passes)."""
        score = self.score(rgb)
        return score is not None and score >= self.threshold

    def warm_up(self) -> None:
        self.score(np.full((self.kind.height, self.kind.width, 3), 255, np.uint8))
