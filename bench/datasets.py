"""The images a benchmark reads: the real validation split, or seeded synthetic captchas.

Real images are only ever read from ../shared/data (never copied); only the validation
split that host/scoring.py fixes is used, so no model has trained on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from host.kinds import KINDS
from host.scoring import load_folder, split
from training.data import shared_data_dir


@dataclass(frozen=True)
class Item:
    name: str  # file name (real) or a generated name (synthetic), for error reports
    answer: str
    png: bytes


@dataclass(frozen=True)
class Dataset:
    label: str  # "real-val" or "synthetic"
    kind: str
    items: list[Item]


def real_validation(kind: str, data_dir: Path | None = None) -> Dataset | None:
    """The fixed validation split of ../shared/data/<kind>, or None when it is not there."""
    root = data_dir or shared_data_dir()
    if root is None or not (root / kind).is_dir():
        return None
    _train, val = split(load_folder(root / kind, KINDS[kind].digits))
    items = [Item(s.path.name, s.answer, s.path.read_bytes()) for s in val]
    return Dataset("real-val", kind, items)


def synthetic(kind: str, count: int, seed: int = 6) -> Dataset:
    """`count` captchas from training/synth.py, encoded as the server encodes them; seeded."""
    import numpy as np

    from training import synth

    rng = np.random.default_rng(seed)
    items = []
    for i in range(count):
        rgb, answer = synth.generate(kind, rng)
        items.append(
            Item(f"synth-{kind}-s{seed}-{i:04d}-{answer}.png", answer, synth.png_bytes(rgb, kind))
        )
    return Dataset("synthetic", kind, items)
