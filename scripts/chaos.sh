#!/usr/bin/env bash
# npm run test:chaos: the long form of the chaos suite (test/chaos/): CHAOS_ROUNDS soak rounds (default 50),
# 10,000 fuzz requests per store, a minute of cloud faults per store; prints a summary table at the end.
# CHAOS_SEED=N replays a run; CHAOS_ROUNDS=N sets the soak's size. npm test runs the same files, short.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "chaos: building" >&2
npx tsc -p tsconfig.json
if ! command -v moto_server >/dev/null; then
  echo "chaos: moto_server is missing; installing moto[server] with pip" >&2
  pip install --quiet 'moto[server]==5.2.1'
fi
exec node --import tsx test/chaos/run.ts "$@"
