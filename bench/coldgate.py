"""A cold bundle as the extension meets it: process start -> first answer, when the first
solve waits for the version gate's `status` (full, or `brief: true`), beside the solve alone.

    python -m bench.coldgate [BUNDLE] [RUNS]

Fresh process per run, the three ways interleaved; one ais6 image of ../shared/data (or a
synthetic one). Wall-clock medians (nothing asserted).
"""

from __future__ import annotations

import base64
import statistics
import sys
import time
from pathlib import Path

from bench import nmclient

REPO = Path(__file__).resolve().parent.parent
WAYS = {
    "full status, then the solve (before)": {"action": "status"},
    "brief status, then the solve (after)": {"action": "status", "brief": True},
    "the solve alone (the floor)": None,
}


def image() -> str:
    sys.path.insert(0, str(REPO))
    from training.data import shared_data_dir

    data = shared_data_dir()
    files = sorted((data / "ais6").glob("*.png")) if data else []
    if files:
        png = files[0].read_bytes()
    else:
        from training import synth

        rgbs, _ = synth.batch("ais6", 1, seed=0)
        png = synth.png_bytes(rgbs[0], "ais6")
    return "data:image/png;base64," + base64.b64encode(png).decode()


def once(exe: str, img: str, status: dict | None) -> dict[str, float]:
    started = time.perf_counter()
    proc = nmclient.spawn([exe, nmclient.CHROMIUM_ORIGIN])
    marks = {}
    try:
        with nmclient.deadline(proc, 60):
            if status is not None:
                proc.stdin.write(nmclient.encode({"v": 1, "id": 1, **status}))
                proc.stdin.flush()
                nmclient.read_frame(proc.stdout)
                marks["status answered"] = (time.perf_counter() - started) * 1000
            proc.stdin.write(nmclient.encode(nmclient.solve_request(2, img, "ais6")))
            proc.stdin.flush()
            reply = nmclient.read_frame(proc.stdout)
            marks["first answer"] = (time.perf_counter() - started) * 1000
    finally:
        nmclient.close(proc)
    if not reply.get("ok"):
        raise RuntimeError(f"solve failed: {reply}")
    return marks


def main(argv: list[str]) -> int:
    exe = argv[0] if argv else str(REPO / "dist" / "decaptcha-host" / "decaptcha-host")
    runs = int(argv[1]) if len(argv) > 1 else 15
    img = image()
    samples: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
    for _ in range(runs):
        for way, status in WAYS.items():
            samples[way].append(once(exe, img, status))
    print(f"| {exe}, {runs} runs each, interleaved | status answered | first answer |")
    print("|---|---|---|")
    for way, marks in samples.items():
        cells = []
        for key in ("status answered", "first answer"):
            values = [m[key] for m in marks if key in m]
            cells.append(f"{statistics.median(values):.1f} ms" if values else "-")
        print(f"| {way} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
