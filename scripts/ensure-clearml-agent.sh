#!/usr/bin/env bash
# Makes the real clearml-agent runnable for the tests (test/clearml/): Debian's Python with the packages the agent
# imports, installed with apt-get when missing (nothing comes from PyPI). The agent itself is unpacked from
# ../shared/peers/clearml-agent-1.9.2.tar.gz by the tests (test/support/clearml-agent.ts). Idempotent and quick.
set -euo pipefail

PACKAGES=(python3-furl python3-orderedmultidict python3-psutil python3-jwt python3-virtualenv python3-requests
  python3-yaml python3-attr python3-jsonschema python3-dateutil python3-pyparsing python3-six python3-urllib3)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ -x /usr/bin/python3 ] || missing+=(python3)
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "ensure-clearml-agent: installing ${missing[*]} (apt-get update first)" >&2
log="$(mktemp)"
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "ensure-clearml-agent: could not install ${missing[*]}; install them by hand (apt-get install ${missing[*]})" >&2
  exit 1
fi
rm -f "$log"
