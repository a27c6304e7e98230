"""bench/opencv_compare.py (docs/DEPENDENCIES.md's OpenCV figures): its bundles are built with
build.py's own PyInstaller options, and its OpenCV segmentation matches host/segment.py.

The OpenCV half needs cv2, which no requirement file of the tests installs (OpenCV is what
the measurement decided against); it is skipped where cv2 is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import opencv_compare
from host import segment

build = opencv_compare.build_py()


class _Captured(Exception):
    pass


def build_py_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first PyInstaller command (pyi-makespec) build.py's build_host would run, caught
    before it runs."""
    captured: list[str] = []

    def fake_check(cmd, cwd=None, env=None):
        captured.extend(str(c) for c in cmd)
        raise _Captured

    monkeypatch.setattr(build, "WORK", tmp_path / "build")
    monkeypatch.setattr(build, "DIST", tmp_path / "dist")
    monkeypatch.setattr(build, "HOST_EXE", tmp_path / "dist" / "missing")
    monkeypatch.setattr(build, "check", fake_check)
    with pytest.raises(_Captured):
        build.build_host(Path("/venv/bin/python"), force=True)
    return captured


def test_bundle_options_are_build_pys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    want = build_py_args(tmp_path, monkeypatch)
    spec_dir = tmp_path / "build" / "pyinstaller"
    entry = spec_dir / "decaptcha_host.py"  # written by build_host above
    got = opencv_compare.pyinstaller_args(
        Path("/venv/bin/python"), entry, tmp_path / "dist", spec_dir
    )
    assert got == want


def test_the_cv2_bundle_differs_only_by_not_excluding_cv2(tmp_path: Path) -> None:
    plain, with_cv2 = tmp_path / "plain.py", tmp_path / "cv.py"
    plain.write_text(opencv_compare.ENTRY)
    with_cv2.write_text("import cv2\n" + opencv_compare.ENTRY)
    a = opencv_compare.pyinstaller_args(Path("py"), plain, tmp_path, tmp_path)
    b = opencv_compare.pyinstaller_args(Path("py"), with_cv2, tmp_path, tmp_path)
    i = a.index("cv2")
    assert a[i - 1] == "--exclude-module"
    assert a[: i - 1] + a[i + 1 :] == [str(plain) if x == str(with_cv2) else x for x in b]


def test_cv2_components_partition_like_segment_components() -> None:
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(16)
    for _ in range(50):
        labels = rng.integers(-1, 3, size=(12, 17))
        ours = segment.components(labels)
        theirs = opencv_compare.cv2_components(labels, cv2, np)
        assert np.array_equal(ours < 0, theirs < 0)
        on = ours >= 0
        # the same partition, numbered in the same order (by each component's first pixel)
        _, a = np.unique(ours[on], return_inverse=True)
        _, b = np.unique(theirs[on], return_inverse=True)
        assert np.array_equal(a, b)


def test_cv2_segmentation_gives_segment_pys_crops() -> None:
    pytest.importorskip("cv2")
    from training import synth

    component_only = opencv_compare.make_cv2_segment(full=False)
    full = opencv_compare.make_cv2_segment(full=True)
    rng = np.random.default_rng(16)
    for kind in ("ais6", "ais3"):
        for _ in range(10):
            rgb, answer = synth.generate(kind, rng)
            ref = segment.segment(rgb, len(answer))
            a, b = component_only(rgb, len(answer)), full(rgb, len(answer))
            if ref is None:
                assert a is None and b is None
                continue
            assert np.array_equal(a, ref)
            assert b.shape == ref.shape and np.abs(b - ref).max() < 1e-5
