"""Cold start: from process start to the first answer, as a browser starts a host.

The request is written right after the process starts (as Chromium does), and the clock
stops when its reply has been read. `python -c pass` (start to exit) is the floor any
Python program pays here; the ratio says how far above that floor a host is. The page cache
is warm (every run after the first reads the files from memory): that is the case of a user
whose browser starts the host more than once.
"""

from __future__ import annotations

import base64
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


def time_exit(argv: list[str]) -> float:
    """ms from start to exit."""
    start = time.perf_counter()
    subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        cwd=REPO,
        timeout=120,
    )
    return (time.perf_counter() - start) * 1000


def time_first_answer(argv: list[str], png: bytes, kind: str | None = None) -> float:
    """ms from start to the first solve reply read; raises if the reply is an error."""
    frame = nmclient.encode(nmclient.solve_request(1, base64.b64encode(png).decode(), kind))
    start = time.perf_counter()
    proc = nmclient.spawn(argv, cwd=REPO)
    try:
        with nmclient.deadline(proc, 120):
            proc.stdin.write(frame)
            proc.stdin.flush()
            reply = nmclient.read_frame(proc.stdout)
            elapsed = (time.perf_counter() - start) * 1000
    finally:
        nmclient.close(proc)
    if not reply.get("ok"):
        raise RuntimeError(f"{argv[0]}: first reply is an error: {reply.get('error')}")
    return elapsed


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
    for name, argv in [*hosts.items(), *baselines.items()]:  # one untimed run: page cache
        _ = time_first_answer(argv, png) if name in hosts else time_exit(argv)
    for _ in range(runs):
        for name, argv in hosts.items():
            samples[name].append(time_first_answer(argv, png))
        for name, argv in baselines.items():
            samples[name].append(time_exit(argv))
    out = {
        name: {**summarize(vals), "what": "to first answer" if name in hosts else "to exit"}
        for name, vals in samples.items()
    }
    floor = out.get("python -c pass", {}).get("median")
    if floor:
        for stats in out.values():
            stats["ratio_to_python_pass"] = stats["median"] / floor
    return out
