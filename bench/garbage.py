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
from host.plausibility import (
    ORIENTATIONS,
    SAME_LOOK,
    looks_like_captcha,
    refuses,
    shown,
    turn_may_be_upright,
    upside_down,
)
from host.protocol import METHODS
from training import synth
from training.data import load_folder, shared_data_dir
from training.transforms import FROM_CAPTCHA, MADE, transform

if TYPE_CHECKING:
    from host.gate import GateReader
    from host.glyph import GlyphReader

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


def same_look(g: Garbage) -> bool:
    """Whether `g` is a captcha turned or mirrored into a valid captcha of the same look (see
    host/plausibility.py SAME_LOOK): nothing in its pixels says it is not one, so no gate can
    refuse it, and it is not counted as garbage; the benchmark reports how many there were."""
    if g.transform not in SAME_LOOK or g.answer is None:
        return False
    return shown(g.answer, g.transform) is not None


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
# confidence), `gate_score` (the gate's score, None without one), `orient_gate` (per
# orientation, whether the gate may pass the turned image: plausibility.turn_may_be_upright),
# `glyph` (the kind's glyph check passes it, host/glyph.py) and `glyph_score` (its score: the
# least AIS-like digit's; None when not cut into digits).
# "shipped" is the Solver's rule (host/solver.py with host/plausibility.py).
def _alone(method: str, r: dict) -> bool:
    return r[method] is not None and r[method][1] >= FILL


def _turned_better(
    r: dict, text: str | None, confidence: float, where: list[bool] | None = None
) -> bool:
    """The Solver's orientation rule: a turn or mirror (of those `where` says, default all)
    reads more confidently as a text that is not the answer's innocent one."""
    where = where or [True] * len(ORIENTATIONS)
    for (_, _, innocent), read, re_read in zip(ORIENTATIONS, r["orient"], where, strict=True):
        if not re_read or read is None or (text is not None and read[0] == innocent(text)):
            continue
        if upside_down(confidence, read[1]):
            return True
    return False


def _re_read_turned(r: dict, text: str | None, confidence: float) -> bool:
    """The Solver's rule behind the gate: `_turned_better` over the orientations whose turned
    image the gate may pass (host/plausibility.py turn_may_be_upright)."""
    return _turned_better(r, text, confidence, r["orient_gate"])


def _auto_ok(r: dict) -> bool:
    return r["agree"] and r["both"]


def _seg_conf(r: dict) -> float:
    """What seg's answer is checked against for orientation: the higher of seg's and ctc's."""
    return max(r["seg"][1], r["ctc"][1] if r["ctc"] else 0.0)


def _answer(method: str, r: dict) -> tuple[bool, str | None, float]:
    """`method`'s answer before the image checks: whether it reaches FILL (auto: both agree
    and are sure), its text, and what the orientation check holds it against."""
    if method == "auto":
        return _auto_ok(r), r["text"], r["auto"]
    if r[method] is None:
        return False, None, 0.0
    against = _seg_conf(r) if method == "seg" else r[method][1]
    return _alone(method, r), r[method][0], against


def _behind_gate(
    method: str, turned: Callable[[dict, str | None, float], bool], glyphs: bool = False
) -> Callable[[dict], bool]:
    """The rule: `method`'s answer reaches FILL, the gate and the pieces check pass it (and the
    glyph check, if `glyphs`), and the orientation rule `turned` (`_turned_better` or the
    Solver's `_re_read_turned`) finds no sign."""

    def rule(r: dict) -> bool:
        ok, text, against = _answer(method, r)
        checks = r["gate"] and r["pieces_ok"] and (r["glyph"] or not glyphs)
        return ok and checks and not turned(r, text, against)

    return rule


def _behind_gate_rows(method: str, head: str) -> dict[str, Callable[[dict], bool]]:
    """`method`'s four rows behind the gate and the pieces check (names beginning with `head`):
    every orientation re-read, or only those the gate may pass, without and with the glyph
    check; the last is the Solver's."""
    return {
        f"{head} + gate + pieces + turned, every way": _behind_gate(method, _turned_better),
        f"{head} + gate + pieces + turned, not the turns it refuses": (
            _behind_gate(method, _re_read_turned)
        ),
        f"{head} + gate + pieces + glyphs + turned, every way": (
            _behind_gate(method, _turned_better, glyphs=True)
        ),
        f"{head} + gate + pieces + glyphs + turned, not those refused (shipped)": (
            _behind_gate(method, _re_read_turned, glyphs=True)
        ),
    }


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
    **_behind_gate_rows("auto", "auto + agree + both"),
    "ctc, before": lambda r: _alone("ctc", r),
    "ctc + pieces + turned (before the gate)": lambda r: (
        _alone("ctc", r) and r["pieces_ok"] and not _turned_better(r, r["ctc"][0], r["ctc"][1])
    ),
    "ctc + gate": lambda r: _alone("ctc", r) and r["gate"],
    "ctc + gate + pieces": lambda r: _alone("ctc", r) and r["gate"] and r["pieces_ok"],
    **_behind_gate_rows("ctc", "ctc"),
    "seg, before": lambda r: _alone("seg", r),
    "seg + pieces + turned (before the gate)": lambda r: (
        _alone("seg", r) and r["pieces_ok"] and not _turned_better(r, r["seg"][0], _seg_conf(r))
    ),
    "seg + gate": lambda r: _alone("seg", r) and r["gate"],
    "seg + gate + pieces": lambda r: _alone("seg", r) and r["gate"] and r["pieces_ok"],
    **_behind_gate_rows("seg", "seg"),
}


