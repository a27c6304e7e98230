// Pure helpers for the popup's learning section (no extension APIs), so node can test them.
import "../shared/config.js";

const { PAUSE_REASONS } = globalThis.AISDecaptcha.config;

const PAUSED_KEYS = Object.freeze({
  [PAUSE_REASONS.UNKNOWN_SIZE]: "pausedUnknownSize",
  [PAUSE_REASONS.UNSURE_RUN]: "pausedUnsureRun",
  [PAUSE_REASONS.REJECTED_TWICE]: "pausedRejectedTwice",
});

/** Counters summed over the kinds (only the login captcha is counted today). */
export function totals(counts) {
  const sum = { helperAccepted: 0, helperRejected: 0, userAccepted: 0, userRejected: 0, locked: 0 };
  for (const c of Object.values(counts ?? {})) for (const k of Object.keys(sum)) sum[k] += Number.isSafeInteger(c?.[k]) ? c[k] : 0;
  return sum;
}

/** What the learning section says, as message keys and substitutions. */
export function learningView(summary) {
  const sum = totals(summary?.counts);
  const helperAll = sum.helperAccepted + sum.helperRejected;
  const userAll = sum.userAccepted + sum.userRejected;
  const kept = summary?.kept;
  let keptView;
  if (!kept) keptView = { key: "keepUnavailable", subs: [], total: null };
  else if (kept.error) keptView = { key: "keepFolderError", subs: [String(kept.error)], total: null };
  else keptView = { key: "keepCount", subs: [String(kept.total ?? 0)], total: kept.total ?? 0 };
  return {
    helper: helperAll ? { key: "outcomeHelper", subs: [String(sum.helperAccepted), String(helperAll)] } : { key: "outcomeHelperNone", subs: [] },
    user: userAll ? { key: "outcomeUser", subs: [String(sum.userAccepted), String(userAll)] } : { key: "outcomeUserNone", subs: [] },
    pausedKey: summary?.pause ? (PAUSED_KEYS[summary.pause.reason] ?? "pausedUnsureRun") : null,
    held: Boolean(summary?.hold) && !summary?.pause,
    kept: keptView,
    folder: kept && typeof kept.folder === "string" ? kept.folder : null,
    canDelete: Boolean(kept && !kept.error && (kept.total ?? 0) > 0),
  };
}
