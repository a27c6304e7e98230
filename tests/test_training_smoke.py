"""`python -m training --smoke`: the whole pipeline on a few synthetic captchas.

Checks that training runs end to end, exports builtin-op models the host's readers load,
and writes the report, without touching models/ or anything outside a temporary folder.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from host.kinds import KINDS
from host.solver import FAMILIES
from tests.conftest import REPO, need
from training import synth


@pytest.mark.slow
def test_smoke_run_builds_loadable_models(tmp_path: Path) -> None:
    need(importlib.util.find_spec("tensorflow") is not None, "TensorFlow (training) not installed")
    before = {p.name: p.stat().st_mtime_ns for p in (REPO / "models").glob("*")}
    done = subprocess.run(
        [sys.executable, "-m", "training", "--smoke", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "epoch 2/2" in done.stdout  # progress output
    built = tmp_path / "models"
    meta = json.loads((built / "models.json").read_text())["models"]
    assert {f"{family}_{kind}" for family in FAMILIES for kind in KINDS} == set(meta)
    assert (tmp_path / "report.md").exists() and (tmp_path / "report.json").exists()
    assert (tmp_path / "curves.png").stat().st_size > 1000

    from host.ctc import CtcReader
    from host.gate import GateReader
    from host.glyph import GlyphReader

    for kind in KINDS.values():
        gate = GateReader.from_folder(built / "gate", kind)
        assert 0.0 <= gate.score(np.full((kind.height, kind.width, 3), 255, np.uint8)) <= 1.0
        glyph = GlyphReader.from_folder(built / "glyph", kind)
        score = glyph.score(synth.batch(kind.name, 1, seed=5)[0][0])
        assert score is None or 0.0 <= score <= 1.0
        reader = CtcReader.from_folder(built / "ctc", kind)
        rgb = np.full((kind.height, kind.width, 3), 255, np.uint8)
        probs = reader.read(rgb)  # an untrained model: any answer, but it must run
        assert probs is None or probs.shape == (kind.digits, 10)
    after = {p.name: p.stat().st_mtime_ns for p in (REPO / "models").glob("*")}
    assert after == before, "a smoke run must not touch models/"
