"""Cold start: from process start to the first answer, as a browser starts a host.

The request is written right after the process starts (as Chromium does), and the clock
stops when its reply has been read. `python -c pass` (start to exit) is the floor any
Python program pays here; the ratio says how far above that floor a host is. The page cache
is warm (every run after the first reads the files from memory): that is the case of a user
whose browser starts the host more than once.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import nmclient
from bench.stats import summarize

REPO = Path(__file__).resolve().parent.parent

# Reference points: the floor, and what the host's imports alone cost.
BASELINES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "python -c 'import numpy, PIL.Image, ai_edge_litert.interpreter'": [
        sys.executable,
        "-c",
        "import numpy, PIL.Image, ai_edge_litert.interpreter",
    ],
}


def _cpu_ms(pid: int) -> float | None:
    """CPU time (user + system) a live process has used so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def time_exit(argv: list[str]) -> tuple[float, float]:
    """(wall ms, CPU ms) from start to exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} exited {proc.returncode}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def time_first_answer(argv: list[str], png: bytes, kind: str | None = None) -> tuple[float, float]:
    """(wall ms, CPU ms of the host) from start to the first solve reply read; raises if the
    reply is an error. CPU time says what the start costs without other load's waiting."""
    frame = nmclient.encode(nmclient.solve_request(1, base64.b64encode(png).decode(), kind))
    start = time.perf_counter()
    proc = nmclient.spawn(argv, cwd=REPO)
    try:
        with nmclient.deadline(proc, 120):
            proc.stdin.write(frame)
            proc.stdin.flush()
            reply = nmclient.read_frame(proc.stdout)
            elapsed = (time.perf_counter() - start) * 1000
            cpu = _cpu_ms(proc.pid)
    finally:
        nmclient.close(proc)
    if not reply.get("ok"):
        raise RuntimeError(f"{argv[0]}: first reply is an error: {reply.get('error')}")
    return elapsed, cpu


def cold_starts(
    hosts: dict[str, list[str]],
    png: bytes,
    runs: int,
    baselines: dict[str, list[str]] | None = None,
) -> dict[str, dict]:
    """Median ms per host (to first answer) and per baseline (to exit), runs interleaved
    so that a burst of load elsewhere on the machine hits every target alike."""
    baselines = BASELINES if baselines is None else baselines
    samples: dict[str, list[float]] = {name: [] for name in [*hosts, *baselines]}
    cpu: dict[str, list[float]] = {name: [] for name in samples}
    for name, argv in [*hosts.items(), *baselines.items()]:  # one untimed run: page cache
        _ = time_first_answer(argv, png) if name in hosts else time_exit(argv)
    for _ in range(runs):
        for name, argv in [*hosts.items(), *baselines.items()]:
            wall, used = time_first_answer(argv, png) if name in hosts else time_exit(argv)
            samples[name].append(wall)
            if used is not None:
                cpu[name].append(used)
    out = {}
    for name, vals in samples.items():
        what = "to first answer" if name in hosts else "to exit"
        out[name] = {
            **summarize(vals),
            "what": what,
            "cpu_median": summarize(cpu[name])["median"] if cpu[name] else None,
        }
    floor = out.get("python -c pass", {}).get("median")
    if floor:
        for stats in out.values():
            stats["ratio_to_python_pass"] = stats["median"] / floor
    return out
