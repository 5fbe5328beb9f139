#!/bin/sh
# Makes sure Debian's headless-capable Chromium is at /usr/bin/chromium for the
# dashboard's browser tests (tests/serve/dashboard_browser_test.ts runs this
# when it is missing). Installs it with apt-get as root (or passwordless sudo).
# AGENTROOM_SKIP_BROWSER=1 skips the browser tests instead; anything else that
# leaves no browser fails loudly.
#
#   sh scripts/browser.sh
CHROMIUM=/usr/bin/chromium
if [ "${AGENTROOM_SKIP_BROWSER:-}" = 1 ]; then
  echo "browser: AGENTROOM_SKIP_BROWSER=1: the dashboard's browser tests are skipped" >&2
  exit 0
fi
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    echo "browser: error: installing chromium needs root; run 'apt-get install -y chromium' as root or set AGENTROOM_SKIP_BROWSER=1" >&2
    exit 1
  fi
}
if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser: error: no apt-get here; install Chromium at $CHROMIUM or set AGENTROOM_SKIP_BROWSER=1" >&2
  exit 1
fi
echo "browser: installing chromium with apt-get (once)" >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
if [ ! -x "$CHROMIUM" ]; then
  echo "browser: error: apt-get did not install $CHROMIUM; set AGENTROOM_SKIP_BROWSER=1 to skip the browser tests" >&2
  exit 1
fi
