// The user's switches (autofill, log in after filling, method, keep the captchas I type),
// kept in storage.local.
// Classic script on the AISDecaptcha namespace (see config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});
  const { DEFAULT_SETTINGS, METHODS } = ns.config;

  /** Merge stored values over the defaults, ignoring anything malformed. */
  function normalizeSettings(stored) {
    const s = { ...DEFAULT_SETTINGS };
    if (stored && typeof stored === "object") {
      if (typeof stored.autofill === "boolean") s.autofill = stored.autofill;
      if (typeof stored.submitAfterFill === "boolean") s.submitAfterFill = stored.submitAfterFill;
      if (METHODS.includes(stored.method)) s.method = stored.method;
      if (typeof stored.keepCaptchas === "boolean") s.keepCaptchas = stored.keepCaptchas;
    }
    return s;
  }

  /** Read the settings from an extension storage area (storage.local). */
  async function loadSettings(area) {
    return normalizeSettings(await area.get(Object.keys(DEFAULT_SETTINGS)));
  }

  /** Call `listener(settings)` whenever the stored settings change. */
  function onSettingsChanged(storage, listener) {
    storage.onChanged.addListener(async (changes, areaName) => {
      if (areaName !== "local") return;
      if (!Object.keys(changes).some((k) => k in DEFAULT_SETTINGS)) return;
      listener(await loadSettings(storage.local));
    });
  }

  ns.settings = { normalizeSettings, loadSettings, onSettingsChanged };
})();
