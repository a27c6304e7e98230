// Pure helpers for the popup (no extension APIs), so node can test them: which view a
// page state and the helper's health give, and the words for a result.
import "../shared/config.js";
import "../shared/health.js";

const { HEALTH, healthOfError, usable } = globalThis.AISDecaptcha.health;

/** The command that builds and registers everything from a copy of the source (README). */
export function installCommands(os) {
  return { install: os === "win" ? "py build.py" : "python3 build.py" };
}

/** Message keys for the two install steps that depend on the system (download, open). */
export function installStepKeys(os) {
  const system = { win: "Win", mac: "Mac" }[os] ?? "Linux";
  return { download: `installDownload${system}`, open: `installOpen${system}` };
}

/**
 * What the helper's trouble is, if any: the `status` answer when there is one; before it
 * (or when it is fine) a host error on the page counts only while status is unknown.
 * Returns "missing", "incompatible", "failing" or null.
 */
export function hostProblem(pageState, health) {
  if (health) return usable(health) ? null : health.state;
  const fromPage = pageState?.phase === "error" ? healthOfError(pageState.error) : null;
  return fromPage === HEALTH.MISSING || fromPage === HEALTH.INCOMPATIBLE || fromPage === HEALTH.FAILING ? fromPage : null;
}

/** Title and text keys of the helper card for each problem. */
export const HOST_CARD = Object.freeze({
  missing: { title: "hostMissingTitle", text: "hostMissingText" },
  incompatible: { title: "hostIncompatibleTitle", text: "hostIncompatibleText" },
  failing: { title: "hostFailingTitle", text: "hostFailingText" },
});

/** The popup's footer line for the helper, in words (versions and codes are in diagnostics). */
export function hostLineKey(health) {
  if (!health) return "hostChecking";
  return {
    ok: "hostOk",
    older: "hostOkOlder",
    missing: "hostLineMissing",
    incompatible: "hostLineIncompatible",
    failing: "hostLineFailing",
  }[health.state];
}

/**
 * Everything the popup shows for a page state and the helper's health (null: still
 * checking). One of `view`: missing | incompatible | failing (the helper card is the one
 * thing shown, no Re-solve, no settings) | none (not an AIS captcha page) | waiting |
 * solving | off | filled | unsure | kept | error | paused | held (issue 14's gate).
 */
export function popupView(pageState, health) {
  const problem = hostProblem(pageState, health);
  if (problem) return { view: problem, card: HOST_CARD[problem], older: false, page: false, settings: false };
  const older = health?.state === HEALTH.OLDER;
  const base = { card: null, older, page: true, settings: true };
  const phase = pageState?.phase;
  const hasImage = typeof pageState?.image === "string" && pageState.image.startsWith("data:image/png;base64,");
  const captcha = { image: hasImage, answer: false, guess: null, reading: false, resolve: true, busy: false };
  switch (phase) {
    case "waiting":
      return { ...base, view: "waiting", status: "phaseWaiting", captcha: { ...captcha, resolve: false } };
    case "solving":
      return { ...base, view: "solving", status: "phaseSolving", captcha: { ...captcha, busy: true } };
    case "off":
      return { ...base, view: "off", status: "phaseOff", captcha };
    case "filled":
      return { ...base, view: "filled", status: pageState.submitted ? "phaseSubmitted" : "phaseFilled", captcha: { ...captcha, answer: true, reading: true } };
    case "low-confidence": {
      const guess = pageState.reason === "no-answer" || !pageState.answer ? null : "guessLabel";
      return { ...base, view: "unsure", status: guess ? "phaseLow" : "phaseNoAnswer", captcha: { ...captcha, guess } };
    }
    case "kept-user-input":
      return { ...base, view: "kept", status: "phaseKept", captcha: { ...captcha, guess: pageState.answer ? "keptLabel" : null } };
    case "error":
      return { ...base, view: "error", status: "phaseError", captcha };
    case "paused":
      // Autofill paused itself (issue 14): nothing is filled; Resume (above) is the way on, not Re-solve.
      return { ...base, view: "paused", status: "phasePaused", captcha: { ...captcha, resolve: false } };
    case "held":
      // A helper answer was just rejected: this one is filled only when the user presses Re-solve.
      return { ...base, view: "held", status: "phaseHeld", captcha };
    default:
      return { ...base, view: "none", status: "popupNoCaptcha", captcha: null };
  }
}

