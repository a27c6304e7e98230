"""The models catalogue, `models.json`: which .tflite file does which job for which kind.

This module is the one owner of the format. The host reads it once (`read_catalogue`) into
typed entries; training writes it with `write_catalogue`. The format, version 1:

    {"version": 1, "models": {"<method>_<kind>": {
        "method": "ctc" | "seg" | "gate", "kind": "ais6" | "ais3", "file": "<name>.tflite",
        "input": [...], "output": [...],          tensor shapes the file was exported with
        "weights": "float16",                     how the weights are stored
        "calibration": {"temperature": T},        softmax temperature (confidence calibration)
                                                  (gate, glyph: {"threshold": P}, see below)
        "validation": {...}                       optional: the figures on the real split
    }}}

`method` names the model's family. "ctc" and "seg" are reading methods of the protocol
(host/protocol.py METHODS, with "auto" that runs both); GATE ("gate") is not one: it is the
solver's check that an image is an upright captcha of its kind (host/gate.py), run on every
solve whatever the method, so a client can never ask for it. Nor is GLYPH ("glyph"): the
solver's check, before it gives a fillable answer, that each digit the segmenter cut is
drawn in the AIS font (host/glyph.py). The calibration of either holds the score (a
probability) at or above which an image passes, `threshold`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

CATALOGUE_FILE = "models.json"
FORMAT_VERSION = 1
GATE = "gate"  # the family of the "is this a captcha" models: not a protocol method
GLYPH = "glyph"  # the family of the "is each digit in the AIS font" models: not one either
CHECKS = (GATE, GLYPH)  # the families that pass or refuse an image at a catalogued threshold


class CatalogueError(ValueError):
    """models.json, or one entry of it, is not in the format above."""


def entry_name(method: str, kind: str) -> str:
    """The catalogue key of the model that reads `kind` by `method`, e.g. "ctc_ais6"."""
    return f"{method}_{kind}"


@dataclass(frozen=True)
class Entry:
    method: str
    kind: str
    file: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    temperature: float = 1.0
    weights: str | None = None
    threshold: float | None = None  # CHECKS only: the score at or above which an image passes
    validation: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return entry_name(self.method, self.kind)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "method": self.method,
            "kind": self.kind,
            "file": self.file,
            "input": list(self.input),
            "output": list(self.output),
        }
        if self.weights is not None:
            data["weights"] = self.weights
        data["calibration"] = (
            {"temperature": self.temperature}
            if self.threshold is None
            else {"temperature": self.temperature, "threshold": self.threshold}
        )
        if self.validation is not None:
            data["validation"] = self.validation
        return data

    @classmethod
    def from_json(cls, name: str, data: object) -> Entry:
        """The entry stored under `name`; CatalogueError when it is not one."""
        if not isinstance(data, dict):
            raise CatalogueError(f"{name}: an entry must be an object")
        try:
            method, kind, file = data["method"], data["kind"], data["file"]
            shapes = tuple(data["input"]), tuple(data["output"])
            calibration = data.get("calibration", {})
            temperature = float(calibration.get("temperature", 1.0))
            threshold = calibration.get("threshold")
            threshold = None if threshold is None else float(threshold)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CatalogueError(f"{name}: {type(exc).__name__}: {exc}") from exc
        if not all(isinstance(v, str) and v for v in (method, kind, file)):
            raise CatalogueError(f"{name}: method, kind and file must be strings")
        if entry_name(method, kind) != name:
            raise CatalogueError(f"{name}: the entry says method {method!r}, kind {kind!r}")
        if not all(isinstance(n, int) for shape in shapes for n in shape):
            raise CatalogueError(f"{name}: input and output must be lists of integers")
        if method in CHECKS and not (threshold is not None and 0.0 < threshold < 1.0):
            raise CatalogueError(f"{name}: a {method} check needs a threshold in (0, 1)")
        weights = data.get("weights")
        validation = data.get("validation")
        return cls(
            method,
            kind,
            file,
            *shapes,
            temperature=temperature,
            weights=weights if isinstance(weights, str) else None,
            threshold=threshold,
            validation=validation if isinstance(validation, dict) else None,
        )


class Catalogue(NamedTuple):  # not a dataclass: ~10x cheaper at import (BENCHMARKS.md)
    """The entries of one models folder, and the entries that could not be read (and why)."""

    folder: Path
    entries: dict[str, Entry]
    problems: dict[str, str]

    def path(self, entry: Entry) -> Path:
        return self.folder / entry.file

    def entry(self, method: str, kind: str) -> Entry:
        """The entry for `method` and `kind`; CatalogueError when it is missing or broken."""
        name = entry_name(method, kind)
        if name in self.entries:
            return self.entries[name]
        raise CatalogueError(self.problems.get(name, f"{name} is not listed in {CATALOGUE_FILE}"))


def read_catalogue(folder: Path) -> Catalogue:
    """The catalogue of `folder`; OSError or CatalogueError when models.json is unreadable.

    A broken entry does not spoil the others: it is kept in `problems`.
    """
    folder = Path(folder)
    try:
        meta = json.loads((folder / CATALOGUE_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CatalogueError(f"{CATALOGUE_FILE} is not JSON: {exc}") from exc
    listed = meta.get("models") if isinstance(meta, dict) else None
    if not isinstance(listed, dict):
        raise CatalogueError(f"{CATALOGUE_FILE} has no models object")
    entries, problems = {}, {}
    for name, data in listed.items():
        try:
            entries[name] = Entry.from_json(name, data)
        except CatalogueError as exc:
            problems[name] = str(exc)
    return Catalogue(folder, entries, problems)


def write_catalogue(folder: Path, entries: Iterable[Entry]) -> Path:
    """Write `entries` as `folder`/models.json (the format above); returns its path."""
    path = Path(folder) / CATALOGUE_FILE
    models = {entry.name: entry.to_json() for entry in entries}
    text = json.dumps({"version": FORMAT_VERSION, "models": models}, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
