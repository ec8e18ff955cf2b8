// The fp32 products of an AST-Tiny step at 1024 frames, batch 4 (514 tokens, width 192, 3
// heads), alone: ATen's (OpenBLAS) against models/onednn_matmul's (oneDNN), in the layouts the
// step gives them: attention's strided q, k, v views and the transposed views of the backward,
// the linears with bias.
//
// usage: bench_matmul [--threads T] [--rounds N]
// Prints GFLOP/s per product, the median of N rounds of 15 calls each, ATen and oneDNN
// interleaved round by round.
#include "core/cpu_tuning.h"
#include "models/onednn_matmul.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

double seconds_per_call(const std::function<void()>& f) {
    f();
    const auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < 15; ++i) f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count() / 15;
}

struct Case {
    std::string name;
    double flops;
    std::function<torch::Tensor()> run; // through models::, which the switch sends to ATen or oneDNN
};

} // namespace

int main(int argc, char** argv) {
    using namespace gafx;
    tune_cpu_runtime(argv);
    int threads = 2, rounds = 9;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--threads") threads = std::atoi(argv[i + 1]);
        else if (k == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
        else {
            std::fprintf(stderr, "usage: bench_matmul [--threads T] [--rounds N]\n");
            return 2;
        }
    }
    set_compute_threads(threads);
    if (!models::onednn_matmul_available()) {
        std::printf("built without libdnnl-dev: nothing to compare\n");
        return 0;
    }
    torch::NoGradGuard no_grad;
    torch::manual_seed(0);
    const int64_t b = 4, n = 514, d = 192, h = 3, hd = 64;
    // q, k, v as attention's unbind leaves them: views of one [B, N, 3, H, hd] product.
    const auto qkv = torch::randn({b, n, 3, h, hd}).permute({2, 0, 3, 1, 4});
    const auto q = qkv[0], k = qkv[1], v = qkv[2];
    const auto p = torch::softmax(torch::randn({b, h, n, n}), -1);
    const auto x = torch::randn({b, n, d}), x4 = torch::randn({b, n, 4 * d});
    const auto w_qkv = torch::randn({3 * d, d}), w_fc2 = torch::randn({d, 4 * d}), bias = torch::randn({3 * d});
    const auto bias_d = torch::randn({d});
    const double att = 2.0 * b * h * n * n * hd;
    const std::vector<Case> cases{
        {"q kT      [4,3,514,64] x [4,3,64,514]", att, [&] { return models::matmul_fp32(q, k.transpose(-2, -1)); }},
        {"p v       [4,3,514,514] x [4,3,514,64]", att, [&] { return models::matmul_fp32(p, v); }},
        {"pT dout   (backward: dv)", att, [&] { return models::matmul_fp32(p.transpose(-2, -1), v); }},
        {"linear    2056 x 192 -> 576, bias", 2.0 * b * n * d * 3 * d,
         [&] { return models::linear_fp32(x, w_qkv, bias); }},
        {"linear    2056 x 768 -> 192, bias", 2.0 * b * n * 4 * d * d,
         [&] { return models::linear_fp32(x4, w_fc2, bias_d); }},
    };
    std::printf("fp32 products of an AST-Tiny step (1024 frames, batch 4), %d threads, GFLOP/s, median of %d rounds\n",
                at::get_num_threads(), rounds);
    std::printf("%-42s %10s %10s\n", "product", "ATen", "oneDNN");
    for (const auto& c : cases) {
        std::vector<double> aten, onednn;
        for (int r = 0; r < rounds; ++r)
            for (bool on : {false, true}) {
                models::set_onednn_matmul(on);
                (on ? onednn : aten).push_back(c.flops / seconds_per_call([&] { c.run(); }) / 1e9);
            }
        for (auto* v : {&aten, &onednn}) std::nth_element(v->begin(), v->begin() + v->size() / 2, v->end());
        std::printf("%-42s %10.0f %10.0f\n", c.name.c_str(), aten[aten.size() / 2], onednn[onednn.size() / 2]);
    }
    return 0;
}
