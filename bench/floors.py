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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def callgrind(argv: list[str], stdin: bytes = b"", env: dict | None = None) -> dict[str, int]:
    """Instructions (valgrind's callgrind, every process) of `argv` fed `stdin`: `to_exit`, and
    `to_finalize`, up to Py_FinalizeEx (a host has written its answer and read the end of
    stdin by then; for a `python -c` floor it is the end of the script). Load-independent,
    unlike the timings: a loaded machine moves them by well under 1%."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        cmd = ["valgrind", "--tool=callgrind", "--trace-children=yes"]
        cmd += ["--dump-before=Py_FinalizeEx", f"--callgrind-out-file={out}.%p", *argv]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, cwd=REPO, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} under callgrind exited {proc.returncode}")
        parts: dict[str, dict[str, int]] = {}  # pid -> {"1": before Py_FinalizeEx, "": the rest}
        for f in Path(tmp).iterdir():
            pid, _, part = f.name.removeprefix("cg.").partition(".")
            found = re.search(r"^summary: (\d+)", f.read_text(errors="replace"), re.M)
            parts.setdefault(pid, {})[part] = int(found[1]) if found else 0
        to_exit = sum(sum(p.values()) for p in parts.values())
        # A process that never called Py_FinalizeEx (a wrapper that exec'd) counts whole.
        to_finalize = sum(p.get("1", p.get("", 0)) for p in parts.values())
        return {"to_exit": to_exit, "to_finalize": to_finalize}


def instructions(hosts: dict[str, list[str]], png: bytes) -> dict:
    """Issue 13's first row in instructions: each host from start to its first answer (one
    solve written at start, as Chromium does; models loaded per kind as by default, the other
    kind not loaded: `DECAPTCHA_LOAD=on-use`, so no background load runs before the exit)
    beside the import floor to exit. One run each, page cache warm (a first untimed start)."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed")
    request = nmclient.encode(nmclient.solve_request(1, base64.b64encode(png).decode()))
    env = {**os.environ, "DECAPTCHA_LOAD": "on-use", "DECAPTCHA_REQUEST_TIMEOUT": "600"}
    floor_argv = [sys.executable, "-c", "import numpy, PIL.Image, ai_edge_litert.interpreter"]
    out = {IMPORT_FLOOR: callgrind(floor_argv)}
    for name, argv in hosts.items():
        subprocess.run(argv, input=request, capture_output=True, cwd=REPO, env=env)  # cache
        out[name] = callgrind(argv, request, env)
    floor = out[IMPORT_FLOOR]["to_exit"]
    for name in hosts:
        out[name]["ratio"] = out[name]["to_finalize"] / floor
    return out


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
    counted = result.get("instructions") or {}
    for name in ("bundle", "python -m host"):
        if name in counted and IMPORT_FLOOR in counted:
            rows.append(
                {
                    "path": f"{name} start -> first answer, instructions (callgrind)",
                    "now_ms": None,
                    "now": f"{counted[name]['to_finalize'] / 1e6:.1f} M",
                    "floor": f"{IMPORT_FLOOR} to exit",
                    "floor_ms": None,
                    "floor_text": f"{counted[IMPORT_FLOOR]['to_exit'] / 1e6:.1f} M",
                    "ratio": counted[name]["ratio"],
                    "target": "<= 1.3x the floor",
                    "met": counted[name]["ratio"] <= 1.3,
                }
            )
            break
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
        now = r.get("now") or f"{r['now_ms']:.1f} ms"
        floor_text = r.get("floor_text") or f"{r['floor_ms']:.1f} ms"
        lines.append(
            f"| {r['path']} | {now} | {r['floor']}: {floor_text} "
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


def main(argv: list[str]) -> int:
    """`python -m bench.floors --callgrind [BUNDLE]`: issue 13's first row in instructions."""
    if argv[:1] != ["--callgrind"]:
        print("usage: python -m bench.floors --callgrind [BUNDLE]", file=sys.stderr)
        return 2
    from bench import nmclient as nm
    from training import synth

    bundle = Path(argv[1]) if len(argv) > 1 else REPO / "dist" / "decaptcha-host" / "decaptcha-host"
    hosts = {"python -m host": [sys.executable, "-m", "host", nm.CHROMIUM_ORIGIN]}
    if bundle.exists():
        hosts["bundle"] = [str(bundle), nm.CHROMIUM_ORIGIN]
    import numpy as np

    rgb, _ = synth.generate("ais6", np.random.default_rng(7))
    counted = instructions(hosts, synth.png_bytes(rgb, "ais6"))
    floor = counted[IMPORT_FLOOR]["to_exit"]
    print(f"{IMPORT_FLOOR}, to exit: {floor / 1e6:.1f} M instructions (the floor)")
    for name in hosts:
        c = counted[name]
        print(
            f"{name}, start -> first answer: {c['to_finalize'] / 1e6:.1f} M "
            f"({c['ratio']:.2f}x the floor; to exit {c['to_exit'] / 1e6:.1f} M)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
