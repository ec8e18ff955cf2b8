#!/usr/bin/env bash
# The README's test command: install what is missing, build, run every test, then the same
# engine, gafx and their tests again under AddressSanitizer + UBSan (scripts/test-sanitize.sh),
# then the libFuzzer harnesses of every file reader for a bounded time (scripts/test-fuzz.sh,
# clang from Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh clang libclang-rt-14-dev slurm-wlm munge
scripts/build.sh
(cd build && ctest --output-on-failure --timeout 900 -j "$(nproc)")
scripts/test-sanitize.sh
scripts/test-fuzz.sh
