"""Read labeled captchas with the shipped models through the host's Solver, and print figures.

    python -m training.evaluate                   # real validation split, ctc / seg / auto
    python -m training.evaluate --split train     # the real training split instead
    python -m training.evaluate --synthetic 1500  # fresh synthetic captchas: calibration table

Per kind and method: exact-match accuracy, how many answers were confident (host.confidence)
and how many of those were wrong, auto's disagreements, the median wall-clock ms per solve,
the misreads (host/scoring.py counts them all).
With --synthetic, also accuracy per confidence band (the synthetic captchas are harder,
so they show how honest the confidence is where errors happen).
"""

from __future__ import annotations

import argparse
import sys
from itertools import pairwise

import numpy as np

from host import scoring
from host.confidence import FILL_THRESHOLD
from host.imageio import decode_png
from host.kinds import KINDS
from host.protocol import METHODS
from host.solver import Solver
from training import data as dataset
from training import synth

BANDS = (0.0, 0.5, 0.9, 0.99, 1.0)


def _labeled(args: argparse.Namespace, kind: str) -> list[tuple[str, str, np.ndarray]]:
    """(file name, answer, picture) of each captcha to read."""
    if args.synthetic:
        images, texts = synth.batch(kind, args.synthetic, seed=args.seed)
        return [
            (f"synthetic#{i}", t, rgb) for i, (t, rgb) in enumerate(zip(texts, images, strict=True))
        ]
    root = dataset.shared_data_dir()
    if root is None:
        raise SystemExit("no real data (../shared/data or $DECAPTCHA_DATA); try --synthetic N")
    train, val = scoring.split(scoring.load_folder(root / kind, KINDS[kind].digits))
    samples = val if args.split == "validation" else train
    return [(s.path.name, s.answer, decode_png(s.path.read_bytes())) for s in samples]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate")
    parser.add_argument("--split", choices=["validation", "train"], default="validation")
    parser.add_argument("--synthetic", type=int, metavar="N", help="N fresh synthetic captchas")
    parser.add_argument("--seed", type=int, default=777, help="seed of the synthetic captchas")
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args(argv)
    solver = Solver()
    print(solver.status())
    for kind in KINDS:
        labeled = _labeled(args, kind)
        for method in args.methods.split(","):
            tally = scoring.Tally()
            for name, text, rgb in labeled:
                tally.add(scoring.solve_one(solver, rgb, kind, method, name, text))
            median = tally.median_ms
            print(
                f"{kind} {method}: {tally.correct}/{tally.total} ({tally.accuracy or 0:.4%});"
                f" conf>={FILL_THRESHOLD:g}: {tally.confident} answers,"
                f" {tally.confident_wrong} wrong; disagreements {tally.disagreements};"
                f" median ms {median if median is not None else float('nan'):.2f}"
            )
            if args.synthetic:
                c = np.array([o.confidence for o in tally.outcomes])
                r = np.array([o.right for o in tally.outcomes])
                for lo, hi in pairwise(BANDS):
                    band = (c >= lo) & ((c < hi) | (hi == 1.0))
                    if band.any():
                        print(
                            f"    confidence [{lo}, {hi}]: {band.sum()} answers,"
                            f" {r[band].mean():.3f} right, mean confidence {c[band].mean():.3f}"
                        )
            elif tally.misses:
                misread = [
                    (o.file, o.text if o.text is not None else o.error, o.confidence)
                    for o in tally.misses
                ]
                print(f"    misread: {misread}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
