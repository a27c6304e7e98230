"""Images that are not captchas of a kind, seeded: the host must never answer them confidently.

`garbage_set(kind, per_transform, seed)` transforms captchas (the real ones in
../shared/data when they are there, else synthetic ones from training/synth.py) into what
a changed AIS page, a wrong element or a broken image could hand the extension:

- `rot180`, `hflip`, `vflip`: the captcha turned or mirrored;
- `strips`: cut into 12 vertical strips, shuffled;
- `crop-resize`, `crop-pad`: the right 25-55% cut off, stretched back to the kind's size
  or padded with white;
- `font-aileron` (Pillow's built-in font), `font-serif` (DejaVu Serif, when the system has it):
  synthetic captchas drawn in a font that is not the AIS one. The gate never trains on
  either (training/train_gate.py HELD_OUT); Aileron is a Helvetica twin, near the Liberation
  Sans (an Arial twin) it does train on; DejaVu Serif is of a family it never sees;
- `noise` (random pixels, or dark specks on white), `blank` (one colour), `gradient`
  (smooth colours and soft blobs, like a photo).

The transforms themselves live in training/transforms.py (training/train_gate.py makes
the gate's negatives with them, from other images and seeds). The generator needs numpy and
Pillow only (the host never imports bench/). The same
arguments give the same pixels. `confident_on_garbage` is the benchmark figure over it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageFont

from host.confidence import FILL_THRESHOLD as FILL
from host.confidence import reading_of
from host.kinds import KINDS
from host.protocol import METHODS
from training import synth
from training.data import load_folder, shared_data_dir
from training.transforms import FROM_CAPTCHA, MADE, transform

if TYPE_CHECKING:
    from host.gate import GateReader

TRANSFORMS = (
    *FROM_CAPTCHA,  # rot180, hflip, vflip, strips, crop-resize, crop-pad
    "font-aileron",
    "font-serif",
    "noise",
    "blank",
    "gradient",
)
RATE_METHODS = METHODS[::-1]  # the benchmark's columns: seg, ctc, auto
SERIF = "DejaVuSerif.ttf"


@dataclass(frozen=True)
class Garbage:
    name: str  # what it was made from and how, for reports
    transform: str
    rgb: np.ndarray  # (H, W, 3) uint8 at the kind's size
    answer: str | None = None  # the answer of the captcha it was made from, if any


# Turned or mirrored, these digits show a digit of the same look (in the AIS font as in the
# replica's): 0 and 8 every way, 3 top-bottom, 6 and 9 into each other turned. A captcha of
# only such digits, turned or mirrored, shows a valid captcha (of the mapped digits): nothing
# in its pixels says it is not one, so no gate can refuse it, and it is not counted as
# garbage (`same_look`); the benchmark reports how many there were beside the rate.
SAME_LOOK: dict[str, tuple[dict[str, str], bool]] = {
    # transform: (digit -> the digit it shows, whether the order of the digits reverses)
    "rot180": ({"0": "0", "8": "8", "6": "9", "9": "6"}, True),
    "hflip": ({"0": "0", "8": "8"}, True),
    "vflip": ({"0": "0", "8": "8", "3": "3"}, False),
}


def same_look(g: Garbage) -> bool:
    """Whether `g` is a captcha turned or mirrored into a valid captcha of the same look (see
    SAME_LOOK): "the transform shows a valid captcha of the same digits"."""
    if g.transform not in SAME_LOOK or g.answer is None:
        return False
    digits, _ = SAME_LOOK[g.transform]
    return all(d in digits for d in g.answer)


@cache
def _aileron(index: int, size: int) -> ImageFont.FreeTypeFont:
    del index  # Pillow has one weight of it
    return ImageFont.load_default(size)  # type: ignore[return-value]


@cache
def serif_available() -> bool:
    try:
        ImageFont.truetype(SERIF, 10)
    except OSError:
        return False
    return True


@cache
def _serif(index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype("DejaVuSerif-Bold.ttf" if index else SERIF, size)


FONTS: dict[str, synth.FontSource] = {"font-aileron": _aileron, "font-serif": _serif}


# ---- the set ---------------------------------------------------------------------------------


def captchas(
    kind: str, count: int, seed: int, data_dir: Path | None = None, real: bool = True
) -> list[tuple[str, np.ndarray, str]]:
    """`count` (name, rgb, answer) captchas to transform: real ones (every split, drawn with
    `seed`) from `data_dir` or ../shared/data when `real` and present, else synthetic ones."""
    root = (data_dir or shared_data_dir()) if real else None
    if root is not None and (root / kind).is_dir():
        samples = load_folder(root / kind)
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(samples), size=min(count, len(samples)), replace=False)
        out = []
        for i in sorted(picked.tolist()):
            with Image.open(samples[i].path) as image:
                rgb = np.asarray(image.convert("RGB"), np.uint8)
                out.append((samples[i].path.name, rgb, samples[i].answer))
        return out
    rng = np.random.default_rng(seed)
    made = [synth.generate(kind, rng) for _ in range(count)]
    return [(f"synthetic {text}", rgb, text) for rgb, text in made]


def garbage_set(
    kind: str,
    per_transform: int,
    seed: int = 15,
    data_dir: Path | None = None,
    real: bool = True,
    transforms: Iterable[str] = TRANSFORMS,
) -> list[Garbage]:
    """`per_transform` images of each transform (see the module docstring); seeded."""
    w, h = KINDS[kind].width, KINDS[kind].height
    sources = captchas(kind, per_transform, seed, data_dir, real)
    out = []
    for t, how in enumerate(transforms):
        rng = np.random.default_rng([seed, t])
        if how in FROM_CAPTCHA:
            for name, rgb, answer in sources:
                out.append(Garbage(f"{how} of {name}", how, transform(rgb, how, rng), answer))
        elif how in FONTS:
            if how == "font-serif" and not serif_available():
                continue
            for i in range(per_transform):
                rgb, text = synth.generate(kind, rng, fonts=FONTS[how])
                out.append(Garbage(f"{how} {text} #{i}", how, rgb))
        elif how in MADE:
            for i in range(per_transform):
                out.append(Garbage(f"{how} #{i}", how, MADE[how](w, h, rng)))
        else:
            raise ValueError(f"unknown transform {how!r}: one of {TRANSFORMS}")
    return out


# ---- the benchmark figure ------------------------------------------------------------------


# Candidate rules, measured per image on the uncapped readings: which would give a confidence
# >= FILL. `r` holds ctc/seg (text, confidence) or None, `gate` (the kind's gate passes it,
# host/gate.py), `pieces_ok` (the segmenter's check), `orient` (ctc's (text, confidence) of the
# image turned and mirrored, plausibility.ORIENTATIONS) and `auto` (the uncapped `combine`
# confidence), `gate_score` (the gate's score, None without one), `gate_sure` (that score is
# at GATE_SURE). "shipped" is the Solver's rule
# (host/solver.py with host/plausibility.py).
def _alone(method: str, r: dict) -> bool:
    return r[method] is not None and r[method][1] >= FILL


def _turned_better(r: dict, text: str | None, confidence: float) -> bool:
    """The Solver's orientation rule: a turn or mirror reads more confidently as a text that
    is not the answer's innocent one."""
    from host.plausibility import ORIENTATIONS, upside_down

    for (_, _, innocent), read in zip(ORIENTATIONS, r["orient"], strict=True):
        if read is None or (
            innocent is not None and text is not None and read[0] == innocent(text)
        ):
            continue
        if upside_down(confidence, read[1]):
            return True
    return False


