// Course-catalogue pages (/ccxp/INQUIRE/JH/...): 3-digit captcha
// (JH/mod/auth_img/auth_img.php?ACIXSTORE=...) answered in auth_num.

// Classic script on the AISDecaptcha namespace (see shared/config.js for why).
(() => {
  "use strict";
  const ns = (globalThis.AISDecaptcha ??= {});
  const { findCaptcha } = ns.captcha;

  function findCourseCaptcha(doc) {
    return findCaptcha(doc, "auth_num");
  }

  /**
   * This captcha is keyed by the session, and a second fetch may draw a new code, so we never
   * fetch it behind the page's back: we reload the page's own image and solve what it shows.
   * The extra query parameter only defeats the cache.
   */
  function reloadImage(img) {
    const url = new URL(img.src, img.ownerDocument.baseURI);
    url.searchParams.set("decaptcha", String(Date.now()));
    img.src = url.href;
  }

  const courseSpec = Object.freeze({
    kind: "ais3",
    fieldName: "auth_num",
    answer: /^\d{3}$/,
    find: findCourseCaptcha,
    reloadImage,
  });

  ns.course = { findCourseCaptcha, reloadImage, spec: courseSpec };
})();
