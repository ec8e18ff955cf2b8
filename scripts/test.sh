#!/usr/bin/env bash
# The README's test command: install what is missing, build, run every test, then the same
# engine, gafx and their tests again under AddressSanitizer + UBSan (scripts/test-sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
(cd build && ctest --output-on-failure --timeout 900 -j "$(nproc)")
scripts/test-sanitize.sh
