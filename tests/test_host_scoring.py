"""host/scoring.py: answers from file names (leading zeros kept), the fixed split and the tally."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from host import scoring
from host.confidence import FILL_THRESHOLD
from host.errors import HostError
from training import synth


def write_folder(folder: Path, names: list[str]) -> None:
    """PNGs named `names`; the loader reads only the names, so one picture serves all."""
    folder.mkdir(parents=True, exist_ok=True)
    png = synth.png_bytes(synth.generate("ais3", np.random.default_rng(0))[0], "ais3")
    for name in names:
        (folder / f"{name}.png").write_bytes(png)


def test_answers_are_strings_with_leading_zeros(tmp_path: Path) -> None:
    write_folder(tmp_path, ["005", "000", "120", "007_01", "007_02"])
    samples = scoring.load_folder(tmp_path, digits=3)
    assert [s.answer for s in samples] == ["000", "005", "007", "007", "120"]
    assert all(isinstance(s.answer, str) for s in samples)


def test_wrong_length_or_name_is_refused(tmp_path: Path) -> None:
    write_folder(tmp_path, ["0051"])
    with pytest.raises(ValueError):
        scoring.load_folder(tmp_path, digits=3)
    with pytest.raises(ValueError):
        scoring.answer_of(Path("abc.png"))
    assert scoring.answer_of(Path("000590_12.png")) == "000590"


def test_split_is_by_answer_and_repeats_are_validation(tmp_path: Path) -> None:
    names = [f"{i:03d}" for i in range(0, 400, 7)] + ["180_01", "180_02", "180_03"]
    write_folder(tmp_path, names)
    train, val = scoring.split(scoring.load_folder(tmp_path, digits=3))
    assert not {s.answer for s in train} & {s.answer for s in val}
    assert {s.path.name for s in val} >= {"180_01.png", "180_02.png", "180_03.png"}
    assert 0.1 < len(val) / (len(train) + len(val)) < 0.45
    # Fixed: the same answers land on the same side every time, on every machine.
    _, again = scoring.split(scoring.load_folder(tmp_path, digits=3))
    assert [s.path for s in again] == [s.path for s in val]
    # Pinned: a change to the hash would silently move images between train and validation.
    first = [f"{i:06d}" for i in range(40) if scoring.is_validation(f"{i:06d}")]
    pinned = "000013 000014 000016 000019 000020 000022 000023 000026 000037 000038"
    assert first == pinned.split()


def test_a_repeated_rendering_is_the_suffix_and_takes_its_bare_twin_along(tmp_path: Path) -> None:
    # 000000 and 000001 are training answers by the hash (see the pinned list above).
    write_folder(tmp_path, ["000000", "000000_01", "000001"])
    samples = scoring.load_folder(tmp_path)
    assert [s.repeated for s in samples] == [False, True, False]
    train, val = scoring.split(samples)
    assert [s.path.name for s in train] == ["000001.png"]
    assert [s.path.name for s in val] == ["000000.png", "000000_01.png"]
    # One file with a suffix is a repeated rendering too: the name says so, not the count.
    write_folder(tmp_path / "one", ["000001_05"])
    assert [s.answer for s in scoring.split(scoring.load_folder(tmp_path / "one"))[1]] == ["000001"]


def test_labeled_reads_kind_subfolders_and_skips_other_files(tmp_path: Path) -> None:
    write_folder(tmp_path / "ais6", ["123456", "123456_02", "notes"])
    write_folder(tmp_path / "ais3", ["042"])
    write_folder(tmp_path / "other", ["999"])
    got = [(s.path.parent.name, s.answer, s.repeated) for s in scoring.labeled(tmp_path)]
    assert got == [("ais6", "123456", False), ("ais6", "123456", True), ("ais3", "042", False)]
    assert [s.answer for s in scoring.labeled(tmp_path / "other")] == ["999"]
    assert scoring.kind_name("042") == "ais3" and scoring.kind_name("1234") == "4 digits"


def test_tally_counts_right_wrong_refused_and_confident_mistakes() -> None:
    tally = scoring.Tally()
    tally.add(scoring.Outcome("a.png", "111", "111", 0.99, ms=2.0, agree=True))
    tally.add(scoring.Outcome("b.png", "222", "223", FILL_THRESHOLD, ms=4.0, agree=False))
    tally.add(scoring.Outcome("c.png", "333", "334", 0.5, ms=6.0))
    tally.add(scoring.Outcome("d.png", "444", error="NO_ANSWER", ms=8.0))
    tally.add(scoring.Outcome("e.png", "555", error="UNREADABLE"))
    assert (tally.total, tally.correct, tally.accuracy) == (5, 1, 0.2)
    assert [o.file for o in tally.misses] == ["b.png", "c.png", "d.png", "e.png"]
    assert [o.file for o in tally.wrong] == ["b.png", "c.png"]
    assert [o.file for o in tally.unanswered] == ["d.png", "e.png"]
    assert (tally.confident, tally.confident_wrong, tally.disagreements) == (2, 1, 1)
    assert tally.errors == {"NO_ANSWER": 1, "UNREADABLE": 1}
    assert tally.median_ms == 5.0
    assert scoring.Tally().accuracy is None and scoring.Tally().median_ms is None


class FakeAnswer:
    def __init__(self, text: str) -> None:
        self.text, self.confidence, self.agree = text, 0.95, None


class FakeSolver:
    """Reads every image as 000000, refuses seg."""

    def solve(self, images: list, kind: str | None, method: str) -> FakeAnswer:
        assert len(images) == 1 and kind is None
        if method == "seg":
            raise HostError("NO_ANSWER", "no digits")
        return FakeAnswer("000000")


def test_score_solver_tallies_per_kind_and_method(tmp_path: Path) -> None:
    write_folder(tmp_path / "ais6", ["000000", "123456"])
    (tmp_path / "ais6" / "654321.png").write_bytes(b"not a png")
    tallies = scoring.score_solver(FakeSolver(), scoring.labeled(tmp_path), ("ctc", "seg"))
    assert set(tallies) == {("ais6", "ctc"), ("ais6", "seg")}
    ctc, seg = tallies["ais6", "ctc"], tallies["ais6", "seg"]
    assert (ctc.total, ctc.correct, ctc.confident_wrong) == (3, 1, 1)
    assert ctc.errors == {"BAD_IMAGE": 1}  # decoded once, before any method runs
    assert seg.correct == 0 and seg.errors == {"NO_ANSWER": 2, "BAD_IMAGE": 1}


def test_the_host_package_imports_neither_training_nor_bench() -> None:
    # The bundle ships host/ alone: an import of training/ or bench/, even inside a function
    # (as --bench --split val once had), fails there only.
    import ast

    from tests.conftest import REPO

    offenders = []
    for path in sorted((REPO / "host").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            forbidden = {"training", "bench", "tests"}
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in forbidden]
    assert offenders == []
