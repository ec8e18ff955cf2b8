// Attention alone: forward + backward time and the memory it adds, unfused (matmul, softmax,
// matmul: keeps the [B, H, N, N] probabilities for backward; in fp32 also with ATen's products in
// place of oneDNN's, the "aten" row) against blocked
// (models/blocked_attention: keeps the output and one statistic per query). Each case runs in
// its own forked child, so ru_maxrss less the RSS after making the inputs is that case's own.
// Usage: bench_attention [--tokens 1650,514] [--batch 4] [--heads 3] [--head-dim 64]
//                        [--precision bf16|fp32] [--block 96] [--threads N] [--repeat 5]
#include "core/cpu_tuning.h"
#include "models/blocked_attention.h"
#include "models/onednn_matmul.h"
#include "models/vit_block.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace gafx;

namespace {

double rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024.0;
}

// Current, not peak, resident size.
double current_mib() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// unfused: matmul, softmax, matmul (fp32 products through oneDNN where it is built in);
// aten: the same with ATen's products (OpenBLAS for fp32); blocked: models/blocked_attention.
enum class Kind { Unfused, Aten, Blocked };

void one(Kind kind, int64_t tokens, int64_t batch, int64_t heads, int64_t dim, torch::Dtype dtype, int64_t block,
         int repeat) {
    torch::manual_seed(0);
    auto make = [&] { return torch::randn({batch, heads, tokens, dim}).to(dtype).requires_grad_(true); };
    auto q = make(), k = make(), v = make();
    const auto dout = torch::randn({batch, heads, tokens, dim}).to(dtype);
    const double scale = 1.0 / std::sqrt(double(dim));
    auto step = [&] {
        q.mutable_grad() = torch::Tensor();
        k.mutable_grad() = torch::Tensor();
        v.mutable_grad() = torch::Tensor();
        auto out = kind == Kind::Blocked ? models::blocked_attention(q, k, v, scale, block)
                                         : models::scaled_dot_attention(q, k, v, scale);
        out.backward(dout);
    };
    models::set_onednn_matmul(kind != Kind::Aten);
    const double before = current_mib();
    step(); // warm-up: allocator and kernels
    std::vector<double> times;
    for (int i = 0; i < repeat; ++i) {
        const auto t = std::chrono::steady_clock::now();
        step();
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    }
    std::sort(times.begin(), times.end());
    std::printf("%-8s tokens %5lld  fwd+bwd median %8.4f s (min %.4f)  memory added %7.0f MiB\n",
                kind == Kind::Blocked ? "blocked" : kind == Kind::Aten ? "aten" : "unfused", (long long)tokens,
                times[times.size() / 2], times.front(), rss_mib() - before);
    std::fflush(stdout);
}

std::vector<int64_t> list(const std::string& s) {
    std::vector<int64_t> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');) out.push_back(std::atoll(item.c_str()));
    return out;
}

} // namespace

int main(int argc, char** argv) {
    gafx::tune_cpu_runtime(argv);
    std::vector<int64_t> tokens{1650, 514};
    int64_t batch = 4, heads = 3, dim = 64, block = 96;
    int threads = 0, repeat = 5;
    std::string precision = "bf16";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--tokens") tokens = list(v);
        else if (k == "--batch") batch = std::atoll(v.c_str());
        else if (k == "--heads") heads = std::atoll(v.c_str());
        else if (k == "--head-dim") dim = std::atoll(v.c_str());
        else if (k == "--block") block = std::atoll(v.c_str());
        else if (k == "--threads") threads = std::atoi(v.c_str());
        else if (k == "--repeat") repeat = std::max(1, std::atoi(v.c_str()));
        else if (k == "--precision" && (v == "bf16" || v == "fp32")) precision = v;
        else {
            std::fprintf(stderr, "unknown option %s %s\n", k.c_str(), v.c_str());
            return 2;
        }
    }
    if (threads > 0) set_compute_threads(threads);
    const auto dtype = precision == "bf16" ? torch::kBFloat16 : torch::kFloat32;
    std::printf("CPU, %d threads, %s, batch %lld x %lld heads x head dim %lld, block %lld, %d timed runs\n",
                at::get_num_threads(), precision.c_str(), (long long)batch, (long long)heads, (long long)dim,
                (long long)block, repeat);
    for (int64_t n : tokens)
        for (Kind kind : {Kind::Unfused, Kind::Aten, Kind::Blocked}) {
            // The ATen row differs from the unfused one only where oneDNN runs fp32 products.
            if (kind == Kind::Aten && (dtype != torch::kFloat32 || !models::onednn_matmul_available())) continue;
            std::fflush(stdout);
            const pid_t child = fork();
            if (child == 0) {
                if (threads > 0) set_compute_threads(threads);
                one(kind, n, batch, heads, dim, dtype, block, repeat);
                _exit(0);
            }
            int status = 0;
            waitpid(child, &status, 0);
        }
    return 0;
}
