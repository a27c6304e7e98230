"""The real PyInstaller bundle installs itself: extracted to a temporary folder, `--install
--yes` into a temporary HOME, the folder deleted, then `--status` and `--test` through the
installed copy, and `--uninstall` leaves the HOME as it was."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from host import ids
from tests.conftest import REPO, need
from tests.fuzz.hostpipe import host_env
from training import synth

EXE_NAME = "decaptcha-host" + (".exe" if sys.platform == "win32" else "")
BUNDLE = REPO / "dist" / "decaptcha-host"
NO_ROOT = "/nonexistent-decaptcha-test-root"
NAME = f"{ids.HOST_NAME}.json"


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): f"{'d' if p.is_dir() else 'f'}{oct(p.stat().st_mode & 0o777)}"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def extracted(tmp_path: Path) -> Path:
    need((BUNDLE / EXE_NAME).is_file(), f"no host bundle at {BUNDLE}: run `python build.py`")
    folder = tmp_path / "Downloads" / "decaptcha-host"
    shutil.copytree(BUNDLE, folder, symlinks=True)
    return folder / EXE_NAME


@pytest.mark.skipif(
    sys.platform == "win32", reason="the Linux/macOS layout; CI smoke-tests Windows"
)
def test_the_bundle_installs_a_copy_that_outlives_the_download(
    tmp_path: Path, extracted: Path
) -> None:
    home = tmp_path / "home"
    for folder in (".cache", ".config/chromium", ".mozilla/firefox"):
        (home / folder).mkdir(parents=True)
    before = tree(home)
    env = host_env(home)

    def run(exe: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(exe), *args, "--root", NO_ROOT], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip

    out = run(extracted, "--install", "--yes")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Next step" in out.stdout and "Press Enter" not in out.stdout
    shutil.rmtree(extracted.parent)  # the download is gone
    manifest = home / ".config/chromium/NativeMessagingHosts" / NAME
    installed = Path(json.loads(manifest.read_text())["path"])
    assert installed.is_relative_to(home / ".local/share/nthu-ais-decaptcha/versions")
    status = run(installed, "--status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "installed copy:" in status.stdout

    rgb, answer = synth.generate("ais6", np.random.default_rng(7))
    sample = tmp_path / "sample.png"
    sample.write_bytes(synth.png_bytes(rgb, "ais6"))
    read = subprocess.run([str(installed), "--test", str(sample)], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert read.returncode == 0 and read.stdout.strip() == answer, read.stderr

    gone = run(installed, "--uninstall")
    assert gone.returncode == 0, gone.stderr
    assert tree(home) == before
