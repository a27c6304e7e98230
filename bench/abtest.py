"""Two (or more) builds of the extension and host, compared in the browser side by side.

Wall-clock figures on a shared machine swing from one minute to the next, so a before/after
comparison means something only when the two builds are measured interleaved: fresh browser
after fresh browser, the builds alternated (ABBA...), each run the e2e login test
(tests/test_e2e_extension.py::test_login_filled_cold_then_warm: 1 cold + N warm samples, with
the step marks), through `$DECAPTCHA_E2E_DIST` (tests/e2e/fixtures.py). Nothing is asserted.

    python -m bench.abtest prepare NAME [--ref GIT_REF] [--host BUNDLE_FOLDER]
        dist/ab/NAME/: the extensions of GIT_REF (default: the working tree) and a link to a
        host bundle folder (default: dist/decaptcha-host)
    python -m bench.abtest run BROWSER ROUNDS NAME NAME... [--repeats N] [--tag TAG]
        ROUNDS rounds of one fresh browser per build; prints each step's median per build
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AB = REPO / "dist" / "ab"
TEST = "tests/test_e2e_extension.py"


def prepare(name: str, ref: str | None, host: Path) -> Path:
    sys.path.insert(0, str(REPO))
    import build  # the same copy and manifest merge as `python build.py`

    out = AB / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    src = REPO / "extension"
    with tempfile.TemporaryDirectory() as tmp:
        if ref:
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", ref, "extension"],
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            src = Path(tmp) / "extension"
        for family in build.FAMILIES:
            folder = out / family
            shutil.copytree(src / "src", folder, ignore=shutil.ignore_patterns(".*", "*.test.js"))
            base = json.loads((src / "manifest.base.json").read_text(encoding="utf-8"))
            overlay = json.loads((src / f"manifest.{family}.json").read_text(encoding="utf-8"))
            build.write_json(
                folder / "manifest.json", {**base, "version": build.version(), **overlay}
            )
            build.write_zip(folder, out / f"nthu-ais-decaptcha-{family}.zip")
    (out / "decaptcha-host").symlink_to(host.resolve())
    return out


def run(browser: str, rounds: int, names: list[str], repeats: int, tag: str) -> Path:
    results = AB / f"results-{tag}"
    results.mkdir(parents=True, exist_ok=True)
    for i in range(rounds):
        for name in names if i % 2 == 0 else names[::-1]:
            path = results / f"{name}-{i}.json"
            env = {
                **os.environ,
                "DECAPTCHA_E2E_DIST": str(AB / name),
                "DECAPTCHA_E2E_TIMINGS": str(path),
                "DECAPTCHA_E2E_REPEATS": str(repeats),
                "PYTHONPATH": str(REPO),
            }
            load = os.getloadavg()[0]
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST, "-k"]
            cmd.append(f"test_login_filled_cold_then_warm and {browser}")
            proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
            last = (proc.stdout.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            print(f"round {i} {name}: {last} (load average {load:.1f})", flush=True)
    return results


def summary(results: Path, browser: str) -> str:
    data: dict[str, dict[str, list[float]]] = collections.defaultdict(
        lambda: collections.defaultdict(list)
    )
    for f in sorted(results.glob("*.json")):
        name = f.stem.rsplit("-", 1)[0]
        entry = json.loads(f.read_text())["browsers"].get(browser, {})
        for key, values in entry.items():
            if key.endswith("_ms") and isinstance(values, list):
                data[name][key[: -len("_ms")]] += values
    names = list(data)
    keys = list(dict.fromkeys(k for n in names for k in data[n]))
    lines = ["| step | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key in keys:
        cells = []
        for n in names:
            v = data[n].get(key)
            cells.append(f"{statistics.median(v):.2f} ms (n={len(v)})" if v else "-")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.abtest", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("name")
    pp.add_argument("--ref")
    pp.add_argument("--host", type=Path, default=REPO / "dist" / "decaptcha-host")
    pr = sub.add_parser("run")
    pr.add_argument("browser", choices=["chromium", "firefox"])
    pr.add_argument("rounds", type=int)
    pr.add_argument("names", nargs="+")
    pr.add_argument("--repeats", type=int, default=10)
    pr.add_argument("--tag", default="ab")
    args = p.parse_args(argv)
    if args.cmd == "prepare":
        print(prepare(args.name, args.ref, args.host))
    else:
        results = run(args.browser, args.rounds, args.names, args.repeats, args.tag)
        print(summary(results, args.browser))
    return 0


if __name__ == "__main__":
    sys.exit(main())
