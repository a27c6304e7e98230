"""Reading the real validation split with an exported model, exactly as the host reads it.

Both trainers (train_ctc.py, train_seg.py) validate their exported models through
`validate_built` (which reports through `read_split` and `quantization`), so their figures
mean the same thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from host.catalogue import Entry, entry_name
from host.confidence import reading_of
from host.imageio import decode_png
from host.kinds import KINDS, Kind
from host.reader import ModelReader
from host.scoring import Outcome, Tally
from training import data as dataset
from training import merge
from training.merge import Folders


def read_split(reader: ModelReader, kind: Kind, samples: list[dataset.Sample]) -> dict[str, Any]:
    """Accuracy, misread files, confident answers and median ms of `reader` on `samples`.

    `unread` counts images the reader gave no answer for (ctc: wrong length; seg: the
    segmentation did not find the digits); they are misreads too.
    """
    tally = Tally()
    for s in samples:
        rgb = decode_png(s.path.read_bytes())
        started = time.perf_counter()
        probs = reader.read(rgb)
        ms = (time.perf_counter() - started) * 1000
        if probs is None:
            tally.add(Outcome(s.path.name, s.answer, ms=ms))
        else:
            read = reading_of(probs)
            tally.add(Outcome(s.path.name, s.answer, read.text, read.confidence, ms=ms))
    n = tally.total
    return {
        "images": n,
        "correct": tally.correct,
        "accuracy": tally.accuracy if n else float("nan"),
        "unread": len(tally.unanswered),
        "misread": [
            {"file": o.file, "read": o.text, "confidence": round(o.confidence, 4)}
            for o in tally.misses
        ],
        "confident": tally.confident,  # host.confidence.is_confident
        "confident_wrong": tally.confident_wrong,
        "median_ms": tally.median_ms if n else float("nan"),
    }


def quantization(
    variants: dict[str, str],
    open_variant: Callable[[Path], ModelReader],
    kind: Kind,
    samples: list[dataset.Sample],
) -> dict[str, Any]:
    """What each exported variant (float16, float32, int8...) costs: bytes, correct, median ms."""
    costs: dict[str, Any] = {}
    for name, path in variants.items():
        try:
            variant = read_split(open_variant(Path(path)), kind, samples)
        except Exception as exc:
            costs[name] = f"does not load: {exc}"[:200]
            continue
        costs[name] = {
            "bytes": Path(path).stat().st_size,
            "correct": variant["correct"],
            "images": variant["images"],
            "median_ms": round(variant["median_ms"], 3),
        }
    return costs


def validate_built(
    reader_type: type[ModelReader],
    models_out: Path,
    data: Folders,
    entries: dict[str, dict[str, Any]],
    report: dict[str, Any],
    describe: Callable[[Kind, dict[str, Any], dict[str, Any]], str],
    log: Callable[[str], None],
    unread_as: str | None = None,
) -> None:
    """Read each kind's real validation split with the models just built into `models_out`.

    `reader_type` (CtcReader, SegReader) reads them from `models_out`/models.json. Per kind,
    its report section gets the figures (`validation`, read_split's) and what each exported
    variant costs (`quantization`); its models.json entry gets images, correct and accuracy,
    and the unread count as `unread_as` when given; `describe(kind, figures, section)` is the
    line logged.
    """
    for kind in KINDS.values():
        name = entry_name(reader_type.method, kind.name)
        _, val_s, _ = merge.real_split(data, kind)
        section = report[name]
        result = read_split(reader_type.from_folder(models_out, kind), kind, val_s)
        section["validation"] = result
        entry = entries[name]
        entry["validation"] = {k: result[k] for k in ("images", "correct", "accuracy")}
        if unread_as is not None:
            entry["validation"][unread_as] = result["unread"]
        temperature = Entry.from_json(name, entry).temperature
        section["quantization"] = quantization(
            section["variants"],
            lambda path, k=kind, t=temperature: reader_type(path, k, t),
            kind,
            val_s,
        )
        log(describe(kind, result, section))
