// Pure helpers for the popup (no extension APIs), so node can test them.
import "../shared/config.js";

const { ERRORS } = globalThis.AISDecaptcha.config;

/**
 * Codes meaning "the host is not there, not running, not ours or without its models", as
 * opposed to one unreadable captcha: (re)installing is the fix. NOT_ALLOWED: the installed
 * host does not list this extension's id.
 */
const HOST_DOWN = new Set([ERRORS.HOST_UNAVAILABLE, ERRORS.HOST_TIMEOUT, ERRORS.MODEL_ERROR, ERRORS.NOT_ALLOWED, ERRORS.INTERNAL]);

/** Whether an error (from a reply or a page state) means the user must (re)install the host. */
export function needsInstallHelp(error) {
  return Boolean(error) && HOST_DOWN.has(error.code);
}

/**
 * The commands that install the host, as the README gives them: `build.py` builds and
 * registers everything; an already built host registers itself with --install.
 */
export function installCommands(os) {
  if (os === "win") {
    return { install: "py build.py", register: "dist\\decaptcha-host\\decaptcha-host.exe --install" };
  }
  return { install: "python3 build.py", register: "dist/decaptcha-host/decaptcha-host --install" };
}

/**
 * The error to show for a `status` reply: the transport's or host's error, or MODEL_ERROR
 * when the host runs but some model did not load (`ready: false`); null when all is well.
 */
export function statusProblem(reply) {
  if (!reply?.ok) return reply?.error ?? { code: ERRORS.HOST_UNAVAILABLE, message: "no reply" };
  const result = reply.result ?? {};
  if (result.ready !== false) return null;
  const models = result.models ?? {};
  const broken = models.error
    ? [String(models.error)]
    : Object.entries(models)
        .filter(([, m]) => m && m.loaded === false)
        .map(([name, m]) => `${name}: ${m.error ?? "not loaded"}`);
  return { code: ERRORS.MODEL_ERROR, message: broken.join("; ") || "models not loaded" };
}

/** Message key for the page state's phase. */
export function phaseMessageKey(state) {
  switch (state?.phase) {
    case "waiting":
      return "phaseWaiting";
    case "off":
      return "phaseOff";
    case "solving":
      return "phaseSolving";
    case "filled":
      return state.submitted ? "phaseSubmitted" : "phaseFilled";
    case "low-confidence":
      return state.reason === "no-answer" ? "phaseNoAnswer" : "phaseLow";
    case "kept-user-input":
      return "phaseKept";
    case "error":
      return "phaseError";
    case "paused":
      return "phasePaused";
    case "held":
      return "phaseHeld";
    default:
      return "popupNoCaptcha";
  }
}

export function formatConfidence(confidence) {
  return typeof confidence === "number" ? `${(confidence * 100).toFixed(confidence >= 0.999 ? 2 : 1)}%` : "—";
}

export function formatMethod(state) {
  if (!state?.method) return "—";
  const parts = [state.method];
  if (state.used && state.used !== state.method) parts.push(`→ ${state.used}`);
  if (state.renderings > 1) parts.push(`(${state.renderings}×)`);
  return parts.join(" ");
}

export function formatMs(ms) {
  return typeof ms === "number" ? (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) : "—";
}
