#!/usr/bin/env bash
# Before a GPU call: does what the GPU machine builds (gafx, gafx-torch, cuda_check; its PyTorch is
# 2.x) compile against libtorch 2.x? This machine has Debian bookworm's libtorch 1.13 only, and the
# GPU machine's one build is the wrong place to find out (device time is short). So this takes the
# headers of Debian trixie's libtorch-dev (2.6, CPU, with the CUDA headers) from the archive into
# .deps/torch2/ (nothing is installed) and type-checks (-fsyntax-only) against them:
#   - every source of those targets that includes libtorch, with the build folder's own flags
#     (under GAFX_CHECK_STD=c++20, every source of them: CMake switches the whole build);
#   - the CUDA-only sources (graph_step, device_memory, nccl_group) as ctest cuda_code_syntax does,
#     with tests/device/cuda_stub/ for the CUDA runtime and NCCL.
# Usage: scripts/device/check_libtorch2.sh [BUILD_DIR]   (a configured Ninja build; default: build)
#   GAFX_CHECK_STD=c++20 parses as C++20, as a build against PyTorch 2.13 or newer compiles.
# Needs the network to deb.debian.org the first time; a developer's check, not part of CI.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$REPO/build}" && pwd)
DEPS=$REPO/.deps/torch2
MIRROR=${GAFX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
PKG=libtorch-dev

[ -f "$BUILD/build.ninja" ] || { echo "check_libtorch2: $BUILD is not a configured Ninja build folder (run scripts/test.sh or cmake -G Ninja first)" >&2; exit 2; }

if [ ! -f "$DEPS/root/usr/include/torch/csrc/api/include/torch/version.h" ]; then
  mkdir -p "$DEPS/debs"
  echo "check_libtorch2: reading $SUITE's package index"
  curl -fsS "$MIRROR/dists/$SUITE/main/binary-amd64/Packages.xz" | xz -dc >"$DEPS/Packages"
  # The stanza of the package: its file in the pool and the checksum the signed index gives.
  read -r file sha < <(awk -v p="$PKG" '
    /^Package: /  { hit = ($2 == p) }
    hit && /^Filename: / { f = $2 }
    hit && /^SHA256: /   { s = $2 }
    /^$/ { if (hit && f != "") { print f, s; exit } hit = 0 }' "$DEPS/Packages")
  [ -n "${file:-}" ] || { echo "check_libtorch2: no $PKG in $SUITE's index" >&2; exit 1; }
  deb=$DEPS/debs/$(basename "$file")
  echo "check_libtorch2: downloading $file"
  curl -fsS -o "$deb.part" "$MIRROR/$file"
  echo "$sha  $deb.part" | sha256sum -c --quiet - || { echo "check_libtorch2: $deb: checksum differs from the index" >&2; exit 1; }
  mv "$deb.part" "$deb"
  rm -rf "$DEPS/root.new" && dpkg -x "$deb" "$DEPS/root.new" && rm -rf "$DEPS/root" && mv "$DEPS/root.new" "$DEPS/root"
fi
INC=$DEPS/root/usr/include
VERSION=$(awk '/define TORCH_VERSION_(MAJOR|MINOR|PATCH)/ { v = v (v == "" ? "" : ".") $3 } END { print v }' "$INC/torch/csrc/api/include/torch/version.h")
echo "check_libtorch2: libtorch ${VERSION:-?} headers in $INC"

# The compile commands of the sources that include libtorch, rewritten: no ccache, no 1.13
# precompiled header, no object; the 2.x headers ahead of the system's 1.13 ones.
LIST=$(mktemp -d)
trap 'rm -rf "$LIST"' EXIT
ninja -C "$BUILD" -t compdb >"$LIST/compdb.json"
STD=${GAFX_CHECK_STD:-c++17}
python3 - "$REPO" "$INC" "$LIST" "$STD" <<'EOF'
import json, shlex, sys, os
repo, inc, out, std = sys.argv[1:5]
wanted = ("engine/", "app/cli/", "tests/device/")
n = 0
for e in json.load(open(os.path.join(out, "compdb.json"))):
    f = os.path.relpath(e["file"], repo)
    # Under C++20 every source counts: CMake builds the whole project so for PyTorch >= 2.13.
    if not f.endswith(".cpp") or not f.startswith(wanted) or ("torch" not in e["command"] and std == "c++17"):
        continue
    a = shlex.split(e["command"])
    if os.path.basename(a[0]) == "ccache":
        a = a[1:]
    cmd, skip = [a[0], "-isystem", inc, "-isystem", inc + "/torch/csrc/api/include"], 0
    for i, x in enumerate(a[1:], 1):
        if skip:
            skip -= 1
        elif x in ("-include", "-o", "-MT", "-MF"):
            skip = 1
        elif x in ("-c", "-MD", "-Winvalid-pch") or x.startswith("-O"):
            pass
        elif x == "-isystem" and a[i + 1].startswith("/usr/include/torch"):
            skip = 1
        elif x.startswith("-std="):
            cmd.append("-std=" + std)
        else:
            cmd.append(x)
    cmd[-1:-1] = ["-fsyntax-only"]
    n += 1
    with open(os.path.join(out, "%03d.sh" % n), "w") as s:
        s.write("cd %s && %s\n" % (shlex.quote(e["directory"]), shlex.join(cmd)))
        s.write("# %s\n" % f)
print("check_libtorch2: %d sources" % n)
EOF

stub=$REPO/tests/device/cuda_stub
cuda_files="$REPO/engine/train/graph_step.cpp $REPO/engine/train/device_memory.cpp $REPO/engine/train/nccl_group.cpp"
cuda_flags="-std=$STD -fsyntax-only -Wall -Wextra -Werror -DGAFX_HAVE_CUDA_GRAPHS -DGAFX_HAVE_TORCH_CUDA -DGAFX_HAVE_NCCL -I$REPO/engine"
torch_flags="-isystem $INC -isystem $INC/torch/csrc/api/include"
{
  echo "$(command -v c++) $cuda_flags -I$stub $torch_flags $cuda_files"
  echo "# the CUDA-only sources (graph_step, device_memory, nccl_group) with tests/device/cuda_stub"
} >"$LIST/cuda.sh"
# Where a CUDA toolkit with NCCL is installed, against its headers too (ctest cuda_code_syntax_toolkit).
toolkit=${CUDA_HOME:-/usr/local/cuda}/include
if [ -f "$toolkit/nccl.h" ]; then
  {
    echo "$(command -v c++) $cuda_flags -isystem $toolkit $torch_flags -idirafter $stub $cuda_files"
    echo "# the CUDA-only sources against $toolkit"
  } >"$LIST/cuda-toolkit.sh"
fi

run_one() { # a script, its output in SCRIPT.log, shown below only when it failed
  local s=$1 what
  what=$(sed -n 's/^# //p' "$s")
  if bash "$s" >"$s.log" 2>&1; then echo "ok      $what"; else echo "FAILED  $what"; fi
}
export -f run_one
t0=$SECONDS
ls "$LIST"/*.sh | xargs -P "$(nproc)" -I{} bash -c 'run_one {}' | sort >"$LIST/results"
grep -c '^ok' "$LIST/results" | sed 's/^/check_libtorch2: compiled: /'
if grep -q '^FAILED' "$LIST/results"; then
  for s in "$LIST"/*.sh; do
    [ -s "$s.log" ] || continue
    what=$(sed -n 's/^# //p' "$s")
    grep -q "FAILED  $what\$" "$LIST/results" || continue
    echo "==== $what"
    grep -E 'error|required from' "$s.log" | head -20
  done
  echo "check_libtorch2: FAILED against libtorch ${VERSION:-2.x} ($((SECONDS - t0)) s):" >&2
  grep '^FAILED' "$LIST/results" >&2
  exit 1
fi
echo "check_libtorch2: all compile against libtorch ${VERSION:-2.x} ($((SECONDS - t0)) s)"
