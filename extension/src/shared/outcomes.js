// How logins fare (issue 14): what the page after a login submit says of its captcha, and
// the gate that pauses or holds autofill. Pure: the content scripts use it on the page, the
// background (background/outcomes.js) keeps the counters and decides the pause.
// Classic script on the AISDecaptcha namespace (see config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});
  const { AIS_ANSWERS, VERDICTS } = ns.config;

  /**
   * The verdict of the page a login submit led to, or null when it says nothing we know
   * (another error, or a page between the form and the frameset). Only the AIS's own fixed
   * texts are looked for; nothing of the page is kept. The post-login frameset is
   * recognised by its <frameset> alone: its text (names, the student's ID) is never read.
   */
  function classifyResult(doc) {
    if (doc.querySelector("frameset")) return VERDICTS.ACCEPTED;
    const text = doc.documentElement?.textContent ?? "";
    // The lock-out first: its page may repeat the last error too.
    if (text.includes(AIS_ANSWERS.LOCKED)) return VERDICTS.LOCKED;
    if (text.includes(AIS_ANSWERS.WRONG_CAPTCHA)) return VERDICTS.REJECTED;
    if (text.includes(AIS_ANSWERS.WRONG_PASSWORD)) return VERDICTS.WRONG_PASSWORD;
    return null;
  }

  /** The storage.local keys of the gate: `pause` ({reason, kind, at} or absent) and `hold` (boolean). */
  const GATE_KEYS = Object.freeze(["pause", "hold"]);

  /**
   * The gate, from storage.local: `paused` (a reason, or null: autofill works) and `hold`
   * (a helper answer was just rejected: the next captcha is not filled until the user acts).
   */
  function normalizeGate(stored) {
    const pause = stored?.pause;
    return {
      paused: pause && typeof pause.reason === "string" ? pause.reason : null,
      hold: stored?.hold === true,
    };
  }

  async function loadGate(area) {
    return normalizeGate(await area.get([...GATE_KEYS]));
  }

  /** Call `listener(gate)` whenever the gate changes in storage.local. */
  function onGateChanged(storage, listener) {
    storage.onChanged.addListener(async (changes, areaName) => {
      if (areaName !== "local") return;
      if (!GATE_KEYS.some((k) => k in changes)) return;
      listener(await loadGate(storage.local));
    });
  }

  ns.outcomes = { classifyResult, normalizeGate, loadGate, onGateChanged, GATE_KEYS };
})();
