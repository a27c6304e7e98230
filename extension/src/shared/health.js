// What state the helper program (the native host) is in, from its `status` reply and the error
// codes: the background's version gate, the toolbar badge and the popup all decide with these.
// Classic script on the AISDecaptcha namespace (see config.js for why); no extension APIs.
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});
  const { ERRORS, PROTOCOL_VERSION } = ns.config;

  /**
   * The host states, for a glance:
   * ok            installed, our protocol, every model loaded, not older than the extension
   * older         works (our protocol), but older than the extension: suggest updating
   * incompatible  speaks another protocol (or said UNSUPPORTED_VERSION): must be updated
   * missing       the browser has no host registered under our name: not installed
   * failing       installed, but it does not start, crashes, times out or lacks its models
   */
  const HEALTH = Object.freeze({
    OK: "ok",
    OLDER: "older",
    INCOMPATIBLE: "incompatible",
    MISSING: "missing",
    FAILING: "failing",
  });

  // What the browsers say when no host manifest is registered under our name:
  // Chromium "Specified native messaging host not found.", Firefox "No such native application …".
  const NOT_FOUND = /native messaging host not found|no such native application/i;

  /** -1, 0 or 1: dotted numeric versions ("0.1.0"); missing parts count as 0, junk as equal. */
  function compareVersions(a, b) {
    const parse = (v) => String(v ?? "").split(/[.+-]/).map((p) => Number.parseInt(p, 10));
    const x = parse(a);
    const y = parse(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const p = Number.isFinite(x[i]) ? x[i] : 0;
      const q = Number.isFinite(y[i]) ? y[i] : 0;
      if (p !== q) return p < q ? -1 : 1;
    }
    return 0;
  }

  /** The state an error code (from a solve or a status) puts the host in; null: not the host's fault. */
  function healthOfError(error) {
    if (!error) return null;
    switch (error.code) {
      case ERRORS.HOST_UNAVAILABLE:
        return NOT_FOUND.test(String(error.message ?? "")) ? HEALTH.MISSING : HEALTH.FAILING;
      case ERRORS.HOST_OUTDATED:
      case ERRORS.UNSUPPORTED_VERSION:
        return HEALTH.INCOMPATIBLE;
      case ERRORS.HOST_TIMEOUT:
      case ERRORS.MODEL_ERROR:
      case ERRORS.NOT_ALLOWED:
      case ERRORS.INTERNAL:
        return HEALTH.FAILING;
      default:
        return null; // one unreadable captcha (NO_ANSWER, BAD_IMAGE, CAPTURE, …)
    }
  }

  /**
   * The host's state from a `status` reply envelope ({ok, result | error}) and the
   * extension's own version: {state, code?, message?, version?, protocol?}.
   */
  function hostHealth(reply, extensionVersion) {
    if (!reply?.ok) {
      const error = reply?.error ?? { code: ERRORS.HOST_UNAVAILABLE, message: "no reply" };
      return { state: healthOfError(error) ?? HEALTH.FAILING, code: error.code, message: error.message ?? "" };
    }
    const r = reply.result ?? {};
    const version = typeof r.version === "string" ? r.version : null;
    const protocol = Number.isInteger(r.protocol) ? r.protocol : null;
    if (protocol !== PROTOCOL_VERSION) {
      return {
        state: HEALTH.INCOMPATIBLE,
        code: ERRORS.HOST_OUTDATED,
        message: `the helper speaks protocol ${protocol ?? "?"}, the extension ${PROTOCOL_VERSION}`,
        version,
        protocol,
      };
    }
    if (r.ready === false) return { state: HEALTH.FAILING, code: ERRORS.MODEL_ERROR, message: "models not loaded", version, protocol };
    if (version && extensionVersion && compareVersions(version, extensionVersion) < 0) {
      return { state: HEALTH.OLDER, version, protocol };
    }
    return { state: HEALTH.OK, version, protocol };
  }

  /** Whether the host can read captchas in this state. */
  function usable(health) {
    return health?.state === HEALTH.OK || health?.state === HEALTH.OLDER;
  }

  /**
   * The toolbar badge for an AIS tab: "!" when the helper is missing or must be updated,
   * "?" when the captcha was left to the user (unsure) and they have not typed in it yet,
   * "" otherwise.
   */
  function badgeFor(pageState, health) {
    const fromPage = pageState?.phase === "error" ? healthOfError(pageState.error) : null;
    const state = fromPage ?? health?.state;
    if (state === HEALTH.MISSING || state === HEALTH.INCOMPATIBLE) return "!";
    if (pageState?.phase === "low-confidence" && !pageState.typed) return "?";
    return "";
  }

  ns.health = { HEALTH, compareVersions, healthOfError, hostHealth, usable, badgeFor };
})();
