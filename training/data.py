"""Labeled captcha folders and the fixed validation split.

A folder holds PNGs whose file stem is the answer; a `_NN` suffix marks another
rendering of the same answer (see ../shared/data/README.md). Answers are strings:
"005" must stay "005".

The validation split is fixed by the answer, not by the file, so every rendering of
one answer lands on the same side, and it never changes between runs or machines.
Answers drawn more than once (the repeated-render sets) are always validation: they
are the one sample not biased by an earlier model's labelling.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VALIDATION_SHARE = 0.25
_STEM = re.compile(r"^(\d+)(?:_(\d+))?$")


@dataclass(frozen=True)
class Sample:
    path: Path
    answer: str


# Training images whose label is wrong: the picture (checked by eye, and read the same way
# by both models) shows another answer. Training leaves them out; the shared files are
# not ours to rename. Key: "<kind folder>/<file name>", value: what the picture shows.
KNOWN_LABEL_ERRORS: dict[str, str] = {
    "ais6/488210.png": "485210",
    "ais6/893983.png": "893953",
    "ais6/998749.png": "998949",
}


def without_label_errors(samples: list[Sample]) -> list[Sample]:
    """`samples` minus the files listed in KNOWN_LABEL_ERRORS."""
    return [s for s in samples if f"{s.path.parent.name}/{s.path.name}" not in KNOWN_LABEL_ERRORS]


def shared_data_dir() -> Path | None:
    """The real labeled captchas: $DECAPTCHA_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("DECAPTCHA_DATA")
    folder = Path(env) if env else REPO.parent / "shared" / "data"
    return folder if folder.is_dir() else None


def answer_of(path: Path) -> str:
    """The answer a file's name gives: '005_03.png' -> '005'."""
    match = _STEM.match(path.stem)
    if not match:
        raise ValueError(f"{path.name}: file stem is not an answer (digits, optional _NN)")
    return match.group(1)


def load_folder(folder: Path, digits: int | None = None) -> list[Sample]:
    """Every labeled PNG in `folder`, sorted by name; `digits` checks each answer's length."""
    samples = []
    for path in sorted(folder.glob("*.png")):
        answer = answer_of(path)
        if digits is not None and len(answer) != digits:
            raise ValueError(f"{path}: answer {answer!r} does not have {digits} digits")
        samples.append(Sample(path, answer))
    return samples


def is_validation(answer: str, repeated: bool = False) -> bool:
    """Whether an answer belongs to the fixed validation split."""
    if repeated:
        return True
    digest = hashlib.sha256(answer.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < VALIDATION_SHARE


def split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """(train, validation), fixed by answer; see the module docstring."""
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.answer] = counts.get(s.answer, 0) + 1
    train, val = [], []
    for s in samples:
        (val if is_validation(s.answer, counts[s.answer] > 1) else train).append(s)
    return train, val
