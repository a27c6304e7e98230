"""`python -m bench`: measure accuracy, speed and size on this machine; print and save a report.

Every section runs if what it measures exists (models, bundle, extension, browser) and is
reported as not measured otherwise. Targets are reported, never turned into a failure.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import traceback
from pathlib import Path

from bench import machine, report
from bench.datasets import Dataset, real_validation, synthetic
from host.kinds import KINDS
from host.protocol import METHODS

REPO = Path(__file__).resolve().parent.parent
SECTIONS = (
    "accuracy",
    "garbage",
    "latency",
    "throughput",
    "coldstart",
    "phases",
    "policies",
    "browser",
    "sizes",
    "rss",
    "instructions",  # callgrind, when valgrind is installed (bench/floors.py)
    "floors",  # last: it reads the sections above (bench/floors.py)
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--quick",
        action="store_true",
        help="few repeats and small sets: checks the harness, not for publishing",
    )
    p.add_argument("--only", default="", help=f"comma-separated sections of {','.join(SECTIONS)}")
    p.add_argument("--skip", default="", help="comma-separated sections to leave out")
    p.add_argument("--no-real", action="store_true", help="ignore ../shared/data (synthetic only)")
    p.add_argument("--synthetic", type=int, default=300, help="synthetic captchas per kind")
    p.add_argument("--rounds", type=int, default=5, help="timing passes over the images")
    p.add_argument("--latency-images", type=int, default=100, help="images per kind timed")
    p.add_argument("--requests", type=int, default=1000, help="pipelined requests per run")
    p.add_argument("--runs", type=int, default=15, help="cold starts per process / throughput runs")
    p.add_argument("--browser-runs", type=int, default=3, help="fresh browsers (cold samples)")
    p.add_argument("--browser-repeats", type=int, default=10, help="warm samples per browser")
    p.add_argument(
        "--firefox-runs", type=int, default=1, help="fresh Firefoxes after Chromium (0: none)"
    )
    p.add_argument(
        "--bundle", type=Path, default=REPO / "dist" / "decaptcha-host" / "decaptcha-host"
    )
    p.add_argument("--out", type=Path, default=REPO / "dist" / "bench")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if a section could not be measured (for tests)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.synthetic, args.rounds, args.latency_images = min(args.synthetic, 20), 1, 10
        args.requests, args.runs, args.browser_repeats = min(args.requests, 100), 3, 2
        args.browser_runs = 1
    chosen = [s for s in args.only.split(",") if s] or list(SECTIONS)
    dropped = {s for s in args.skip.split(",") if s}
    unknown = (set(chosen) | dropped) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    args.sections = [s for s in chosen if s not in dropped]
    return args


class Bench:
    """Holds what several sections share (datasets, the Solver) and the result."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.result: dict = {
            "command": "python -m bench " + shlex.join(sys.argv[1:]),
            "machine": machine.machine_info(),
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "skipped": {},
        }
        self._datasets: dict[tuple[str, str], Dataset | None] = {}
        self._solver = None

    # ---- shared inputs -------------------------------------------------------------------
    def dataset(self, label: str, kind: str) -> Dataset | None:
        key = (label, kind)
        if key not in self._datasets:
            if label == "real-val":
                self._datasets[key] = None if self.args.no_real else real_validation(kind)
            else:
                self._datasets[key] = synthetic(kind, self.args.synthetic)
        return self._datasets[key]

    def timing_set(self, kind: str) -> Dataset:
        """Real validation images when present (what users see), else synthetic."""
        return self.dataset("real-val", kind) or self.dataset("synthetic", kind)

    def solver(self):
        if self._solver is None:
            from bench.accuracy import load_solver

            self._solver = load_solver()
        return self._solver

    def host_commands(self) -> dict[str, list[str]]:
        """The two ways the host runs, started as Chromium starts them (origin argument)."""
        from bench.nmclient import CHROMIUM_ORIGIN

        hosts = {"python -m host": [sys.executable, "-m", "host", CHROMIUM_ORIGIN]}
        if self.args.bundle.exists():
            hosts["bundle"] = [str(self.args.bundle), CHROMIUM_ORIGIN]
        else:
            self.result["skipped"]["bundle"] = f"{self.args.bundle} not built (python build.py)"
        return hosts

    # ---- sections ------------------------------------------------------------------------
    def accuracy(self) -> dict:
        from bench.accuracy import ddddocr_readers, score, solver_readers

        readers = solver_readers(self.solver(), METHODS)
        try:
            from bench.ddddocr_baseline import Ddddocr

            readers |= ddddocr_readers(Ddddocr())
        except ImportError as exc:
            self.result["skipped"]["ddddocr"] = f"{exc} (pip install -r bench/requirements.txt)"
        out: dict = {}
        for label in ("real-val", "synthetic"):
            for kind in KINDS:
                ds = self.dataset(label, kind)
                if ds is None:
                    self.result["skipped"][f"accuracy {label}"] = "no ../shared/data"
                    continue
                out.setdefault(label, {})[kind] = score(ds, readers)
        return out

    def garbage(self) -> dict:
        from bench.garbage import solver_rates

        n = 10 if self.args.quick else 100
        return {k: solver_rates(self.solver(), k, n, real=not self.args.no_real) for k in KINDS}

    def latency(self) -> dict:
        from bench.latency import ddddocr_latency, solver_latency

        a = self.args
        out = {}
        dddd = None
        try:
            from bench.ddddocr_baseline import Ddddocr

            dddd = Ddddocr()
        except ImportError:
            pass
        for kind in KINDS:
            ds = self.timing_set(kind)
            out[kind] = solver_latency(self.solver(), ds, METHODS, a.rounds, 20, a.latency_images)
            if dddd is not None:
                out[kind]["ddddocr (for comparison)"] = ddddocr_latency(
                    dddd, ds, max(1, a.rounds // 5), 5, a.latency_images
                )
            out[kind]["images"] = f"{ds.label}, {min(len(ds.items), a.latency_images)} images"
        return out

    def throughput(self) -> dict:
        from bench.stats import summarize
        from bench.throughput import pipelined, round_trips

        a = self.args
        out: dict = {}
        for host, argv in self.host_commands().items():
            for kind in KINDS:
                pngs = [i.png for i in self.timing_set(kind).items[:50]]
                runs = [pipelined(argv, pngs, a.requests, kind) for _ in range(max(1, a.runs // 5))]
                rtt = round_trips(argv, pngs, 20 if a.quick else 200, kind)
                errors: dict = {}
                for r in runs:
                    for code, n in r["errors"].items():
                        errors[code] = errors.get(code, 0) + n
                out.setdefault(host, {})[f"{a.requests} x {kind} auto"] = {
                    "rps_median": summarize([r["rps"] for r in runs])["median"],
                    "rps_runs": [r["rps"] for r in runs],
                    "rtt_median": rtt["median"],
                    "rtt": rtt,
                    "errors": errors,
                }
        return out

    def coldstart(self) -> dict:
        from bench.coldstart import cold_starts

        png = self.timing_set("ais6").items[0].png
        return cold_starts(self.host_commands(), png, self.args.runs)

    def phases(self) -> dict:
        from bench.phases import measure

        return measure(self.timing_set("ais6").items[0].png, self.args.runs)

    def policies(self) -> dict:
        from bench.floors import load_policies

        hosts = self.host_commands()
        argv = hosts.get("bundle") or hosts["python -m host"]
        png6, png3 = (self.timing_set(kind).items[0].png for kind in KINDS)
        return load_policies(argv, png6, png3, self.args.runs)

    def instructions(self) -> dict:
        from bench.floors import instructions

        return instructions(self.host_commands(), self.timing_set("ais6").items[0].png)

    def floors(self) -> dict:
        from bench.floors import table

        return table(self.result)

    def browser(self) -> dict:
        from bench.browser import run_e2e
        from bench.stats import summarize

        a = self.args
        raw = run_e2e("chromium", a.browser_runs, a.browser_repeats)
        out = {k: raw[k] for k in ("command", "pytest")}
        for host in ("cold", "warm"):
            if raw.get(f"{host}_ms"):
                out[host] = summarize(raw[f"{host}_ms"])
        out["steps"] = {step: summarize(v) for step, v in raw.get("steps_ms", {}).items() if v}
        if a.firefox_runs > 0:  # the same test in Firefox, reported beside (no target of its own)
            try:
                fx = run_e2e("firefox", a.firefox_runs, a.browser_repeats)
            except RuntimeError as exc:
                out["firefox"] = {"error": str(exc)}
            else:
                out["firefox"] = {k: fx[k] for k in ("command", "pytest")}
                for host in ("cold", "warm"):
                    if fx.get(f"{host}_ms"):
                        out["firefox"][host] = summarize(fx[f"{host}_ms"])
                steps = fx.get("steps_ms", {}).items()
                out["firefox"]["steps"] = {step: summarize(v) for step, v in steps if v}
        return out

    def sizes(self) -> dict:
        from bench.sizes import measure

        out = measure(REPO, self.args.bundle.parent)
        if out.get("bundle"):
            out["bundle"]["mb"] = out["bundle"]["bytes"] / 1e6
        return out

    def rss(self) -> dict:
        from bench.rss import peak_rss

        pngs, kinds = [], []
        for kind in KINDS:
            for item in self.timing_set(kind).items[:20]:
                pngs.append(item.png)
                kinds.append(kind)
        return {
            host: peak_rss(argv, pngs, kinds, list(METHODS), 1 if self.args.quick else 3, REPO)
            for host, argv in self.host_commands().items()
        }

    def run(self) -> dict:
        for section in self.args.sections:
            start = time.perf_counter()
            print(f"[bench] {section} ...", file=sys.stderr, flush=True)
            try:
                self.result[section] = getattr(self, section)()
            except Exception as exc:
                self.result["skipped"][section] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc(file=sys.stderr)
            print(f"[bench] {section}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
        self.result["machine"]["busy_processes_at_end"] = machine.busy_processes()
        self.result["machine"]["load_average_at_end"] = machine.load_average()
        return self.result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = Bench(args).run()
    text = report.render(result)
    if "garbage" in result:
        from bench.garbage import render_rates

        text += "\n" + "\n".join(render_rates(result["garbage"]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1, default=str))
    (args.out / "results.md").write_text(text)
    print(text)
    print(f"[bench] wrote {args.out / 'results.json'} and results.md", file=sys.stderr)
    failed = {k for k in result["skipped"] if k in args.sections}
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
