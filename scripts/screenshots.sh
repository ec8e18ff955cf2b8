#!/usr/bin/env bash
# Renders every page of the workbench under Xvfb into docs/screenshots/: a fresh workspace with
# the demo dataset and the grid of experiments/demo_grid.json (log-mel vs GAFX-A, 2 seeds: some
# minutes of CPU training per run), grouped and compared by extractor, a confusion cell opened,
# and the embedding explorer (t-SNE) coloured by class.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
# WORK=DIR keeps (and reuses) the workspace; by default a temp one is made and removed.
if [ -z "${WORK:-}" ]; then
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
fi
export XDG_CONFIG_HOME="$WORK/config" XDG_CACHE_HOME="$WORK/cache"
if [ ! -f "$WORK/ws.db" ]; then
  "$BUILD/app/gafx" dataset demo "$WORK/demo" >/dev/null
  "$BUILD/app/gafx" dataset import gtzan "$WORK/demo" --name demo --db "$WORK/ws.db" >/dev/null
  "$BUILD/app/gafx" train experiments/demo_grid.json --db "$WORK/ws.db" >/dev/null
fi
# Under Xvfb when it is there; otherwise Qt's offscreen platform renders the same widgets.
if command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1600x1000x24" "$BUILD/app/gafx-workbench" --db "$WORK/ws.db" --screenshots docs/screenshots
else
  QT_QPA_PLATFORM=offscreen "$BUILD/app/gafx-workbench" --db "$WORK/ws.db" --screenshots docs/screenshots
fi
ls -l docs/screenshots
