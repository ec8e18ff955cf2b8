// Adam's update alone (train/adam): the fused single pass (with bf16 working copies, as a bf16
// step runs it) against the per-tensor kernels, on parameters shaped like AST-Small's (22 M in 12
// blocks of qkv/proj/fc1/fc2 plus their biases and norms), at 1 thread and at every core.
//
// usage: bench_adam [--rounds N] [--params-scale S]
// Prints ms per update (median of N rounds of 10 updates) for each path and thread count.
#include "core/cpu_tuning.h"
#include "train/adam.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace gafx;

namespace {

std::vector<std::pair<std::string, torch::Tensor>> ast_small_like(double scale) {
    const int64_t d = int64_t(384 * scale), blocks = 12;
    std::vector<std::pair<std::string, torch::Tensor>> out;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
        out.emplace_back(name, torch::randn(shape).requires_grad_(true));
    };
    for (int64_t b = 0; b < blocks; ++b) {
        const std::string p = "blocks." + std::to_string(b) + ".";
        add(p + "attn.qkv.weight", {3 * d, d});
        add(p + "attn.qkv.bias", {3 * d});
        add(p + "attn.proj.weight", {d, d});
        add(p + "attn.proj.bias", {d});
        add(p + "mlp.fc1.weight", {4 * d, d});
        add(p + "mlp.fc1.bias", {4 * d});
        add(p + "mlp.fc2.weight", {d, 4 * d});
        add(p + "mlp.fc2.bias", {d});
        add(p + "norm1.weight", {d});
        add(p + "norm2.weight", {d});
    }
    return out;
}

double median_ms(bool fused, bool working, int threads, int rounds, double scale) {
    at::set_num_threads(threads);
    torch::manual_seed(0);
    auto params = ast_small_like(scale);
    train::AdamOptions o;
    o.fused = fused;
    train::Adam adam(params, o);
    if (working) {
        std::vector<torch::Tensor> weights;
        for (const auto& p : params)
            if (p.second.dim() == 2) weights.push_back(p.second);
        adam.keep_working_copies(weights, torch::kBFloat16);
    }
    for (auto& p : params) p.second.mutable_grad() = torch::randn(p.second.sizes());
    adam.step(1e-4); // first touch: state allocated
    std::vector<double> ms;
    for (int r = 0; r < rounds; ++r) {
        const auto t = std::chrono::steady_clock::now();
        for (int i = 0; i < 10; ++i) adam.step(1e-4);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count() / 10);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    // gafx's own process settings. Without its malloc thresholds every temporary of the
    // per-tensor kernels is mapped afresh and faulted in, and two threads faulting at once ran
    // them 2-10x slower than one (tests/bench/README.md).
    gafx::tune_cpu_runtime(argv);
    int rounds = 5;
    double scale = 1.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--params-scale")) scale = std::atof(argv[i + 1]);
    }
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    int64_t n = 0;
    for (const auto& p : ast_small_like(scale)) n += p.second.numel();
    std::printf("Adam update, %.1f M parameters (AST-Small's blocks), median of %d x 10 updates\n", n / 1e6, rounds);
    std::printf("%-34s %8s %8s\n", "path", "1 thread", (std::to_string(cores) + " threads").c_str());
    const struct {
        const char* name;
        bool fused, working;
    } paths[] = {{"per-tensor kernels (torch's Adam)", false, false},
                 {"fused single pass", true, false},
                 {"fused + bf16 working copies", true, true}};
    for (const auto& p : paths)
        std::printf("%-34s %6.1f ms %6.1f ms\n", p.name, median_ms(p.fused, p.working, 1, rounds, scale),
                    median_ms(p.fused, p.working, cores, rounds, scale));
    return 0;
}
