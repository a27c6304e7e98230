// What the extension shows on the captcha's answer field: the data-decaptcha* markers (for
// tests and the curious) and, when it is unsure, an amber outline with a tooltip.
// Classic script on the AISDecaptcha namespace (see shared/config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});

  const UNSURE_OUTLINE = "2px solid #d97706";

  /**
   * The marks on one answer field. `t(key)` gives a localised text (_locales).
   * Phases are captcha.js PHASE values ("filled", "low-confidence", "kept-user-input").
   */
  class FieldMarks {
    #field;
    #t;
    #prepared = false;
    #saved = null; // the field's own outline and title while ours are shown

    constructor(field, t) {
      this.#field = field;
      this.#t = t;
    }

    get field() {
      return this.#field;
    }

    /** Mark an outcome: `seq` counts outcomes on the page, `confidence` may be null. */
    show(phase, { seq, confidence = null }) {
      const f = this.#field;
      this.#prepare();
      f.dataset.decaptcha = phase;
      f.dataset.decaptchaSeq = String(seq);
      if (typeof confidence === "number") f.dataset.decaptchaConfidence = confidence.toFixed(4);
      else delete f.dataset.decaptchaConfidence;
      this.#removeVisuals();
      if (phase === "low-confidence") this.#showUnsure();
    }

    /** Our answer left the field (a new image, a failed capture): no mark may claim otherwise. */
    clear() {
      this.#removeVisuals();
      delete this.#field.dataset.decaptcha;
      delete this.#field.dataset.decaptchaConfidence;
    }

    /** The page replaced the field: give the old field its own outline and title back. */
    detach() {
      this.#removeVisuals();
    }

    /** Sensible attributes for a one-time code field; set once the host has answered. */
    #prepare() {
      if (this.#prepared) return;
      this.#prepared = true;
      const f = this.#field;
      f.setAttribute("autocomplete", "off"); // a captcha answer is never worth remembering
      if (!f.hasAttribute("inputmode")) f.setAttribute("inputmode", "numeric");
      f.setAttribute("spellcheck", "false");
      f.setAttribute("autocapitalize", "off");
    }

    #showUnsure() {
      const f = this.#field;
      this.#saved = { outline: f.style.outline, title: f.getAttribute("title") };
      f.style.outline = UNSURE_OUTLINE;
      f.title = this.#t("fieldLowConfidence");
    }

    #removeVisuals() {
      if (this.#saved) {
        const f = this.#field;
        f.style.outline = this.#saved.outline;
        if (this.#saved.title === null) f.removeAttribute("title");
        else f.setAttribute("title", this.#saved.title);
        this.#saved = null;
      }
    }
  }

  ns.fieldMarks = { FieldMarks };
})();
