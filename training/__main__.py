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
import os
import shutil
import sys
import time
from pathlib import Path

from host.catalogue import (
    CATALOGUE_FILE,
    GATE,
    CatalogueError,
    Entry,
    read_catalogue,
    write_catalogue,
)
from host.kinds import KINDS
from host.solver import FAMILIES
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
    parser.add_argument(
        "--only", choices=FAMILIES, help="build one family's models (ctc, seg, gate, glyph)"
    )
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
    for method in FAMILIES:
        if args.only and method != args.only:
            continue
        print(f"== {method} ==", flush=True)
        if method == "ctc":
            from training.train_ctc import run
        elif method == "seg":
            from training.train_seg import run
        elif method == GATE:
            from training.train_gate import run
        else:
            from training.train_glyph import run
        results[method] = run(args.out / "models" / method, real, seed=args.seed, smoke=args.smoke)

    merge_catalogue(args.out / "models", results, keep_others=False)
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


def merge_catalogue(folder: Path, results: dict[str, dict], keep_others: bool) -> None:
    """Write the trainers' entries as `folder`/models.json, over its other entries if kept.

    The one merge of both trainers' entries (the built catalogue and the installed one),
    written by host/catalogue.py's writer. CatalogueError, before anything is written, when
    a kept entry cannot be read (see `merged_entries`).
    """
    write_catalogue(folder, merged_entries(folder, results, keep_others))


def merged_entries(folder: Path, results: dict[str, dict], keep_others: bool) -> list[Entry]:
    """This run's entries, after the entries of `folder`/models.json it does not rebuild if kept.

    An entry there that read_catalogue cannot read is refused, not dropped: rewriting the
    catalogue would lose it silently. Unless this run rebuilds it, CatalogueError says which
    and why, so it can be mended or removed by hand.
    """
    fresh = {
        name: Entry.from_json(name, data)
        for result in results.values()
        for name, data in result["models"].items()
    }
    if not keep_others or not (folder / CATALOGUE_FILE).exists():
        return list(fresh.values())
    installed = read_catalogue(folder)
    unreadable = {name: why for name, why in installed.problems.items() if name not in fresh}
    if unreadable:
        raise CatalogueError(
            f"{folder / CATALOGUE_FILE}: entries this run does not rebuild cannot be read, and"
            f" rewriting it would drop them; mend or remove them first: {unreadable}"
        )
    return list({**installed.entries, **fresh}.values())


def install(built: Path, results: dict[str, dict]) -> None:
    """Copy the built files into models/, merging models.json with entries not rebuilt.

    The merge is checked first: a refused models.json leaves models/ untouched.
    """
    entries = merged_entries(MODELS, results, keep_others=True)
    for method, result in results.items():
        for entry in result["models"].values():
            shutil.copy2(built / method / entry["file"], MODELS / entry["file"])
    write_catalogue(MODELS, entries)
    print(f"installed into {MODELS}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
