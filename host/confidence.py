"""From per-position digit probabilities to an answer, and when its confidence is enough to fill.

Every reader (ctc, seg) gives `(digits, 10)` probabilities; the answer is the likeliest digit
per position and its confidence the product of those digits' probabilities (a calibrated
probability that the whole text is right). The solver, the trainers and the scorers all go
through `reading_of` and `is_confident`, so "confident" means one thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# At or above this calibrated confidence an answer is filled (extension/src/shared/config.js
# CONFIDENCE_THRESHOLD, pinned by tests/test_shared_vocabulary.py).
FILL_THRESHOLD = 0.9


def is_confident(confidence: float) -> bool:
    """Whether an answer this confident is filled: `>=`, as the extension compares."""
    return confidence >= FILL_THRESHOLD


@dataclass(frozen=True)
class Reading:
    """One answer: its text, per-digit confidences, and whole confidence."""

    text: str
    digits: np.ndarray
    confidence: float


def reading_of(probs: np.ndarray) -> Reading:
    """The answer of `(positions, 10)` probabilities: argmax per position, product of maxima."""
    digits = probs.max(axis=1)
    text = "".join(str(int(d)) for d in probs.argmax(axis=1))
    return Reading(text, digits, float(np.prod(digits)))