/** The "read by …" line of a confident answer: [message key, substitutions]. */
export function readingMessage(state) {
  const model = state?.used === "seg" ? "Seg" : "Ctc";
  const n = Number.isInteger(state?.renderings) ? state.renderings : 1;
  const key = `read${model}${n > 1 ? "Many" : ""}${state?.method === "auto" && state?.agree === true ? "Agree" : ""}`;
  return [key, n > 1 ? [String(n)] : []];
}

/** 0.9951 -> "99.5%"; 0.99991 -> "99.99%" (so a sure answer does not read as 100%). */
export function formatConfidence(confidence) {
  return typeof confidence === "number" ? `${(confidence * 100).toFixed(confidence >= 0.999 && confidence < 1 ? 2 : 1)}%` : "—";
}

export function formatMs(ms) {
  return typeof ms === "number" ? (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) : "—";
}

/** The browser's product and version from a user agent string (no other detail). */
export function browserName(userAgent) {
  const ua = String(userAgent ?? "");
  const m = ua.match(/(Firefox|Edg|OPR|Chrome|Chromium)\/([\d.]+)/);
  return m ? `${m[1] === "Edg" ? "Edge" : m[1]} ${m[2]}` : "unknown";
}

/**
 * The diagnostics text for bug reports: versions, states and error codes. Never images,
 * answers, ids, paths or error messages from the host (they may carry paths).
 */
export function diagnosticsText({ extensionVersion, protocol, browser, os, health, status, transport, pageState }) {
  const r = status?.ok ? (status.result ?? {}) : {};
  const models = r.models && typeof r.models === "object" && !r.models.error
    ? Object.entries(r.models).map(([name, m]) => `${name}=${m?.loaded ? "ok" : "not loaded"}`).join(", ")
    : r.models?.error ? "none" : "—";
  const s = pageState ?? {};
  const errors = [
    status && !status.ok ? `status ${status.error?.code ?? "?"}` : null,
    s.phase === "error" && s.error?.code ? `page ${s.error.code}` : null,
    health?.code && health.state !== HEALTH.OK ? `helper ${health.code}` : null,
    transport?.lastError ? `browser: ${String(transport.lastError).slice(0, 120)}` : null,
  ].filter(Boolean);
  const lines = [
    `extension ${extensionVersion ?? "?"} (protocol ${protocol})`,
    `browser ${browser}, ${os ?? "?"}`,
    `helper ${health?.state ?? "checking"}${health?.version ? `, version ${health.version}` : ""}${Number.isInteger(health?.protocol) ? `, protocol ${health.protocol}` : ""}`,
    `runtime ${r.runtime ?? "—"}, ready ${r.ready ?? "—"}`,
    `models ${models}`,
    `page ${s.phase ?? "none"}${s.kind ? ` (${s.kind})` : ""}${s.reason ? `, ${s.reason}` : ""}`,
  ];
  if (typeof s.confidence === "number") {
    lines.push(
      `last result: method ${s.method ?? "?"}, used ${s.used ?? "?"}, renderings ${s.renderings ?? "?"}, ` +
        `confidence ${s.confidence.toFixed(4)}, ${formatMs(s.hostMs)} ms in the helper, ${formatMs(s.totalMs)} ms in all`,
    );
  }
  lines.push(`errors ${errors.length ? errors.join("; ") : "none"}`);
  return lines.join("\n");
}
