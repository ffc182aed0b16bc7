#!/usr/bin/env bash
# Makes Debian's Chromium available to the console's browser tests (test/console), installing it on first use.
# Idempotent: instant when /usr/bin/chromium is there.
set -euo pipefail

[ -x /usr/bin/chromium ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "ensure-chromium: installing chromium with apt-get (apt-get update first, this takes a minute)" >&2
log="$(mktemp)"
if ! { $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "ensure-chromium: could not install chromium; the console tests need /usr/bin/chromium" >&2
  exit 1
fi
rm -f "$log"
