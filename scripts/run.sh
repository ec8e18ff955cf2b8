#!/usr/bin/env bash
# The README's first command: install what is missing, build, and open the workspace on the
# built-in demo dataset (generated and imported on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
GAFX=build/app/gafx
DATA="${XDG_DATA_HOME:-$HOME/.local/share}/gafx"
DEMO="$DATA/demo-gtzan"
if ! "$GAFX" dataset show demo >/dev/null 2>&1; then
  [ -d "$DEMO" ] || "$GAFX" dataset demo "$DEMO"
  "$GAFX" dataset import gtzan "$DEMO" --name demo
fi
exec build/app/gafx-workbench --db "$DATA/workspace.db" "$@"
