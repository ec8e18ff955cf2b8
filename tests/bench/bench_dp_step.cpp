// A data-parallel training step on this machine: AST-Tiny (paper size, 1024 fbank frames, fp32)
// at a global batch of --batch, trained by 1 rank and by --ranks ranks (each its own process,
// the cores split among them, train::World over Gloo on 127.0.0.1), through the trainer's own
// step: each rank's slice, then the gradient sum before Adam, in 25 MB buckets after backward and
// then in train::GradReducer's buckets during backward, as the trainer does. Prints the median
// step time, the share of it spent waiting for the sum after backward, and clips per second.
// Usage: bench_dp_step [--ranks N] [--batch B] [--steps S] [--model ast-tiny|ast-small]
#include "core/cpu_tuning.h"
#include "models/registry.h"
#include "test_support.h"
#include "train/adam.h"
#include "train/data_parallel.h"
#include "train/grad_reducer.h"
#include "train/step.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace gafx;

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void rank_main(int rank, int ranks, int port, int batch, int steps, const std::string& model_name, bool overlap) {
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    set_compute_threads(std::max(1, cores / ranks));
    std::unique_ptr<train::World> world;
    if (ranks > 1) {
        train::WorldSpec spec;
        spec.rank = rank;
        spec.world_size = ranks;
        spec.master_port = port;
        world = train::World::join(spec);
    }
    torch::manual_seed(0);
    const int64_t frames = 1024, classes = 10, local = batch / ranks;
    models::Ast model = models::make_classifier(model_name, frames, classes, models::Preset::Paper);
    model->train();
    std::vector<std::pair<std::string, torch::Tensor>> params;
    for (const auto& p : model->named_parameters(true)) params.emplace_back(p.key(), p.value());
    train::Adam adam(params);
    const torch::Tensor input = torch::randn({local, frames, 128});
    const torch::Tensor targets = torch::randint(0, classes, {local}, torch::kInt64);
    double reduce_ms = 0;
    train::StepSettings ss;
    ss.lr = 5e-5;
    std::unique_ptr<train::GradReducer> reducer;
    if (world) {
        if (overlap) reducer = std::make_unique<train::GradReducer>(*world, adam);
        train::share_step(ss, *world, adam, batch, reducer.get());
        // What the step waits for the sum after backward: all of it without overlap, the rest with.
        ss.after_backward = [&, sum = ss.after_backward] {
            const auto t = Clock::now();
            sum();
            reduce_ms += ms_since(t);
        };
    }
    const train::Forward forward = [&](const torch::Tensor& x) { return model->forward(x); };
    std::vector<double> step_ms, share;
    for (int i = 0; i < steps + 2; ++i) {
        if (world) world->barrier();
        reduce_ms = 0;
        ss.step = i;
        const auto t = Clock::now();
        train::train_step(forward, adam, input, targets, ss);
        const double ms = ms_since(t);
        if (i >= 2) { // the first steps allocate and set up the pairs
            step_ms.push_back(ms);
            share.push_back(reduce_ms / ms);
        }
    }
    if (rank == 0)
        std::printf("%-10s %d rank(s) x %2d thread(s), %d clip(s) each: %8.1f ms per step  %5.1f clips/s  "
                    "waiting for the gradient sum %5.1f%% of the step%s\n",
                    model_name.c_str(), ranks, at::get_num_threads(), int(local), median(step_ms),
                    double(batch) / (median(step_ms) / 1e3), 100.0 * median(share),
                    !world ? "" : overlap ? " (summed during backward)" : " (summed after backward)");
}

} // namespace

int main(int argc, char** argv) {
    tune_cpu_runtime(argv); // gafx's own process settings, as every gafx rank has them
    int ranks = 2, batch = 4, steps = 5;
    std::string model = "ast-tiny";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--ranks")) ranks = std::max(2, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--batch")) batch = std::max(1, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--steps")) steps = std::max(1, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
    }
    if (!train::have_gloo()) {
        std::printf("this build has no Gloo process group\n");
        return 1;
    }
    if (batch % ranks) {
        std::printf("--batch %d does not split into %d ranks\n", batch, ranks);
        return 1;
    }
    std::printf("data-parallel step, %s paper size, fp32, global batch %d, %d cores, median of %d steps\n",
                model.c_str(), batch, int(std::thread::hardware_concurrency()), steps);
    std::fflush(stdout);
    const std::vector<std::pair<int, bool>> plan = {{1, false}, {ranks, false}, {ranks, true}};
    for (const auto& [n, overlap] : plan) {
        const int port = test::free_loopback_port();
        std::vector<pid_t> children;
        for (int r = 0; r < n; ++r) {
            const pid_t c = fork(); // each rank a fresh process, as --nproc starts them
            if (c == 0) {
                rank_main(r, n, port, batch, steps, model, overlap);
                std::fflush(stdout);
                _exit(0);
            }
            children.push_back(c);
        }
        for (pid_t c : children) waitpid(c, nullptr, 0);
    }
    return 0;
}