def _re_read_turned(r: dict, text: str | None, confidence: float) -> bool:
    """The Solver's rule behind the gate: the orientation re-reads only when the gate is not
    sure (host/plausibility.py GATE_SURE), then `_turned_better`."""
    return not r["gate_sure"] and _turned_better(r, text, confidence)


def _auto_ok(r: dict) -> bool:
    return r["agree"] and r["both"]


def _seg_conf(r: dict) -> float:
    """What seg's answer is checked against for orientation: the higher of seg's and ctc's."""
    return max(r["seg"][1], r["ctc"][1] if r["ctc"] else 0.0)


RULES: dict[str, Callable[[dict], bool]] = {
    "auto, before (combine only)": lambda r: r["auto"] >= FILL,
    "auto + ctc and seg agree": lambda r: r["auto"] >= FILL and r["agree"],
    f"auto + agree + both >= {FILL}": _auto_ok,
    "auto + agree + both + pieces": lambda r: _auto_ok(r) and r["pieces_ok"],
    "auto + agree + both + pieces + turned (before the gate)": lambda r: (
        _auto_ok(r) and r["pieces_ok"] and not _turned_better(r, r["text"], r["auto"])
    ),
    "auto + agree + both + gate": lambda r: _auto_ok(r) and r["gate"],
    "auto + agree + both + gate + pieces": lambda r: _auto_ok(r) and r["gate"] and r["pieces_ok"],
    "auto + agree + both + gate + pieces + turned unless sure (shipped)": lambda r: (
        _auto_ok(r)
        and r["gate"]
        and r["pieces_ok"]
        and not _re_read_turned(r, r["text"], r["auto"])
    ),
    "ctc, before": lambda r: _alone("ctc", r),
    "ctc + pieces + turned (before the gate)": lambda r: (
        _alone("ctc", r) and r["pieces_ok"] and not _turned_better(r, r["ctc"][0], r["ctc"][1])
    ),
    "ctc + gate": lambda r: _alone("ctc", r) and r["gate"],
    "ctc + gate + pieces": lambda r: _alone("ctc", r) and r["gate"] and r["pieces_ok"],
    "ctc + gate + pieces + turned unless sure (shipped)": lambda r: (
        _alone("ctc", r)
        and r["gate"]
        and r["pieces_ok"]
        and not _re_read_turned(r, r["ctc"][0], r["ctc"][1])
    ),
    "seg, before": lambda r: _alone("seg", r),
    "seg + pieces + turned (before the gate)": lambda r: (
        _alone("seg", r) and r["pieces_ok"] and not _turned_better(r, r["seg"][0], _seg_conf(r))
    ),
    "seg + gate": lambda r: _alone("seg", r) and r["gate"],
    "seg + gate + pieces": lambda r: _alone("seg", r) and r["gate"] and r["pieces_ok"],
    "seg + gate + pieces + turned unless sure (shipped)": lambda r: (
        _alone("seg", r)
        and r["gate"]
        and r["pieces_ok"]
        and not _re_read_turned(r, r["seg"][0], _seg_conf(r))
    ),
}


