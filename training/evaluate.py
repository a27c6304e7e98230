"""Read labeled captchas with the shipped models through the host's Solver, and print figures.

    python -m training.evaluate                   # real validation split, ctc / seg / auto
    python -m training.evaluate --split train     # the real training split instead
    python -m training.evaluate --synthetic 1500  # fresh synthetic captchas: calibration table

Per kind and method: exact-match accuracy, how many answers had confidence > 0.9 and how
many of those were wrong, auto's disagreements, the Solver's median `ms`, the misreads.
With --synthetic, also accuracy per confidence band (the synthetic captchas are harder,
so they show how honest the confidence is where errors happen).
"""

from __future__ import annotations

import argparse
import sys
from itertools import pairwise

import numpy as np

from host.errors import HostError
from host.imageio import decode_png
from host.kinds import KINDS
from host.solver import Solver
from training import data as dataset
from training import synth

BANDS = (0.0, 0.5, 0.9, 0.99, 1.0)


def _labeled(args: argparse.Namespace, kind: str) -> tuple[list[np.ndarray], list[str], list[str]]:
    if args.synthetic:
        images, texts = synth.batch(kind, args.synthetic, seed=args.seed)
        return images, texts, [f"synthetic#{i}" for i in range(len(texts))]
    root = dataset.shared_data_dir()
    if root is None:
        raise SystemExit("no real data (../shared/data or $DECAPTCHA_DATA); try --synthetic N")
    train, val = dataset.split(dataset.load_folder(root / kind, KINDS[kind].digits))
    samples = val if args.split == "validation" else train
    images = [decode_png(s.path.read_bytes()) for s in samples]
    return images, [s.answer for s in samples], [s.path.name for s in samples]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate")
    parser.add_argument("--split", choices=["validation", "train"], default="validation")
    parser.add_argument("--synthetic", type=int, metavar="N", help="N fresh synthetic captchas")
    parser.add_argument("--seed", type=int, default=777, help="seed of the synthetic captchas")
    parser.add_argument("--methods", default="ctc,seg,auto")
    args = parser.parse_args(argv)
    solver = Solver()
    print(solver.status())
    for kind in KINDS:
        images, texts, names = _labeled(args, kind)
        for method in args.methods.split(","):
            conf, right, ms, misread, disagree = [], [], [], [], 0
            for rgb, text, name in zip(images, texts, names, strict=True):
                try:
                    answer = solver.solve([rgb], kind, method)
                except HostError as err:
                    conf.append(0.0)
                    right.append(False)
                    misread.append((name, err.code, 0.0))
                    continue
                conf.append(answer.confidence)
                right.append(answer.text == text)
                ms.append(answer.ms)
                disagree += answer.agree is False
                if answer.text != text:
                    misread.append((name, answer.text, answer.confidence))
            c, r = np.array(conf), np.array(right)
            confident = c > 0.9
            print(
                f"{kind} {method}: {r.sum()}/{len(r)} ({r.mean():.4%}); conf>0.9: {confident.sum()}"
                f" answers, {(confident & ~r).sum()} wrong; disagreements {disagree};"
                f" median ms {np.median(ms) if ms else float('nan'):.2f}"
            )
            if args.synthetic:
                for lo, hi in pairwise(BANDS):
                    band = (c >= lo) & ((c < hi) | (hi == 1.0))
                    if band.any():
                        print(
                            f"    confidence [{lo}, {hi}]: {band.sum()} answers,"
                            f" {r[band].mean():.3f} right, mean confidence {c[band].mean():.3f}"
                        )
            elif misread:
                print(f"    misread: {misread}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
