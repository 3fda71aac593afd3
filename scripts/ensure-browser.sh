#!/usr/bin/env bash
# Page tests drive Debian's Chromium through Playwright (a browser download cannot work here).
# Install it from Debian's packages when missing; fail loudly (never skip) when that is impossible.
# The CJK and emoji fonts make the console's Chinese (and the 👷 🕘 of a dispatch) real text in
# screenshots instead of boxes.
set -u
FONTS="fonts-noto-cjk fonts-noto-color-emoji"
have_fonts() { fc-list 2>/dev/null | grep -qi "Noto Sans CJK" && fc-list 2>/dev/null | grep -qi "Noto Color Emoji"; }
[ -x /usr/bin/chromium ] && have_fonts && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium and fonts for the page tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium $FONTS >/dev/null
fi
have_fonts || echo "warning: install $FONTS for readable Chinese in page screenshots"
[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing: install Debian's 'chromium' package"; exit 1; }
