"""The targets of issues 6 and 3, checked against a result. Reported, never failed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from host.kinds import KINDS
from host.protocol import METHODS


@dataclass(frozen=True)
class Target:
    name: str
    path: tuple[str, ...]  # where the figure sits in the result dict
    limit: float
    unit: str
    higher_is_better: bool = False


# Issue 3's accuracy targets per model, on the real validation split.
ACCURACY = {"ctc": 0.999, "seg": 0.995}


def _targets() -> list[Target]:
    ts = [
        Target("warm solve, ais6 auto (median)", ("latency", "ais6", "auto", "median"), 3, "ms"),
        Target("warm solve, ais6 ctc (median)", ("latency", "ais6", "ctc", "median"), 3, "ms"),
        Target("warm solve, ais6 seg (median)", ("latency", "ais6", "seg", "median"), 3, "ms"),
        Target("warm solve, ais3 ctc (median)", ("latency", "ais3", "ctc", "median"), 3, "ms"),
        Target("warm solve, ais3 seg (median)", ("latency", "ais3", "seg", "median"), 3, "ms"),
        Target("bundle cold start to first answer", ("coldstart", "bundle", "median"), 300, "ms"),
        Target(
            "field filled after image load, warm host", ("browser", "warm", "median"), 100, "ms"
        ),
        Target("bundle folder size", ("sizes", "bundle", "mb"), 80, "MB"),
        Target("host peak RSS while solving (bundle)", ("rss", "bundle", "peak_mb"), 120, "MB"),
    ]
    for kind in KINDS:
        for method, limit in ACCURACY.items():
            ts.append(
                Target(
                    f"accuracy {kind} {method}, real validation",
                    ("accuracy", "real-val", kind, method, "accuracy"),
                    limit,
                    "",
                    higher_is_better=True,
                )
            )
    return ts


TARGETS = _targets()


def lookup(result: dict, path: tuple[str, ...]) -> Any:
    node: Any = result
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _best_ddddocr(result: dict, kind: str) -> float | None:
    readers = lookup(result, ("accuracy", "real-val", kind)) or {}
    scores = [
        r["accuracy"]
        for name, r in readers.items()
        if name.startswith("ddddocr") and r.get("accuracy") is not None
    ]
    return max(scores) if scores else None


def evaluate(result: dict) -> list[dict]:
    """One row per target: measured value (None if not measured), met, and by how much."""
    rows = []
    for t in TARGETS:
        value = lookup(result, t.path)
        rows.append(_row(t.name, value, t.limit, t.unit, t.higher_is_better))
    # "above ddddocr's": every method beats ddddocr's best variant on the same images.
    for kind in KINDS:
        best = _best_ddddocr(result, kind)
        for method in METHODS:
            value = lookup(result, ("accuracy", "real-val", kind, method, "accuracy"))
            if best is not None:
                row = _row(f"accuracy {kind} {method} > ddddocr's best", value, best, "", True)
                row["met"] = None if value is None else value > best
                row["tied"] = value is not None and value == best
                rows.append(row)
    return rows


def _row(name: str, value: float | None, limit: float, unit: str, higher: bool) -> dict:
    if value is None:
        return {
            "target": name,
            "limit": limit,
            "unit": unit,
            "value": None,
            "met": None,
            "miss": None,
        }
    met = value >= limit if higher else value <= limit
    miss = None if met else (limit - value if higher else value - limit)
    return {
        "target": name,
        "limit": limit,
        "unit": unit,
        "value": value,
        "met": met,
        "miss": miss,
        "higher_is_better": higher,
    }
