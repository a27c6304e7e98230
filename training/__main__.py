"""`python -m training`: rebuild every shipped model, write a report, copy the models in.

    python -m training             # full run: real data (+ synthetic), about half an hour
    python -m training --smoke     # synthetic only, tiny: checks the pipeline in ~2 minutes
    python -m training --data DIR [--data DIR2 ...]  # labeled folders (default ../shared/data)
    python -m training --no-install  # leave models/ alone (report only)

Everything goes to training/out/ (gitignored): models/, report.md, report.json,
curves.png. A full run then copies the .tflite files and the merged models.json into
models/. A smoke run never touches models/.

Several --data folders are merged (training/merge.py: each keeps its own validation split,
duplicate pictures are dropped). Before installing, every built model and its shipped
namesake read the merged real validation split (training/guard.py): if a built model reads
fewer right, nothing is installed and the exit code is 3 (also with --no-install, and with
--smoke --data, whose tiny models only exercise the check).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from host.kinds import KINDS
from host.solver import MODEL_METHODS
from training import data as dataset
from training import guard, merge, report

OUT = dataset.REPO / "training" / "out"
MODELS = dataset.REPO / "models"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny synthetic-only run")
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a labeled folder (ais6/, ais3/); repeat to merge (default ../shared/data)",
    )
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=MODEL_METHODS, help="build one method's models")
    parser.add_argument("--no-install", action="store_true", help="do not copy into models/")
    args = parser.parse_args(argv)

    shared = dataset.shared_data_dir()
    folders: list[Path] = args.data or ([] if args.smoke or shared is None else [shared])
    if not folders and not args.smoke:
        print("no real data: pass --data DIR or put it at ../shared/data", file=sys.stderr)
        return 2
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        print(f"not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    real = None if args.smoke else folders  # a smoke run trains on synthetic captchas only
    for kind in KINDS.values() if folders else ():
        _, _, counts = merge.real_split(folders, kind)
        print(f"{kind.name}: {counts}", flush=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's chatter out of progress
    started = time.time()
    results: dict[str, dict] = {}
    for method in MODEL_METHODS:
        if args.only and method != args.only:
            continue
        print(f"== {method} ==", flush=True)
        if method == "ctc":
            from training.train_ctc import run
        else:
            from training.train_seg import run
        results[method] = run(args.out / "models" / method, real, seed=args.seed, smoke=args.smoke)

    merge_catalogue(args.out / "models" / "models.json", results, keep_others=False)
    report.write(args.out, results, real, args.smoke, time.time() - started)
    print(f"report: {args.out / 'report.md'}", flush=True)

    if folders:
        comparisons = guard.compare(args.out / "models", MODELS, results, folders)
        installable, lines = guard.verdict(comparisons)
        print(lines, flush=True)
        if not installable:
            return 3
    if not args.smoke and not args.no_install:
        install(args.out / "models", results)
    return 0


def merge_catalogue(path: Path, results: dict[str, dict], keep_others: bool) -> None:
    """Write the trainers' models.json entries into `path`, over its other entries if kept.

    The one merge of both trainers' entries (the built catalogue and the installed one).
    TODO(corea's host/catalogue.py): write through the catalogue writer once it lands.
    """
    fresh = {"version": 1, "models": {}}
    meta = json.loads(path.read_text()) if keep_others and path.exists() else fresh
    meta["version"] = 1
    for result in results.values():
        meta["models"].update(result["models"])
    path.write_text(json.dumps(meta, indent=2) + "\n")


def install(built: Path, results: dict[str, dict]) -> None:
    """Copy the built files into models/, merging models.json with entries not rebuilt."""
    for method, result in results.items():
        for entry in result["models"].values():
            shutil.copy2(built / method / entry["file"], MODELS / entry["file"])
    merge_catalogue(MODELS / "models.json", results, keep_others=True)
    print(f"installed into {MODELS}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
