#!/usr/bin/env bash
# The sanitizer stage of the README's test command (scripts/test.sh): the engine, gafx and their
# tests built with AddressSanitizer + UndefinedBehaviorSanitizer (GAFX_SANITIZE; GUI off, since Qt
# and libtorch are not instrumented) in build-asan/, then run. Any report fails the stage.
# Left out (tests/CMakeLists.txt, GAFX_SANITIZE_SKIP): test_cli_train and test_kill_soak, which
# drive the trainer test_trainer covers here at several times its length, the model tests,
# which spend their minutes in libtorch's uninstrumented kernels, and the cli suites whose time
# is gafx's start-up, reaching engine code the engine suites run here; also the benchmarks and
# package_deb (an instrumented gafx is not what ships).
# -O1 -g1, as the sanitizers' own docs advise: reports keep their file:line stacks, and the
# build takes ~40 % less than at -O2 -g (47 s against 27 s for engine/train/trainer.cpp); the
# engine's hot kernels keep their own -O3 (engine/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DGAFX_SANITIZE=ON -DGAFX_BUILD_GUI=OFF >/dev/null
cmake --build build-asan --parallel "$(nproc)"
cd build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --output-on-failure --timeout 900 -j "$(nproc)"
