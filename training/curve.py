"""How many real captchas it takes: retrain from N real training images, synthetic off.

    python -m training.curve --method seg --kind ais6 --n 100 --out /tmp/curve/seg-100

Picks N images of the kind's real training split (a seeded shuffle, so N=100 is a subset
of N=200), links them and the whole real validation split into a scratch folder under
--out, turns the synthetic training captchas off (the calibration temperature is still
fitted on synthetic crops: it scales confidence, never changes an answer), runs the
method's trainer on that folder, and prints the real validation accuracy. seg: the real
crops are repeated so each epoch still has at least MIN_CROPS of them (with 16 short epochs
the BatchNorm statistics do not settle, and the exported model reads nearly nothing); ctc
likewise repeats the real captchas to at least MIN_CTC_IMAGES per epoch. Only
the kind measured is built. It never touches models/. This is the measurement
docs/TRAINING.md quotes for "the captcha changed".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from host.kinds import KINDS, Kind
from training import data as dataset

MIN_CROPS = 16_000  # seg: digit crops per epoch, whatever N (see main)
MIN_CTC_IMAGES = 4_000  # ctc: captchas per epoch (a full run has about 12,600)


def scratch_folder(real: Path, kind: str, n: int, seed: int, out: Path) -> tuple[Path, int, int]:
    """A folder of symlinks: N training images + the whole validation split of `kind`."""
    samples = dataset.load_folder(real / kind, KINDS[kind].digits)
    train, val = dataset.split(samples)
    train = dataset.without_label_errors(train)
    random.Random(seed).shuffle(train)
    if n > len(train):
        raise SystemExit(f"only {len(train)} real {kind} training images, asked for {n}")
    folder = out / "data" / kind
    folder.mkdir(parents=True, exist_ok=True)
    for s in train[:n] + val:
        link = folder / s.path.name
        if not link.exists():
            link.symlink_to(s.path.resolve())
    return out / "data", n, len(val)


def _no_synthetic(synthetic: Callable[..., tuple[np.ndarray, list[str]]]) -> Callable:
    """train_ctc.synthetic, but 0 captchas is an empty array (calibration still draws some)."""

    def wrapped(kind: Kind, count: int, seed: int, cache: bool = True):
        if count == 0:
            return np.zeros((0, kind.height, kind.width, 3), np.uint8), []
        return synthetic(kind, count, seed, cache)

    return wrapped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.curve", description=__doc__)
    parser.add_argument("--method", choices=["seg", "ctc"], default="seg")
    parser.add_argument("--kind", choices=sorted(KINDS), default="ais6")
    parser.add_argument("--n", type=int, required=True, help="real training images")
    parser.add_argument("--data", type=Path, help="labeled folders (default ../shared/data)")
    parser.add_argument("--out", type=Path, required=True, help="scratch + models folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    real = args.data or dataset.shared_data_dir()
    if real is None:
        print("no real data: pass --data DIR or put it at ../shared/data", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    folder, n_train, n_val = scratch_folder(real, args.kind, args.n, args.seed, args.out)
    digits = KINDS[args.kind].digits
    if args.method == "seg":
        from training import train_seg as trainer

        trainer.SYNTHETIC = {name: 0 for name in KINDS}
        # Without the synthetic crops an epoch is a few steps, and 16 epochs are too few for
        # the BatchNorm statistics to settle (the exported model then reads most digits as
        # "1"): show the real crops often enough for at least MIN_CROPS per epoch.
        trainer.REAL_REPEAT = max(trainer.REAL_REPEAT, -(-MIN_CROPS // (n_train * digits)))
    else:
        from training import train_ctc as trainer

        for settings in trainer.SETTINGS.values():
            settings["synthetic"] = 0
            # the same reason as seg's: enough optimizer steps per epoch
            settings["real_repeat"] = max(settings["real_repeat"], -(-MIN_CTC_IMAGES // n_train))
        trainer.synthetic = _no_synthetic(trainer.synthetic)
    trainer.KINDS = {args.kind: KINDS[args.kind]}  # build only the kind measured
    result = trainer.run(args.out / "models", folder, seed=args.seed)
    validation = result["models"][f"{args.method}_{args.kind}"]["validation"]
    line = {
        "method": args.method,
        "kind": args.kind,
        "real_train": n_train,
        "synthetic": 0,
        "real_repeat": getattr(trainer, "REAL_REPEAT", None)
        if args.method == "seg"
        else trainer.SETTINGS[args.kind]["real_repeat"],
        "validation_images": n_val,
        **validation,
    }
    print(json.dumps(line), flush=True)
    (args.out / "curve.json").write_text(json.dumps(line, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
