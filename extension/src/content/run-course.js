// Last content script on the course-catalogue pages: start. Most JH pages have no
// captcha, so the host is warmed only once one is found.
globalThis.AISDecaptcha.page
  .runOnPage(globalThis.AISDecaptcha.course.spec, { warmEarly: false })
  .catch((err) => console.debug("[ais-decaptcha]", err));
