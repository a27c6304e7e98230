"""The Solver: loads each model once (up front, or a kind on its first solve), reads a
captcha with ctc, seg or both, and votes.

Confidence is a calibrated probability that the answer is right: each reader returns
temperature-calibrated per-position probabilities (calibration in models.json), the
answer's confidence is their product over positions. Several renderings of one captcha
are read separately and their per-position probabilities averaged. In `auto`, ctc and
seg are both run: if they agree the answer keeps the higher confidence (agreement only
makes it likelier to be right, so this errs low); if they disagree the more confident one
is answered with its confidence discounted by the other's, cA(1-cB) / (1 - cA*cB), the
probability that A is right given that at most one of two independent readers is.
Then host/plausibility.py's checks cap the confidence below the fill threshold when the
kind's gate (host/gate.py, loaded with the kind's readers) says the image is not an upright
captcha of the kind, or, for an answer that would be filled, its glyph check (host/glyph.py)
says a digit is not in the AIS font; or when either cannot say (no such model), or (`auto`)
when ctc and seg are not both sure of one text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PIL import Image

from host import log, paths, plausibility
from host.catalogue import CATALOGUE_FILE, GATE, GLYPH, Catalogue, entry_name, read_catalogue
from host.confidence import Reading, is_confident, reading_of
from host.errors import Code, HostError
from host.kinds import KINDS, Kind, kind_for_size
from host.protocol import AUTO, METHODS, check_kind, check_method
from host.reader import ModelReader, reader_class
from host.runtime import runtime_name

if TYPE_CHECKING:  # imported when loaded (host/reader.py reader_class), like the readers
    from host.gate import GateReader  # GlyphReader is one

MODEL_METHODS = tuple(m for m in METHODS if m != AUTO)  # one model each: ctc, seg
FAMILIES = (*MODEL_METHODS, GATE, GLYPH)  # every model a kind loads: its readers, its checks


@dataclass
class Answer:
    text: str
    confidence: float
    digits: list[float]
    method: str
    used: str
    agree: bool | None
    kind: str
    renderings: int
    ms: float
    plausible: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """Exactly the `solve` result of PROTOCOL.md."""
        return asdict(self)


class Solver:
    def __init__(self, models_dir: Path | None = None, kinds: Iterable[str] | None = None) -> None:
        """Read the catalogue and load the models of `kinds` now (None: every kind; () none).

        A kind not loaded here loads on its first solve, or with `load`. A model that fails
        is kept as an error for status().
        """
        self.models_dir = Path(models_dir) if models_dir is not None else paths.models_dir()
        self._readers: dict[tuple[str, str], ModelReader] = {}
        self._models: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()  # interpreters are not safe to share across threads
        self._load_lock = threading.Lock()  # one kind loads at a time, each kind once
        self._tried: set[str] = set()  # kinds whose models have been loaded (or failed)
        started = time.perf_counter()
        self._catalogue: Catalogue | None
        try:
            self._catalogue = read_catalogue(self.models_dir)
        except Exception as exc:
            self._catalogue = None
            unreadable = (
                f"{CATALOGUE_FILE} unreadable in {self.models_dir}: {type(exc).__name__}: {exc}"
            )
        log.get().debug("catalogue read in %.1f ms", (time.perf_counter() - started) * 1000)
        for method in FAMILIES:
            for kind in KINDS.values():
                name = entry_name(method, kind.name)
                entry = self._catalogue.entries.get(name) if self._catalogue else None
                self._models[name] = {"file": entry.file if entry else None}
                if self._catalogue is None:
                    self._models[name]["error"] = unreadable
        if self._catalogue is None:
            self._tried.update(KINDS)
        self.load(kinds)

    def load(self, kinds: Iterable[str] | None = None) -> list[str]:
        """Load the models of `kinds` (None: every kind) that were not tried yet; the kinds
        this call loaded. Safe from several threads: a caller waits for a kind another
        thread is loading."""
        done = []
        for kind in KINDS if kinds is None else kinds:
            if kind in self._tried:
                continue
            with self._load_lock:
                if kind not in self._tried:
                    self._load_kind(KINDS[kind])
                    self._tried.add(kind)
                    done.append(kind)
        return done

    def _load_kind(self, kind: Kind) -> None:
        assert self._catalogue is not None
        for method in FAMILIES:
            name = entry_name(method, kind.name)
            started = time.perf_counter()
            try:
                reader = reader_class(method).for_entry(
                    self.models_dir, self._catalogue.entry(method, kind.name)
                )
                loaded = time.perf_counter()
                reader.warm_up()
            except Exception as exc:
                self._models[name]["error"] = f"{type(exc).__name__}: {exc}"[:300]
            else:
                self._readers[(method, kind.name)] = reader
                log.get().debug(
                    "%s: interpreter %.1f ms, warm-up read %.1f ms",
                    name,
                    (loaded - started) * 1000,
                    (time.perf_counter() - loaded) * 1000,
                )

    def status(self) -> dict[str, Any]:
        """Runtime name and version; per model its file, whether it loaded, its `state`
        (loaded, not loaded yet, failed) and why it failed; `ready` when every model loaded."""
        models = {}
        for name, info in self._models.items():
            method, kind = name.split("_", 1)
            loaded = (method, kind) in self._readers
            state = "loaded" if loaded else "failed" if "error" in info else "not loaded yet"
            models[name] = {"file": info["file"], "loaded": loaded, "state": state}
            if "error" in info:
                models[name]["error"] = info["error"]
        ready = all(m["loaded"] for m in models.values())
        return {"runtime": runtime_name(), "models": models, "ready": ready}

    def solve(self, images: list[np.ndarray], kind: str | None, method: str = AUTO) -> Answer:
        """Read one captcha from one or more renderings; see the module docstring."""
        started = time.perf_counter()
        check_method(method)  # the protocol checked a request already; a Python caller may not
        the_kind = _check(images, check_kind(kind))
        self.load([the_kind.name])
        prepared = [_fit(rgb, the_kind) for rgb in images]
        with self._lock:
            if method == AUTO:
                text, digits, conf, used, agree, reason = self._auto(prepared, the_kind)
            else:
                read = self._vote(method, prepared, the_kind)
                if read is None:
                    raise HostError(Code.NO_ANSWER, f"{method} read no {the_kind.digits} digits")
                text, digits, conf = read.text, read.digits, read.confidence
                used, agree, reason = method, None, None
            gate = self._check_scores(GATE, prepared, the_kind)  # (scores, threshold) or None
            vouched = gate is not None  # the checks ran: the gate (and, to fill, the glyphs)
            if plausibility.refuses(gate):
                reason = plausibility.NOT_A_CAPTCHA
            elif not plausibility.look_like_captcha(prepared, the_kind):
                reason = plausibility.NOT_A_CAPTCHA
            elif reason is None and is_confident(conf):  # only what would be filled
                glyphs = self._check_scores(GLYPH, prepared, the_kind)
                vouched = vouched and glyphs is not None
                if plausibility.refuses(glyphs):
                    reason = plausibility.NOT_A_CAPTCHA
                else:
                    reason = self._turned_reads_better(prepared, the_kind, method, text, conf)
            if reason is None and not vouched:  # nothing says it is a captcha: never fill
                reason = plausibility.NO_GATE
        plausible = reason not in plausibility.IMPLAUSIBLE
        conf = plausibility.capped(conf, reason)
        if len(text) != the_kind.digits:  # by construction never, but never answer wrongly sized
            raise HostError(Code.NO_ANSWER, f"answer {text!r} is not {the_kind.digits} digits")
        return Answer(
            text=text,
            confidence=round(float(np.clip(conf, 0.0, 1.0)), 6),
            digits=[round(float(d), 6) for d in digits],
            method=method,
            used=used,
            agree=agree,
            kind=the_kind.name,
            renderings=len(images),
            ms=round((time.perf_counter() - started) * 1000, 3),
            plausible=plausible,
            reason=reason,
        )

    def _reader(self, method: str, kind: Kind) -> ModelReader:
        reader = self._readers.get((method, kind.name))
        if reader is None:
            error = self._models[entry_name(method, kind.name)].get("error", "not loaded")
            raise HostError(Code.MODEL_ERROR, f"{method} model for {kind.name}: {error}")
        return reader

    def _check_scores(
        self, family: str, images: list[np.ndarray], kind: Kind
    ) -> tuple[list[float | None], float] | None:
        """The kind's check `family` (GATE or GLYPH): its score of each rendering (the glyph
        check's None: no digits), and its threshold; None without that check running."""
        check = cast("GateReader | None", self._readers.get((family, kind.name)))
        if check is None:
            return None
        try:
            return [check.score(rgb) for rgb in images], check.threshold
        except Exception as exc:  # a check that fails makes nothing fillable, it breaks nothing
            log.get().warning("%s %s failed: %s: %s", family, kind.name, type(exc).__name__, exc)
            return None

    def _turned_reads_better(
        self, images: list[np.ndarray], kind: Kind, method: str, text: str, conf: float
    ) -> str | None:
        """The reason, if ctc reads the images turned or mirrored (plausibility.ORIENTATIONS)
        more confidently than `conf`, the answer's (for seg: or ctc's own, as seg's
        confidences run lower); None when none does, or without ctc. An orientation whose
        turned images the gate refuses is not re-read (plausibility.turn_may_be_upright)."""
        if ("ctc", kind.name) not in self._readers:
            return None
        against = None if method == "seg" else conf  # for seg: found with the first re-read
        for reason, index, innocent in plausibility.ORIENTATIONS:
            turned = [np.ascontiguousarray(rgb[index]) for rgb in images]
            if not plausibility.turn_may_be_upright(self._check_scores(GATE, turned, kind)):
                continue
            if against is None:
                upright = self._vote("ctc", images, kind)
                against = max(conf, 0.0 if upright is None else upright.confidence)
            read = self._vote("ctc", turned, kind)
            if read is None or read.text == innocent(text):
                continue
            if plausibility.upside_down(against, read.confidence):
                return reason
        return None

    def _vote(self, method: str, images: list[np.ndarray], kind: Kind) -> Reading | None:
        """Average the per-position probabilities of every rendering that read cleanly."""
        reader = self._reader(method, kind)
        readings = []
        for rgb in images:
            try:
                probs = reader.read(rgb)
            except HostError:
                raise
            except Exception as exc:
                message = f"{method} failed: {type(exc).__name__}: {exc}"
                raise HostError(Code.MODEL_ERROR, message) from exc
            if probs is not None and probs.shape == (kind.digits, 10):
                readings.append(probs)
        if not readings:
            return None
        return reading_of(np.mean(readings, axis=0))

    def _auto(
        self, images: list[np.ndarray], kind: Kind
    ) -> tuple[str, np.ndarray, float, str, bool | None, str | None]:
        reads: dict[str, Reading | None] = {}
        errors = []
        for method in MODEL_METHODS:
            try:
                reads[method] = self._vote(method, images, kind)
            except HostError as exc:
                if exc.code != Code.MODEL_ERROR:
                    raise
                errors.append(exc)
        if not reads:
            raise errors[0]
        if len(reads) == 1:  # only one method could run: its answer, agreement unknown
            ((method, read),) = reads.items()
            if read is None:
                raise HostError(Code.NO_ANSWER, f"{method} could not read {kind.digits} digits")
            return read.text, read.digits, read.confidence, method, None, plausibility.ONE_MODEL
        ctc, seg = reads["ctc"], reads["seg"]
        reason = plausibility.auto_reason(
            None if ctc is None else (ctc.text, ctc.confidence),
            None if seg is None else (seg.text, seg.confidence),
        )
        return (*combine(ctc, seg, kind), reason)


