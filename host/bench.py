"""`--bench FOLDER`: accuracy and time per image, per method, on a labeled folder.

A labeled folder holds PNGs whose stem is the answer, with an optional `_NN` suffix for
repeated renderings (as ../shared/data). A folder with `ais6/` and `ais3/` inside is read as
both. Times are wall-clock per `solve` call on one image (decoded beforehand), as medians.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host import imageio
from host.errors import HostError

_STEM = re.compile(r"^(\d+)(?:_\d+)?$")
METHODS = ("ctc", "seg", "auto")


@dataclass(frozen=True)
class Sample:
    path: Path
    answer: str
    repeated: bool  # one of several renderings of the same answer (`_NN` suffix)


@dataclass
class Tally:
    kind: str
    method: str
    total: int = 0
    correct: int = 0
    wrong_confident: int = 0  # wrong answers with confidence >= 0.9
    errors: Counter = field(default_factory=Counter)
    ms: list[float] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "images": self.total,
            "correct": self.correct,
            "accuracy": self.correct / self.total if self.total else None,
            "wrong_confident": self.wrong_confident,
            "errors": dict(self.errors),
            "median_ms": statistics.median(self.ms) if self.ms else None,
        }


def labeled(folder: Path) -> list[Sample]:
    """The labeled PNGs of `folder` (or of its ais6/ and ais3/ subfolders), sorted."""
    subfolders = [folder / k for k in ("ais6", "ais3") if (folder / k).is_dir()]
    samples = []
    for sub in subfolders or [folder]:
        for path in sorted(sub.glob("*.png")):
            match = _STEM.match(path.stem)
            if match:
                samples.append(Sample(path, match.group(1), match.group(0) != match.group(1)))
    return samples


def validation_only(samples: list[Sample]) -> list[Sample]:
    """The fixed validation split of training/data.py (source checkouts only)."""
    from training.data import is_validation

    return [s for s in samples if is_validation(s.answer, s.repeated)]


def run(solver: Any, samples: list[Sample], methods: tuple[str, ...] = METHODS) -> list[dict]:
    """One row per (kind, method): accuracy, confident mistakes, error codes, median ms."""
    tallies: dict[tuple[str, str], Tally] = {}
    decoded = []
    for sample in samples:
        try:
            decoded.append((sample, imageio.decode_png(sample.path.read_bytes()), None))
        except (OSError, HostError) as exc:
            decoded.append((sample, None, getattr(exc, "code", "UNREADABLE")))
    for method in methods:
        for sample, rgb, error in decoded:
            kind = f"ais{len(sample.answer)}"
            tally = tallies.setdefault((kind, method), Tally(kind, method))
            tally.total += 1
            if error:
                tally.errors[error] += 1
                continue
            started = time.perf_counter()
            try:
                answer = solver.solve([rgb], None, method).to_dict()
            except HostError as exc:
                tally.errors[exc.code] += 1
                continue
            finally:
                tally.ms.append((time.perf_counter() - started) * 1000)
            if answer["text"] == sample.answer:
                tally.correct += 1
            elif answer["confidence"] >= 0.9:
                tally.wrong_confident += 1
    return [t.row() for t in tallies.values()]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{platform.platform()}, {cpu}, {os.cpu_count()} CPUs"


def table(rows: list[dict]) -> str:
    lines = [
        f"{'kind':5} {'method':6} {'images':>6} {'correct':>7} {'accuracy':>9} "
        f"{'wrong>=.9':>9} {'median ms':>9}  errors"
    ]
    for r in rows:
        accuracy = f"{100 * r['accuracy']:.2f}%" if r["accuracy"] is not None else "-"
        median = f"{r['median_ms']:.2f}" if r["median_ms"] is not None else "-"
        errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "-"
        lines.append(
            f"{r['kind']:5} {r['method']:6} {r['images']:>6} {r['correct']:>7} {accuracy:>9} "
            f"{r['wrong_confident']:>9} {median:>9}  {errors}"
        )
    return "\n".join(lines)
