"""ddddocr, the general captcha library people use instead, read on the same images.

Three ways, all from the same single forward pass of its default model:
- `ddddocr`: as it comes, `DdddOcr().classification(png)`.
- `ddddocr-filter`: `set_ranges("0123456789")`, which in ddddocr 1.6 takes the unrestricted
  greedy CTC decode and then drops every character that is not a digit.
- `ddddocr-digits`: a digits-only decode: the greedy CTC decode taken over the blank and the
  ten digit classes only (argmax restricted to those columns), from the probabilities that
  `classification(png, probability=True)` returns. This is what "restrict the charset" means
  for a CTC model, and ddddocr's best case on digit captchas.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

import numpy as np

DIGITS = "0123456789"
VARIANTS = ("ddddocr", "ddddocr-filter", "ddddocr-digits")


def restricted_ctc_decode(probs: np.ndarray, charset: Sequence[str], allowed: str) -> str:
    """Greedy CTC decode of (T, C) probabilities over the blank (class 0) and `allowed` only."""
    columns = [0] + [i for i, ch in enumerate(charset) if ch in set(allowed) and ch]
    best = np.asarray(columns)[np.argmax(probs[:, columns], axis=1)]
    out, prev = [], -1
    for idx in best:
        if idx != prev and idx != 0:
            out.append(charset[idx])
        prev = idx
    return "".join(out)


class Ddddocr:
    """ddddocr's default OCR model; `read(png)` gives every variant's answer at once."""

    def __init__(self) -> None:
        import ddddocr  # benchmark-only dependency: bench/requirements.txt

        # Its constructor prints an advertisement to stdout; keep our output clean.
        with contextlib.redirect_stdout(io.StringIO()):
            self._plain = ddddocr.DdddOcr(show_ad=False)
            self._filter = ddddocr.DdddOcr(show_ad=False)
        self._filter.set_ranges(DIGITS)
        self.version = getattr(ddddocr, "__version__", None)

    def classify(self, png: bytes) -> str:
        """ddddocr as it comes (what the timing compares against)."""
        return self._plain.classification(png)

    def read(self, png: bytes) -> dict[str, str]:
        result = self._plain.classification(png, probability=True)
        probs = np.asarray(result["probabilities"], dtype=np.float32)
        if probs.ndim == 3:  # (T, 1, C) or (1, T, C)
            probs = probs[:, 0, :] if probs.shape[1] == 1 else probs[0]
        return {
            "ddddocr": result["text"],
            "ddddocr-filter": self._filter.classification(png),
            "ddddocr-digits": restricted_ctc_decode(probs, result["charset"], DIGITS),
        }
