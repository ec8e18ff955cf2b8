#!/usr/bin/env bash
# The kill soak at full strength: 20 SIGKILLs at random moments of a demo run, resumed each time,
# then integrity_check and the whole metric history compared with an uninterrupted run's
# (tests/cli/test_kill_soak.cpp; ctest runs it with 5 kills).
#   tests/bench/kill_soak.sh [KILLS=20] [BUILD=build]
set -euo pipefail
# QtTest stops a test function after 5 min unless told otherwise (ctest tells it 10 min); 20
# kills and resumes take longer than that on a busy 2-core machine.
QTEST_FUNCTION_TIMEOUT=${QTEST_FUNCTION_TIMEOUT:-3600000} GAFX_SOAK_KILLS=${1:-20} \
  exec "${2:-build}/tests/test_kill_soak"
