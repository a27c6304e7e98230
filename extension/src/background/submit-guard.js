// "Log in after filling" may submit at most once in a time window across ALL tabs, and never
// while the outcome of the previous automatic submit is unknown: a wrong answer counts toward
// the AIS lock-out (5 failures in 15 minutes), so it is never retried in a loop, and five
// login tabs cannot post five logins.
//
// The outcome of a submit is the next AIS page load in the tab that submitted (the post-login
// frameset or an error page): a navigation starting there after the submit, then completing
// on an AIS page. If that never comes (tab closed, network stuck), it is unknown until
// `outcomeMs` has passed.
import "../shared/config.js";

const { AIS_HOSTS } = globalThis.AISDecaptcha.config;
const KEY = "autoSubmit";

/** Outcome of the last automatic submit. */
export const OUTCOME = Object.freeze({
  PENDING: "pending", // submitted; no navigation seen in that tab yet
  LOADING: "loading", // that tab started loading a page after the submit
  KNOWN: "known", // that tab finished loading an AIS page: the server has answered
});

function isAisUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === "https:" && u.port === "" && AIS_HOSTS.includes(u.hostname);
  } catch {
    return false;
  }
}

export class SubmitGuard {
  #store;
  #windowMs;
  #outcomeMs;
  #now;
  #queue = Promise.resolve(); // one decision at a time: two tabs asking at once get one "yes"

  /**
   * @param {object} store get/set of a plain object (storage.session when the browser has it,
   *   so the guard survives the service worker being stopped)
   * @param {{windowMs: number, outcomeMs: number, now?: () => number}} options
   */
  constructor(store, { windowMs, outcomeMs, now = () => Date.now() }) {
    this.#store = store;
    this.#windowMs = windowMs;
    this.#outcomeMs = outcomeMs;
    this.#now = now;
  }

  /** May `tabId` submit now? A "yes" is recorded as that tab's submit. */
  maySubmit(tabId) {
    return this.#serial(async () => {
      if (tabId === undefined || tabId === null) return false;
      const last = await this.#last();
      const t = this.#now();
      if (last) {
        const age = t - last.at;
        if (age >= 0 && age < this.#windowMs) return false;
        if (last.outcome !== OUTCOME.KNOWN && age >= 0 && age < this.#outcomeMs) return false;
      }
      await this.#store.set({ [KEY]: { at: t, tabId, outcome: OUTCOME.PENDING } });
      return true;
    });
  }

  /** tabs.onUpdated: `status` "loading" or "complete", `url` the tab's (when we may see it). */
  tabUpdated(tabId, { status, url }) {
    return this.#serial(async () => {
      const last = await this.#last();
      if (!last || last.tabId !== tabId || last.outcome === OUTCOME.KNOWN) return;
      let outcome = null;
      if (status === "loading") outcome = OUTCOME.LOADING;
      else if (status === "complete" && last.outcome === OUTCOME.LOADING && isAisUrl(url)) outcome = OUTCOME.KNOWN;
      if (outcome && outcome !== last.outcome) await this.#store.set({ [KEY]: { ...last, outcome } });
    });
  }

  /** The last automatic submit, for tests and diagnostics. */
  last() {
    return this.#serial(() => this.#last());
  }

  async #last() {
    const saved = (await this.#store.get(KEY))?.[KEY];
    return saved && typeof saved.at === "number" ? saved : null;
  }

  #serial(fn) {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** A storage-area-like object kept in memory (when storage.session is missing). */
export function memoryStore() {
  const data = new Map();
  return {
    async get(key) {
      return data.has(key) ? { [key]: data.get(key) } : {};
    },
    async set(items) {
      for (const [k, v] of Object.entries(items)) data.set(k, v);
    },
  };
}
