"""Several labeled folders as one training set: `python -m training --data A --data B`.

Each folder (../shared/data, the host's kept captchas, ...) is split on its own by the fixed
rule of training/data.py, so an image that is validation in its own folder stays validation
(the real validation images of ../shared/data are never trained on, whatever else is added),
and an answer that is repeated in one folder does not pull another folder's image of the same
answer into validation. Then the sides are merged, and images with the same pixels (the same
captcha saved twice, or copied into two folders) are kept once: validation first, so a picture
that is validation anywhere is never trained on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from host.imageio import decode_png
from host.kinds import Kind
from training import data as dataset

Folders = Path | Sequence[Path] | None


def folders_of(data: Folders) -> list[Path]:
    """`data` as a list of folders (one Path, several, or none)."""
    if data is None:
        return []
    return [data] if isinstance(data, Path) else list(data)


_digests: dict[Path, str] = {}


def content(path: Path) -> str:
    """A digest of an image's decoded pixels (RGB, with its size): equal pictures, equal
    digests, whatever PNG encoding (palette or RGB) each copy was saved with."""
    key = path.resolve()
    if key not in _digests:
        rgb = decode_png(path.read_bytes())
        digest = hashlib.sha256(repr(rgb.shape).encode() + rgb.tobytes())
        _digests[key] = digest.hexdigest()
    return _digests[key]


def real_split(
    data: Folders, kind: Kind
) -> tuple[list[dataset.Sample], list[dataset.Sample], dict[str, int]]:
    """(train, validation, counts) of `kind` over every folder; see the module docstring.

    Known label errors (training/data.py) are left out of training. `counts` says how many
    images were read, dropped as duplicates and left out as label errors.
    """
    train: list[dataset.Sample] = []
    val: list[dataset.Sample] = []
    read = 0
    for folder in folders_of(data):
        samples = dataset.load_folder(folder / kind.name, kind.digits)
        read += len(samples)
        t, v = dataset.split(samples)
        train += t
        val += v
    errors = len(train)
    train = dataset.without_label_errors(train)
    errors -= len(train)
    seen: set[str] = set()
    kept_val, kept_train = [], []
    for side, kept in ((val, kept_val), (train, kept_train)):
        for s in side:
            digest = content(s.path)
            if digest not in seen:
                seen.add(digest)
                kept.append(s)
    counts = {
        "folders": len(folders_of(data)),
        "images": read,
        "duplicates": len(train) + len(val) - len(kept_train) - len(kept_val),
        "label_errors": errors,
        "train": len(kept_train),
        "validation": len(kept_val),
    }
    return kept_train, kept_val, counts
