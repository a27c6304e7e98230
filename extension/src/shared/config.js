// Values the background, content scripts and popup must agree on, in one place.
//
// A classic script, not an ES module: MV3 content scripts cannot be modules (and a dynamic
// import() of an extension URL is flagged by web-ext lint), so every shared file puts its
// exports on one namespace, globalThis.AISDecaptcha. Content scripts list the files in
// order in the manifest; the background, the popup and the node tests import them for
// their side effect.
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});

  ns.config = Object.freeze({
    /** Native messaging host name (host/ids.py HOST_NAME). */
    HOST_NAME: "nthu_ais_decaptcha",

    /**
     * Fill (and optionally submit) only at or above this calibrated confidence. A wrong
     * captcha counts toward the AIS lock-out (5 failures in 15 minutes), so below it the
     * field is left to the user.
     */
    CONFIDENCE_THRESHOLD: 0.9,

    /** Login captcha: extra renderings of the same pwdstr fetched for a vote (host takes 8 in all). */
    EXTRA_RENDERINGS: 4,

    /** Course captcha: how many times to reload the page's own image when unsure. */
    COURSE_RELOADS: 2,

    /** Close the native port after this long without requests (the host is then cold again). */
    IDLE_CLOSE_MS: 3 * 60 * 1000,

    /** Give up on one request after this long (a cold host loads its models first). */
    REQUEST_TIMEOUT_MS: 20 * 1000,

    /** At most one automatic submit per tab in this window: a wrong answer is never retried in a loop. */
    AUTO_SUBMIT_WINDOW_MS: 5 * 60 * 1000,

    /** Defaults of the user's switches, kept in storage.local. */
    DEFAULT_SETTINGS: Object.freeze({ autofill: true, submitAfterFill: false, method: "auto" }),

    METHODS: Object.freeze(["auto", "ctc", "seg"]),

    /** Message types between content scripts, popup and background. */
    MSG: Object.freeze({
      WARM: "decaptcha:warm",
      SOLVE: "decaptcha:solve",
      HOST_STATUS: "decaptcha:host-status",
      MAY_SUBMIT: "decaptcha:may-submit",
      LAST_TAB: "decaptcha:last-tab",
      PAGE_STATE: "decaptcha:page-state",
      RESOLVE: "decaptcha:resolve",
    }),

    /** Protocol version this extension speaks (host/protocol.py PROTOCOL_VERSION). */
    PROTOCOL_VERSION: 1,

    /** Most renderings one solve request may carry (host/limits.py MAX_IMAGES). */
    MAX_IMAGES: 8,

    /** The captcha kinds and their native image sizes (host/kinds.py KINDS). */
    KINDS: Object.freeze({
      ais6: Object.freeze({ digits: 6, width: 104, height: 32 }),
      ais3: Object.freeze({ digits: 3, width: 42, height: 30 }),
    }),

    /**
     * Every error code, by name. The host's codes are host/errors.py Code (PROTOCOL.md's
     * table); the last three are the extension's own: the host could not be reached, did not
     * answer in time, or the page's image could not be captured.
     */
    ERRORS: Object.freeze({
      BAD_JSON: "BAD_JSON",
      BAD_REQUEST: "BAD_REQUEST",
      UNKNOWN_ACTION: "UNKNOWN_ACTION",
      UNSUPPORTED_VERSION: "UNSUPPORTED_VERSION",
      BAD_BASE64: "BAD_BASE64",
      BAD_IMAGE: "BAD_IMAGE",
      IMAGE_TOO_LARGE: "IMAGE_TOO_LARGE",
      BAD_SIZE: "BAD_SIZE",
      NO_ANSWER: "NO_ANSWER",
      MODEL_ERROR: "MODEL_ERROR",
      FRAME_TOO_LARGE: "FRAME_TOO_LARGE",
      TIMEOUT: "TIMEOUT",
      NOT_ALLOWED: "NOT_ALLOWED",
      KEEP_FULL: "KEEP_FULL",
      NOT_WRITABLE: "NOT_WRITABLE",
      INTERNAL: "INTERNAL",
      HOST_UNAVAILABLE: "HOST_UNAVAILABLE",
      HOST_TIMEOUT: "HOST_TIMEOUT",
      CAPTURE: "CAPTURE",
    }),
  });
})();
