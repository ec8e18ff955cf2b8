#include "args.h"
#include "commands.h"

#include "core/cpu_tuning.h"
#include "core/error.h"
#include "models/mel_extractor.h"
#include "models/layer_norm_bf16.h"
#include "models/onednn_matmul.h"
#include "models/softmax_bf16.h"
#include "models/registry.h"
#include "models/vit_block.h"
#include "train/adam.h"
#include "train/device_input.h"
#include "train/device_memory.h"
#include "train/graph_step.h"
#include "train/op_table.h"
#include "train/step.h"
#include "train/train_model.h"

#include <ATen/Parallel.h>
#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define GAFX_HAVE_LEGACY_PROFILER 1
#endif
#include <torch/cuda.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sys/resource.h>
#include <thread>

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace gafx::cli {
namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double matmul_gflops(torch::Dtype dtype, const torch::Device& device) {
    // The median of 11 samples: on a shared VM one product in five can be half speed or twice
    // as fast, so neither a total nor the best one is a peak a step can be held to. A CPU
    // sample is one bare product; a GPU one is 20 products and one synchronisation, since a
    // 2048^3 product there takes about as long as a launch and a sync. The products run where
    // the step's do (matmul_fp32: oneDNN for fp32 on a CPU), so the percentage measures the step
    // against the GEMM it uses, not against a slower one.
    const auto o = torch::TensorOptions().dtype(dtype).device(device);
    const torch::Tensor a = torch::randn({2048, 2048}, o), b = torch::randn({2048, 2048}, o);
    const int per_sample = device.is_cuda() ? 20 : 1;
    const auto sync = [&] {
        if (device.is_cuda()) torch::cuda::synchronize();
    };
    models::matmul_fp32(a, b);
    sync();
    std::vector<double> gflops;
    for (int i = 0; i < 11; ++i) {
        const auto t = Clock::now();
        for (int k = 0; k < per_sample; ++k) models::matmul_fp32(a, b);
        sync();
        gflops.push_back(2.0 * 2048 * 2048 * 2048 * per_sample / since(t) / 1e9);
    }
    std::nth_element(gflops.begin(), gflops.begin() + 5, gflops.end());
    return gflops[5];
}

double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[size_t(std::lround(q * double(v.size() - 1)))];
}

} // namespace

