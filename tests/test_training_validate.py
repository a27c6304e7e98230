"""training/validate.py: the trainers' validation figures, counted by host/scoring.py's Tally."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host import scoring
from host.confidence import FILL_THRESHOLD
from host.kinds import KINDS
from tests.test_host_scoring import write_folder
from training.validate import read_split


def one_hot(text: str, p: float) -> np.ndarray:
    """Probabilities reading `text`, each position with probability `p`."""
    rows = np.full((len(text), 10), (1 - p) / 9)
    rows[np.arange(len(text)), [int(c) for c in text]] = p
    return rows


class ScriptedReader:
    """Reads each picture in turn as scripted: (text, per-digit p), or None for no answer."""

    def __init__(self, script: list[tuple[str, float] | None]) -> None:
        self.script = iter(script)

    def read(self, rgb: np.ndarray, kind: object = None) -> np.ndarray | None:
        # `kind` optional: readers bound to one kind (host/catalogue.py) are called read(rgb).
        step = next(self.script)
        return None if step is None else one_hot(*step)


def test_read_split_counts_misreads_unread_and_confident_answers(tmp_path: Path) -> None:
    write_folder(tmp_path, ["111", "222", "333", "444"])
    samples = scoring.load_folder(tmp_path)
    at_threshold = FILL_THRESHOLD ** (1 / 3)  # the product over 3 digits is the threshold
    reader = ScriptedReader([("111", 1.0), ("223", at_threshold + 1e-9), ("333", 0.5), None])
    got = read_split(reader, KINDS["ais3"], samples)
    assert (got["images"], got["correct"], got["accuracy"], got["unread"]) == (4, 2, 0.5, 1)
    assert [(m["file"], m["read"]) for m in got["misread"]] == [
        ("222.png", "223"),
        ("444.png", None),
    ]
    assert got["misread"][1]["confidence"] == 0.0
    assert (got["confident"], got["confident_wrong"]) == (2, 1)
