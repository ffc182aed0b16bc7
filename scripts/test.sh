#!/usr/bin/env bash
# npm test: build, make sure the system parts the tests use are here (installing them when missing,
# and saying so), then run every test file with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

# --fast (npm run test:fast): the tests under src/ only (unit, store on both databases, policy, simulator).
# They need PostgreSQL but no build, no podman and no moto; for day-to-day work.
if [ "${1:-}" = "--fast" ]; then
  shift
  mapfile -t files < <(find src -name '*.test.ts' | sort)
  echo "test: running ${#files[@]} fast test files (src/)" >&2
  exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=120000 "${files[@]}"
fi

echo "test: building" >&2
npx tsc -p tsconfig.json
node scripts/build-web.mjs   # the console the browser tests open (web/dist), when its sources changed

# A real browser for the console tests (test/console): Debian's Chromium, installed on first use.
bash scripts/ensure-chromium.sh

# Real containers (podman + runc + local test images); installs them on first use.
CONTAINERS_CONF="$(bash scripts/ensure-podman.sh)"
export CONTAINERS_CONF

# The real clearml-agent (test/clearml/) runs on Debian's Python with Debian's packages.
bash scripts/ensure-clearml-agent.sh

# Real AWS emulator for the EC2 provider tests.
if ! command -v moto_server >/dev/null; then
  echo "test: moto_server is missing; installing moto[server] with pip" >&2
  pip install --quiet 'moto[server]==5.2.1'
fi

mapfile -t files < <(find src test -name '*.test.ts' | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
echo "test: running ${#files[@]} test files" >&2
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=300000 "${files[@]}"
