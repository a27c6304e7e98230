// Last content script on the login page: start. It warms the host as the page starts
// loading, so the models are loaded by the time the captcha image arrives.
globalThis.AISDecaptcha.page
  .runOnPage(globalThis.AISDecaptcha.login.spec, { warmEarly: true })
  .catch((err) => console.debug("[ais-decaptcha]", err));
