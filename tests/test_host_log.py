"""host/log.py: the log file's permissions, its rotation with several hosts, its failures."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.hostpipe import REPO, frame, host_env

CHILD = """
import os, sys
sys.path.insert(0, {repo!r})
os.umask(0o022)
from host import log
log.MAX_LOG_BYTES = {max_bytes}
logger = log.setup()
for i in range({lines}):
    logger.info("proc %s line %05d " + "x" * 20, sys.argv[1], i)
"""


def run_loggers(home: Path, processes: int, lines: int, max_bytes: int) -> list[str]:
    code = CHILD.format(repo=str(REPO), max_bytes=max_bytes, lines=lines)
    env = host_env(home)
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(n)], env=env, stderr=subprocess.PIPE)
        for n in range(processes)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    return errors


def kept_lines(folder: Path) -> set[str]:
    return {
        line.split("INFO ", 1)[1][:18]
        for f in folder.glob("host.log*")
        if not f.name.endswith(".lock")
        for line in f.read_text().splitlines()
        if "INFO proc" in line
    }


def test_log_files_stay_user_only_after_rotation(tmp_path: Path) -> None:
    run_loggers(tmp_path, 1, 300, max_bytes=10_000)  # ~25 kB: rotates twice, umask 022
    folder = tmp_path / ".cache/nthu-ais-decaptcha"
    files = sorted(folder.iterdir())
    assert {f.name for f in files} >= {"host.log", "host.log.1"}
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}


def test_several_hosts_rotating_one_log_lose_no_line(tmp_path: Path) -> None:
    # 4 hosts x 400 lines (~136 kB) into a 100 kB log with one backup: one rotation is
    # needed, so every line must survive. The stdlib handler kept 40-109 of the 1,600 here:
    # each process rotated by its own idea of the size, over the others' fresh files.
    run_loggers(tmp_path, 4, 400, max_bytes=100_000)
    kept = kept_lines(tmp_path / ".cache/nthu-ais-decaptcha")
    assert len(kept) == 1600


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk)")
def test_a_failing_log_file_is_dropped_after_one_warning(tmp_path: Path) -> None:
    folder = tmp_path / ".cache/nthu-ais-decaptcha"
    folder.mkdir(parents=True, mode=0o700)
    (folder / "host.log").symlink_to("/dev/full")  # every write: ENOSPC
    mode_before = Path("/dev/full").stat().st_mode
    errors = run_loggers(tmp_path, 1, 200, max_bytes=10**9)
    (err,) = errors
    assert err.count("log file") == 1 and "logging to stderr only" in err
    assert "Traceback" not in err
    assert err.count("INFO proc") == 200  # stderr still gets every record
    assert Path("/dev/full").stat().st_mode == mode_before  # not chmod-ed: not a regular file


@pytest.mark.parametrize("value", ["", "relative-cache"])
def test_a_relative_xdg_cache_home_does_not_put_the_log_in_the_working_folder(
    tmp_path: Path, value: str
) -> None:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    env = host_env(home, XDG_CACHE_HOME=value, DECAPTCHA_MODELS=str(tmp_path / "none"),
                   PYTHONPATH=str(REPO))  # fmt: skip
    subprocess.run([sys.executable, "-m", "host"], cwd=work, env=env, timeout=60,
                   input=frame({"id": 1, "action": "status"}), capture_output=True)  # fmt: skip
    assert list(work.iterdir()) == []
    assert (home / ".cache/nthu-ais-decaptcha/host.log").is_file()
