// "Log in after filling" may submit at most once per tab in a time window, so a wrong
// answer (which counts toward the AIS lock-out) is never retried in a loop.

/**
 * @param {object} store get/set of a plain object (storage.session when the browser has it,
 *   so the guard survives the service worker being stopped)
 * @param {number} windowMs
 */
export function makeSubmitGuard(store, windowMs, now = () => Date.now()) {
  return async function maySubmit(tabId) {
    const key = `autoSubmit:${tabId}`;
    const saved = (await store.get(key))?.[key];
    const t = now();
    if (typeof saved === "number" && t - saved < windowMs) return false;
    await store.set({ [key]: t });
    return true;
  };
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
