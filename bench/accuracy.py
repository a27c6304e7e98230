"""Whole-captcha exact match, per reader, on one dataset; every miss named by its file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.datasets import Dataset
from bench.stats import wilson_lower
from host.protocol import METHODS
from host.scoring import Outcome, Tally

# A reader maps (png bytes, kind) to its answer text, or raises (no answer).
Reader = Callable[[bytes, str], str]


def score(dataset: Dataset, readers: dict[str, Reader]) -> dict[str, dict]:
    """Per reader: n, correct, accuracy, and the misread (wrong text) and unread (error) files."""
    tallies = {name: Tally() for name in readers}
    # Image by image, every reader in turn, so readers may share work on one image.
    for item in dataset.items:
        for name, read in readers.items():
            try:
                got = read(item.png, dataset.kind)
            except Exception as exc:  # a refusal counts as a miss, but is reported apart
                tallies[name].add(Outcome(item.name, item.answer, error=_why(exc)))
                continue
            tallies[name].add(Outcome(item.name, item.answer, got))
    return {
        name: {
            "n": t.total,
            "correct": t.correct,
            "accuracy": t.accuracy,
            "lower95": wilson_lower(t.correct, t.total),
            "wrong": [{"file": o.file, "answer": o.answer, "got": o.text} for o in t.wrong],
            "unread": [
                {"file": o.file, "answer": o.answer, "error": o.error} for o in t.unanswered
            ],
        }
        for name, t in tallies.items()
    }


def _why(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    return f"{code}: {getattr(exc, 'message', exc)}" if code else f"{type(exc).__name__}: {exc}"


def solver_readers(solver, methods: tuple[str, ...] = METHODS) -> dict[str, Reader]:
    """Readers that go through the host's own decoding and Solver, one per method."""
    from host.imageio import decode_png

    def reader(method: str) -> Reader:
        return lambda png, kind: solver.solve([decode_png(png)], kind, method).text

    return {m: reader(m) for m in methods}


def ddddocr_readers(dddd) -> dict[str, Reader]:
    """ddddocr's variants; one forward pass per image serves all of them."""
    from bench.ddddocr_baseline import VARIANTS

    cache: dict[bytes, dict[str, str]] = {}

    def reader(variant: str) -> Reader:
        def read(png: bytes, _kind: str) -> str:
            if png not in cache:
                cache.clear()  # score() hands every reader the same image in turn
                cache[png] = dddd.read(png)
            return cache[png][variant]

        return read

    return {v: reader(v) for v in VARIANTS}


def load_solver(models_dir: Path | None = None):
    from host import paths
    from host.solver import Solver

    return Solver(models_dir=models_dir or paths.models_dir())
