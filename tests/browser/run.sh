#!/usr/bin/env bash
# The dashboard's browser tests: installs playwright-core (never a browser: Debian's chromium
# is used) and runs them with node's test runner against target/debug binaries.
set -euo pipefail
cd "$(dirname "$0")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d node_modules/playwright-core ]; then
    npm ci --no-audit --no-fund
fi
exec node --test --test-concurrency=1 --test-timeout=120000 dashboard.test.mjs operations.test.mjs runtimes.test.mjs
