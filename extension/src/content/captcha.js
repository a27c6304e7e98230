// DOM logic shared by the captcha kinds: find the captcha image and its answer field,
// solve each image the page shows, fill the field. Nothing here touches extension APIs:
// the browser side is passed in as `env`, so node + jsdom can test all of it.
// Classic script on the AISDecaptcha namespace (see shared/config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});
  const { COURSE_RELOADS, CONFIDENCE_THRESHOLD, ERRORS, EXTRA_RENDERINGS } = ns.config;

  /** What the controller is doing, also written to the field as data-decaptcha (see docs/EXTENSION.md). */
  const PHASE = Object.freeze({
    WAITING: "waiting", // no image loaded yet
    OFF: "off", // autofill switched off
    SOLVING: "solving",
    FILLED: "filled",
    LOW: "low-confidence", // not sure enough: field left to the user, marked
    KEPT: "kept-user-input", // the user typed first: their text stays
    ERROR: "error", // host missing or failing: page left untouched
  });

  const CAPTCHA_SRC = /auth_img\.php/i;
  const LOW_OUTLINE = "2px solid #d97706";

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

  function isConfident(result) {
    return Boolean(result) && typeof result.confidence === "number" && result.confidence >= CONFIDENCE_THRESHOLD;
  }

  /**
   * Watches one captcha on a page and keeps its answer field filled.
   *
   * spec (per captcha kind): { kind, answer (RegExp a valid answer matches), find(doc),
   *   moreImages?(img, n), freshImage?(img), reloadImage?(img), canSubmit?(doc, field), submit?(field) }
   * env (the browser): { solve(request) -> reply envelope, capture(img) -> PNG data URL,
   *   isLoaded(img), maySubmit() -> boolean, t(key) -> text, now() -> ms }
   */
  class CaptchaController {
    #doc;
    #spec;
    #env;
    #settings;
    #field = null;
    #img = null;
    #observer = null;
    #gen = 0; // bumped for every image; replies for an older generation are stale
    #genSrc = null;
    #typed = false; // the user typed since this generation started
    #filling = false; // our own input/change events are not the user's
    #lastFilled = null;
    #reloads = 0;
    #forceNext = false;
    #fieldPrepared = false;
    #saved = null; // the field's own outline/title, restored after a low-confidence mark
    #seq = 0;
    #done = 0;
    #state = { phase: PHASE.WAITING, done: 0 };
    #onLoad = () => this.#onImage();
    #onInput = () => {
      if (!this.#filling) this.#typed = true;
    };

    constructor({ doc, spec, env, settings }) {
      this.#doc = doc;
      this.#spec = spec;
      this.#env = env;
      this.#settings = settings;
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
      if (this.#env.isLoaded(this.#img)) this.#onImage();
      return true;
    }

    stop() {
      this.#observer?.disconnect();
      this.#unbind();
    }

    get field() {
      return this.#field;
    }

    setSettings(settings) {
      const switchedOn = settings.autofill && !this.#settings.autofill;
      this.#settings = settings;
      // Autofill just turned on: read the captcha already shown.
      if (switchedOn && this.#state.phase === PHASE.OFF && this.#env.isLoaded(this.#img)) this.#onImage();
    }

    /** What the popup shows. */
    snapshot() {
      return { kind: this.#spec.kind, seq: this.#seq, ...this.#state };
    }

    /**
     * The popup's Re-solve: a fresh rendering of the same code (login) or a reloaded image
     * (course), solved and filled even over earlier text, since the user asked for it.
     */
    async resolveNow() {
      const img = this.#img;
      if (!img) return;
      if (this.#spec.freshImage) {
        const gen = this.#newGeneration(img);
        this.#setState({ phase: PHASE.SOLVING, reason: null });
        // On failure, fall back to the displayed image.
        const fresh = await this.#spec.freshImage(img).catch(() => null);
        if (gen !== this.#gen) return;
        await this.#run(gen, { force: true, first: fresh });
      } else if (this.#spec.reloadImage) {
        this.#forceNext = true;
        this.#reloads = 0;
        this.#setState({ phase: PHASE.SOLVING, reason: "reloading" });
        this.#spec.reloadImage(img);
      } else {
        await this.#run(this.#newGeneration(img), { force: true });
      }
    }

    #bind({ field, img }) {
      this.#unbind();
      if (field !== this.#field) {
        // A new field: nothing in it is ours, and its attributes are the page's.
        this.#lastFilled = null;
        this.#fieldPrepared = false;
        this.#saved = null;
      }
      this.#field = field;
      this.#img = img;
      img.addEventListener("load", this.#onLoad);
      field.addEventListener("input", this.#onInput);
    }

    #unbind() {
      this.#img?.removeEventListener("load", this.#onLoad);
      this.#field?.removeEventListener("input", this.#onInput);
    }

    #onMutation() {
      const found = this.#spec.find(this.#doc);
      if (!found) return;
      if (found.img !== this.#img || found.field !== this.#field) {
        // The page replaced the image or the field: watch the new ones.
        this.#gen += 1;
        this.#bind(found);
        this.#genSrc = null;
        if (this.#env.isLoaded(found.img)) this.#onImage();
        return;
      }
      if (this.#genSrc !== null && this.#img.src !== this.#genSrc) {
        // A new src: anything in flight is for the old image. Solve when it has loaded.
        this.#gen += 1;
        this.#genSrc = null;
        this.#setState({ phase: PHASE.WAITING, reason: null });
      }
    }

    #newGeneration(img) {
      this.#gen += 1;
      this.#genSrc = img.src;
      this.#typed = false;
      return this.#gen;
    }

    #onImage() {
      const img = this.#img;
      const gen = this.#newGeneration(img);
      // Our answer to the previous image is wrong for this one.
      if (this.#lastFilled !== null && this.#field.value === this.#lastFilled) this.#setValue("");
      const force = this.#forceNext;
      this.#forceNext = false;
      this.#run(gen, { force }).catch((err) => {
        if (gen === this.#gen) this.#setState({ phase: PHASE.ERROR, error: { code: ERRORS.INTERNAL, message: String(err) } });
      });
    }

    async #run(gen, { force = false, first = null } = {}) {
      const img = this.#img;
      const started = this.#env.now();
      const base = { phase: PHASE.SOLVING, reason: null, error: null, submitted: false, startedAt: Date.now() };
      let image = first;
      if (!image) {
        try {
          image = this.#env.capture(img);
        } catch (err) {
          this.#setState({ ...base, phase: PHASE.ERROR, error: { code: ERRORS.CAPTURE, message: String(err) } });
          return;
        }
      }
      if (!this.#settings.autofill && !force) {
        this.#setState({ ...base, phase: PHASE.OFF, image, answer: null, confidence: null });
        return;
      }
      this.#setState({ ...base, image, answer: null, confidence: null });

      let reply = await this.#solve({ image });
      if (gen !== this.#gen) return; // the image changed while we waited
      if (!reply.ok && reply.error?.code !== ERRORS.NO_ANSWER) return this.#fail(reply.error);
      let result = reply.ok ? reply.result : null;

      if (!isConfident(result) && this.#spec.moreImages) {
        // Login: the server draws the same code again with new noise; vote over renderings.
        const more = await this.#spec.moreImages(img, EXTRA_RENDERINGS).catch(() => []);
        if (gen !== this.#gen) return;
        if (more.length > 0) {
          reply = await this.#solve({ images: [image, ...more] });
          if (gen !== this.#gen) return;
          if (!reply.ok && reply.error?.code !== ERRORS.NO_ANSWER) return this.#fail(reply.error);
          if (reply.ok) result = reply.result;
        }
      }

      const userBusy = this.#typed || this.#userOwnsField(); // never swap the image the user is reading
      if (!isConfident(result) && this.#spec.reloadImage && this.#reloads < COURSE_RELOADS && !userBusy) {
        // Course: a second fetch may draw a new code, so show (and solve) a new image instead.
        this.#reloads += 1;
        this.#forceNext = force;
        this.#setState({ ...this.#resultState(result), phase: PHASE.SOLVING, reason: "reloading" });
        this.#spec.reloadImage(img);
        return;
      }
      this.#finish(result, { force, totalMs: this.#env.now() - started });
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

    #finish(result, { force, totalMs }) {
      const shown = { ...this.#resultState(result), totalMs };
      if (!isConfident(result)) {
        // Our stale answer must not stay; the user's own text does.
        if (this.#lastFilled !== null && this.#field.value === this.#lastFilled) this.#setValue("");
        this.#setState({ ...shown, phase: PHASE.LOW, reason: result ? "low-confidence" : "no-answer" });
        this.#mark(PHASE.LOW, result);
        return;
      }
      if (!force && (this.#typed || this.#userOwnsField())) {
        this.#setState({ ...shown, phase: PHASE.KEPT, reason: "user-typed" });
        this.#mark(PHASE.KEPT, result);
        return;
      }
      this.#reloads = 0;
      this.#setValue(result.text);
      this.#lastFilled = result.text;
      this.#setState({ ...shown, phase: PHASE.FILLED });
      this.#mark(PHASE.FILLED, result);
      if (!force) this.#maybeSubmit(result);
    }

    #fail(error) {
      // Host missing or broken: say so in the popup, leave the page exactly as it is.
      this.#setState({ phase: PHASE.ERROR, reason: "host", error: error ?? { code: ERRORS.INTERNAL, message: "unknown" } });
    }

    async #maybeSubmit(result) {
      const spec = this.#spec;
      if (!this.#settings.submitAfterFill || !spec.submit || !isConfident(result)) return;
      if (!spec.canSubmit?.(this.#doc, this.#field)) return;
      const gen = this.#gen;
      if (!(await this.#env.maySubmit())) return;
      if (gen !== this.#gen || this.#field.value !== result.text) return;
      this.#state = { ...this.#state, submitted: true };
      spec.submit(this.#field);
    }

    #userOwnsField() {
      const value = this.#field.value;
      return value !== "" && value !== this.#lastFilled;
    }

    #resultState(result) {
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

    #setState(patch) {
      this.#state = { ...this.#state, ...patch };
      // `done` counts settled outcomes, so the popup can wait for the one it asked for.
      if (patch.phase && patch.phase !== PHASE.SOLVING && patch.phase !== PHASE.WAITING) {
        this.#state.done = ++this.#done;
      }
    }

    #setValue(value) {
      const field = this.#field;
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

    /** Sensible attributes for a one-time code field; only once the host has answered. */
    #prepareField() {
      if (this.#fieldPrepared) return;
      this.#fieldPrepared = true;
      const f = this.#field;
      f.setAttribute("autocomplete", "off"); // a captcha answer is never worth remembering
      if (!f.hasAttribute("inputmode")) f.setAttribute("inputmode", "numeric");
      f.setAttribute("spellcheck", "false");
      f.setAttribute("autocapitalize", "off");
    }

    #mark(phase, result) {
      const f = this.#field;
      this.#prepareField();
      this.#seq += 1;
      f.dataset.decaptcha = phase;
      f.dataset.decaptchaSeq = String(this.#seq);
      if (result && typeof result.confidence === "number") f.dataset.decaptchaConfidence = result.confidence.toFixed(4);
      else delete f.dataset.decaptchaConfidence;
      if (phase === PHASE.LOW) {
        this.#saved ??= { outline: f.style.outline, title: f.getAttribute("title") };
        f.style.outline = LOW_OUTLINE;
        f.title = this.#env.t("fieldLowConfidence");
      } else if (this.#saved) {
        f.style.outline = this.#saved.outline;
        if (this.#saved.title === null) f.removeAttribute("title");
        else f.setAttribute("title", this.#saved.title);
        this.#saved = null;
      }
    }
  }

  ns.captcha = { PHASE, findCaptcha, isConfident, CaptchaController };
})();