def combine(
    ctc: Reading | None, seg: Reading | None, kind: Kind
) -> tuple[str, np.ndarray, float, str, bool]:
    """auto's rule for two readings (see the module docstring): text, digits, conf, used, agree."""
    if ctc is None and seg is None:
        raise HostError(Code.NO_ANSWER, f"neither model read {kind.digits} digits")
    if ctc is None or seg is None:  # one could not read it at all: they did not agree
        used, read = ("seg", seg) if ctc is None else ("ctc", ctc)
        assert read is not None
        return read.text, read.digits, read.confidence, used, False
    if ctc.text == seg.text:
        used = "ctc" if ctc.confidence >= seg.confidence else "seg"
        digits = np.maximum(ctc.digits, seg.digits)
        return ctc.text, digits, max(ctc.confidence, seg.confidence), used, True
    a, b = (ctc, seg) if ctc.confidence >= seg.confidence else (seg, ctc)
    used = "ctc" if a is ctc else "seg"
    conf = a.confidence * (1 - b.confidence) / max(1 - a.confidence * b.confidence, 1e-12)
    return a.text, a.digits, conf, used, False


def _check(images: list[np.ndarray], kind: str | None) -> Kind:
    """Validate the images and find the kind (given and known, or from the image size)."""
    if not isinstance(images, list) or not images:
        raise HostError(Code.BAD_REQUEST, "no image to solve")
    for rgb in images:
        if not (isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3):
            raise HostError(Code.BAD_REQUEST, "images must be RGB uint8 arrays (H, W, 3)")
        if rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise HostError(Code.BAD_REQUEST, f"image shape {rgb.shape} is not (H, W, 3)")
    if kind is not None:
        return KINDS[kind]
    found = {kind_for_size(rgb.shape[1], rgb.shape[0]) for rgb in images}
    if None in found or len(found) != 1:
        sizes = sorted({f"{rgb.shape[1]}x{rgb.shape[0]}" for rgb in images})
        raise HostError(
            Code.BAD_SIZE,
            f"image size {', '.join(sizes)} is not one kind's (104x32 ais6, 42x30 ais3);"
            " give `kind`",
        )
    (the_kind,) = found
    assert the_kind is not None
    return the_kind


def _fit(rgb: np.ndarray, kind: Kind) -> np.ndarray:
    """The image at the kind's size: resized (bilinear) when the page scaled it."""
    if rgb.shape[:2] == (kind.height, kind.width):
        return np.ascontiguousarray(rgb)
    image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    return np.asarray(image.resize((kind.width, kind.height), Image.BILINEAR), dtype=np.uint8)
