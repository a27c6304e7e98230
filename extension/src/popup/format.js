// Pure helpers for the popup (no extension APIs), so node can test them.

/** Codes meaning "the host is not there or not running", as opposed to a bad answer. */
const HOST_DOWN = new Set(["HOST_UNAVAILABLE", "HOST_TIMEOUT", "MODEL_ERROR", "INTERNAL"]);

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
