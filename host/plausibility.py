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
- for an answer that would be filled: the kind's glyph check (host/glyph.py) passes most
  renderings, every digit the segmenter cut drawn in the AIS font (`refuses`). It is
  what keeps captchas in other fonts from a fillable answer: behind the other checks `auto`
  still filled 16 / 84 of ~2,400 held-out-font captchas per kind (ais6 / ais3, seeds 15-18,
  docs/BENCHMARKS.md "A glyph check per digit"), and none with it;
- in `auto`: ctc and seg agree on the text and each of them alone reaches the threshold;
- the image turned 180 degrees, or mirrored left-right or top-bottom (ORIENTATIONS), does
  not read (ctc) more confidently than the answer does (for `seg`: than ctc reads it
  upright), unless it reads as what the answer's digits show that way (SAME_LOOK: a mirror
  of 800 reads 008, 609 turned reads 609). Only the orientations whose turned image the
  gate may pass are re-read (`turn_may_be_upright`): if the image were a turned captcha,
  turning it back would give an upright one, which the gate passes. So a fillable answer
  costs one gate invoke per orientation, and a ctc read for about 1% of the real login
  captchas and 9% of the course ones. (Before the glyph check all three ran unless the gate
  was very sure of the image: those re-reads also caught, by chance, a few captchas in other
  fonts; with it, none is lost: bench/garbage.py `re_reads_skipped`.) Every labelled real
  captcha passes this check.

What each rule still caught that the gate missed, before the glyph check and with the gates
before synth VERSION 3 (bench/garbage.py rule table, 300 images per transform from the real
captchas, seeds 15 / 16, confident counts; docs/BENCHMARKS.md; the gates since refuse nearly
every other-font captcha, "The replica in another font"):
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

# Why an answer was capped (the `reason` of the solve result).
DISAGREE = "disagree"  # ctc and seg read different texts, or one read nothing
UNSURE = "unsure"  # they agree, but one of them alone is below the threshold
ONE_MODEL = "one-model"  # auto could run one model only: agreement unknown
NOT_A_CAPTCHA = "not-a-captcha"  # the segmenter's pieces do not look like the kind's digits
UPSIDE_DOWN = "upside-down"  # the image turned 180 degrees reads more confidently
MIRRORED = "mirrored"  # the image mirrored (left-right or top-bottom) reads more confidently
NO_GATE = "no-gate"  # the kind's gate or glyph model is missing or broken: nothing vouches for it
REASONS = (DISAGREE, UNSURE, ONE_MODEL, NOT_A_CAPTCHA, UPSIDE_DOWN, MIRRORED, NO_GATE)
IMPLAUSIBLE = (NOT_A_CAPTCHA, UPSIDE_DOWN, MIRRORED)  # the image itself is not a captcha

# Turned or mirrored, these digits show a digit of the same look (in the AIS font as in the
# replica's): 0 and 8 every way, 3 top-bottom, 6 and 9 into each other turned. A captcha of
# only such digits, turned or mirrored, shows a valid captcha of the mapped digits.
SAME_LOOK: dict[str, tuple[dict[str, str], bool]] = {
    # how: (digit -> the digit it shows, whether the order of the digits reverses)
    "rot180": ({"0": "0", "8": "8", "6": "9", "9": "6"}, True),
    "hflip": ({"0": "0", "8": "8"}, True),
    "vflip": ({"0": "0", "8": "8", "3": "3"}, False),
}


def shown(text: str, how: str) -> str | None:
    """The text a captcha of `text` shows turned or mirrored `how` (SAME_LOOK), or None when
    one of its digits shows no digit that way."""
    digits, reverses = SAME_LOOK[how]
    if not all(d in digits for d in text):
        return None
    mapped = "".join(digits[d] for d in text)
    return mapped[::-1] if reverses else mapped


# What a fillable answer is checked against: the image turned or mirrored must not read
# (ctc) more confidently than it does upright, or the upright image is the turned one. A
# mirror that reads as what the answer shows mirrored is no sign: 0, 3 and 8 mirror onto
# themselves top-bottom (033, 818), 0 and 8 left-right read reversed (800 -> 008). A turn is
# no sign only if it shows the answer itself (609 and 8008 turn into themselves: the answer
# is right either way up); 606 and 909 turn into each other, so those are signs. Any other
# read is one, the answer's own text included: a 9 mirrored top-bottom is no 9, so the
# mirrored 898 that ctc reads as 898 more confidently than the image is a sign.
ORIENTATIONS: tuple[tuple[str, tuple[slice, slice], Callable[[str], str | None]], ...] = (
    # (reason, index of the turned image, the answer's innocent text when read that way)
    (
        UPSIDE_DOWN,
        (slice(None, None, -1), slice(None, None, -1)),
        lambda text: text if shown(text, "rot180") == text else None,
    ),
    (MIRRORED, (slice(None), slice(None, None, -1)), lambda text: shown(text, "hflip")),
    (MIRRORED, (slice(None, None, -1), slice(None)), lambda text: shown(text, "vflip")),
)


def passes_gate(passes: list[bool]) -> bool:
    """Whether more than half of the renderings pass the kind's gate (host/gate.py), as
    `look_like_captcha` votes: one rendering spoilt by noise does not decide."""
    return 2 * sum(passes) > len(passes)


def refuses(check: tuple[list[float | None], float] | None) -> bool:
    """Whether a check's scores (the gate's or the glyph check's, per rendering, with its
    threshold) refuse the image: most renderings below the threshold (`passes_gate`); no
    score (the glyph check found no digits) is below it. None, no such check: nothing
    refuses it (the solver then answers NO_GATE)."""
    if check is None:
        return False
    scores, threshold = check
    return not passes_gate([score is not None and score >= threshold for score in scores])


def turn_may_be_upright(gate: tuple[list[float | None], float] | None) -> bool:
    """Whether the image turned or mirrored may be an upright captcha, from the gate's scores
    of the turned renderings (with its threshold; None: no gate, so it may): only then can
    the image be a turned captcha, and ctc re-reads it turned. The gate passes every real
    captcha upright (training/guard.py) and refuses them turned and mirrored, so this takes
    one gate invoke per orientation instead of a ctc read for nearly every real captcha."""
    return not refuses(gate)


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
