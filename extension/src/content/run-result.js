// The only content script on the pages a login submit leads to (pre_select_entry.php, and
// the post-login frameset select_entry.php; top frame only): tell the background what the
// AIS said of the captcha (shared/outcomes.js classifyResult). Nothing on the page changes,
// nothing of it is kept: only the verdict is sent, and only to the background.
(() => {
  "use strict";
  const ns = globalThis.AISDecaptcha;
  const ext = globalThis.browser ?? globalThis.chrome;
  const verdict = ns.outcomes.classifyResult(document);
  if (verdict) ext.runtime.sendMessage({ type: ns.config.MSG.RESULT_PAGE, verdict }).catch(() => {});
})();
