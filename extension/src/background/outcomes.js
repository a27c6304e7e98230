// How the helper's answers fare at the AIS, when to pause autofill, and keeping the
// captchas the user asked to keep (issue 14; docs/EXTENSION.md "How answers fare").
//
// A login submit is reported by the login page's content script (who answered: the helper
// or the user; with the keep switch on, also the answer and the captured image); the next
// page in that tab reports the AIS's verdict (shared/outcomes.js classifyResult). The two
// are matched by tab, within the lock-out window. Counters are numbers in storage.local;
// the pending submit (with its image, only when the user keeps captchas) waits in
// storage.session, which the browser clears when it closes, and goes once its verdict came.
import "../shared/config.js";
import "../shared/settings.js";

const { AUTO_SUBMIT_OUTCOME_MS, KINDS, MSG, PAUSE_REASONS, UNSURE_RUN_PAUSE, VERDICTS } = globalThis.AISDecaptcha.config;
const { loadSettings } = globalThis.AISDecaptcha.settings;

const SOURCES = Object.freeze(["helper", "user"]);
const PNG_URL = "data:image/png;base64,";

/** The messages Outcomes.handle answers (main.js routes them here). */
export const OUTCOME_MESSAGES = Object.freeze([MSG.REPORT, MSG.RESULT_PAGE, MSG.LEARNING, MSG.RESUME, MSG.KEEP_DELETE]);

/** Zeroed counters of one kind: numbers only. */
export function emptyCounts() {
  return { helperAccepted: 0, helperRejected: 0, userAccepted: 0, userRejected: 0, locked: 0 };
}

/** Stored counters, numbers only, every kind present; anything malformed reads as 0. */
export function normalizeCounts(stored) {
  const out = {};
  for (const kind of Object.keys(KINDS)) {
    const c = emptyCounts();
    for (const key of Object.keys(c)) {
      const n = stored?.[kind]?.[key];
      if (Number.isSafeInteger(n) && n >= 0) c[key] = n;
    }
    out[kind] = c;
  }
  return out;
}

/** A submit report from a content script, keeping only what is needed and well-formed. */
export function pendingSubmit(msg, at) {
  if (!Object.hasOwn(KINDS, msg?.kind) || !SOURCES.includes(msg?.source)) return null;
  const pending = { kind: msg.kind, source: msg.source, at };
  const digits = new RegExp(`^\\d{${KINDS[msg.kind].digits}}$`);
  if (typeof msg.answer === "string" && digits.test(msg.answer) && typeof msg.image === "string" && msg.image.startsWith(PNG_URL)) {
    pending.answer = msg.answer;
    pending.image = msg.image;
  }
  return pending;
}

export class Outcomes {
  #local;
  #session;
  #host;
  #now;
  #windowMs;
  #unsureRun;
  #queue = Promise.resolve(); // one change at a time: tabs report together

  /**
   * @param {object} options
   * @param {object} options.local storage.local (counters, pause, hold: numbers and flags)
   * @param {object} options.session storage.session (the pending submit; cleared with the browser)
   * @param {{request: (req: object) => Promise<object>}} options.host the native host
   * @param {() => number} [options.now]
   * @param {number} [options.windowMs] the AIS lock-out window
   * @param {number} [options.unsureRun] unsure captchas in a row that pause autofill
   */
  constructor({ local, session, host, now = () => Date.now(), windowMs = AUTO_SUBMIT_OUTCOME_MS, unsureRun = UNSURE_RUN_PAUSE }) {
    this.#local = local;
    this.#session = session;
    this.#host = host;
    this.#now = now;
    this.#windowMs = windowMs;
    this.#unsureRun = unsureRun;
  }

  /** A message for this module (OUTCOME_MESSAGES), from a content script or the popup. */
  handle(msg, tabId) {
    switch (msg?.type) {
      case MSG.REPORT:
        return this.report(tabId, msg).then(() => ({ ok: true }));
      case MSG.RESULT_PAGE:
        return this.resultPage(tabId, msg.verdict).then((outcome) => ({ ok: true, outcome }));
      case MSG.LEARNING:
        return this.summary({ withHost: msg.withHost === true });
      case MSG.RESUME:
        return this.resume().then(() => ({ ok: true }));
      case MSG.KEEP_DELETE:
        return this.#host.request({ action: "keep", delete: true });
    }
    return Promise.resolve(undefined);
  }

