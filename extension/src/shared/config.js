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
     * The AIS hosts, served over https (the manifests' host permissions). A frame is filled
     * only when every window above it is on one of these: an AIS page framed by another site
     * is left alone.
     */
    AIS_HOSTS: Object.freeze(["www.ccxp.nthu.edu.tw", "ccxp.nthu.edu.tw"]),

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

    /**
     * At most one automatic submit in this window across all tabs: a wrong answer is never
     * retried in a loop (background/submit-guard.js).
     */
    AUTO_SUBMIT_WINDOW_MS: 5 * 60 * 1000,

    /**
     * No automatic submit while the last one's outcome (the next AIS page load in its tab) is
     * unknown, for at most this long: the AIS lock-out window.
     */
    AUTO_SUBMIT_OUTCOME_MS: 15 * 60 * 1000,

    /** Defaults of the user's switches, kept in storage.local. */
    DEFAULT_SETTINGS: Object.freeze({ autofill: true, submitAfterFill: false, method: "auto", keepCaptchas: false }),

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
      // issue 14: outcomes, pause, kept captchas (background/outcomes.js)
      REPORT: "decaptcha:report", // content -> background: settled / unknown-size / submitted / user-acted / typed
      RESULT_PAGE: "decaptcha:result-page", // the page after a login submit: its verdict
      LEARNING: "decaptcha:learning", // popup: counters, pause, kept captchas
      RESUME: "decaptcha:resume", // popup: turn autofill back on after a pause
      KEEP_DELETE: "decaptcha:keep-delete", // popup: delete every kept captcha
    }),

    /**
     * Where students download the helper program (the release issue's archives). A
     * placeholder until the project's GitHub home is final.
     */
    RELEASES_URL: "https://github.com/nthu-ais-decaptcha/nthu-ais-decaptcha/releases/latest",

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
     * What the AIS answers a login with (../shared/notes/ais-pages.md): the page after a
     * submit is read for these texts only (shared/outcomes.js). The post-login frameset
     * (select_entry.php) is recognised by its <frameset>.
     */
    AIS_ANSWERS: Object.freeze({
      WRONG_CAPTCHA: "驗證碼輸入錯誤",
      WRONG_PASSWORD: "帳號或密碼錯誤",
      LOCKED: "15分鐘內登錄錯誤超過5次",
    }),

    /** What a login's next page says of its captcha (shared/outcomes.js classifyResult). */
    VERDICTS: Object.freeze({
      ACCEPTED: "accepted", // the post-login frameset: logged in
      WRONG_PASSWORD: "wrong-password", // the captcha passed, the ID or password did not
      REJECTED: "rejected", // 驗證碼輸入錯誤
      LOCKED: "locked", // 15分鐘內登錄錯誤超過5次: nothing known of the captcha
    }),

    /**
     * Autofill pauses itself after this many captchas in a row that the models are unsure of
     * or disagree on (docs/EXTENSION.md: about 3 in 1,000 of the hardest synthetic captchas
     * are unsure, none of the real ones, so 3 in a row by chance is about 1 in 10^7; a
     * changed captcha is unsure nearly every time, so the user types at most 3).
     */
    UNSURE_RUN_PAUSE: 3,

    /** Why autofill paused itself (storage.local `pause.reason`). */
    PAUSE_REASONS: Object.freeze({
      UNKNOWN_SIZE: "unknown-size", // an image of a size no kind has, where a captcha is expected
      UNSURE_RUN: "unsure-run", // UNSURE_RUN_PAUSE captchas in a row unsure or disagreed on
      REJECTED_TWICE: "rejected-twice", // a rejected helper answer, then another rejection within the lock-out window
    }),

    /**
     * Every error code, by name. The host's codes are host/errors.py Code (PROTOCOL.md's
     * table); the last four are the extension's own: the host could not be reached, did not
     * answer in time, the page's image could not be captured, or the host speaks another
     * protocol (solves are refused before they reach it; background/main.js).
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
      HOST_OUTDATED: "HOST_OUTDATED",
    }),
  });
})();
