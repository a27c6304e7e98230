"""Is this a captcha of its kind, read with confidence? Small pure checks behind the fill threshold.

The calibrated confidence (host/solver.py) holds for real AIS captchas only: on images that
are not one (turned, mirrored, cut into shuffled strips, cropped, other fonts, noise, photos)
the readers can still be sure of an answer. So a confidence at or above the fill threshold
(host/confidence.py) is given only when

- the kind's gate (host/gate.py, a learned "upright AIS captcha of this kind?") passes most
  of the renderings (`passes_gate`); with no gate model that runs, nothing vouches for the
  image and the reason is NO_GATE;
- the segmenter finds the kind's digits: its ink, before any merging or splitting, comes
  apart into `digits - 1` to `digits` same-colour pieces of at least segment.FRAGMENT pixels
  (every labelled real captcha does);
- in `auto`: ctc and seg agree on the text and each of them alone reaches the threshold;
- the image turned 180 degrees, or mirrored left-right or top-bottom (ORIENTATIONS), does
  not read (ctc) more confidently than the answer does (for `seg`: than ctc reads it
  upright), a mirror onto the answer's own mirror text and a turn onto the answer itself
  (609) excepted. These three ctc re-reads run only when the gate is very sure
  (`gate_sure`, GATE_SURE): they are half of a warm auto solve, and what they catch behind
  the gate scores below it. 2 of the 1,247 labelled real captchas read better turned (606,
  909, training images that turn into each other); none of the validation split.

What each rule still caught that the gate missed, with the gates before synth VERSION 3
(bench/garbage.py rule table, 300 images per transform from the real captchas, seeds 15 /
16, confident counts; docs/BENCHMARKS.md; the gates since refuse nearly every other-font
captcha, "The replica in another font"):
the pieces check takes auto's gate-passed answers from 299 / 283 to 192 / 189 (ais6) and
409 / 430 to 298 / 333 (ais3), all of it on other-font captchas; the turned and mirrored
re-reads (three ctc invokes per fillable answer) then take ais3's turned captchas from 16 / 15
to 2 / 1 (ctc alone: 21 / 19 to 2 / 1) and some font ones, so they stay; on ais6 they catch
fonts only (192 -> 184, 189 -> 179). The agreement rule is what keeps auto below ctc alone
on fonts (ais6 seed 15: 184 vs 253). Behind the gate alone, ctc is still confident on 1 / 2
of the 900 turned or mirrored ais6 captchas, on 1 / 1 strip shuffles (ais6) and 2 / 5 strips
or crops (ais3), and on no noise, blank or gradient image.

Otherwise the confidence is capped at CAP and `reason` says why.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from host.confidence import is_confident
from host.kinds import Kind
from host.segment import FRAGMENT, pieces

CAP = 0.5  # the most an answer that fails a check may claim: well below the fill threshold

# A gate score this high vouches for the orientation as well: the turned and mirrored
# re-reads (three ctc invokes, about half of a warm auto solve) run only below it. Measured
# on the shipped gates (docs/BENCHMARKS.md, "The replica in another font"): of the turned,
# mirrored, cut or cropped captchas that only the re-reads catch (seeds 15-17, 300 per
# transform from the real captchas and 100 from synthetic ones), the highest scored logit
# 5.1 (ais6) and 9.5 (ais3, the real 229 turned); this is logit 12.2, so the re-reads are
# skipped for about 17% (ais6) and 40% (ais3) of the labelled real captchas. The gates that
# refuse other fonts are less sure about orientation than the earlier ones (0.99 sufficed
# then). A retrained gate must be measured again: `python -m bench.garbage --gate-sure`.
GATE_SURE = 0.999995

# Why an answer was capped (the `reason` of the solve result).
DISAGREE = "disagree"  # ctc and seg read different texts, or one read nothing
UNSURE = "unsure"  # they agree, but one of them alone is below the threshold
ONE_MODEL = "one-model"  # auto could run one model only: agreement unknown
NOT_A_CAPTCHA = "not-a-captcha"  # the segmenter's pieces do not look like the kind's digits
UPSIDE_DOWN = "upside-down"  # the image turned 180 degrees reads more confidently
MIRRORED = "mirrored"  # the image mirrored (left-right or top-bottom) reads more confidently
NO_GATE = "no-gate"  # the kind's gate model is missing or broken: nothing vouches for the image
REASONS = (DISAGREE, UNSURE, ONE_MODEL, NOT_A_CAPTCHA, UPSIDE_DOWN, MIRRORED, NO_GATE)
IMPLAUSIBLE = (NOT_A_CAPTCHA, UPSIDE_DOWN, MIRRORED)  # the image itself is not a captcha

# What a fillable answer is checked against: the image turned or mirrored must not read
# (ctc) more confidently than it does upright, or the upright image is the turned one. A
# mirror that reads as the answer's own mirror text is no sign: 0, 3 and 8 mirror onto
# themselves top-bottom (033, 818), 0 and 8 left-right read reversed (800 -> 008). A turn is
# a sign unless it reads the answer itself (609 and 8008 turn into themselves: the answer is
# right either way up); 606 and 909 turn into each other, so those are signs.
ORIENTATIONS: tuple[tuple[str, tuple[slice, slice], Callable[[str], str] | None], ...] = (
    # (reason, index of the turned image, the answer's innocent text when read that way)
    (UPSIDE_DOWN, (slice(None, None, -1), slice(None, None, -1)), lambda text: text),
    (MIRRORED, (slice(None), slice(None, None, -1)), lambda text: text[::-1]),
    (MIRRORED, (slice(None, None, -1), slice(None)), lambda text: text),
)


def passes_gate(passes: list[bool]) -> bool:
    """Whether more than half of the renderings pass the kind's gate (host/gate.py), as
    `look_like_captcha` votes: one rendering spoilt by noise does not decide."""
    return 2 * sum(passes) > len(passes)


def gate_sure(gate: tuple[list[float], float] | None) -> bool:
    """Whether the gate's scores (per rendering, with its threshold; None: no gate) are all at
    GATE_SURE or above: then the turned and mirrored re-reads are skipped."""
    return gate is not None and min(gate[0]) >= GATE_SURE


def digit_pieces(rgb: np.ndarray) -> int:
    """How many same-colour ink pieces of at least FRAGMENT pixels the image has."""
    ids = pieces(rgb)[0]
    sizes = np.bincount(ids[ids >= 0])
    return int((sizes >= FRAGMENT).sum())


def looks_like_captcha(rgb: np.ndarray, kind: Kind) -> bool:
    """The segmenter's check: `kind.digits - 1` to `kind.digits` digit-sized pieces (two
    digits of one colour may touch; a digit cut by noise leaves a piece under FRAGMENT)."""
    return kind.digits - 1 <= digit_pieces(rgb) <= kind.digits


def look_like_captcha(renderings: list[np.ndarray], kind: Kind) -> bool:
    """Whether more than half of the renderings of one captcha pass `looks_like_captcha`: the
    vote may outweigh one rendering whose noise cut a digit apart, not a majority of them."""
    return 2 * sum(looks_like_captcha(rgb, kind) for rgb in renderings) > len(renderings)


def auto_reason(ctc: tuple[str, float] | None, seg: tuple[str, float] | None) -> str | None:
    """Why `auto` may not give a fillable confidence, from each reader's (text, confidence)
    (None: it read no answer); None when it may. (ONE_MODEL is the solver's to say.)"""
    if ctc is None or seg is None or ctc[0] != seg[0]:
        return DISAGREE
    if not (is_confident(ctc[1]) and is_confident(seg[1])):
        return UNSURE
    return None


def upside_down(confidence: float, turned: float | None) -> bool:
    """Whether the image turned or mirrored (read with confidence `turned`, None: no answer
    of the right length) reads more confidently than the answer's `confidence`."""
    return turned is not None and turned > confidence


def capped(confidence: float, reason: str | None) -> float:
    """The confidence to answer with: `confidence`, or at most CAP when there is a reason."""
    return confidence if reason is None else min(confidence, CAP)