int cmd_bench(const std::vector<std::string>& argv) {
    if (wants_help(argv) || argv.empty() || argv[0] != "train") {
        std::printf("usage: gafx bench train --extractor mel|gafx-u|gafx-r|gafx-a|none --classifier ast-tiny|ast-small\n"
                    "                        [--frames N] [--seconds S] [--batch B] [--steps S] [--warmup W]\n"
                    "                        [--precision auto|fp32|bf16|fp16] [--preset paper|small]\n"
                    "                        [--threads N] [--device cpu|cuda] [--profile FILE] [--checkpointing]\n"
                    "                        [--unfused] [--cuda-graph] [--ops N] [--json]\n\n"
                    "times the training step the trainer runs (forward, loss, backward, Adam) on random input:\n"
                    "median seconds per step, clips/s and peak memory, so a run can be sized before it starts.\n"
                    "--extractor none feeds the classifier a random --frames x 128 map (the classifier alone);\n"
                    "mel with --frames crops the fbank to N frames (AST's target_length); other extractors\n"
                    "take --seconds of audio (default 10). With AST, also the model FLOP rate against this\n"
                    "machine's 2048^2 matmul peak at the step's precision. --profile FILE writes the timed\n"
                    "steps' operators as a Chrome trace (chrome://tracing, or summarise its durations).\n"
                    "--ops N prints the N operators (by name and the dtype, sizes and layout of their inputs:\n"
                    "T a transposed view, S another strided one) that took the most self time per timed step;\n"
                    "its bookkeeping, microseconds a call, is in the step times it prints. On a GPU it times\n"
                    "the host's side of each call (the launches), not the kernels.\n"
                    "--unfused runs Adam per tensor, lets autocast cast each weight at each use and takes ATen's\n"
                    "softmax, as the trainer did before its fused update, bf16 working copies and softmax\n"
                    "rows: the reference to compare.\n"
                    "--cuda-graph (GPU, bf16 or fp32) replays forward and backward as one CUDA graph, captured\n"
                    "in the last warm-up step after eager ones (so --warmup 2 at least), with Adam after it.\n");
        return wants_help(argv) ? 0 : 2;
    }
    Args a(std::vector<std::string>(argv.begin() + 1, argv.end()),
           {"--extractor", "--classifier", "--frames", "--seconds", "--batch", "--steps", "--warmup", "--precision",
            "--preset", "--threads", "--device", "--db", "--profile", "--ops"},
           {"--json", "--checkpointing", "--unfused", "--cuda-graph"});
    a.expect_positional(0, "");
    const std::string ex_name = a.get_or("--extractor", "mel");
    const std::string cl_name = a.get_or("--classifier", "ast-tiny");
    const int64_t batch = a.get_int("--batch", 4);
    const int steps = int(a.get_int("--steps", 10));
    const int warmup = int(a.get_int("--warmup", 2));
    const int threads = int(a.get_int("--threads", 0));
    const auto preset = a.get_or("--preset", "paper") == "small" ? models::Preset::Small : models::Preset::Paper;
    if (batch < 1 || steps < 1 || warmup < 0) throw UsageError("--batch and --steps >= 1, --warmup >= 0");
    const int64_t op_rows = a.get_int("--ops", 0);
    if (a.has("--ops") && op_rows < 1) throw UsageError("--ops N: how many operators to print, 1 or more");
    set_compute_threads(threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency())));
    const std::string dev_name = a.get_or("--device", "cpu");
    if (dev_name != "cpu" && !torch::cuda::is_available())
        throw Error({}, "no CUDA device is available to this libtorch", "use --device cpu");
    const torch::Device device(dev_name);
    const train::DevicePath device_path = train::prepare_device(device);
    const train::Precision precision = train::resolve_precision(a.get_or("--precision", "auto"), device);

    torch::manual_seed(0);
    int64_t frames = a.get_int("--frames", 1024);
    torch::Tensor input;
    std::shared_ptr<models::FeatureExtractor> extractor;
    if (ex_name == "mel" && a.has("--frames")) {
        models::MelConfig mc;
        mc.frames = frames;
        extractor = std::make_shared<models::MelExtractor>(mc);
    } else if (ex_name != "none") {
        extractor = models::make_extractor(ex_name, preset);
    }
    const bool checkpointing = a.has("--checkpointing");
    if (checkpointing && extractor) extractor->set_activation_checkpointing(true);
    if (extractor) {
        const int64_t samples = a.has("--frames") && ex_name == "mel"
                                    ? (frames + 2) * int64_t(extractor->sample_rate()) / 100
                                    : std::llround(a.get_double("--seconds", 10.0) * extractor->sample_rate());
        frames = extractor->output_frames(samples);
        input = torch::randn({batch, extractor->input_channels(), samples}) * 0.1;
    } else {
        input = torch::randn({batch, frames, 128});
    }
    const int64_t classes = 10;
    models::Ast classifier = models::make_classifier(cl_name, frames, classes, preset);
    models::set_attention_recompute(*classifier, checkpointing);
    std::shared_ptr<torch::nn::Module> owner;
    train::Forward forward;
    if (extractor) {
        auto model = train::TrainModel(extractor, classifier);
        model->to(device);
        owner = model.ptr();
        forward = [model](const torch::Tensor& x) mutable { return model->forward(x); };
    } else {
        classifier->to(device);
        owner = classifier.ptr();
        forward = [classifier](const torch::Tensor& x) mutable { return classifier->forward(x); };
    }
    owner->train();
    std::vector<std::pair<std::string, torch::Tensor>> params;
    for (const auto& p : owner->named_parameters(true)) params.emplace_back(p.key(), p.value());
    const bool unfused = a.has("--unfused");
    train::AdamOptions adam_options;
    adam_options.fused = !unfused;
    models::set_softmax_rows(!unfused);
    models::set_onednn_matmul(!unfused);
    train::Adam adam(params, adam_options);
    if (!unfused) train::keep_working_copies(adam, *owner, precision);
    // The batch starts on the host each step, as a loader's does (pinned where training pins it).
    torch::Tensor host_targets = torch::randint(0, classes, {batch}, torch::kInt64);
    if (device_path.pinned_input) {
        input = input.pin_memory();
        host_targets = host_targets.pin_memory();
    }
    double scale = 65536;
    std::unique_ptr<train::GraphedStep> graphed;
    if (a.has("--cuda-graph")) {
        const train::StepSettings gs{device, precision, false, 5e-5, 0, &scale};
        if (const std::string why = train::GraphedStep::refusal(gs); !why.empty())
            throw Error({}, "--cuda-graph: " + why, "leave --cuda-graph out, or use --device cuda with a CUDA libtorch");
        if (warmup < 2) throw UsageError("--cuda-graph needs --warmup 2 or more: eager steps, then the capture");
        graphed = std::make_unique<train::GraphedStep>(forward, adam, gs, warmup - 1);
    }
    std::vector<double> times;
    std::unique_ptr<train::OpTable> ops;
