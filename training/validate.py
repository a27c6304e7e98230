"""Reading the real validation split with an exported model, exactly as the host reads it.

Both trainers (train_ctc.py, train_seg.py) report through these two functions, so their
figures mean the same thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from host.imageio import decode_png
from host.kinds import Kind
from host.reader import ModelReader
from training import data as dataset


def read_split(reader: ModelReader, kind: Kind, samples: list[dataset.Sample]) -> dict[str, Any]:
    """Accuracy, misread files, confident answers and median ms of `reader` on `samples`.

    `unread` counts images the reader gave no answer for (ctc: wrong length; seg: the
    segmentation did not find the digits); they are misreads too.
    """
    misread: list[dict[str, Any]] = []
    unread = confident = confident_wrong = 0
    times = []
    for s in samples:
        rgb = decode_png(s.path.read_bytes())
        started = time.perf_counter()
        probs = reader.read(rgb)
        times.append(time.perf_counter() - started)
        unread += probs is None
        text = "".join(str(int(d)) for d in probs.argmax(axis=1)) if probs is not None else None
        conf = float(np.prod(probs.max(axis=1))) if probs is not None else 0.0
        if conf > 0.9:
            confident += 1
            confident_wrong += text != s.answer
        if text != s.answer:
            misread.append({"file": s.path.name, "read": text, "confidence": round(conf, 4)})
    n = len(samples)
    return {
        "images": n,
        "correct": n - len(misread),
        "accuracy": (n - len(misread)) / n if n else float("nan"),
        "unread": unread,
        "misread": misread,
        "confident_over_0.9": confident,
        "confident_over_0.9_wrong": confident_wrong,
        "median_ms": float(np.median(times) * 1000) if times else float("nan"),
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
