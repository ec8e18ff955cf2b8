// The softmax of unfused attention's bf16 scores, forward + backward from a bf16 gradient:
// at::_softmax (what a CPU bf16 step ran before) against models/softmax_rows, at the token counts
// of AST's inputs, batch 4, AST-Tiny's 3 heads.
//
// usage: bench_softmax [--rounds N] [--threads T] [--cold]
// Prints ms per softmax (median of N rounds of 10) and the step time 12 of them (AST's 12 blocks)
// would save. --cold overwrites 64 MiB before each call, as the rest of a training step does
// between two attention blocks, so the scores come from memory rather than the cache.
#include "core/cpu_tuning.h"
#include "models/softmax_bf16.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

double median_ms(bool ours, int64_t tokens, int rounds, bool cold) {
    gafx::models::set_softmax_rows(ours);
    torch::manual_seed(0);
    const auto x = (torch::randn({4, 3, tokens, tokens}) * 3).to(torch::kBFloat16).requires_grad_(true);
    const auto dy = torch::randn({4, 3, tokens, tokens}).to(torch::kBFloat16);
    std::vector<char> other(cold ? size_t(64) << 20 : 0);
    auto once = [&] {
        if (cold) std::memset(other.data(), int(other[1]) + 1, other.size());
        const auto t = std::chrono::steady_clock::now();
        gafx::models::softmax_last_dim(x).backward(dy);
        x.mutable_grad().reset();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
    };
    for (int i = 0; i < 3; ++i) once();
    std::vector<double> ms;
    for (int r = 0; r < rounds; ++r) {
        double sum = 0;
        for (int i = 0; i < 10; ++i) sum += once();
        ms.push_back(sum / 10);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    gafx::tune_cpu_runtime(argv); // the allocator and OpenMP settings `gafx` trains with
    int rounds = 7, threads = int(std::max(1u, std::thread::hardware_concurrency()));
    bool cold = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--cold")) cold = true;
        else if (i + 1 < argc && !std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[++i]));
        else if (i + 1 < argc && !std::strcmp(argv[i], "--threads")) threads = std::max(1, std::atoi(argv[++i]));
    }
    at::set_num_threads(threads);
    std::printf("softmax of [4, 3, N, N] bf16 scores, forward + backward, %d threads%s, median of %d x 10 (ms)\n",
                threads, cold ? ", cold" : "", rounds);
    std::printf("%-22s %10s %10s %18s\n", "tokens", "at::", "rows", "per AST step");
    for (const int64_t tokens : {514, 938, 1650}) {
        const double aten = median_ms(false, tokens, rounds, cold), rows = median_ms(true, tokens, rounds, cold);
        std::printf("%-22lld %8.3f   %8.3f   %+10.2f ms saved\n", (long long)tokens, aten, rows, 12 * (aten - rows));
    }
    return 0;
}