def readings(rgb: np.ndarray, kind: str, readers: dict, gate: GateReader | None = None) -> dict:
    """The uncapped signals of one image (see RULES) from the host's ctc and seg readers and
    the kind's gate (host/gate.py GateReader; None: no gate, it passes nothing)."""
    from host.plausibility import ORIENTATIONS, gate_sure, looks_like_captcha
    from host.solver import combine

    k = KINDS[kind]
    out: dict = {}
    reads = {}
    for method, reader in readers.items():
        probs = reader.read(rgb)
        if probs is None:
            out[method], reads[method] = None, None
            continue
        reads[method] = reading_of(probs)
        out[method] = (reads[method].text, reads[method].confidence)
    try:
        text, _, conf, _, _ = combine(reads["ctc"], reads["seg"], k)
    except Exception:  # neither read an answer
        text, conf = None, 0.0
    out["text"], out["auto"] = text, conf
    out["agree"] = out["ctc"] is not None and out["seg"] is not None
    out["agree"] = out["agree"] and out["ctc"][0] == out["seg"][0]
    out["both"] = out["agree"] and min(out["ctc"][1], out["seg"][1]) >= FILL
    out["pieces_ok"] = looks_like_captcha(rgb, k)
    score = None if gate is None else gate.score(rgb)
    out["gate_score"] = score
    out["gate"] = gate is not None and score >= gate.threshold
    out["gate_sure"] = gate is not None and gate_sure(([score], gate.threshold))
    out["orient"] = []
    for _, index, _ in ORIENTATIONS:
        turned = readers["ctc"].read(np.ascontiguousarray(rgb[index]))
        read = None if turned is None else reading_of(turned)
        out["orient"].append(None if read is None else (read.text, read.confidence))
    return out


def load_readers(kind: str, models_dir: Path | None = None) -> tuple[dict, GateReader | None]:
    """The host's ctc and seg readers of `kind` (for `readings`) and its gate (None when none
    is catalogued: the gate rows pass nothing), from `models_dir` or the shipped models."""
    from host import paths
    from host.ctc import CtcReader
    from host.gate import GateReader
    from host.seg import SegReader

    k = KINDS[kind]
    models = models_dir or paths.models_dir()
    readers = {"ctc": CtcReader.from_folder(models, k), "seg": SegReader.from_folder(models, k)}
    try:
        gate: GateReader | None = GateReader.from_folder(models, k)
    except Exception:
        gate = None
    return readers, gate


