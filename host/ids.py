"""The names and ids that the host, its manifests and the extension must agree on.

Tests check that the built extension manifests (extension/manifest.*.json) match these values.
"""

# Native messaging host name: lowercase letters, digits, '_' and '.' only.
HOST_NAME = "nthu_ais_decaptcha"

# Chromium-family id of the unpacked extension, derived from the fixed "key" in
# extension/manifest.chromium.json (first 32 hex digits of sha256(DER public key), 0-f -> a-p).
CHROMIUM_EXTENSION_ID = "fppandnncecdjblgeiioagknkbicokik"
CHROMIUM_EXTENSION_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6VzZqAt7bqggFyvzfC/PlrUAzgIiFb95OSyVUGfKTWESpKz9"
    "pPFYw6uXx3AnK5Wv87KwqRUmRC03czhGJb/nK11IYOomswSzi/mgmtdEOd0nyTlu3ItPphpoNLq3pfrrErb1szPXP9dr"
    "qzPkwn09LiaySOXJB03ziPDL/ULIQf40gukjnzet5APHjCUa6JyAgtQWzP6jATOTvN72IrJ/pIKq+/NLRo2U//RHWPPV"
    "uoNw8LIq/GNKP0ZLZ8dWMvUx5UqTVS8+owBnaWgZ75t1FH90wbErURUBlXe0P27p7fJe2ySBbkpsABmT2Qz8FkBxH+st"
    "DXq5FRYORYJCSN2IDQIDAQAB"
)

# Firefox add-on id (browser_specific_settings.gecko.id in extension/manifest.firefox.json).
FIREFOX_ADDON_ID = "ais-decaptcha@nthu-ais-decaptcha"
