"""Several labeled folders as one training set (training/merge.py), the install guard
(training/guard.py) and `python -m training --data A --data B`, on synthetic folders."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from host.kinds import KINDS
from tests.conftest import REPO, need
from training import data, guard, merge, synth

AIS3 = KINDS["ais3"]


def answers(validation: bool, count: int) -> list[str]:
    """`count` 3-digit answers on the given side of the fixed split."""
    found = [f"{n:03d}" for n in range(1000) if data.is_validation(f"{n:03d}") == validation]
    return found[:count]


TRAIN = answers(False, 6)
VAL = answers(True, 3)


def picture(seed: int) -> bytes:
    rgb, _ = synth.generate("ais3", np.random.default_rng(seed))
    return synth.png_bytes(rgb, "ais3")


def put(folder: Path, name: str, png: bytes) -> None:
    (folder / "ais3").mkdir(parents=True, exist_ok=True)
    (folder / "ais3" / f"{name}.png").write_bytes(png)


def names(samples: list[data.Sample]) -> list[str]:
    return sorted(f"{s.path.parent.parent.name}/{s.path.name}" for s in samples)


def test_each_folder_keeps_its_split_and_duplicates_are_dropped(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    put(a, TRAIN[0], picture(0))
    put(a, TRAIN[1], picture(1))
    put(a, VAL[0], picture(2))
    put(b, TRAIN[1], picture(1))  # the same picture in both folders: kept once
    put(b, TRAIN[2], picture(2))  # a's validation picture under a training name: not trained on
    put(b, TRAIN[3], picture(3))
    put(b, f"{TRAIN[4]}_01", picture(4))  # repeated in b: validation in b
    put(b, f"{TRAIN[4]}_02", picture(5))
    put(a, TRAIN[4], picture(6))  # a bare rendering in a: a's split, training

    train, val, counts = merge.real_split([a, b], AIS3)
    assert names(val) == sorted([f"a/{VAL[0]}.png", f"b/{TRAIN[4]}_01.png", f"b/{TRAIN[4]}_02.png"])
    assert names(train) == sorted(
        [f"a/{TRAIN[0]}.png", f"a/{TRAIN[1]}.png", f"b/{TRAIN[3]}.png", f"a/{TRAIN[4]}.png"]
    )
    assert counts == {
        "folders": 2,
        "images": 9,
        "duplicates": 2,
        "label_errors": 0,
        "train": 4,
        "validation": 3,
    }
    # one folder alone is split as before
    alone_train, alone_val, _ = merge.real_split(a, AIS3)
    assert (alone_train, alone_val) == data.split(data.load_folder(a / "ais3", 3))


def test_duplicates_are_the_same_pixels_whatever_the_png_encoding(tmp_path: Path) -> None:
    rgb, _ = synth.generate("ais3", np.random.default_rng(7))
    palette = Image.fromarray(rgb).quantize(64)
    out = io.BytesIO()
    palette.save(out, format="PNG")
    rgb_again = io.BytesIO()
    palette.convert("RGB").save(rgb_again, format="PNG", compress_level=1)
    assert out.getvalue() != rgb_again.getvalue()
    put(tmp_path / "a", TRAIN[0], out.getvalue())
    put(tmp_path / "b", TRAIN[0], rgb_again.getvalue())
    train, _, counts = merge.real_split([tmp_path / "a", tmp_path / "b"], AIS3)
    assert len(train) == 1 and counts["duplicates"] == 1


def test_a_folder_without_the_kind_adds_nothing(tmp_path: Path) -> None:
    put(tmp_path / "a", TRAIN[0], picture(0))
    (tmp_path / "empty").mkdir()
    train, val, _ = merge.real_split([tmp_path / "a", tmp_path / "empty"], AIS3)
    assert len(train) == 1 and val == []


# -- the guard ------------------------------------------------------------------------------


def test_verdict_refuses_a_model_that_reads_fewer_right() -> None:
    ok, text = guard.verdict(
        [guard.Comparison("seg_ais6", 275, 275, 275), guard.Comparison("ctc_ais6", 275, 274, 275)]
    )
    assert ok is False
    assert "ctc_ais6: built 274/275, shipped 275/275: WORSE" in text
    assert "refusing to install: ctc_ais6" in text and "seg_ais6" not in text.splitlines()[-1]


def test_verdict_allows_as_good_better_or_nothing_to_compare() -> None:
    ok, text = guard.verdict(
        [
            guard.Comparison("seg_ais6", 10, 10, 10),
            guard.Comparison("seg_ais3", 10, 9, 3),
            guard.Comparison("ctc_ais3", 10, 0, None),
        ]
    )
    assert ok is True and "no shipped model to compare" in text and "refusing" not in text


def test_verdict_refuses_when_there_is_no_validation_image() -> None:
    assert guard.verdict([])[0] is False


def test_compare_reads_the_split_with_built_and_shipped_models(tmp_path: Path) -> None:
    """The shipped seg models copied as the 'built' ones: same split, same counts."""
    need(
        importlib.util.find_spec("ai_edge_litert") or importlib.util.find_spec("tflite_runtime"),
        "no TFLite runtime",
    )
    folder = tmp_path / "labeled"
    for i, answer in enumerate(VAL):
        rgb, text = synth.generate("ais3", np.random.default_rng(100 + i), text=answer)
        put(folder, text, synth.png_bytes(rgb, "ais3"))
    built = tmp_path / "built" / "seg"
    shutil.copytree(REPO / "models", built)
    results = {"seg": {"models": {"seg_ais3": {"kind": "ais3"}}}}
    (only,) = guard.compare(tmp_path / "built", REPO / "models", results, [folder])
    assert only.model == "seg_ais3" and only.images == len(VAL)
    assert only.built == only.shipped and not only.worse
    (missing,) = guard.compare(tmp_path / "built", tmp_path / "nothing", results, [folder])
    assert missing.shipped is None and not missing.worse


# -- the command ----------------------------------------------------------------------------


def test_a_data_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    from training.__main__ import main

    assert main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2


@pytest.mark.slow
def test_smoke_run_on_merged_folders_refuses_to_install_worse_models(tmp_path: Path) -> None:
    """--smoke --data A --data B: the merge is counted, the tiny smoke models read the merged
    validation split worse than the shipped ones, so the run exits 3 and models/ is untouched."""
    need(importlib.util.find_spec("tensorflow") is not None, "TensorFlow (training) not installed")
    for folder, seed in ((tmp_path / "a", 0), (tmp_path / "b", 50)):
        for i, answer in enumerate(VAL + TRAIN[:3]):
            for kind in KINDS.values():
                text = (answer * 2)[: kind.digits]
                rgb, _ = synth.generate(kind.name, np.random.default_rng(seed + i), text=text)
                (folder / kind.name).mkdir(parents=True, exist_ok=True)
                (folder / kind.name / f"{text}.png").write_bytes(synth.png_bytes(rgb, kind.name))
    shutil.copytree(tmp_path / "a", tmp_path / "a_copy")  # all duplicates of a
    before = {p.name: p.stat().st_mtime_ns for p in (REPO / "models").glob("*")}
    args = ["--smoke", "--only", "seg", "--out", str(tmp_path / "out")]
    for folder in ("a", "b", "a_copy"):
        args += ["--data", str(tmp_path / folder)]
    done = subprocess.run(
        [sys.executable, "-m", "training", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 3, out[-3000:] + done.stderr[-3000:]
    assert "'folders': 3, 'images': 18, 'duplicates': 6" in out
    assert "refusing to install" in out and "WORSE" in out
    after = {p.name: p.stat().st_mtime_ns for p in (REPO / "models").glob("*")}
    assert after == before, "a refused run must not touch models/"
