#!/usr/bin/env bash
# The kill soak at full strength: 20 SIGKILLs at random moments of a demo run, resumed each time,
# then integrity_check and the whole metric history compared with an uninterrupted run's
# (tests/cli/test_kill_soak.cpp; ctest runs it with 5 kills).
#   tests/bench/kill_soak.sh [KILLS=20] [BUILD=build]
set -euo pipefail
GAFX_SOAK_KILLS=${1:-20} exec "${2:-build}/tests/test_kill_soak"
