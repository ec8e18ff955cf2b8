// What averaging gradients across data-parallel ranks costs on this machine: train::World
// (c10d, Gloo over 127.0.0.1) with N ranks, one process each, averaging a model's worth of
// fp32 gradients in DDP's 25 MB buckets. Sizes are parameter counts of the models here: AST-Tiny
// (paper size), AST-Small, and GAFX-U + AST-Tiny. Prints the median of --repeat rounds per size.
// Usage: bench_allreduce [--ranks N] [--repeat R]
#include "test_support.h"
#include "train/distributed.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace gafx;

namespace {


struct Size {
    const char* model;
    int64_t params;
};
const Size kSizes[] = {{"ast-tiny (paper)", 5'600'000}, {"ast-small (paper)", 21'800'000},
                       {"gafx-u + ast-tiny (paper)", 89'200'000}};

void rank_main(int rank, int ranks, int port, int repeat) {
    train::WorldSpec spec;
    spec.rank = rank;
    spec.world_size = ranks;
    spec.master_port = port;
    auto world = train::World::join(spec);
    for (const Size& size : kSizes) {
        // Layers of at most 1 M values, as a transformer's weights come.
        std::vector<at::Tensor> grads;
        for (int64_t left = size.params; left > 0; left -= 1'000'000)
            grads.push_back(at::full({std::min<int64_t>(left, 1'000'000)}, float(rank)));
        std::vector<double> ms;
        for (int r = 0; r < repeat + 1; ++r) {
            world->barrier();
            const auto t0 = std::chrono::steady_clock::now();
            world->average(grads);
            const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            if (r > 0) ms.push_back(t); // the first round sets up the pairs
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2];
        if (rank == 0)
            std::printf("%-28s %6.1f M params %7.1f MB  %8.1f ms per average  %6.2f GB/s (bucket bytes / time)\n",
                        size.model, double(size.params) / 1e6, double(size.params) * 4 / 1e6, median,
                        double(size.params) * 4 / 1e9 / (median / 1e3));
    }
}

} // namespace

int main(int argc, char** argv) {
    int ranks = 2, repeat = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--ranks")) ranks = std::max(2, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
    }
    if (!train::have_gloo()) {
        std::printf("this build has no Gloo process group\n");
        return 1;
    }
    at::set_num_threads(1);
    const int port = test::free_loopback_port();
    std::printf("gradient averaging, %d ranks on 127.0.0.1 (Gloo, 25 MB buckets), median of %d\n", ranks, repeat);
    std::vector<pid_t> children;
    for (int r = 1; r < ranks; ++r) {
        const pid_t c = fork();
        if (c == 0) {
            rank_main(r, ranks, port, repeat);
            _exit(0);
        }
        children.push_back(c);
    }
    rank_main(0, ranks, port, repeat);
    for (pid_t c : children) waitpid(c, nullptr, 0);
    return 0;
}
