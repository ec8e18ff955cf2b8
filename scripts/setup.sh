#!/usr/bin/env bash
# Installs the Debian packages GAFX Workbench needs, only those missing, plus any named as
# arguments (scripts/test.sh adds clang and its runtimes for the fuzz stage). Runs apt-get as
# root directly, or through sudo for a normal user.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache lld
  qt6-base-dev libqcustomplot-dev qt6-multimedia-dev
  libtorch-dev libopenblas0-pthread libgloo-dev libdnnl-dev
  libsqlite3-dev libsndfile1-dev libsoxr-dev libxxhash-dev nlohmann-json3-dev
  libcurl4-openssl-dev
  "$@"
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
