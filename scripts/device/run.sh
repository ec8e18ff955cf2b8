#!/usr/bin/env bash
# The GPU machine's whole check, in one call of the `run` tool (docs/device.md):
#   run  command: bash scripts/device/run.sh   carry: [".deps/device"]   timeout_s: 600
# Builds `gafx` and tests/device/cuda_check against the machine's CUDA PyTorch (GUI off, no Qt)
# and the Debian packages that scripts/device/fetch_debs.sh unpacked into .deps/device, runs the
# CUDA check, `gafx --version` and the `gafx bench train` table, and leaves in $OUT: run.log
# (everything), configure.log, build.log, cuda_check.log, bench.log, nvidia-smi.txt and
# figures.json (all results in one file). Each step has its own time limit and the whole script
# keeps to GAFX_DEVICE_BUDGET_S (default 570 s): a step that no longer fits is recorded as
# skipped rather than cut off by the tool. Exit 0: everything ran and passed; 1: a step failed.
#
# Phases (first argument): all (default), build (preflight + configure + build), check (the CUDA
# check and gafx --version; needs a build), bench (the benchmarks; needs a build), runs (whole
# `gafx train` runs of the demo set: one process, data-parallel ranks, --devices; needs a build).
# GAFX_DEVICE_DRY_RUN=1 tries the script itself on a CPU machine: Debian's libtorch instead of
# python3's, `cuda_check --cpu-dry-run`, and each benchmark for one step on the CPU.
# GAFX_DEVICE_BUILD_DIR (default build-device) and GAFX_DEVICE_CMAKE_ARGS (appended to the
# configure line, e.g. -DCMAKE_BUILD_TYPE=RelWithDebInfo) reuse a build folder there.
# GAFX_DEVICE_BENCH_ONLY=REGEX runs only the benchmarks whose name matches (e.g. 'gafx-u').
set -uo pipefail