def measure(
    kind: str,
    per_transform: int,
    seed: int = 15,
    real: bool = True,
    models_dir: Path | None = None,
    data_dir: Path | None = None,
    real_split: str = "val",
) -> dict:
    """Per rule: real images filled and right (the validation split, or with `real_split`
    "all" every labelled image but the known label errors; when ../shared/data is there),
    and per transform how many images reach FILL; the confident-wrong count for the fonts."""
    from training.data import split, without_label_errors

    k = KINDS[kind]
    readers, gate = load_readers(kind, models_dir)
    result: dict = {"kind": kind, "per_transform": per_transform, "seed": seed, "rules": {}}
    result["real_split"] = real_split
    root = (data_dir or shared_data_dir()) if real else None
    val_rows = []
    if root is not None and (root / kind).is_dir():
        samples = load_folder(root / kind, k.digits)
        chosen = without_label_errors(samples) if real_split == "all" else split(samples)[1]
        for s in chosen:
            with Image.open(s.path) as image:
                rgb = np.asarray(image.convert("RGB"), np.uint8)
            val_rows.append((s.answer, readings(rgb, kind, readers, gate)))
    every = garbage_set(kind, per_transform, seed, data_dir, real)
    items = [g for g in every if not same_look(g)]  # valid captchas are not garbage
    result["same_look"] = len(every) - len(items)
    rows = [(g, readings(g.rgb, kind, readers, gate)) for g in items]
    result["source"] = "real" if root is not None and (root / kind).is_dir() else "synthetic"
    for name, rule in RULES.items():
        entry: dict = {}
        if val_rows:
            right = sum(1 for answer, r in val_rows if rule(r) and _text(name, r) == answer)
            entry["real filled and right"] = f"{right}/{len(val_rows)}"
        for g, r in rows:
            entry.setdefault(g.transform, [0, 0])
            entry[g.transform][0] += bool(rule(r))
            entry[g.transform][1] += 1
        wrong = sum(
            1
            for g, r in rows
            if g.transform in FONTS and rule(r) and _text(name, r) != g.name.split()[1]
        )
        entry["fonts: confident and wrong"] = wrong
        result["rules"][name] = entry
    return result


def _text(rule: str, r: dict) -> str | None:
    """The answer a rule's method gives."""
    from host.solver import MODEL_METHODS

    for method in MODEL_METHODS:
        if rule.startswith(method):
            return None if r[method] is None else r[method][0]
    return r["text"]


