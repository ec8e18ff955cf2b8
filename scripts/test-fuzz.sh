#!/usr/bin/env bash
# The fuzz stage of the README's test command (scripts/test.sh): libFuzzer harnesses of every
# reader of outside files (tests/fuzz: .pt pickles, safetensors, npy, experiment JSON, CSV, audio
# through libsndfile, waveform- and feature-cache entries), built with clang, ASan and UBSan in
# build-fuzz/, each run for GAFX_FUZZ_SECONDS (default 30; longer by hand) from its seeds:
# tests/data/fuzz/<target>/ and the project's own files of that kind. A memory blow-up past the
# limits below is a finding like a crash. A finding leaves its input in build-fuzz/findings/;
# once fixed, it goes under tests/data/fuzz/<target>/ (named for what it found), where
# test_fuzz_regressions replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${GAFX_FUZZ_SECONDS:-30}"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DGAFX_FUZZ=ON >/dev/null
cmake --build build-fuzz --parallel "$(nproc)"

seeds() { # target -> the project's own files of its kind, those under -max_len
  case "$1" in
    torch_zip) find tests/data -maxdepth 1 \( -name '*.pt' -o -name '*.pth' \) -size -64k ;;
    safetensors) find tests/data -maxdepth 1 -name '*.safetensors' -size -64k ;;
    experiment) ls experiments/*.json experiments/*/*.json ;;
    *) ;;
  esac
}

fuzz_one() { # target -> runs its fuzzer; the log ends in build-fuzz/logs/<target>.log
  local t="$1" corpus="build-fuzz/corpus/$1"
  rm -rf "$corpus"
  mkdir -p "$corpus" build-fuzz/findings build-fuzz/logs
  cp tests/data/fuzz/"$t"/* "$corpus"/
  for f in $(seeds "$t"); do cp "$f" "$corpus/seed-$(basename "$f")"; done
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/tests/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=20 \
      -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/findings/$t-" >"build-fuzz/logs/$t.log" 2>&1
}

targets=(torch_zip safetensors npy experiment csv audio waveform_cache feature_cache)
failed=()
pids=()
names=()
jobs_max="$(nproc)"
start=$(date +%s)
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 1; done
  fuzz_one "$t" &
  pids+=("$!")
  names+=("$t")
done
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then failed+=("${names[$i]}"); fi
done

printf '%-16s %12s %10s %8s\n' target executions exec/s corpus
for t in "${targets[@]}"; do
  log="build-fuzz/logs/$t.log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  printf '%-16s %12s %10s %8s\n' "$t" "${runs:-?}" "${rate:-?}" "$(ls "build-fuzz/corpus/$t" | wc -l)"
done
echo "fuzz stage: ${#targets[@]} targets x ${seconds} s, $(( $(date +%s) - start )) s wall"
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "=== fuzz_$t found a problem (input in build-fuzz/findings/$t-*):" >&2
    tail -n 60 "build-fuzz/logs/$t.log" >&2
  done
  exit 1
fi