START=$SECONDS
BUDGET=${GAFX_DEVICE_BUDGET_S:-570}
DRY=${GAFX_DEVICE_DRY_RUN:-0}
PHASE=${1:-all}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO" || exit 1
BUILD=$REPO/${GAFX_DEVICE_BUILD_DIR:-build-device}
OUT=${OUT:-$BUILD/out}
RES=$BUILD/results # per-step results, folded into $OUT/figures.json at the end
mkdir -p "$OUT" "$RES"
rm -f "$RES"/*
exec > >(tee -a "$OUT/run.log") 2>&1
TEE_PID=$!

STATUS=0
log() { printf '[device %4ds] %s\n' "$((SECONDS - START))" "$*"; }
record() { # step status seconds detail
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4//$'\t'/ }" >>"$RES/steps.tsv"
}
finish() {
  write_figures
  [ -f "$RES/steps.tsv" ] &&
    log "steps: $(cut -f2 "$RES/steps.tsv" | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')"
  log "done: exit $STATUS; files in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
  exec >&- 2>&-
  wait "$TEE_PID" 2>/dev/null
  exit "$STATUS"
}
die() { # why [log file]
  log "FAILED: $1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    echo "----- first errors in $(basename "$2") -----"
    grep -n -m 8 -E 'error|Error|ERROR|not found|No such' "$2" | cut -c1-400
    echo "----- last 40 lines of $(basename "$2") -----"
    tail -n 40 "$2" | cut -c1-400
    echo "-----"
  fi
  record fatal failed "$((SECONDS - START))" "$1"
  STATUS=1
  finish
}
left() { echo $((BUDGET - (SECONDS - START))); }
# A step's time limit: its own, cut to what is left of the budget (keeping 20 s to report).
limit_for() {
  local want=$1 rest
  rest=$(($(left) - 20))
  [ "$rest" -lt "$want" ] && want=$rest
  echo "$want"
}
# Sets LIM to a step's time limit; where the budget leaves it under 30 s, records the step as
# skipped and returns 1.
fit_step() { # step want
  LIM=$(limit_for "$2")
  [ "$LIM" -ge 30 ] && return 0
  log "$1: skipped, ${LIM}s left of the budget"
  record "$1" skipped 0 "out of time"
  STATUS=1
  return 1
}
need() { # step seconds: dies when the budget cannot give a step its minimum
  [ "$2" -ge 30 ] || die "out of time before $1 (${2}s left of the budget)"
}

# Folds every result into $OUT/figures.json (Python if it runs, else a plain copy of the raw
# results so nothing is lost).
write_figures() {
  local py=(env -u LD_LIBRARY_PATH -u PYTHONPATH python3)
  if ! "${py[@]}" - "$RES" "$OUT/figures.json" <<'PY'; then
import json, os, sys
res, out = sys.argv[1], sys.argv[2]
def load(name):
    p = os.path.join(res, name)
    try:
        with open(p) as f:
            return json.load(f)
    except Exception as e:
        return None
steps = []
if os.path.exists(os.path.join(res, "steps.tsv")):
    for line in open(os.path.join(res, "steps.tsv")):
        name, status, seconds, detail = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
        steps.append({"step": name, "status": status, "seconds": float(seconds or 0), "detail": detail})
def collected(kind):
    # The steps "kind:NAME" with the JSON each left in NAME.json (the demo set's import left none).
    out = []
    for s in steps:
        if s["step"].startswith(kind + ":") and s["step"] != "runs:dataset":
            name = s["step"][len(kind) + 1:]
            b = {"name": name, "status": s["status"], "seconds": s["seconds"], "detail": s["detail"]}
            r = load(name + ".json")
            if r is not None:
                b["result"] = r
            out.append(b)
    return out
doc = {
    "machine": load("machine.json"),
    "steps": steps,
    "cuda_check": load("cuda_check.json"),
    "benches": collected("bench"),
    "runs": collected("runs"),
}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
PY
    log "python3 could not write figures.json; concatenating the raw results instead"
    { echo "# raw results (python3 failed)"; for f in "$RES"/*; do echo "## $(basename "$f")"; cat "$f"; done; } \
      >"$OUT/figures.json"
  fi
}

log "phase $PHASE, budget ${BUDGET}s, repo $REPO, out $OUT"

# ---------------------------------------------------------------- preflight (fails early, loudly)
preflight() {
  [ -f .deps/device/env.sh ] ||
    die ".deps/device/env.sh is missing: run scripts/device/fetch_debs.sh on the dev machine and pass carry [\".deps/device\"]"
  CXX_BIN=$(command -v "${CXX:-g++}" || command -v c++ || command -v clang++ || true)
  [ -n "$CXX_BIN" ] || die "no C++ compiler (g++, c++ or clang++) on this machine"
  log "compiler: $CXX_BIN: $("$CXX_BIN" --version | head -1)"
  command -v python3 >/dev/null || die "no python3 on this machine (it is where PyTorch is)"
  if [ "$DRY" = 1 ]; then
    log "DRY RUN on the CPU with the system libtorch"
    echo '{"dry_run": true}' >"$RES/machine.json"
    TORCH_PREFIX=""
    NVCC=""
    source .deps/device/env.sh
    choose_tools
    return
  fi
  # Ask PyTorch before env.sh changes LD_LIBRARY_PATH.
  TORCH_INFO=$(python3 - <<'PY' 2>&1
import json, torch
info = {"torch": torch.__version__, "cuda": torch.version.cuda, "cmake_prefix_path": torch.utils.cmake_prefix_path,
        "cuda_available": torch.cuda.is_available(), "cxx11_abi": torch._C._GLIBCXX_USE_CXX11_ABI}
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    info.update(gpu=p.name, capability=f"{p.major}.{p.minor}", gpu_memory_gib=round(p.total_memory / 2**30, 1))
print(json.dumps(info))
PY
  ) || die "python3 cannot import torch: $TORCH_INFO"
  echo "$TORCH_INFO" >"$RES/machine.json"
  log "torch: $TORCH_INFO"
  TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  [ -f "$TORCH_PREFIX/Torch/TorchConfig.cmake" ] || die "no TorchConfig.cmake under $TORCH_PREFIX"
  case "$TORCH_INFO" in *'"cuda": null'*) die "this PyTorch is a CPU build (torch.version.cuda is None)" ;; esac
  # CUDA toolkit for Torch's CMake package (find_package(CUDAToolkit)).
  NVCC=$(command -v nvcc || true)
  for c in /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
    [ -z "$NVCC" ] && [ -x "$c" ] && NVCC=$c
  done
  if [ -n "$NVCC" ]; then
    CUDA_HOME=${CUDA_HOME:-$(cd "$(dirname "$NVCC")/.." && pwd)}
    export CUDA_HOME CUDACXX=$NVCC
    export PATH=$(dirname "$NVCC"):$PATH
    log "nvcc: $NVCC ($("$NVCC" --version | tail -1)), CUDA_HOME $CUDA_HOME"
  else
    log "warning: no nvcc found; Torch's CMake package may not find the CUDA toolkit"
  fi
  nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || log "warning: nvidia-smi failed (see nvidia-smi.txt)"
  # NCCL's header, which c10d's NCCL group includes: a pip PyTorch keeps it in its nvidia-nccl
  # package; a CUDA toolkit or a system NCCL under include/.
  NCCL_INC=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
for root in site.getsitepackages() + [site.getusersitepackages()]:
    found = sorted(glob.glob(os.path.join(root, "nvidia", "**", "nccl.h"), recursive=True))
    if found:
        print(os.path.dirname(found[0]))
        break
PY
  ) || true
  for d in "$NCCL_INC" "${CUDA_HOME:-/usr/local/cuda}/include" /usr/include; do
    if [ -n "$d" ] && [ -f "$d/nccl.h" ]; then NCCL_INC=$d; break; fi
    NCCL_INC=""
  done
  log "nccl.h: ${NCCL_INC:-not found (data-parallel ranks will have Gloo only)}"

  # shellcheck source=/dev/null
  source .deps/device/env.sh
  choose_tools
}

choose_tools() {
  # CMake: the machine's own if it is 3.22 or newer (also PyPI's, through python3), else ours.
  CMAKE_BIN=""
  for c in "$(command -v cmake || true)" \
           "$(env -u LD_LIBRARY_PATH python3 -c 'import cmake, os; print(os.path.join(cmake.CMAKE_BIN_DIR, "cmake"))' 2>/dev/null)" \
           "$GAFX_DEVICE_ROOT/opt/cmake/bin/cmake"; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    v=$("$c" --version 2>/dev/null | head -1 | awk '{print $3}')
    if [ -n "$v" ] && printf '3.22\n%s\n' "$v" | sort -V -C; then CMAKE_BIN=$c; break; fi
  done
  if [ -z "$CMAKE_BIN" ]; then
    missing=$(ldd "$GAFX_DEVICE_ROOT/opt/cmake/bin/cmake" 2>&1 | grep 'not found' | tr -s ' \t\n' ' ')
    die "no CMake 3.22+ here and the carried one does not start${missing:+ (missing: $missing)}"
  fi
  NINJA_BIN=$(command -v ninja || true)
  [ -n "$NINJA_BIN" ] || die "no ninja (not even the carried one in .deps/device/root/usr/bin)"
  log "cmake: $CMAKE_BIN ($("$CMAKE_BIN" --version | head -1)), ninja: $NINJA_BIN ($("$NINJA_BIN" --version))"
  log "pkg-config: $PKG_CONFIG, packages from $GAFX_DEVICE_ROOT"
}

# ---------------------------------------------------------------- configure + build
build() {
  local t0=$SECONDS lim
  export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} # H200 = sm_90; nothing here compiles CUDA
  local args=(-S . -B "$BUILD" -G Ninja -DCMAKE_MAKE_PROGRAM="$NINJA_BIN" -DCMAKE_BUILD_TYPE=Release
    -DGAFX_BUILD_GUI=OFF -DGAFX_BUILD_TESTS=ON -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON
    "-DCMAKE_PREFIX_PATH=${TORCH_PREFIX:+$TORCH_PREFIX;}$GAFX_DEVICE_ROOT/usr" -DCMAKE_CXX_COMPILER="$CXX_BIN"
    -Wno-dev)
  [ "$DRY" = 1 ] || args+=(-DCMAKE_CUDA_ARCHITECTURES=90 -DUSE_SYSTEM_NVTX=ON)
  [ -n "${NVCC:-}" ] && args+=(-DCMAKE_CUDA_COMPILER="$NVCC" -DCUDAToolkit_ROOT="$CUDA_HOME")
  [ -n "${NCCL_INC:-}" ] && args+=(-DGAFX_NCCL_INCLUDE_DIR="$NCCL_INC")
  # shellcheck disable=SC2206 # split on purpose: several -D arguments
  [ -n "${GAFX_DEVICE_CMAKE_ARGS:-}" ] && args+=($GAFX_DEVICE_CMAKE_ARGS)
  lim=$(limit_for 180)
  need configure "$lim"
  log "configure (limit ${lim}s): $CMAKE_BIN ${args[*]}"
  if ! timeout -k 10 "$lim" "$CMAKE_BIN" "${args[@]}" >"$OUT/configure.log" 2>&1; then
    record configure failed "$((SECONDS - t0))" "see configure.log"
    die "cmake configure failed (or passed ${lim}s)" "$OUT/configure.log"
  fi
  record configure ok "$((SECONDS - t0))" "$(grep -m1 -E 'Found Torch|Torch' "$OUT/configure.log" | cut -c1-200)"
  grep -E 'Torch|CUDA|C\+\+20|Qt6|pkg-config|Found' "$OUT/configure.log" | head -20
  t0=$SECONDS
  lim=$(limit_for 420)
  need build "$lim"
  log "build gafx + cuda_check with $(nproc) jobs (limit ${lim}s)"
  if ! timeout -k 10 "$lim" "$CMAKE_BIN" --build "$BUILD" --target gafx cuda_check -j "$(nproc)" >"$OUT/build.log" 2>&1; then
    # The calls into libtorch_cuda were written where there is no CUDA (type-checked against
    # Debian's headers and stubs only): when one of those files fails, build without it rather
    # than lose the run. The allocator statistics' option also leaves out the graphs and NCCL.
    local off=()
    grep -q 'graph_step\.cpp' "$OUT/build.log" && off+=(-DGAFX_CUDA_GRAPHS=OFF)
    grep -q 'device_memory\.cpp' "$OUT/build.log" && off+=(-DGAFX_TORCH_CUDA=OFF)
    grep -q 'nccl_group\.cpp' "$OUT/build.log" && off+=(-DGAFX_NCCL=OFF)
    if [ ${#off[@]} -gt 0 ] && [ "$(limit_for 300)" -ge 60 ]; then
      log "the engine's CUDA-only code did not compile (see build-cuda.log): building again with ${off[*]}"
      cp "$OUT/build.log" "$OUT/build-cuda.log"
      record build-cuda failed "$((SECONDS - t0))" "see build-cuda.log"
      "$CMAKE_BIN" "${off[@]}" "$BUILD" >>"$OUT/configure.log" 2>&1
      lim=$(limit_for 300)
      timeout -k 10 "$lim" "$CMAKE_BIN" --build "$BUILD" --target gafx cuda_check -j "$(nproc)" >"$OUT/build.log" 2>&1 ||
        { record build failed "$((SECONDS - t0))" "see build.log"; die "the build failed (or passed ${lim}s)" "$OUT/build.log"; }
      STATUS=1
    else
      record build failed "$((SECONDS - t0))" "see build.log"
      die "the build failed (or passed ${lim}s)" "$OUT/build.log"
    fi
  fi
  record build ok "$((SECONDS - t0))" ""
  log "built in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- checks
GAFX=$BUILD/app/gafx
CHECK=$BUILD/tests/device/cuda_check
check() {
  local t0=$SECONDS lim rc
  [ -x "$GAFX" ] && [ -x "$CHECK" ] || die "no build in $BUILD: run the build phase first"
  lim=$(limit_for 240)
  need cuda_check "$lim"
  log "cuda_check (limit ${lim}s)"
  local dry=()
  [ "$DRY" = 1 ] && dry=(--cpu-dry-run)
  timeout -k 10 "$lim" "$CHECK" "${dry[@]}" --json "$RES/cuda_check.json" --workdir "$BUILD/cuda-check-work" >"$OUT/cuda_check.log" 2>&1
  rc=$?
  cat "$OUT/cuda_check.log"
  if [ $rc -ne 0 ]; then
    STATUS=1
    record cuda_check failed "$((SECONDS - t0))" "exit $rc$([ $rc -ge 124 ] && echo ' (time limit)')"
  elif grep -q 'no CUDA device: skipped' "$OUT/cuda_check.log"; then
    STATUS=1
    record cuda_check failed "$((SECONDS - t0))" "libtorch sees no CUDA device"
  else
    record cuda_check ok "$((SECONDS - t0))" "$(tail -1 "$OUT/cuda_check.log")"
  fi
  t0=$SECONDS
  if timeout -k 5 60 "$GAFX" --version >"$RES/version.txt" 2>&1; then
    record version ok "$((SECONDS - t0))" "$(tr '\n' ';' <"$RES/version.txt" | cut -c1-600)"
  else
    STATUS=1
    record version failed "$((SECONDS - t0))" "$(tr '\n' ';' <"$RES/version.txt" | cut -c1-600)"
  fi
  cat "$RES/version.txt"
}

# ---------------------------------------------------------------- benchmarks
# One benchmark, the command after its name and time limit, within the budget: its stdout (JSON)
# is kept as the result, its stderr goes to bench.log.
run_bench() { # name limit command...
  local name=$1 want=$2 t0=$SECONDS lim rc
  shift 2
  fit_step "bench:$name" "$want" || return 0
  lim=$LIM
  log "bench $name (limit ${lim}s): $*"
  echo "===== $name: $*" >>"$OUT/bench.log"
  timeout -k 10 "$lim" "$@" >"$RES/$name.json" 2>"$RES/$name.err"
  rc=$?
  cat "$RES/$name.err" >>"$OUT/bench.log"
  if [ $rc -eq 0 ]; then
    record "bench:$name" ok "$((SECONDS - t0))" ""
    tr -d '\n ' <"$RES/$name.json" | cut -c1-400
    echo
  else
    STATUS=1
    local why="exit $rc"
    [ $rc -ge 124 ] && why="time limit ${lim}s"
    why="$why: $( (grep -m1 -i 'error' "$RES/$name.err" || tail -1 "$RES/$name.err") | cut -c1-300)"
    record "bench:$name" failed "$((SECONDS - t0))" "$why"
    log "bench $name: FAILED ($why)"
  fi
}
bench() { # name limit args...: gafx bench train
  local name=$1 want=$2
  shift 2
  [[ "$name" =~ ${GAFX_DEVICE_BENCH_ONLY:-.} ]] || return 0
  local run=(--device cuda --batch 4 --steps 30 --warmup 5 --json "$@")
  [ "$DRY" = 1 ] && run=(--device cpu --batch 4 --json --steps 1 --warmup 0 "$@")
  run_bench "$name" "$want" "$GAFX" bench train "${run[@]}"
}
# PyTorch eager on the same machine: tests/bench/peer_train_step.py, the AST step op for op.
peer() { # name limit args...
  local name=$1 want=$2
  shift 2
  [[ "$name" =~ ${GAFX_DEVICE_BENCH_ONLY:-.} ]] || return 0
  local run=(--device cuda --batch 4 --steps 30 --warmup 5 --json "$@") py=python3
  [ "$DRY" = 1 ] && run=(--device cpu --batch 4 --steps 1 --warmup 0 --json "$@") && py=/usr/bin/python3
  # Without env.sh's LD_LIBRARY_PATH: PyTorch brings its own libraries.
  run_bench "$name" "$want" env -u LD_LIBRARY_PATH -u PYTHONPATH PYTHONUNBUFFERED=1 \
    "$py" tests/bench/peer_train_step.py "${run[@]}"
}
benches() {
  [ -x "$GAFX" ] || die "no gafx in $BUILD: run the build phase first"
  local p
  # Most telling first, so a short budget drops the least: AST-Small on the mel map at AST's
  # 1024 frames (and alone), then the learned extractors at paper size.
  # The -graph runs replay each step as a CUDA graph (GPU only; left out of a dry run).
  for p in bf16 fp32; do bench "mel-ast-small-1024-$p" 90 --extractor mel --frames 1024 --classifier ast-small --precision $p; done
  [ "$DRY" = 1 ] || bench "mel-ast-small-1024-bf16-graph" 90 --extractor mel --frames 1024 --classifier ast-small --precision bf16 --cuda-graph
  for p in bf16 fp32; do bench "none-ast-small-1024-$p" 90 --extractor none --frames 1024 --classifier ast-small --precision $p; done
  [ "$DRY" = 1 ] || bench "none-ast-small-1024-bf16-graph" 90 --extractor none --frames 1024 --classifier ast-small --precision bf16 --cuda-graph
  peer "peer-ast-small-1024" 120 --model ast-small --frames 1024 --precision both
  for p in bf16 fp32; do bench "gafx-u-ast-tiny-10s-$p" 120 --extractor gafx-u --seconds 10 --classifier ast-tiny --precision $p; done
  for p in bf16 fp32; do bench "gafx-r-ast-small-10s-$p" 120 --extractor gafx-r --seconds 10 --classifier ast-small --precision $p; done
  [ "$DRY" = 1 ] || bench "gafx-u-ast-tiny-10s-bf16-graph" 120 --extractor gafx-u --seconds 10 --classifier ast-tiny --precision bf16 --cuda-graph
  [ "$DRY" = 1 ] || bench "gafx-r-ast-small-10s-bf16-graph" 120 --extractor gafx-r --seconds 10 --classifier ast-small --precision bf16 --cuda-graph
  for p in bf16 fp32; do bench "gafx-u-ast-tiny-30s-$p" 150 --extractor gafx-u --seconds 30 --classifier ast-tiny --precision $p; done
  # Memory for time: the same step with activation checkpointing, eager and replayed.
  bench "gafx-u-ast-tiny-30s-bf16-checkpointing" 150 --extractor gafx-u --seconds 30 --classifier ast-tiny --precision bf16 --checkpointing
  [ "$DRY" = 1 ] || bench "gafx-u-ast-tiny-30s-bf16-checkpointing-graph" 150 --extractor gafx-u --seconds 30 --classifier ast-tiny --precision bf16 --checkpointing --cuda-graph
}

# ---------------------------------------------------------------- runs on one GPU (issue 15)
# Whole `gafx train` runs of the demo set, as a user starts them, each into its own copy of one
# workspace: one process; two data-parallel ranks sharing the GPU over Gloo (not a scaling figure:
# what two ranks cost on one device); NCCL at two ranks on one GPU, which gafx must refuse by name
# (NCCL gives each rank its own GPU); and demo_grid.json's four runs one after another against
# --devices cuda:0,cuda:0 (the multi-run path, two processes on the one GPU). Each result: exit
# code, wall seconds and `gafx runs --json` (every run's seconds, world size and backend).
RUNS_WORK=$BUILD/runs-work
train_case() { # name limit expect(ok|refused) args...: gafx train ARGS --db a copy of the workspace
  local name=$1 want=$2 expect=$3 t0=$SECONDS lim rc db
  shift 3
  [[ "runs:$name" =~ ${GAFX_DEVICE_BENCH_ONLY:-.} ]] || return 0
  fit_step "runs:$name" "$want" || return 0
  lim=$LIM
  db=$RUNS_WORK/$name.db
  cp "$RUNS_WORK/base.db" "$db"
  log "runs $name (limit ${lim}s): gafx train $*"
  local log=$RES/$name.log
  timeout -k 10 "$lim" "$GAFX" train "$@" --db "$db" --cache "$RUNS_WORK/cache" >"$log" 2>&1
  rc=$?
  { echo "===== $name: gafx train $*"; cat "$log"; } >>"$OUT/runs.log"
  local wall=$((SECONDS - t0)) runs why
  runs=$("$GAFX" runs --json --db "$db" 2>/dev/null) || runs=null
  printf '{"command": "gafx train %s", "exit": %d, "wall_s": %d, "expect": "%s", "runs": %s}\n' \
    "$*" "$rc" "$wall" "$expect" "$runs" >"$RES/$name.json"
  # A refusal is an error line naming its cause: gafx's own, or a rank's (run N failed: ...).
  why=$(grep -m1 -E 'gafx: error|one GPU|failed' "$log" | cut -c1-300)
  if [ "$expect" = ok ] && [ $rc -eq 0 ]; then
    record "runs:$name" ok "$wall" ""
  elif [ "$expect" = refused ] && [ $rc -ne 0 ] && [ $rc -lt 124 ] && [ -n "$why" ]; then
    record "runs:$name" ok "$wall" "refused as it should be: $why"
  else
    STATUS=1
    why="exit $rc$([ $rc -ge 124 ] && echo ' (time limit)'), expected $expect: ${why:-$(tail -1 "$log" | cut -c1-300)}"
    record "runs:$name" failed "$wall" "$why"
    log "runs $name: FAILED ($why)"
  fi
}
runs() {
  [ -x "$GAFX" ] || die "no gafx in $BUILD: run the build phase first"
  local dev=cuda devices=cuda:0,cuda:0 tracks=10 t0=$SECONDS
  [ "$DRY" = 1 ] && dev=cpu devices=cpu,cpu tracks=3
  rm -rf "$RUNS_WORK"
  mkdir -p "$RUNS_WORK"
  if ! { "$GAFX" dataset demo "$RUNS_WORK/demo-gtzan" --tracks-per-genre "$tracks" &&
    "$GAFX" dataset import gtzan "$RUNS_WORK/demo-gtzan" --name demo --db "$RUNS_WORK/base.db"; } >>"$OUT/runs.log" 2>&1; then
    STATUS=1
    record "runs:dataset" failed "$((SECONDS - t0))" "$(tail -1 "$OUT/runs.log" | cut -c1-300)"
    return
  fi
  record "runs:dataset" ok "$((SECONDS - t0))" "demo set, $tracks tracks per genre"
  # The first fills the waveform and fbank caches the others read, so they compare.
  train_case cold 90 ok experiments/demo.json --device $dev
  train_case one-process 90 ok experiments/demo.json --device $dev
  train_case gloo-2-ranks 120 ok experiments/demo.json --device $dev --nproc 2 --backend gloo
  train_case nccl-2-ranks 60 refused experiments/demo.json --device $dev --nproc 2 --backend nccl
  train_case grid-one-process 150 ok experiments/demo_grid.json --device $dev
  train_case grid-devices-2 150 ok experiments/demo_grid.json --devices $devices
}

case "$PHASE" in
  all) preflight; build; check; benches; runs ;;
  build) preflight; build ;;
  check) preflight; check ;;
  bench) preflight; benches ;;
  runs) preflight; runs ;;
  *) die "unknown phase '$PHASE' (all, build, check, bench, runs)" ;;
esac
finish
