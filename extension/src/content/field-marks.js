// What the extension shows on the captcha's answer field: the data-decaptcha* markers (for
// tests and the curious), a small check after a field it filled, and, when it is unsure, an
// amber outline with a short visible note after the field. Nothing else on the page changes.
// Classic script on the AISDecaptcha namespace (see shared/config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});

  const UNSURE_OUTLINE = "2px solid #d97706";
  const NOTE_ATTR = "data-decaptcha-note";
  const CHECK_ATTR = "data-decaptcha-check";

  /**
   * The marks on one answer field. `t(key)` gives a localised text (_locales).
   * Phases are captcha.js PHASE values ("filled", "low-confidence", "kept-user-input").
   */
  class FieldMarks {
    #field;
    #t;
    #prepared = false;
    #saved = null; // the field's own outline and title while ours are shown
    #note = null; // the "not sure, type it" note after the field
    #check = null; // the "filled by the helper" check after the field

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
      delete f.dataset.decaptchaSubmit;
      if (typeof confidence === "number") f.dataset.decaptchaConfidence = confidence.toFixed(4);
      else delete f.dataset.decaptchaConfidence;
      this.#removeVisuals();
      // Unsure of a field the user has already typed in: nothing to ask of them.
      if (phase === "low-confidence" && f.value === "") this.#showUnsure();
      else if (phase === "filled") this.#showCheck();
    }

    /** "Log in after filling": whether the background's guard let this answer be submitted. */
    showSubmit(decision) {
      this.#field.dataset.decaptchaSubmit = decision;
    }

    /** The user typed: our note, outline and check are about a value that is now theirs. */
    userEdited() {
      this.#removeVisuals();
    }

    /** Our answer left the field (a new image, a failed capture): no mark may claim otherwise. */
    clear() {
      this.#removeVisuals();
      delete this.#field.dataset.decaptcha;
      delete this.#field.dataset.decaptchaConfidence;
      delete this.#field.dataset.decaptchaSubmit;
    }

    /** The page replaced the field: take our elements away, leave the old field's attributes. */
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
      const note = this.#inline(NOTE_ATTR, this.#t("fieldUnsureNote"));
      note.setAttribute("role", "status");
      Object.assign(note.style, { color: "#b45309", fontSize: "12px", marginLeft: "4px" });
      this.#note = note;
    }

    #showCheck() {
      const check = this.#inline(CHECK_ATTR, "\u2713");
      check.title = this.#t("fieldFilledMark");
      check.setAttribute("aria-label", check.title);
      Object.assign(check.style, { color: "#15803d", fontSize: "12px", marginLeft: "3px", cursor: "default" });
      this.#check = check;
    }

    /** A small inline element right after the field: it flows with the text, no layout change. */
    #inline(attr, text) {
      const el = this.#field.ownerDocument.createElement("span");
      el.setAttribute(attr, "");
      el.textContent = text;
      Object.assign(el.style, { display: "inline", fontFamily: "inherit", lineHeight: "inherit", verticalAlign: "baseline", whiteSpace: "nowrap" });
      this.#field.after(el);
      return el;
    }

    #removeVisuals() {
      this.#note?.remove();
      this.#check?.remove();
      this.#note = null;
      this.#check = null;
      if (this.#saved) {
        const f = this.#field;
        f.style.outline = this.#saved.outline;
        if (this.#saved.title === null) f.removeAttribute("title");
        else f.setAttribute("title", this.#saved.title);
        this.#saved = null;
      }
    }
  }

  ns.fieldMarks = { FieldMarks, NOTE_ATTR, CHECK_ATTR };
})();
