#!/bin/sh
# Double-click (the first time: right-click > Open) to install the NTHU AIS Decaptcha helper
# for this user. macOS marks downloaded files as quarantined; once you have opened this file,
# the quarantine is lifted from the rest of the folder too, so the helper program can start.
cd "$(dirname "$0")" || exit 1
xattr -dr com.apple.quarantine . 2>/dev/null
exec ./decaptcha-host