def readings(
    rgb: np.ndarray,
    kind: str,
    readers: dict,
    gate: GateReader | None = None,
    glyph: GlyphReader | None = None,
) -> dict:
    """The uncapped signals of one image (see RULES) from the host's ctc and seg readers, the
    kind's gate (host/gate.py GateReader) and glyph check (host/glyph.py GlyphReader); None:
    there is none, it passes nothing."""
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
    out["glyph_score"] = None if glyph is None else glyph.score(rgb)
    out["glyph"] = glyph is not None and not refuses(([out["glyph_score"]], glyph.threshold))
    out["orient"], out["orient_gate"] = [], []
    for _, index, _ in ORIENTATIONS:
        turned_rgb = np.ascontiguousarray(rgb[index])
        turned = readers["ctc"].read(turned_rgb)
        read = None if turned is None else reading_of(turned)
        out["orient"].append(None if read is None else (read.text, read.confidence))
        turned_gate = None if gate is None else ([gate.score(turned_rgb)], gate.threshold)
        out["orient_gate"].append(turn_may_be_upright(turned_gate))
    return out


def load_readers(
    kind: str, models_dir: Path | None = None
) -> tuple[dict, GateReader | None, GlyphReader | None]:
    """The host's ctc and seg readers of `kind` (for `readings`), its gate and its glyph
    check (None when not catalogued: the rows using it pass nothing), from `models_dir` or
    the shipped models."""
    from host import paths
    from host.ctc import CtcReader
    from host.gate import GateReader
    from host.glyph import GlyphReader
    from host.seg import SegReader

    k = KINDS[kind]
    models = models_dir or paths.models_dir()
    readers = {"ctc": CtcReader.from_folder(models, k), "seg": SegReader.from_folder(models, k)}
    try:
        gate: GateReader | None = GateReader.from_folder(models, k)
    except Exception:
        gate = None
    try:
        glyph: GlyphReader | None = GlyphReader.from_folder(models, k)
    except Exception:
        glyph = None
    return readers, gate, glyph


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
    readers, gate, glyph = load_readers(kind, models_dir)
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
            val_rows.append((s.answer, readings(rgb, kind, readers, gate, glyph)))
    every = garbage_set(kind, per_transform, seed, data_dir, real)
    items = [g for g in every if not same_look(g)]  # valid captchas are not garbage
    result["same_look"] = len(every) - len(items)
    rows = [(g, readings(g.rgb, kind, readers, gate, glyph)) for g in items]
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


def re_read_share(kind: str) -> dict:
    """How many ctc re-reads a fillable answer pays for (host/solver.py), over the labelled
    real captchas: one per orientation whose turned image the gate may pass
    (plausibility.turn_may_be_upright). The share paying any re-read, and the mean number."""
    root = shared_data_dir()
    gate = load_readers(kind)[1]
    if root is None or not (root / kind).is_dir() or gate is None:
        raise ValueError(f"re-read share of {kind}: needs ../shared/data/{kind} and a gate")
    counts = []
    for s in load_folder(root / kind, KINDS[kind].digits):
        with Image.open(s.path) as image:
            rgb = np.asarray(image.convert("RGB"), np.uint8)
        turns = [
            turn_may_be_upright(([gate.score(np.ascontiguousarray(rgb[index]))], gate.threshold))
            for _, index, _ in ORIENTATIONS
        ]
        counts.append(sum(turns))
    return {
        "kind": kind,
        "images": len(counts),
        "any_re_read": round(float(np.mean([c > 0 for c in counts])), 4),
        "mean_re_reads": round(float(np.mean(counts)), 3),
    }


def re_reads_skipped(kind: str, per_transform: int, seeds: Iterable[int] = (15, 16, 17)) -> list:
    """The garbage images (real ones, and a third as many synthetic ones, every transform)
    past the gate, the pieces and the glyph checks that a re-read of every orientation keeps
    from a fillable answer (auto, ctc or seg) and the Solver's re-reads (`_re_read_turned`)
    do not: (gate score, name, seed), highest first."""
    readers, gate, glyph = load_readers(kind)
    missed = []
    for real, n in ((True, per_transform), (False, max(1, per_transform // 3))):
        for seed in seeds:
            for g in garbage_set(kind, n, seed, real=real):
                if same_look(g):
                    continue
                r = readings(g.rgb, kind, readers, gate, glyph)
                if not (r["gate"] and r["pieces_ok"] and r["glyph"]):
                    continue
                if any(
                    ok and _turned_better(r, text, conf) and not _re_read_turned(r, text, conf)
                    for ok, text, conf in (_answer(m, r) for m in RATE_METHODS)
                ):
                    missed.append((round(r["gate_score"], 6), g.name, seed))
    return sorted(missed, reverse=True)


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
        "--re-reads",
        action="store_true",
        help="print how many ctc re-reads the labelled real captchas pay for (host/solver.py),"
        " and the garbage images (seeds 15-17) whose catch a skipped re-read lost",
    )
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.re_reads:
        for kind in KINDS:
            print(
                re_read_share(kind), "skipped catches:", re_reads_skipped(kind, args.per_transform)
            )
        return 0
    results = [
        measure(kind, args.per_transform, args.seed, not args.no_real, real_split=args.real_split)
        for kind in KINDS
    ]
    print("\n".join(render(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
