#!/usr/bin/env bash
# Installs what the browser tests in tests/browser/ need, and nothing else:
#   - Debian's chromium at /usr/bin/chromium (the tests never download a
#     browser of Playwright's own), and a Chinese font (fonts-wqy-microhei),
#     so the screenshots the tests save show text rather than empty boxes;
#   - playwright-core and axe-core (the accessibility checks of the staff
#     app's test), pinned in tests/browser/package.json and locked in
#     tests/browser/package-lock.json.
# Idempotent; safe to run as root on a fresh CI machine with no standard input.
# Usage: bash scripts/browser-deps.sh
set -euo pipefail

die() { echo "browser-deps: error: $*" >&2; exit 1; }
say() { echo "browser-deps: $*"; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
browser_dir="$here/tests/browser"
[ -f "$browser_dir/package.json" ] || die "no $browser_dir/package.json"

# 1. Chromium and a Chinese font from Debian.
wanted=()
[ -x /usr/bin/chromium ] || wanted+=(chromium)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || wanted+=(fonts-wqy-microhei)
if [ "${#wanted[@]}" = 0 ]; then
  say "chromium present: /usr/bin/chromium; Chinese font present"
else
  command -v apt-get >/dev/null || die "${wanted[*]} missing and apt-get is not available; install Chromium and set CHROMIUM_PATH"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "${wanted[*]} missing; run this script as root (or with sudo) to install it"
    sudo="sudo -n"
  fi
  say "installing ${wanted[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update </dev/null || die "apt-get update failed"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${wanted[@]}" </dev/null \
    || die "apt-get install ${wanted[*]} failed"
  [ -x /usr/bin/chromium ] || die "chromium was installed but /usr/bin/chromium is still missing"
fi

# 2. Node, playwright-core and axe-core.
command -v node >/dev/null || die "node is not installed (Node 20 or newer is needed)"
command -v npm >/dev/null || die "npm is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node $node_major found; Node 20 or newer is needed"

# Never let any package fetch a browser build of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
cd "$browser_dir"
if [ -f package-lock.json ]; then
  say "npm ci in tests/browser"
  npm ci --no-audit --no-fund </dev/null || die "npm ci failed in $browser_dir"
else
  say "npm install in tests/browser (no package-lock.json yet; commit the one this creates)"
  npm install --no-audit --no-fund </dev/null || die "npm install failed in $browser_dir"
fi
node -e "require.resolve('playwright-core')" || die "playwright-core did not install in $browser_dir/node_modules"
node -e "require.resolve('axe-core/axe.min.js')" || die "axe-core did not install in $browser_dir/node_modules"
say "ready: $(/usr/bin/chromium --version 2>/dev/null || echo chromium), playwright-core $(node -p "require('playwright-core/package.json').version"), axe-core $(node -p "require('axe-core/package.json').version")"