def render(results: list[dict]) -> list[str]:
    """Markdown: per kind, a row per rule, a column per transform (images reaching 0.9)."""
    lines = [f"## Confident on garbage (answers >= {FILL} on images that are not captchas)", ""]
    for res in results:
        transforms = [t for t in TRANSFORMS if t in next(iter(res["rules"].values()))]
        n = res["per_transform"]
        lines.append(
            f"{res['kind']}: {n} images per transform (seed {res['seed']}, made from "
            f"{res['source']} captchas; {res.get('same_look', 0)} turned or mirrored ones that show"
            f" a valid captcha left out, `same_look`); cells: how many reached {FILL}"
        )
        lines.append("")
        real = "real-val" if res["real_split"] == "val" else "real (all)"
        head = ["rule", f"{real} filled+right", *transforms, "total", "fonts: conf. wrong"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for name, e in res["rules"].items():
            counts = [e[t][0] for t in transforms]
            total = sum(e[t][1] for t in transforms)
            cells = [name, e.get("real filled and right", "-"), *map(str, counts)]
            cells += [f"{sum(counts)}/{total}", str(e["fonts: confident and wrong"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def solver_rates(solver, kind: str, per_transform: int, seed: int = 15, real: bool = True) -> dict:
    """`python -m bench`'s figure: per method, how many garbage images the Solver answers
    at >= 0.9 (a refusal counts as not confident), overall and per transform. Images that
    show a valid captcha (`same_look`) are not garbage: counted apart, confident or not."""
    from host.confidence import is_confident
    from host.errors import HostError

    every = garbage_set(kind, per_transform, seed, real=real)
    items = [g for g in every if not same_look(g)]
    out: dict = {"n": len(items), "per_transform": per_transform, "seed": seed}
    out["same_look"] = len(every) - len(items)
    for method in RATE_METHODS:
        per: dict[str, int] = {}
        for g in items:
            try:
                confident = is_confident(solver.solve([g.rgb], kind, method).confidence)
            except HostError:
                confident = False
            per[g.transform] = per.get(g.transform, 0) + confident
        out[method] = {"confident": sum(per.values()), "by_transform": per}
    return out


def render_rates(rates: dict) -> list[str]:
    """The `python -m bench` report's lines for `solver_rates` of each kind."""
    lines = ["## Confident on garbage (bench/garbage.py)", ""]
    head = ["kind", "images", *RATE_METHODS, "by transform (seg / ctc / auto)", "same look"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for kind, r in rates.items():
        cells = [
            f"{100 * r[m]['confident'] / r['n']:.2f}% ({r[m]['confident']})" for m in RATE_METHODS
        ]
        by = ", ".join(
            f"{t} {' / '.join(str(r[m]['by_transform'][t]) for m in RATE_METHODS)}"
            for t in r["auto"]["by_transform"]
            if any(r[m]["by_transform"][t] for m in RATE_METHODS)
        )
        row = [kind, str(r["n"]), *cells, by or "none", str(r.get("same_look", 0))]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "Cells: share (count) of transformed images (turned, mirrored, shuffled strips, cropped, "
        "other fonts, noise, blank, gradients; `python -m bench.garbage` for the per-rule table) "
        f'answered with confidence >= {FILL}, the extension\'s fill threshold. "same look": '
        "turned or mirrored captchas that show a valid captcha (bench/garbage.py same_look), "
        "not counted in the images.",
        "",
    ]
    return lines


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return float(np.log(p / (1 - p)))


def gate_sure_margin(kind: str, per_transform: int, seeds: Iterable[int] = (15, 16, 17)) -> dict:
    """What host/plausibility.py GATE_SURE is set from: the gate logits of the turned, mirrored,
    cut or cropped captchas (real ones, and a third as many synthetic ones) that only the
    orientation re-reads keep from a fillable answer (auto, ctc or seg), highest first, and
    the share of the labelled real captchas whose logit is at or above GATE_SURE's."""
    from host.plausibility import GATE_SURE
    from training.transforms import FROM_CAPTCHA

    k = KINDS[kind]
    readers, gate = load_readers(kind)
    if gate is None:
        raise ValueError(f"no {kind} gate in the shipped models: GATE_SURE has nothing to measure")
    caught = []
    for real, n in ((True, per_transform), (False, max(1, per_transform // 3))):
        for seed in seeds:
            for g in garbage_set(kind, n, seed, real=real, transforms=FROM_CAPTCHA):
                if same_look(g):
                    continue
                r = readings(g.rgb, kind, readers, gate)
                if not (r["gate"] and r["pieces_ok"]):
                    continue
                fillable = (
                    (_auto_ok(r), r["text"], r["auto"]),
                    (_alone("ctc", r), r["ctc"] and r["ctc"][0], r["ctc"] and r["ctc"][1]),
                    (_alone("seg", r), r["seg"] and r["seg"][0], r["seg"] and _seg_conf(r)),
                )
                if any(ok and _turned_better(r, text, conf) for ok, text, conf in fillable):
                    caught.append((_logit(r["gate_score"]), f"{g.name} (seed {seed})"))
    root = shared_data_dir()
    real_logits = []
    if root is not None and (root / kind).is_dir():
        for s in load_folder(root / kind, k.digits):
            with Image.open(s.path) as image:
                real_logits.append(_logit(gate.score(np.asarray(image.convert("RGB")))))
    sure = _logit(GATE_SURE)
    return {
        "kind": kind,
        "gate_sure_logit": round(sure, 2),
        "caught_by_re_reads_only": [(round(v, 2), name) for v, name in sorted(caught)[::-1][:8]],
        "count": len(caught),
        "real_share_skipping": (
            round(float(np.mean([v >= sure for v in real_logits])), 3) if real_logits else None
        ),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m bench.garbage", description=__doc__)
    p.add_argument("--per-transform", type=int, default=300)
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--no-real", action="store_true", help="transform synthetic captchas only")
    p.add_argument(
        "--real-split",
        choices=("val", "all"),
        default="val",
        help="real captchas counted as filled and right: the validation split, or all labelled",
    )
    p.add_argument(
        "--gate-sure",
        action="store_true",
        help="print what GATE_SURE is set from (host/plausibility.py), seeds 15-17",
    )
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.gate_sure:
        for kind in KINDS:
            print(gate_sure_margin(kind, args.per_transform))
        return 0
    results = [
        measure(kind, args.per_transform, args.seed, not args.no_real, real_split=args.real_split)
        for kind in KINDS
    ]
    print("\n".join(render(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
