// A ViT block's LayerNorm under bf16 autocast, forward + backward from a bf16 gradient: what
// autocast runs (at::layer_norm in fp32, its output cast to bf16 at the next linear, the gradient
// cast back) against models/layer_norm_rows (fp32 in, bf16 out, bf16 gradient read as it is), at
// the token counts of AST's inputs, batch 4.
//
// usage: bench_layer_norm [--rounds N] [--threads T]
// Prints ms per LayerNorm (median of N rounds of 20) and the step time 24 of them (AST's 12
// blocks) would save.
#include "models/layer_norm_bf16.h"

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

double median_ms(bool ours, int64_t rows, int64_t cols, int rounds) {
    torch::manual_seed(0);
    const auto x = torch::randn({rows, cols}).requires_grad_(true);
    const auto w = torch::randn({cols}).requires_grad_(true), b = torch::randn({cols}).requires_grad_(true);
    const auto dy = torch::randn({rows, cols}).to(torch::kBFloat16);
    auto once = [&] {
        const auto y = ours ? gafx::models::layer_norm_to_bf16(x, w, b, 1e-6)
                            : at::layer_norm(x, {cols}, w, b, 1e-6).to(torch::kBFloat16);
        y.backward(dy);
    };
    for (int i = 0; i < 3; ++i) once();
    std::vector<double> ms;
    for (int r = 0; r < rounds; ++r) {
        const auto t = std::chrono::steady_clock::now();
        for (int i = 0; i < 20; ++i) once();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count() / 20);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    int rounds = 7, threads = int(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--threads")) threads = std::max(1, std::atoi(argv[i + 1]));
    }
    at::set_num_threads(threads);
    std::printf("LayerNorm forward + backward, bf16 out, %d threads, median of %d x 20 (ms)\n", threads, rounds);
    std::printf("%-28s %10s %10s %16s\n", "shape", "autocast", "rows", "per AST step");
    const struct {
        const char* name;
        int64_t rows, cols;
    } shapes[] = {{"AST-Tiny, 514 tokens", 4 * 514, 192},
                  {"AST-Small, 514 tokens", 4 * 514, 384},
                  {"AST-Tiny, 938 tokens", 4 * 938, 192},
                  {"AST-Tiny, 1650 tokens", 4 * 1650, 192}};
    for (const auto& s : shapes) {
        const double cast = median_ms(false, s.rows, s.cols, rounds), rows = median_ms(true, s.rows, s.cols, rounds);
        std::printf("%-28s %8.3f   %8.3f   %+8.2f ms saved\n", s.name, cast, rows, 24 * (cast - rows));
    }
    return 0;
}
