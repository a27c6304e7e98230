// DOM logic shared by the captcha kinds: find the captcha image and its answer field,
// solve each image the page shows, fill the field. Nothing here touches extension APIs:
// the browser side is passed in as `env`, so node + jsdom can test all of it.
// Classic script on the AISDecaptcha namespace (see shared/config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});
  const { COURSE_RELOADS, CONFIDENCE_THRESHOLD, ERRORS, EXTRA_RENDERINGS, KINDS, PAUSE_REASONS } = ns.config;
  const { FieldMarks } = ns.fieldMarks;

  /** What the controller is doing, also written to the field as data-decaptcha (see docs/EXTENSION.md). */
  const PHASE = Object.freeze({
    WAITING: "waiting", // no image loaded yet
    OFF: "off", // autofill switched off
    SOLVING: "solving",
    FILLED: "filled",
    LOW: "low-confidence", // not sure enough: field left to the user, marked
    KEPT: "kept-user-input", // the user typed first: their text stays
    ERROR: "error", // host missing or failing: page left untouched
    PAUSED: "paused", // autofill paused itself: the captcha seems to have changed (issue 14)
    HELD: "held", // the last helper answer was rejected: not filled until the user acts
  });

  const CAPTCHA_SRC = /auth_img\.php/i;

  /**
   * Find the captcha image and its answer field: an input named `fieldName` and the
   * <img> whose src names auth_img.php that sits closest to it in the DOM (deepest
   * common ancestor). Returns null when either is missing: then we do nothing.
   */
  function findCaptcha(doc, fieldName) {
    const fields = [...doc.querySelectorAll("input")].filter(
      (f) => f.name === fieldName && f.type !== "hidden" && !f.disabled,
    );
    const images = [...doc.querySelectorAll("img")].filter((img) => CAPTCHA_SRC.test(img.getAttribute("src") ?? ""));
    let best = null;
    for (const field of fields) {
      for (const img of images) {
        const depth = commonAncestorDepth(field, img);
        if (!best || depth > best.depth) best = { field, img, depth };
      }
    }
    return best && { field: best.field, img: best.img };
  }

  function commonAncestorDepth(a, b) {
    const seen = new Map();
    let depth = 0;
    for (let n = a; n; n = n.parentNode) seen.set(n, depth++);
    for (let n = b; n; n = n.parentNode) {
      if (seen.has(n)) return depth - seen.get(n); // distance of the common ancestor from the root
    }
    return -1;
  }

  /**
   * Whether an answer may be filled (and submitted): confidence at or above the threshold
   * and, for `auto` (asked for, or reported by the host), the two models agreeing on the text.
   * A disagreement is unsure however high the confidence: a confident misreading of something
   * that is not a captcha of this kind mostly shows as ctc and seg disagreeing (issue 15).
   */
  function isConfident(result, method = null) {
    if (!result || typeof result.confidence !== "number" || !(result.confidence >= CONFIDENCE_THRESHOLD)) return false;
    if (method === "auto" || result.method === "auto") return result.agree === true;
    return true;
  }

  /** Why an answer is unsure, for the popup: no answer, the models disagree, or low confidence. */
  function unsureReason(result) {
    if (!result) return "no-answer";
    // Confident by the threshold alone (isConfident, the one home of that comparison), not agreed.
    if (result.method === "auto" && isConfident({ ...result, method: null })) return "disagree";
    return "low-confidence";
  }

  /**
   * The steps of one job (one image, from its first solve request to its outcome), and which
   * step may follow which. The driver (#drive) runs one step at a time; after each it checks,
   * in that one place, that the job is still the current one (the image has not changed).
   *
   *   solve  -> more | reload | settle   first request; unsure: more renderings (login) or reload (course)
   *   more   -> vote | settle            fetch more renderings of the same code (login)
   *   vote   -> reload | settle          one request with all the renderings
   *   reload -> done                    reload the page's own image; its load starts the next job
   *   settle -> ask | done              fill, or mark unsure / kept / error
   *   ask    -> click | done            "log in after filling": may we? (the background's guard)
   *   click  -> done                    click the form's own button
   */
  const STEP = Object.freeze({
    SOLVE: "solve",
    MORE: "more",
    VOTE: "vote",
    RELOAD: "reload",
    SETTLE: "settle",
    ASK: "ask",
    CLICK: "click",
    DONE: "done",
  });
  const NEXT = Object.freeze({
    [STEP.SOLVE]: [STEP.MORE, STEP.RELOAD, STEP.SETTLE],
    [STEP.MORE]: [STEP.VOTE, STEP.SETTLE],
    [STEP.VOTE]: [STEP.RELOAD, STEP.SETTLE],
    [STEP.RELOAD]: [STEP.DONE],
    [STEP.SETTLE]: [STEP.ASK, STEP.DONE],
    [STEP.ASK]: [STEP.CLICK, STEP.DONE],
    [STEP.CLICK]: [STEP.DONE],
  });

  /**
   * Watches one captcha on a page and keeps its answer field filled.
   *
   * spec (per captcha kind): { kind, answer (RegExp a valid answer matches), find(doc),
   *   moreImages?(img, n), freshImage?(img), reloadImage?(img), canSubmit?(doc, field), submit?(field) }
   * env (the browser): { solve(request) -> reply envelope, capture(img) -> PNG data URL,
   *   isLoaded(img), maySubmit() -> boolean, t(key) -> text, now() -> ms,
   *   sizeOf?(img) -> {width, height}, report?(event) (to the background: settled, unknown-size,
   *   submitted, user-acted, typed) }
   * gate: { paused: reason | null, hold: boolean } (shared/outcomes.js): paused never fills
   *   nor submits; hold fills only on the user's Re-solve.
   *
   * State: `#job` is the job for the image shown now (null until that image is captured);
   * a job that is no longer `#job` is stale, and what it learns is dropped. `#busy` is the job
   * being driven: at most one at a time, so at most one solve request is in flight per page.
   * An image that arrives meanwhile waits in `#queued` (only the newest) and is driven when
   * the busy job ends.
   */
  class CaptchaController {
    #doc;
    #spec;
    #env;
    #settings;
    #gate = { paused: null, hold: false };
    #shownImage = null; // the last capture of the displayed image (kept with its answer, if the user wants)
    #observer = null;
    #img = null;
    #marks = null; // FieldMarks of the answer field
    #lastFilled = null; // the text we put in the field (anything else in it is the user's)
    #filling = false; // our own input/change events are not the user's
    #job = null;
    #busy = null;
    #queued = null;
    #reload = null; // {reloads, force} while a reload we asked for is on its way (course)
    #view = { phase: PHASE.WAITING, done: 0 }; // what the popup shows
    #done = 0;
    #seq = 0;
    #onLoad = () => this.#onImage();
    #onInput = () => {
      if (this.#filling) return;
      if (this.#job) this.#job.typed = true;
      this.#marks?.userEdited();
      // Left to the user, and now typed: the toolbar's "?" (please type it) has been answered.
      if (this.#view.phase === PHASE.LOW && !this.#view.typed) {
        this.#setView({ typed: true });
        this.#env.report?.({ event: "typed", kind: this.#spec.kind });
      }
    };

    #onSubmit = (event) => this.#submitted(event);

    constructor({ doc, spec, env, settings, gate = null }) {
      this.#doc = doc;
      this.#spec = spec;
      this.#env = env;
      this.#settings = settings;
      if (gate) this.#gate = { ...gate };
    }

    /** Find the captcha and start watching it; false (and nothing done) when the page has none. */
    start() {
      const found = this.#spec.find(this.#doc);
      if (!found) return false;
      this.#bind(found);
      const view = this.#doc.defaultView;
      this.#observer = new view.MutationObserver(() => this.#onMutation());
      this.#observer.observe(this.#doc.documentElement, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ["src"],
      });
      // How the answer fares is told by the next page (login): note what was submitted.
      if (this.#spec.reportsOutcome) this.#doc.addEventListener("submit", this.#onSubmit, true);
      if (this.#env.isLoaded(this.#img)) this.#onImage();
      return true;
    }

    stop() {
      this.#observer?.disconnect();
      this.#doc.removeEventListener("submit", this.#onSubmit, true);
      this.#unbind();
    }

    get field() {
      return this.#marks?.field ?? null;
    }

    setSettings(settings) {
      const switchedOn = settings.autofill && !this.#settings.autofill;
      this.#settings = settings;
      // Autofill just turned on: read the captcha already shown.
      if (switchedOn && this.#view.phase === PHASE.OFF && this.#env.isLoaded(this.#img)) this.#onImage();
    }

    /** The pause and the hold changed (storage.local, set by the background). */
    setGate(gate) {
      const before = this.#gate;
      this.#gate = { paused: gate.paused ?? null, hold: gate.hold === true };
      if (this.#gate.paused && !before.paused) {
        // Paused while an answer of ours is in the field: it goes (it is the suspect one).
        // An unsure note stays: it is still true.
        if (this.#view.phase === PHASE.FILLED) this.#clearOurAnswer();
        this.#setView({ phase: PHASE.PAUSED, reason: this.#gate.paused });
        return;
      }
      // Turned back on, or the hold lifted: read the captcha already shown.
      const waiting = this.#view.phase === PHASE.PAUSED || this.#view.phase === PHASE.HELD;
      const open = !this.#gate.paused && !(this.#gate.hold && this.#view.phase === PHASE.HELD);
      if (waiting && open && this.#env.isLoaded(this.#img)) {
        this.#job = null;
        this.#onImage();
      }
    }

    /** What the popup shows. */
    snapshot() {
      return { kind: this.#spec.kind, seq: this.#seq, ...this.#view };
    }

    /**
     * The popup's Re-solve: a fresh rendering of the same code (login) or a reloaded image
     * (course), solved and filled even over earlier text, since the user asked for it.
     * Resolves when that job has ended.
     */
    async resolveNow() {
      const img = this.#img;
      if (!img) return;
      if (this.#gate.paused) {
        this.#setView({ phase: PHASE.PAUSED, reason: this.#gate.paused });
        return;
      }
      // The user asked: that is the act a hold waits for.
      if (this.#gate.hold) this.#env.report?.({ event: "user-acted", kind: this.#spec.kind });
      if (this.#spec.freshImage) {
        const job = this.#newJob({ force: true });
        this.#setView({ phase: PHASE.SOLVING, reason: null });
        // On failure, fall back to the displayed image.
        const fresh = await this.#spec.freshImage(img).catch(() => null);
        if (job !== this.#job) return;
        if (!fresh && !this.#captureInto(job)) return;
        job.image ??= fresh;
        job.key = job.image;
        await this.#enqueue(job);
      } else if (this.#spec.reloadImage) {
        this.#reload = { reloads: 0, force: true };
        this.#setView({ phase: PHASE.SOLVING, reason: "reloading" });
        this.#spec.reloadImage(img);
      } else {
        const job = this.#newJob({ force: true });
        if (this.#captureInto(job)) await this.#enqueue(job);
      }
    }

    // ------------------------------------------------------------ events from the page

    #bind({ field, img }) {
      this.#unbind();
      if (field !== this.#marks?.field) {
        // A new field: nothing in it is ours, and its attributes are the page's.
        this.#marks?.detach();
        this.#marks = new FieldMarks(field, (key) => this.#env.t(key));
        this.#lastFilled = null;
      }
      this.#img = img;
      img.addEventListener("load", this.#onLoad);
      field.addEventListener("input", this.#onInput);
    }

    #unbind() {
      this.#img?.removeEventListener("load", this.#onLoad);
      this.#marks?.field.removeEventListener("input", this.#onInput);
    }

    #onMutation() {
      const found = this.#spec.find(this.#doc);
      if (!found) return;
      if (found.img !== this.#img || found.field !== this.#marks.field) {
        // The page replaced the image or the field: watch the new ones.
        this.#job = null;
        this.#bind(found);
        if (this.#env.isLoaded(found.img)) this.#onImage();
        return;
      }
      if (this.#job && this.#img.src !== this.#job.src) {
        // A new src: anything in flight is for the old image. Solve when it has loaded.
        this.#job = null;
        this.#setView({ phase: PHASE.WAITING, reason: null });
      }
    }

    /** The image has loaded (or is loaded at start, or autofill was switched on). */
    #onImage() {
      const reload = this.#reload;
      this.#reload = null;
      const force = reload?.force ?? false;
      const job = { ...this.#jobFields({ force }), reloads: reload?.reloads ?? 0 };
      if (!this.#captureInto(job)) return;
      // The same picture again (Chromium reports a loaded image and then its load event;
      // pages re-set the same src): one request per image. A reload we asked for is new.
      if (!reload && this.#job && this.#job.key === job.key) return;
      this.#job = job;
      if (!this.#sizeKnown()) return;
      if (this.#gate.paused) {
        this.#job = null;
        this.#clearOurAnswer();
        this.#setView({ ...this.#baseView(), phase: PHASE.PAUSED, reason: this.#gate.paused, image: job.image });
        return;
      }
      if (this.#gate.hold && !force) {
        this.#job = null; // solved only when the user asks (Re-solve)
        this.#clearOurAnswer();
        this.#setView({ ...this.#baseView(), phase: PHASE.HELD, reason: "rejected", image: job.image });
        return;
      }
      if (!this.#settings.autofill && !force) {
        this.#job = null; // not solved: switching autofill on must still solve it
        this.#clearOurAnswer();
        this.#setView({ ...this.#baseView(), phase: PHASE.OFF, image: job.image });
        return;
      }
      this.#enqueue(job);
    }

    /**
     * Whether the displayed image has this kind's size (config.KINDS). Another size where a
     * captcha is expected: the AIS captcha seems to have changed, so autofill pauses itself.
     */
    #sizeKnown() {
      const size = this.#env.sizeOf?.(this.#img);
      const want = KINDS[this.#spec.kind];
      if (!size || !want || (size.width === want.width && size.height === want.height)) return true;
      this.#job = null;
      this.#gate = { ...this.#gate, paused: PAUSE_REASONS.UNKNOWN_SIZE };
      this.#clearOurAnswer();
      this.#setView({ ...this.#baseView(), phase: PHASE.PAUSED, reason: PAUSE_REASONS.UNKNOWN_SIZE, image: this.#shownImage });
      this.#env.report?.({ event: "unknown-size", kind: this.#spec.kind, width: size.width, height: size.height });
      return false;
    }

    /**
     * The login form is being submitted (by the user, or by our click): tell the background
     * who answered, so the next page's verdict can be counted. The answer and the image go
     * along only when the user asked to keep their captchas; the other fields are never read.
     */
    #submitted(event) {
      const field = this.#marks?.field;
      if (!field || event.target !== field.form) return;
      const value = field.value;
      if (value === "") return;
      const source = this.#lastFilled !== null && value === this.#lastFilled ? "helper" : "user";
      const report = { event: "submitted", kind: this.#spec.kind, source };
      if (this.#settings.keepCaptchas && this.#spec.answer.test(value) && this.#shownImage) {
        report.answer = value;
        report.image = this.#shownImage;
      }
      this.#env.report?.(report);
    }

    // ------------------------------------------------------------ jobs

    #jobFields({ force }) {
      return { src: this.#img.src, image: null, key: null, force, typed: false, reloads: 0, result: null, error: null, started: this.#env.now(), startedAt: Date.now() };
    }

    #newJob({ force }) {
      const job = this.#jobFields({ force });
      this.#job = job;
      return job;
    }

    /** Capture the displayed image into `job`; a failure ends it as an error. */
    #captureInto(job) {
      try {
        job.image = this.#env.capture(this.#img);
        job.key = job.image;
        this.#shownImage = job.image;
        return true;
      } catch (err) {
        // Whatever we filled is for an image we cannot see: it goes, and so do its marks.
        this.#job = null;
        this.#clearOurAnswer();
        this.#setView({ ...this.#baseView(), phase: PHASE.ERROR, error: { code: ERRORS.CAPTURE, message: String(err) } });
        return false;
      }
    }

    /** Drive `job` now, or after the busy one (only the newest waiting job is kept). */
    #enqueue(job) {
      // Our answer to the previous image is wrong for this one.
      this.#clearOurAnswer();
      this.#setView({ ...this.#baseView(), image: job.image, answer: null, confidence: null });
      job.finished = new Promise((resolve) => (job.end = resolve));
      if (this.#busy) {
        this.#queued?.end();
        this.#queued = job;
      } else {
        this.#drive(job);
      }
      return job.finished;
    }

    async #drive(job) {
      this.#busy = job;
      let step = STEP.SOLVE;
      try {
        while (step !== STEP.DONE) {
          const next = await this.#perform(step, job);
          if (!NEXT[step].includes(next)) throw new Error(`no step ${next} after ${step}`);
          if (job !== this.#job) break; // the image changed while we waited: drop what we learnt
          step = next;
        }
      } catch (err) {
        if (job === this.#job) this.#setView({ phase: PHASE.ERROR, error: { code: ERRORS.INTERNAL, message: String(err) } });
      } finally {
        this.#busy = null;
        job.end();
        const queued = this.#queued;
        this.#queued = null;
        if (queued === this.#job && queued) this.#drive(queued);
        else queued?.end();
      }
    }

    /** Run one step of `job`; returns the next step (one of NEXT[step]). */
    async #perform(step, job) {
      const spec = this.#spec;
      switch (step) {
        case STEP.SOLVE:
          this.#accept(job, await this.#solve({ image: job.image }));
          if (job.error || this.#confident(job.result)) return STEP.SETTLE;
          if (spec.moreImages) return STEP.MORE;
          return this.#mayReload(job) ? STEP.RELOAD : STEP.SETTLE;
        case STEP.MORE:
          // Login: the server draws the same code again with new noise; vote over renderings.
          job.more = await spec.moreImages(this.#img, EXTRA_RENDERINGS).catch(() => []);
          return job.more.length > 0 ? STEP.VOTE : STEP.SETTLE;
        case STEP.VOTE: {
          const reply = await this.#solve({ images: [job.image, ...job.more] });
          if (reply.ok || reply.error?.code !== ERRORS.NO_ANSWER) this.#accept(job, reply);
          if (job.error || this.#confident(job.result)) return STEP.SETTLE;
          return this.#mayReload(job) ? STEP.RELOAD : STEP.SETTLE;
        }
        case STEP.RELOAD:
          // Course: a second fetch may draw a new code, so show (and solve) a new image instead.
          this.#reload = { reloads: job.reloads + 1, force: job.force };
          this.#setView({ ...this.#resultView(job.result), phase: PHASE.SOLVING, reason: "reloading" });
          spec.reloadImage(this.#img);
          return STEP.DONE;
        case STEP.SETTLE:
          return this.#settle(job) ? STEP.ASK : STEP.DONE;
        case STEP.ASK:
          job.mayClick = await this.#env.maySubmit();
          if (job === this.#job) this.#marks.showSubmit(job.mayClick ? "sent" : "refused");
          return job.mayClick ? STEP.CLICK : STEP.DONE;
        case STEP.CLICK:
          if (this.#marks.field.value === job.result.text) {
            this.#view = { ...this.#view, submitted: true };
            spec.submit(this.#marks.field);
          }
          return STEP.DONE;
      }
      throw new Error(`unknown step ${step}`);
    }

    /** A reply's result or error, into the job (NO_ANSWER is "unsure", not a broken host). */
    #accept(job, reply) {
      if (reply.ok) {
        job.result = reply.result;
        job.error = null;
      } else if (reply.error?.code === ERRORS.NO_ANSWER) {
        job.result = null;
      } else {
        job.error = reply.error ?? { code: ERRORS.INTERNAL, message: "unknown" };
      }
    }

    #mayReload(job) {
      // Never swap the image the user is reading.
      const userBusy = job.typed || this.#userOwnsField();
      return Boolean(this.#spec.reloadImage) && job.reloads < COURSE_RELOADS && !userBusy;
    }

    async #solve(request) {
      const reply = await this.#env.solve({ ...request, kind: this.#spec.kind, method: this.#settings.method });
      if (!reply || typeof reply !== "object") return { ok: false, error: { code: ERRORS.INTERNAL, message: "no reply" } };
      // Only ever fill digits, exactly as many as this captcha has.
      if (reply.ok && !(typeof reply.result?.text === "string" && this.#spec.answer.test(reply.result.text))) {
        return { ok: false, error: { code: ERRORS.NO_ANSWER, message: "answer of the wrong shape" } };
      }
      return reply;
    }

    #confident(result) {
      return isConfident(result, this.#settings.method);
    }

    /** The job's outcome on the page; true when it may go on to "log in after filling". */
    #settle(job) {
      const { result } = job;
      const shown = { ...this.#resultView(result), totalMs: this.#env.now() - job.started };
      if (job.error) {
        // Host missing or broken: say so in the popup, leave the page exactly as it is.
        this.#setView({ phase: PHASE.ERROR, reason: "host", error: job.error });
        return false;
      }
      try {
        return this.#settleOn(job, shown);
      } finally {
        // Counted for the pause rule: a run of unsure captchas means the captcha may have
        // changed. Told after the field is filled: the message is bookkeeping, not the fill's.
        this.#env.report?.({ event: "settled", kind: this.#spec.kind, unsure: !this.#confident(result) });
      }
    }

    /** #settle for an answer (not a host error): paused, held, unsure, the user's, or filled. */
    #settleOn(job, shown) {
      const { result, force } = job;
      if (this.#gate.paused || (this.#gate.hold && !force)) {
        // Paused or held while the host was reading: nothing is filled.
        this.#clearOurAnswer();
        const paused = Boolean(this.#gate.paused);
        this.#setView({ ...shown, phase: paused ? PHASE.PAUSED : PHASE.HELD, reason: paused ? this.#gate.paused : "rejected" });
        return false;
      }
      if (!this.#confident(result)) {
        // Our stale answer must not stay; the user's own text does.
        this.#clearOurAnswer();
        this.#setView({ ...shown, phase: PHASE.LOW, reason: unsureReason(result) });
        this.#mark(PHASE.LOW, result);
        return false;
      }
      if (!force && (job.typed || this.#userOwnsField())) {
        this.#setView({ ...shown, phase: PHASE.KEPT, reason: "user-typed" });
        this.#mark(PHASE.KEPT, result);
        return false;
      }
      this.#setValue(result.text);
      this.#lastFilled = result.text;
      this.#setView({ ...shown, phase: PHASE.FILLED });
      this.#mark(PHASE.FILLED, result);
      const spec = this.#spec;
      return !force && this.#settings.submitAfterFill && Boolean(spec.submit) && Boolean(spec.canSubmit?.(this.#doc, this.#marks.field));
    }

    // ------------------------------------------------------------ the field and the view

    #userOwnsField() {
      const value = this.#marks.field.value;
      return value !== "" && value !== this.#lastFilled;
    }

    /** Take our answer out of the field (the user's text stays), and the marks that claim it. */
    #clearOurAnswer() {
      const field = this.#marks.field;
      if (this.#lastFilled !== null && field.value === this.#lastFilled) this.#setValue("");
      if (field.dataset.decaptcha === PHASE.FILLED || field.dataset.decaptcha === PHASE.LOW) this.#marks.clear();
    }

    #mark(phase, result) {
      this.#seq += 1;
      this.#marks.show(phase, { seq: this.#seq, confidence: result?.confidence ?? null });
    }

    #baseView() {
      return { phase: PHASE.SOLVING, reason: null, error: null, submitted: false, startedAt: Date.now() };
    }

    #resultView(result) {
      return {
        answer: result?.text ?? null,
        confidence: result?.confidence ?? null,
        digits: result?.digits ?? null,
        method: result?.method ?? this.#settings.method,
        used: result?.used ?? null,
        agree: result?.agree ?? null,
        renderings: result?.renderings ?? null,
        hostMs: result?.ms ?? null,
      };
    }

    #setView(patch) {
      const fresh = patch.phase ? { typed: false } : {}; // a new phase: not typed in yet
      this.#view = { ...this.#view, ...fresh, ...patch };
      // `done` counts settled outcomes, so the popup can wait for the one it asked for.
      if (patch.phase && patch.phase !== PHASE.SOLVING && patch.phase !== PHASE.WAITING) {
        this.#view.done = ++this.#done;
      }
    }

    #setValue(value) {
      const field = this.#marks.field;
      const view = this.#doc.defaultView;
      this.#filling = true;
      try {
        field.value = value;
        field.dispatchEvent(new view.Event("input", { bubbles: true }));
        field.dispatchEvent(new view.Event("change", { bubbles: true }));
      } finally {
        this.#filling = false;
      }
    }
  }

  ns.captcha = { PHASE, STEP, NEXT, findCaptcha, isConfident, CaptchaController };
})();
