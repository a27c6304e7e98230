"""Where a cold host's time goes, phase by phase, from the end of Python's own start-up to
the first answer.

Each run is a fresh process (`python -m bench.phases --child PNG`) that does, in order, what
a cold host does, timing each phase with the wall clock and with the process's CPU time:
the three heavy imports (the import floor of bench/coldstart.py), the host's own modules,
the catalogue, per model the interpreter (open the file; allocate tensors, where the XNNPACK
delegate, for the models that use it, packs the weights) and the warm-up read of a blank
image, then the first solve of a real captcha and a second one. The parent runs it `runs`
times and reports medians. This is a breakdown of the work, not the host's schedule:
host/solver.py decides what is done before the first answer (the whole catalogue, or only
the asked kind's models).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _child(png_path: Path) -> dict[str, tuple[float, float]]:
    """(wall ms, CPU ms) per phase, in the order they ran."""
    phases: dict[str, tuple[float, float]] = {}
    last = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        phases[name] = ((wall - last[0]) * 1000, (cpu - last[1]) * 1000)
        last[0], last[1] = wall, cpu

    import ai_edge_litert.interpreter  # noqa: F401
    import PIL.Image  # noqa: F401

    lap("imports: numpy, PIL.Image, ai_edge_litert (the floor's)")
    import host.cli
    import host.server  # noqa: F401
    from host import imageio, paths, runtime
    from host.catalogue import read_catalogue
    from host.reader import reader_class
    from host.solver import Solver

    lap("imports: the host's own modules (and what they pull in)")
    catalogue = read_catalogue(paths.models_dir())
    lap("catalogue (models.json)")
    readers = {}
    for name, entry in sorted(catalogue.entries.items()):
        cls = reader_class(entry.method)
        raw = runtime.open_interpreter(catalogue.path(entry), cls.xnnpack)
        lap(f"{name}: open the model")
        raw.allocate_tensors()
        how = "XNNPACK packs the weights" if cls.xnnpack else "builtin kernels, no XNNPACK"
        lap(f"{name}: allocate tensors ({how})")
        readers[name] = cls.for_entry(catalogue.folder, entry)
        lap(f"{name}: reader again (open + allocate, for the warm-up)")
    for name, reader in sorted(readers.items()):
        reader.warm_up()  # the solver's own warm-up (a gate scores, a reader reads)
        lap(f"{name}: warm-up read of a blank image")
    solver = Solver(paths.models_dir())
    lap("Solver(): every model again, the way the host loads them")
    png = png_path.read_bytes()
    rgb = imageio.decode_png(png)
    solver.solve([rgb], None, "auto")
    lap("first solve (decode + auto)")
    solver.solve([imageio.decode_png(png)], None, "auto")
    lap("second solve (decode + auto)")
    return phases


def measure(png: bytes, runs: int, python: str = sys.executable) -> dict[str, dict[str, float]]:
    """Median wall and CPU ms per phase over `runs` fresh processes (one untimed first)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-phases-") as tmp:
        path = Path(tmp) / "captcha.png"
        path.write_bytes(png)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        samples: dict[str, list[tuple[float, float]]] = {}
        for i in range(runs + 1):
            out = subprocess.run(
                [python, "-m", "bench.phases", "--child", str(path)],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
            if i == 0:
                continue  # page cache
            for name, pair in json.loads(out.strip().splitlines()[-1]).items():
                samples.setdefault(name, []).append(tuple(pair))
    return {
        name: {
            "wall_median": statistics.median(w for w, _ in vals),
            "cpu_median": statistics.median(c for _, c in vals),
            "runs": len(vals),
        }
        for name, vals in samples.items()
    }


def table(phases: dict[str, dict[str, float]]) -> str:
    lines = ["| phase | wall (median) | CPU (median) |", "|---|---|---|"]
    for name, s in phases.items():
        lines.append(f"| {name} | {s['wall_median']:.1f} ms | {s['cpu_median']:.1f} ms |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(_child(Path(sys.argv[2]))))
    else:
        from bench.datasets import synthetic

        runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
        print(table(measure(synthetic("ais6", 1).items[0].png, runs)))
