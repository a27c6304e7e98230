// The AIS login page: 6-digit captcha (auth_img.php?pwdstr=...) answered in passwd2.
// The page's facts (fields, image URL, the lock-out) are in docs/EXTENSION.md.

// Classic script on the AISDecaptcha namespace (see shared/config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});
  const { findCaptcha } = ns.captcha;

  const PWDSTR = /^\d{8}-\d+$/;
  const MAX_PNG_BYTES = 256 * 1024;

  function findLoginCaptcha(doc) {
    return findCaptcha(doc, "passwd2");
  }

  /** The captcha code in the image URL, or null if it is not the expected shape. */
  function pwdstrOf(img) {
    try {
      const value = new URL(img.src, img.ownerDocument.baseURI).searchParams.get("pwdstr");
      return value && PWDSTR.test(value) ? value : null;
    } catch {
      return null;
    }
  }

  /**
   * Fetch `n` more renderings of the same code: auth_img.php?pwdstr=X draws the same digits
   * with new noise each time. Same origin, no cookies needed or sent. Returns PNG data URLs
   * (failed or non-PNG fetches are left out).
   */
  async function fetchRenderings(img, n, fetchFn = (url, init) => fetch(url, init)) {
    if (!pwdstrOf(img)) return [];
    const url = new URL(img.src, img.ownerDocument.baseURI);
    // Only ever the page's own server (the content script may reach other AIS hosts too).
    if (url.origin !== new URL(img.ownerDocument.URL).origin) return [];
    const one = async () => {
      const res = await fetchFn(url.href, { cache: "no-store", credentials: "omit" });
      if (!res.ok) return null;
      // Copy into an array of our own: in Firefox the response's buffer belongs to the page,
      // and typed-array methods on a view of it are denied to content scripts.
      const body = new Uint8Array(await res.arrayBuffer());
      const bytes = new Uint8Array(body.length);
      bytes.set(body);
      return isPng(bytes) && bytes.length <= MAX_PNG_BYTES ? `data:image/png;base64,${toBase64(bytes)}` : null;
    };
    const settled = await Promise.allSettled(Array.from({ length: n }, one));
    return settled.filter((s) => s.status === "fulfilled" && s.value).map((s) => s.value);
  }

  function isPng(bytes) {
    const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    return bytes.length > sig.length && sig.every((b, i) => bytes[i] === b);
  }

  function toBase64(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  function loginFields(field) {
    const scope = field.form ?? field.ownerDocument;
    return {
      account: scope.querySelector('input[name="account"]'),
      password: scope.querySelector('input[name="passwd"]'),
    };
  }

  /**
   * "Log in after filling" needs the ID and the password already filled (by the user or the
   * password manager). We look only at whether the password is empty, never at its text.
   */
  function canSubmit(_doc, field) {
    const { account, password } = loginFields(field);
    return Boolean(account && password && account.value.length > 0 && password.value.length > 0);
  }

  /** Submit the login form as a click on its own button would (its onsubmit checks still run). */
  function submitLogin(field) {
    const form = field.form;
    if (!form) return;
    const button = form.querySelector('input[type="submit"], button[type="submit"], button:not([type])');
    if (button) button.click();
    else if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  const loginSpec = Object.freeze({
    kind: "ais6",
    fieldName: "passwd2",
    answer: /^\d{6}$/,
    find: findLoginCaptcha,
    moreImages: (img, n) => fetchRenderings(img, n),
    freshImage: async (img) => (await fetchRenderings(img, 1))[0] ?? null,
    canSubmit,
    submit: submitLogin,
    reportsOutcome: true, // the next page says whether the captcha was right (shared/outcomes.js)
  });

  ns.login = { findLoginCaptcha, pwdstrOf, fetchRenderings, canSubmit, submitLogin, spec: loginSpec };
})();