  /** What a content script saw: settled (unsure or not), unknown-size, submitted, user-acted
   * (typed: the user typed a captcha left to them; only the badge follows it, main.js). */
  report(tabId, msg) {
    return this.#serial(async () => {
      const kind = Object.hasOwn(KINDS, msg?.kind) ? msg.kind : null;
      if (!kind) return;
      switch (msg.event) {
        case "settled": {
          if (!msg.unsure) return this.#local.set({ unsureRun: 0 });
          const run = ((await this.#get(this.#local, "unsureRun")) ?? 0) + 1;
          await this.#local.set({ unsureRun: run });
          if (run >= this.#unsureRun) await this.#pause(PAUSE_REASONS.UNSURE_RUN, kind);
          return;
        }
        case "unknown-size":
          return this.#pause(PAUSE_REASONS.UNKNOWN_SIZE, kind);
        case "submitted": {
          const pending = tabId === undefined ? null : pendingSubmit(msg, this.#now());
          if (!pending) return;
          // The image and answer wait here only for a user who keeps captchas.
          if (!(await loadSettings(this.#local)).keepCaptchas) {
            delete pending.answer;
            delete pending.image;
          }
          // The user typing their own answer (or correcting ours) and submitting it is acting.
          if (pending.source === "user") await this.#local.set({ hold: false });
          const all = (await this.#get(this.#session, "pendingSubmits")) ?? {};
          await this.#session.set({ pendingSubmits: { ...this.#fresh(all), [tabId]: pending } });
          return;
        }
        case "user-acted":
          return this.#local.set({ hold: false });
      }
    });
  }

  /**
   * The page after a submit in `tabId` said `verdict`. Counts it, applies the pause rules,
   * and keeps the captcha if the user asked to. Returns what was done, for tests.
   */
  resultPage(tabId, verdict) {
    return this.#serial(async () => {
      if (!Object.values(VERDICTS).includes(verdict)) return null;
      const all = (await this.#get(this.#session, "pendingSubmits")) ?? {};
      const pending = this.#fresh(all)[tabId];
      if (!pending) return null; // no submit of ours to match: a page opened some other way
      const rest = { ...all };
      delete rest[tabId];
      await this.#session.set({ pendingSubmits: this.#fresh(rest) });

      const counts = normalizeCounts(await this.#get(this.#local, "counts"));
      const c = counts[pending.kind];
      const accepted = verdict === VERDICTS.ACCEPTED || verdict === VERDICTS.WRONG_PASSWORD;
      if (accepted) c[`${pending.source}Accepted`] += 1;
      else if (verdict === VERDICTS.REJECTED) c[`${pending.source}Rejected`] += 1;
      else c.locked += 1;
      await this.#local.set({ counts });

      const outcome = { kind: pending.kind, source: pending.source, verdict, paused: null, kept: null };
      if (verdict === VERDICTS.REJECTED) outcome.paused = await this.#rejected(pending);
      // Kept only when the login went through: then the AIS surely checked the captcha.
      if (verdict === VERDICTS.ACCEPTED && pending.answer && (await loadSettings(this.#local)).keepCaptchas) {
        outcome.kept = await this.#host.request({
          action: "keep",
          kind: pending.kind,
          answer: pending.answer,
          image: pending.image,
          source: pending.source,
        });
      }
      return outcome;
    });
  }

  /** The user turned autofill back on: the pause, the hold and the runs that led there go. */
  resume() {
    return this.#serial(async () => {
      await this.#local.remove(["pause", "lastHelperRejection"]);
      await this.#local.set({ hold: false, unsureRun: 0 });
    });
  }

  /** Whether "log in after filling" must not submit now (paused, or held after a rejection). */
  blocksSubmit() {
    return this.#serial(async () => {
      const { pause, hold } = await this.#local.get(["pause", "hold"]);
      return Boolean(pause) || hold === true;
    });
  }

  /** For the popup: counters, pause, hold, and (withHost) the host's kept captchas. */
  async summary({ withHost = false } = {}) {
    const stored = await this.#serial(() => this.#local.get(["counts", "pause", "hold", "unsureRun"]));
    const out = {
      ok: true,
      counts: normalizeCounts(stored.counts),
      pause: stored.pause && typeof stored.pause.reason === "string" ? { reason: stored.pause.reason, kind: stored.pause.kind ?? null, at: stored.pause.at ?? null } : null,
      hold: stored.hold === true,
      unsureRun: Number.isSafeInteger(stored.unsureRun) ? stored.unsureRun : 0,
      kept: null,
    };
    if (withHost) {
      const reply = await this.#host.request({ action: "status" });
      // A host from before the keep action says nothing of it: `kept` stays null.
      out.kept = reply?.ok ? (reply.result?.kept ?? null) : null;
      out.hostError = reply?.ok ? null : (reply?.error ?? null);
    }
    return out;
  }

  // ------------------------------------------------------------ rules

  /** A rejected answer: the second within the lock-out window after a helper's pauses; a helper's holds. */
  async #rejected(pending) {
    const t = this.#now();
    const last = await this.#get(this.#local, "lastHelperRejection");
    let paused = null;
    if (typeof last === "number" && t - last >= 0 && t - last < this.#windowMs) {
      paused = PAUSE_REASONS.REJECTED_TWICE;
      await this.#pause(paused, pending.kind);
    }
    if (pending.source === "helper") await this.#local.set({ lastHelperRejection: t, hold: true });
    return paused;
  }

  async #pause(reason, kind) {
    if (await this.#get(this.#local, "pause")) return; // the first reason stays
    await this.#local.set({ pause: { reason, kind, at: this.#now() } });
  }

  /** Pending submits younger than the lock-out window (older ones' verdicts are not theirs). */
  #fresh(all) {
    const t = this.#now();
    return Object.fromEntries(Object.entries(all ?? {}).filter(([, p]) => typeof p?.at === "number" && t - p.at >= 0 && t - p.at < this.#windowMs));
  }

  async #get(area, key) {
    return (await area.get(key))?.[key];
  }

  #serial(fn) {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}
