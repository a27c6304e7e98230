"""The glyph check: a small CNN per kind that says whether each digit is drawn in the AIS font.

The gate (host/gate.py) looks at the whole image; on captchas drawn in another font (the day
the AIS changes its captcha) it can still pass a few, and the readers are then sure of
them. This model looks at each digit the segmenter cut (the seg reader's own crops,
host/seg.py `preprocess`) and gives the probability that it is an AIS digit; an image
passes when its least likely digit reaches the catalogued threshold. One invoke reads a
whole captcha (a fixed batch of `kind.digits` crops, as the seg model). Trained by
training/train_glyph.py on those same crops.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host.catalogue import GLYPH
from host.gate import GateReader
from host.kinds import Kind
from host.reader import sigmoid
from host.seg import preprocess
from host.segment import CROP, PLANES


class GlyphReader(GateReader):
    """The glyph model of one kind: `score(rgb)` is P(its least AIS-like digit is an AIS one),
    None when the segmenter does not cut the image into the kind's digits."""

    method = GLYPH

    def check_shapes(self, path: Path, kind: Kind, inp: tuple, out: tuple) -> None:
        if inp != (kind.digits, CROP, CROP, PLANES) or out != (kind.digits, 1):
            raise ValueError(
                f"{path.name}: input {list(inp)} / output {list(out)} "
                f"do not check {kind.digits} digits"
            )

    def digit_scores(self, crops: np.ndarray) -> np.ndarray:
        """(digits,) probabilities that each preprocessed crop is an AIS digit."""
        return sigmoid(self.invoke(crops)[:, 0])

    def score(self, rgb: np.ndarray) -> float | None:  # type: ignore[override]
        crops = preprocess(rgb, self.kind)
        return None if crops is None else float(self.digit_scores(crops).min())

    def warm_up(self) -> None:
        self.digit_scores(np.zeros((self.kind.digits, CROP, CROP, PLANES), np.float32))
