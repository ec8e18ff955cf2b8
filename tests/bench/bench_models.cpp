// Forward and forward+backward time and peak memory of each extractor and classifier at paper
// size. Each model runs in its own forked child so ru_maxrss is that model's peak alone.
// Usage: bench_models [--batch 4] [--seconds 30] [--threads N] [--only NAME] [--repeat 1] [--warmup 1]
//                     [--checkpointing both|on|off] [--frames 1024]
// --checkpointing both: each model that has activation checkpointing (all but mel; the
// classifiers' is blocked attention) runs twice, without and with it, each in its own child, so
// the two peaks compare. --frames: the classifiers' input length (3308: 1650 tokens).
#include "core/cpu_tuning.h"
#include "models/registry.h"
#include "models/vit_block.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace gafx;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    int64_t batch = 4;
    double seconds = 30.0;
    int threads = 0;
    int repeat = 1;
    int warmup = 1;
    std::string only;
    std::string checkpointing = "off"; // off | on | both
    int64_t frames = 1024;             // the classifiers' input
};

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double peak_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024.0;
}

// Paper-size steps take seconds to minutes: `warmup` untimed runs, then the mean of `repeat`.
int g_warmup = 1;
template <typename Fn> double time_it(int repeat, Fn fn) {
    for (int i = 0; i < g_warmup; ++i) fn();
    double total = 0;
    for (int i = 0; i < repeat; ++i) {
        const auto t = Clock::now();
        fn();
        total += since(t);
    }
    return total / repeat;
}

void bench_one(const std::string& name, const Options& o, bool checkpointing) {
    const bool classifier = name.rfind("ast-", 0) == 0;
    torch::Tensor input;
    std::shared_ptr<torch::nn::Module> module;
    std::function<torch::Tensor(const torch::Tensor&)> run;
    int64_t params = 0;
    std::string shape;
    if (classifier) {
        auto ast = models::make_classifier(name, o.frames, 10);
        models::set_attention_recompute(*ast, checkpointing); // blocked attention on a CPU
        module = ast.ptr();
        params = models::parameter_count(*ast);
        input = torch::randn({o.batch, o.frames, 128});
        run = [ast](const torch::Tensor& x) mutable { return ast->forward(x); };
        shape = "[" + std::to_string(o.batch) + ", " + std::to_string(o.frames) + ", 128]";
    } else {
        auto e = models::make_extractor(name);
        if (checkpointing && !e->set_activation_checkpointing(true)) return;
        module = e;
        params = models::parameter_count(*e);
        const int64_t samples = std::llround(o.seconds * e->sample_rate());
        input = torch::randn({o.batch, e->input_channels(), samples}) * 0.1;
        run = [e](const torch::Tensor& x) { return e->forward(x); };
        shape = "[" + std::to_string(o.batch) + ", " + std::to_string(e->input_channels()) + ", " +
                std::to_string(samples) + "]";
    }
    module->train();
    const double before = peak_mib();
    double fwd = 0;
    {
        torch::NoGradGuard no_grad;
        fwd = time_it(o.repeat, [&] { run(input); });
    }
    const double fwd_peak = peak_mib();
    // A fixed front end (mel) has nothing to train: report its forward only.
    const bool trainable = params > 0;
    const double fwd_bwd = !trainable ? 0.0 : time_it(o.repeat, [&] {
        module->zero_grad();
        run(input).to(torch::kFloat).mean().backward();
    });
    const std::string label = name + (checkpointing ? "+ckpt" : "");
    std::printf("%-12s params %10lld input %-22s forward %8.3f s  fwd+bwd %8.3f s  peak RSS %7.0f MiB (fwd %7.0f, "
                "start %5.0f)\n",
                label.c_str(), (long long)params, shape.c_str(), fwd, fwd_bwd, peak_mib(), fwd_peak, before);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
    gafx::tune_cpu_runtime(argv); // measure the process as gafx-workbench and gafx run it
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--batch") o.batch = std::atoll(v.c_str());
        else if (k == "--seconds") o.seconds = std::atof(v.c_str());
        else if (k == "--threads") o.threads = std::atoi(v.c_str());
        else if (k == "--only") o.only = v;
        else if (k == "--repeat") o.repeat = std::atoi(v.c_str());
        else if (k == "--warmup") o.warmup = std::atoi(v.c_str());
        else if (k == "--frames") o.frames = std::atoll(v.c_str());
        else if (k == "--checkpointing" && (v == "off" || v == "on" || v == "both")) o.checkpointing = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (o.threads > 0) at::set_num_threads(o.threads);
    g_warmup = o.warmup;
    std::printf("CPU, %d threads, batch %lld, %.1f s of audio per extractor input\n", at::get_num_threads(),
                (long long)o.batch, o.seconds);
    std::vector<std::string> names = models::extractor_names();
    for (const auto& c : models::classifier_names()) names.push_back(c);
    for (const auto& name : names) {
        if (!o.only.empty() && name != o.only) continue;
        for (const bool checkpointing : {false, true}) {
            if (checkpointing ? o.checkpointing == "off" : o.checkpointing == "on") continue;
            std::fflush(stdout);
            const pid_t child = fork();
            if (child == 0) {
                if (o.threads > 0) at::set_num_threads(o.threads);
                try {
                    bench_one(name, o, checkpointing);
                } catch (const std::exception& e) {
                    std::printf("%-12s failed: %s\n", name.c_str(), e.what());
                }
                std::fflush(stdout);
                _exit(0);
            }
            int status = 0;
            waitpid(child, &status, 0);
        }
    }
    return 0;
}
