"""Issue 13's table: each path's figure beside the floor it can approach, and their ratio.

Every figure and its floor come from the same run of `python -m bench` (the floors are
measured interleaved with the figures: bench/coldstart.py runs the import floor between
the host's cold starts), so a loaded machine inflates both alike. Also here: what the load
policy (host/lazy.py) costs when the next page needs the other kind, and the host's memory
once idle, the two sides of closing the port after three idle minutes.
"""

from __future__ import annotations

import base64
import os
import statistics
import time
from pathlib import Path

from bench import nmclient

REPO = Path(__file__).resolve().parent.parent
IMPORT_FLOOR = "python -c 'import numpy, PIL.Image, ai_edge_litert.interpreter'"
PAUSE_S = 0.5  # between the first answer and the next page's captcha (a user is slower)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def _ask(proc, rid: int, png: bytes, kind: str) -> float:
    start = time.perf_counter()
    b64 = base64.b64encode(png).decode()
    proc.stdin.write(nmclient.encode(nmclient.solve_request(rid, b64, kind)))
    proc.stdin.flush()
    reply = nmclient.read_frame(proc.stdout)
    if not reply.get("ok"):
        raise RuntimeError(f"solve failed: {reply.get('error')}")
    return (time.perf_counter() - start) * 1000


def load_policies(argv: list[str], png6: bytes, png3: bytes, runs: int) -> dict[str, dict]:
    """Per policy of host/lazy.py, medians over `runs` fresh hosts (interleaved): start to
    the first ais6 answer; then, after a pause, the first ais3 request's round trip and a
    second ais3 one (warm); the host's RSS once idle after that."""
    policies = ("eager", "background", "on-use")
    samples: dict[str, dict[str, list[float]]] = {p: {} for p in policies}
    for i in range(runs + 1):
        for policy in policies:
            env = {**os.environ, "DECAPTCHA_LOAD": policy}
            start = time.perf_counter()
            proc = nmclient.spawn(argv, cwd=REPO, env=env)
            try:
                with nmclient.deadline(proc, 120):
                    b64 = base64.b64encode(png6).decode()
                    proc.stdin.write(nmclient.encode(nmclient.solve_request(1, b64, "ais6")))
                    proc.stdin.flush()
                    if not nmclient.read_frame(proc.stdout).get("ok"):
                        raise RuntimeError(f"{policy}: the first answer is an error")
                    first = (time.perf_counter() - start) * 1000
                    rss_first = _rss_mb(proc.pid)
                    time.sleep(PAUSE_S)
                    other = _ask(proc, 2, png3, "ais3")
                    warm = _ask(proc, 3, png3, "ais3")
                    time.sleep(PAUSE_S)
                    rss_idle = _rss_mb(proc.pid)
            finally:
                nmclient.close(proc)
            if i == 0:
                continue  # page cache
            got = samples[policy]
            for name, value in (
                ("first ais6 answer ms", first),
                ("RSS at the first answer MB", rss_first),
                ("first ais3 round trip ms", other),
                ("warm ais3 round trip ms", warm),
                ("RSS idle after both kinds MB", rss_idle),
            ):
                got.setdefault(name, []).append(value)
    return {
        policy: {name: statistics.median(vals) for name, vals in got.items()} | {"runs": runs}
        for policy, got in samples.items()
    }


def table(result: dict) -> dict:
    """The rows of issue 13's table from one run's result (sections that ran)."""
    rows = []
    cold = result.get("coldstart") or {}
    floor = cold.get(IMPORT_FLOOR)
    host_name = "bundle" if "bundle" in cold else "python -m host"
    host = cold.get(host_name)
    if host and floor:
        ratio = host["median"] / floor["median"]
        cpu = (
            host["cpu_median"] / floor["cpu_median"]
            if host.get("cpu_median") and floor.get("cpu_median")
            else None
        )
        rows.append(
            {
                "path": f"{host_name} start -> first answer",
                "now_ms": host["median"],
                "floor": f"{IMPORT_FLOOR} to exit",
                "floor_ms": floor["median"],
                "ratio": ratio,
                "cpu_ms": host.get("cpu_median"),
                "floor_cpu_ms": floor.get("cpu_median"),
                "cpu_ratio": cpu,
                "target": "<= 1.3x the floor",
                "met": ratio <= 1.3,
            }
        )
    browser = result.get("browser") or {}
    if browser.get("cold") and host:
        now = browser["cold"]["median"]
        ratio = now / host["median"]
        rows.append(
            {
                "path": "Chromium, image load -> field input, cold host",
                "now_ms": now,
                "floor": f"{host_name} start -> first answer",
                "floor_ms": host["median"],
                "ratio": ratio,
                "target": "<= 150 ms and <= 1.5x the floor",
                "met": now <= 150 and ratio <= 1.5,
            }
        )
    rtt = None
    for name in ("bundle", "python -m host"):
        for label, stats in ((result.get("throughput") or {}).get(name) or {}).items():
            if "ais6" in label and rtt is None:
                rtt = stats.get("rtt_median")
    if browser.get("warm") and rtt:
        now = browser["warm"]["median"]
        rows.append(
            {
                "path": "Chromium, image load -> field input, warm host",
                "now_ms": now,
                "floor": "one ais6 auto request's round trip over the native pipe",
                "floor_ms": rtt,
                "ratio": now / rtt,
                "target": "<= 8 ms",
                "met": now <= 8,
            }
        )
    return {"rows": rows}


def section(floors: dict, policies: dict | None = None) -> list[str]:
    """Markdown for the report."""
    lines = ["## Floors (issue 13): each figure beside the floor it can approach", ""]
    lines += [
        "| path | now (median) | floor (same run) | ratio | CPU: now / floor | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in floors.get("rows", []):
        cpu = (
            f"{r['cpu_ms']:.0f} / {r['floor_cpu_ms']:.0f} ms ({r['cpu_ratio']:.2f}x)"
            if r.get("cpu_ratio")
            else "-"
        )
        lines.append(
            f"| {r['path']} | {r['now_ms']:.1f} ms | {r['floor']}: {r['floor_ms']:.1f} ms "
            f"| {r['ratio']:.2f}x | {cpu} | {r['target']} | {'met' if r['met'] else 'missed'} |"
        )
    lines.append("")
    if policies:
        lines += [
            "Load policies (host/lazy.py, `$DECAPTCHA_LOAD`), medians over fresh hosts; the "
            f"ais3 request comes {PAUSE_S} s after the first answer:",
            "",
        ]
        names = [k for k in next(iter(policies.values())) if k != "runs"]
        lines.append("| policy | " + " | ".join(names) + " | runs |")
        lines.append("|---|" + "---|" * (len(names) + 1))
        for policy, stats in policies.items():
            cells = [f"{stats[n]:.1f}" for n in names]
            lines.append(f"| {policy} | " + " | ".join(cells) + f" | {stats['runs']} |")
        lines.append("")
    return lines
