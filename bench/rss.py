"""Peak memory (RSS) of a host process while it solves, read from /proc (Linux)."""

from __future__ import annotations

import base64
from pathlib import Path

from bench import nmclient


def _tree(pid: int) -> list[int]:
    """The process and its descendants (a bundle's bootloader may start a child)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return pids


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def peak_rss(
    argv: list[str],
    pngs: list[bytes],
    kinds: list[str | None],
    methods: list[str],
    rounds: int = 3,
    cwd: Path | None = None,
) -> dict:
    """Solve every image with every method `rounds` times, then read VmHWM (peak resident set)
    of the host's process tree before closing it. MB = 10^6 bytes."""
    proc = nmclient.spawn(argv, cwd=cwd)
    rid = 0
    try:
        with nmclient.deadline(proc, 600):
            for _ in range(rounds):
                for png, kind in zip(pngs, kinds, strict=True):
                    for method in methods:
                        b64 = base64.b64encode(png).decode()
                        frame = nmclient.encode(nmclient.solve_request(rid, b64, kind, method))
                        proc.stdin.write(frame)
                        proc.stdin.flush()
                        nmclient.read_frame(proc.stdout)
                        rid += 1
            pids = _tree(proc.pid)
            peak_kb = sum(_status_kb(p, "VmHWM") for p in pids)
            now_kb = sum(_status_kb(p, "VmRSS") for p in pids)
    finally:
        nmclient.close(proc)
    return {
        "peak_mb": peak_kb * 1024 / 1e6,
        "rss_mb": now_kb * 1024 / 1e6,
        "processes": len(pids),
        "requests": rid,
    }
