"""host/confidence.py: the one rule for "confident" and the one probabilities -> answer step."""

from __future__ import annotations

import numpy as np
import pytest

from host.confidence import FILL_THRESHOLD, is_confident, reading_of


def test_the_threshold_itself_is_confident() -> None:
    # `>=`, as the extension fills: an answer at exactly the threshold is filled.
    assert is_confident(FILL_THRESHOLD)
    assert not is_confident(np.nextafter(FILL_THRESHOLD, 0.0))
    assert is_confident(1.0) and not is_confident(0.0)


def test_reading_is_argmax_per_position_and_product_of_maxima() -> None:
    probs = np.full((3, 10), 0.01)
    probs[0, 0], probs[1, 7], probs[2, 3] = 0.91, 0.5, 0.8
    read = reading_of(probs)
    assert read.text == "073"  # leading zeros kept
    assert read.digits.tolist() == pytest.approx([0.91, 0.5, 0.8])
    assert read.confidence == pytest.approx(0.91 * 0.5 * 0.8)
