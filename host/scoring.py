"""Scoring readers on labeled captchas: the one home of labeled folders, the fixed
validation split and the tally every figure is counted with.

A labeled folder holds PNGs whose file stem is the answer; a `_NN` suffix marks another
rendering of the same answer, which the AIS server draws again with new noise each time the
image is fetched (see ../shared/data/README.md). Answers are strings: "005" stays "005".

The validation split is fixed by the answer, not by the file, so every rendering of one
answer lands on the same side, and it never changes between runs or machines. Repeated
renderings (the `_NN` files) are always validation: they are the one sample not biased by an
earlier model's labelling.

Used by the command line's `--bench`, by bench/ and by training/; it imports neither, so
the bundled host can score a folder and its validation split on its own.
"""

from __future__ import annotations

import hashlib
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host import imageio
from host.confidence import is_confident
from host.errors import HostError
from host.kinds import KINDS

VALIDATION_SHARE = 0.25
_STEM = re.compile(r"^(\d+)(?:_(\d+))?$")

# Training images whose label is wrong: the picture (checked by eye, and read the same way
# by both models) shows another answer. Training leaves them out; the shared files are
# not ours to rename. Key: "<kind folder>/<file name>", value: what the picture shows.
KNOWN_LABEL_ERRORS: dict[str, str] = {
    "ais6/488210.png": "485210",
    "ais6/893983.png": "893953",
    "ais6/998749.png": "998949",
}


# -- labeled folders ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One labeled captcha file."""

    path: Path
    answer: str
    repeated: bool  # one of several renderings of the same answer (`_NN` suffix)


def sample_of(path: Path) -> Sample:
    """The sample a file's name gives: '005_03.png' -> answer '005', repeated."""
    match = _STEM.match(path.stem)
    if not match:
        raise ValueError(f"{path.name}: file stem is not an answer (digits, optional _NN)")
    return Sample(path, match.group(1), match.group(2) is not None)


def answer_of(path: Path) -> str:
    """The answer a file's name gives: '005_03.png' -> '005'."""
    return sample_of(path).answer


def load_folder(folder: Path, digits: int | None = None) -> list[Sample]:
    """Every PNG in `folder`, sorted by name; each must be labeled, of `digits` digits if given."""
    samples = []
    for path in sorted(folder.glob("*.png")):
        sample = sample_of(path)
        if digits is not None and len(sample.answer) != digits:
            raise ValueError(f"{path}: answer {sample.answer!r} does not have {digits} digits")
        samples.append(sample)
    return samples


def labeled(folder: Path) -> list[Sample]:
    """The labeled PNGs of `folder` (or of its per-kind subfolders), sorted; others skipped."""
    subfolders = [folder / name for name in KINDS if (folder / name).is_dir()]
    samples = []
    for sub in subfolders or [folder]:
        for path in sorted(sub.glob("*.png")):
            try:
                samples.append(sample_of(path))
            except ValueError:
                continue  # not a labeled file
    return samples


def kind_name(answer: str) -> str:
    """The name of the kind whose captchas have this many digits (else 'N digits')."""
    names = [k.name for k in KINDS.values() if k.digits == len(answer)]
    return names[0] if names else f"{len(answer)} digits"


# -- the fixed validation split -------------------------------------------------------------


def is_validation(answer: str, repeated: bool = False) -> bool:
    """Whether an answer belongs to the fixed validation split."""
    if repeated:
        return True
    digest = hashlib.sha256(answer.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < VALIDATION_SHARE


def split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """(train, validation), fixed by answer; see the module docstring."""
    # An answer with one repeated rendering has all its files in validation, bare ones too.
    repeated = {s.answer for s in samples if s.repeated}
    train, val = [], []
    for s in samples:
        (val if is_validation(s.answer, s.answer in repeated) else train).append(s)
    return train, val


def without_label_errors(samples: list[Sample]) -> list[Sample]:
    """`samples` minus the files listed in KNOWN_LABEL_ERRORS."""
    return [s for s in samples if f"{s.path.parent.name}/{s.path.name}" not in KNOWN_LABEL_ERRORS]


# -- the tally ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One reading of one labeled image: an answer (text, confidence) or a refusal (error)."""

    file: str
    answer: str
    text: str | None = None  # None: no answer (see `error`)
    confidence: float = 0.0
    error: str | None = None  # why there is no answer: an error code or a message
    ms: float | None = None
    agree: bool | None = None  # auto: whether ctc and seg agreed

    @property
    def right(self) -> bool:
        return self.text == self.answer

    @property
    def confident(self) -> bool:
        return self.text is not None and is_confident(self.confidence)


@dataclass
class Tally:
    """Every outcome of one reader on one set of images, in order, and the figures from them."""

    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def correct(self) -> int:
        return sum(o.right for o in self.outcomes)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    @property
    def misses(self) -> list[Outcome]:
        """Every outcome that is not the answer (wrong text or none), in order."""
        return [o for o in self.outcomes if not o.right]

    @property
    def wrong(self) -> list[Outcome]:
        """Answers given with the wrong text."""
        return [o for o in self.outcomes if o.text is not None and not o.right]

    @property
    def unanswered(self) -> list[Outcome]:
        """Images without an answer (refused, or the reader could not read them)."""
        return [o for o in self.outcomes if o.text is None]

    @property
    def confident(self) -> int:
        return sum(o.confident for o in self.outcomes)

    @property
    def confident_wrong(self) -> int:
        return sum(o.confident and not o.right for o in self.outcomes)

    @property
    def errors(self) -> Counter:
        return Counter(o.error for o in self.outcomes if o.error is not None)

    @property
    def disagreements(self) -> int:
        return sum(o.agree is False for o in self.outcomes)

    @property
    def median_ms(self) -> float | None:
        times = [o.ms for o in self.outcomes if o.ms is not None]
        return statistics.median(times) if times else None


def solve_one(
    solver: Any, rgb: Any, kind: str | None, method: str, file: str, answer: str
) -> Outcome:
    """`solver.solve([rgb], kind, method)` as an Outcome, timed by the wall clock (refusals too)."""
    started = time.perf_counter()
    try:
        result = solver.solve([rgb], kind, method)
    except HostError as exc:
        return Outcome(file, answer, error=exc.code, ms=(time.perf_counter() - started) * 1000)
    ms = (time.perf_counter() - started) * 1000
    return Outcome(file, answer, result.text, result.confidence, ms=ms, agree=result.agree)


def score_solver(
    solver: Any, samples: Iterable[Sample], methods: Iterable[str]
) -> dict[tuple[str, str], Tally]:
    """Per (kind, method): the Solver on each sample's file, decoded beforehand, kind by size."""
    decoded = []
    for sample in samples:
        try:
            decoded.append((sample, imageio.decode_png(sample.path.read_bytes()), None))
        except (OSError, HostError) as exc:
            decoded.append((sample, None, getattr(exc, "code", "UNREADABLE")))
    tallies: dict[tuple[str, str], Tally] = {}
    for method in methods:
        for sample, rgb, error in decoded:
            kind = kind_name(sample.answer)
            tally = tallies.setdefault((kind, method), Tally())
            if error:
                tally.add(Outcome(sample.path.name, sample.answer, error=error))
            else:
                tally.add(solve_one(solver, rgb, None, method, sample.path.name, sample.answer))
    return tallies
