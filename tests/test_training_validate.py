"""training/validate.py: the trainers' validation figures, counted by host/scoring.py's Tally."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host import scoring
from host.catalogue import Entry, write_catalogue
from host.confidence import FILL_THRESHOLD
from host.kinds import KINDS, Kind
from host.reader import ModelReader
from tests.test_host_scoring import write_folder
from training import synth
from training.validate import read_split, validate_built


def one_hot(text: str, p: float) -> np.ndarray:
    """Probabilities reading `text`, each position with probability `p`."""
    rows = np.full((len(text), 10), (1 - p) / 9)
    rows[np.arange(len(text)), [int(c) for c in text]] = p
    return rows


class ScriptedReader:
    """Reads each picture in turn as scripted: (text, per-digit p), or None for no answer."""

    def __init__(self, script: list[tuple[str, float] | None]) -> None:
        self.script = iter(script)

    def read(self, rgb: np.ndarray, kind: object = None) -> np.ndarray | None:
        # `kind` optional: readers bound to one kind (host/catalogue.py) are called read(rgb).
        step = next(self.script)
        return None if step is None else one_hot(*step)


def test_read_split_counts_misreads_unread_and_confident_answers(tmp_path: Path) -> None:
    write_folder(tmp_path, ["111", "222", "333", "444"])
    samples = scoring.load_folder(tmp_path)
    at_threshold = FILL_THRESHOLD ** (1 / 3)  # the product over 3 digits is the threshold
    reader = ScriptedReader([("111", 1.0), ("223", at_threshold + 1e-9), ("333", 0.5), None])
    got = read_split(reader, KINDS["ais3"], samples)
    assert (got["images"], got["correct"], got["accuracy"], got["unread"]) == (4, 2, 0.5, 1)
    assert [(m["file"], m["read"]) for m in got["misread"]] == [
        ("222.png", "223"),
        ("444.png", None),
    ]
    assert got["misread"][1]["confidence"] == 0.0
    assert (got["confident"], got["confident_wrong"]) == (2, 1)


class OnesReader(ModelReader):
    """A "ctc" reader without a model: reads every picture as all ones, sure of it."""

    method = "ctc"

    def __init__(self, path: Path, kind: Kind, temperature: float = 1.0) -> None:
        if path.name.startswith("broken"):
            raise ValueError("not a model")
        self.kind, self.temperature = kind, temperature

    def read(self, rgb: np.ndarray) -> np.ndarray | None:
        return one_hot("1" * self.kind.digits, 1.0)


def write_distinct(folder: Path, kind: str, names: list[str]) -> None:
    """PNGs named `names`, each a different picture: validation keeps one copy of the same
    pixels (training/merge.py), and these stand for different renderings."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(names):
        rgb, _ = synth.generate(kind, np.random.default_rng(seed))
        (folder / f"{name}.png").write_bytes(synth.png_bytes(rgb, kind))


def test_validate_built_fills_each_kinds_report_and_entry(tmp_path: Path) -> None:
    data, built = tmp_path / "data", tmp_path / "built"
    write_distinct(data / "ais6", "ais6", ["111111_01", "222222_01"])  # renderings: validation
    write_distinct(data / "ais3", "ais3", ["111_01", "111_02", "123_01"])
    built.mkdir()
    entries, report = {}, {}
    for kind in KINDS.values():
        entry = Entry("ctc", kind.name, f"ctc_{kind.name}.tflite", (1,), (1,), 1.5)
        entries[entry.name] = entry.to_json()
        (built / entry.file).write_bytes(b"x" * 10)
        report[entry.name] = {"variants": {"float16": str(built / entry.file), "int8": "broken"}}
    write_catalogue(built, [Entry.from_json(n, e) for n, e in entries.items()])
    logged: list[str] = []
    validate_built(
        OnesReader,
        built,
        data,
        entries,
        report,
        lambda kind, result, section: f"{kind.name} {result['correct']}/{result['images']}",
        logged.append,
        unread_as="not_read",
    )
    assert logged == ["ais6 1/2", "ais3 2/3"]
    assert entries["ctc_ais3"]["validation"] == {
        "images": 3,
        "correct": 2,
        "accuracy": 2 / 3,
        "not_read": 0,
    }
    section = report["ctc_ais6"]
    assert section["validation"]["misread"][0]["file"] == "222222_01.png"
    assert section["quantization"]["float16"]["bytes"] == 10
    assert section["quantization"]["float16"]["correct"] == 1
    assert section["quantization"]["int8"].startswith("does not load")