#ifdef GAFX_HAVE_LEGACY_PROFILER
    std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
#else
    std::unique_ptr<int> profile;
    if (a.has("--profile")) throw Error({}, "this libtorch has no legacy profiler", "use a libtorch that has one");
#endif
    // The GPU's peaks, the warm-up's apart: cuDNN autotuning tries algorithms with workspaces
    // of many GiB there (seen: 112 GiB for GAFX-U in fp32 on an H200), which the steps never use.
    train::reset_device_peak(device);
    std::optional<train::DevicePeak> warmup_peak;
    for (int i = 0; i < warmup + steps; ++i) {
        if (i == warmup) {
            warmup_peak = train::device_peak(device);
            train::reset_device_peak(device);
        }
#ifdef GAFX_HAVE_LEGACY_PROFILER
        if (i == warmup && a.has("--profile"))
            profile = std::make_unique<torch::autograd::profiler::RecordProfile>(*a.get("--profile"));
#endif
        if (i == warmup && op_rows > 0) ops = std::make_unique<train::OpTable>();
        const auto t = Clock::now();
        const torch::Tensor x = train::to_device(input, device), y = train::to_device(host_targets, device);
        const auto out = graphed ? graphed->run(x, y, 5e-5, int64_t(i))
                                 : train::train_step(forward, adam, x, y, {device, precision, false, 5e-5, int64_t(i), &scale});
        if (!std::isfinite(out.loss))
            throw Error({}, "the loss became " + std::to_string(out.loss) + " at step " + std::to_string(i + 1),
                        "try --precision fp32");
        if (device.is_cuda()) torch::cuda::synchronize(); // Adam's kernels are still queued
        if (i >= warmup) times.push_back(since(t));
    }
    profile.reset(); // writes the trace
    if (ops) ops->stop();
    const std::optional<train::DevicePeak> device_peak = train::device_peak(device);
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const double median = quantile(times, 0.5);
    const double flops = models::ast_step_flops(classifier->config(), batch);
    const bool ast_only = !extractor;
    const double peak = matmul_gflops(precision == train::Precision::Fp32 ? torch::kFloat32
                                      : precision == train::Precision::Bf16 ? torch::kBFloat16
                                                                             : torch::kFloat16,
                                      device);
    json j = {{"extractor", ex_name},
              {"classifier", cl_name},
              {"preset", preset == models::Preset::Small ? "small" : "paper"},
              {"frames", frames},
              {"batch", batch},
              {"steps", steps},
              {"precision", train::to_string(precision)},
              {"device", device.str()},
              {"threads", at::get_num_threads()},
              {"median_s", median},
              {"p10_s", quantile(times, 0.1)},
              {"p90_s", quantile(times, 0.9)},
              {"clips_per_second", double(batch) / median},
              {"classifier_gflop_per_step", flops / 1e9},
              {"classifier_gflops", flops / median / 1e9},
              {"matmul_peak_gflops", peak},
              {"peak_rss_mib", double(u.ru_maxrss) / 1024.0},
              // The GPU's own peaks over the timed steps, and over the warm-up; null on a CPU.
              {"device_peak_allocated_mib", device_peak ? json(device_peak->allocated_mib) : json()},
              {"device_peak_reserved_mib", device_peak ? json(device_peak->reserved_mib) : json()},
              {"device_warmup_peak_allocated_mib", warmup_peak ? json(warmup_peak->allocated_mib) : json()},
              {"activation_checkpointing", checkpointing},
              // The kernels this step ran where fused ones exist or are planned.
              {"paths",
               {{"attention", models::to_string(models::attention_path(device, checkpointing))},
                {"weight_casts", precision == train::Precision::Fp32 ? "none"
                                 : adam.working_table()     ? "once per step (bf16 working copies)"
                                                            : "autocast, at every use"},
                {"adam", adam.last_update()},
                {"layer_norm", models::layer_norm_path(device, precision == train::Precision::Bf16 && adam.working_table())},
                {"softmax", models::softmax_path(models::attention_path(device, checkpointing), device,
                                                 precision == train::Precision::Bf16)},
                {"matmul", models::matmul_path(device, precision == train::Precision::Fp32)},
                {"activation_checkpointing", checkpointing ? "on" : "off"}}},
              {"tuning", cpu_tuning_summary()}};
    for (const auto& [what, how] : train::describe(device_path, device)) j["paths"][what] = how;
    j["paths"]["cuda_graph"] = graphed ? graphed->describe() : "off";
    if (ast_only) j["pct_of_peak"] = 100.0 * flops / median / 1e9 / peak;
    double ops_self_s = 0;
    size_t ops_count = 0;
    if (ops) {
        const std::vector<train::OpRow> rows = ops->rows();
        ops_count = rows.size();
        for (const auto& r : rows) ops_self_s += r.self_s;
        j["ops"] = json::array();
        for (size_t r = 0; r < rows.size() && r < size_t(op_rows); ++r)
            j["ops"].push_back({{"op", rows[r].op},
                                {"inputs", rows[r].inputs},
                                {"calls_per_step", double(rows[r].calls) / steps},
                                {"self_ms_per_step", 1e3 * rows[r].self_s / steps},
                                {"total_ms_per_step", 1e3 * rows[r].total_s / steps},
                                {"self_pct", ops_self_s > 0 ? 100.0 * rows[r].self_s / ops_self_s : 0.0}});
    }
    if (a.has("--json")) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("%s + %s (%s), %lld x %lld frames, batch %lld, %s on %s, %d threads\n", ex_name.c_str(),
                cl_name.c_str(), j["preset"].get<std::string>().c_str(), (long long)frames, 128LL, (long long)batch,
                train::to_string(precision), device.str().c_str(), at::get_num_threads());
    std::printf("step: median %.4f s (p10 %.4f, p90 %.4f) over %d steps, %.2f clips/s, peak RSS %.0f MiB%s\n", median,
                quantile(times, 0.1), quantile(times, 0.9), steps, double(batch) / median, j["peak_rss_mib"].get<double>(),
                checkpointing ? " (activation checkpointing)" : "");
    if (device_peak)
        std::printf("%s memory: peak %.0f MiB allocated over the steps (%.0f MiB in the warm-up), %.0f MiB reserved "
                    "by the caching allocator\n",
                    device.str().c_str(), device_peak->allocated_mib, warmup_peak ? warmup_peak->allocated_mib : 0.0,
                    device_peak->reserved_mib);
    std::printf("classifier: %.1f GFLOP per step, %.1f GFLOP/s; %s matmul peak %.1f GFLOP/s%s\n", flops / 1e9,
                flops / median / 1e9, train::to_string(precision), peak,
                ast_only ? (" (" + std::to_string(int(std::lround(j["pct_of_peak"].get<double>()))) + "% of it)").c_str()
                         : "");
    std::string paths;
    for (const auto& [k, v] : j["paths"].items()) paths += (paths.empty() ? "" : "; ") + k + " " + v.get<std::string>();
    std::printf("paths: %s\n", paths.c_str());
    for (const auto& t : cpu_tuning_summary()) std::printf("tuning: %s\n", t.c_str());
    if (ops) {
        std::printf("ops: self time per step over the %d timed steps, %.1f ms per step in all, top %zu of %zu "
                    "(operator, inputs):\n",
                    steps, 1e3 * ops_self_s / steps, j["ops"].size(), ops_count);
        for (const auto& r : j["ops"])
            std::printf("  %5.1f %% %9.3f ms %7.1f calls  %s  %s\n", r["self_pct"].get<double>(),
                        r["self_ms_per_step"].get<double>(), r["calls_per_step"].get<double>(),
                        r["op"].get<std::string>().c_str(), r["inputs"].get<std::string>().c_str());
    }
    return 0;
}

} // namespace gafx::cli
