#!/usr/bin/env bash
# Page tests drive Debian's Chromium through Playwright (a browser download cannot work here).
# Install it from Debian's packages when missing; fail loudly (never skip) when that is impossible.
set -u
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the page tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing: install Debian's 'chromium' package"; exit 1; }
