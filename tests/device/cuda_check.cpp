// The GPU machine's check of the engine on CUDA, with no Qt (that machine has none):
//   1. resolve_precision("auto", cuda) picks bf16 (any GPU from Ampere on, the H200 included);
//   2. mel + AST-tiny (small preset): the CUDA forward matches the CPU forward in fp32;
//   3. 20 bf16 training steps (train_step, Adam) on one fixed batch on CUDA: the loss falls;
//   4. a whole train_run on a tiny generated GTZAN-style dataset on "cuda" finishes, once with
//      its steps replayed as CUDA graphs (which the trainer must say it did) and once eager;
//   5. data-parallel collectives: the backend "auto" picks for CUDA ranks (NCCL) joins a world of
//      one and broadcasts, averages, sums and gathers host and device tensors; the trainer's
//      gradient sum during backward leaves a world of one's losses as they are; two ranks on one
//      GPU are refused by name (NCCL would fail at their first collective).
// Without a CUDA device it prints "no CUDA device: skipped" and exits 0 (CPU-only libtorch,
// CI). --cpu-dry-run runs the same checks on the CPU, to try the check itself without a GPU.
//
// usage: cuda_check [--cpu-dry-run] [--json FILE] [--workdir DIR]
// Exit 0 when every check passed, 1 when one failed (each failure says what and by how much),
// 2 on a usage error.
#include "core/build_info.h"
#include "core/error.h"
#include "data/catalog.h"
#include "data/demo.h"
#include "data/gtzan.h"
#include "data/split.h"
#include "models/registry.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "train/adam.h"
#include "train/device_input.h"
#include "train/data_parallel.h"
#include "train/distributed.h"
#include "train/grad_reducer.h"
#include "train/graph_step.h"
#include "train/precision.h"
#include "train/step.h"
#include "train/train_model.h"
#include "train/trainer.h"
#include "workflows/spawn.h"

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace gafx;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Report {
    json checks = json::array();
    int failures = 0;

    // Runs one check; `body` returns a detail line, throws gafx::Error/std::exception to fail.
    void run(const std::string& name, const std::function<std::string()>& body) {
        std::printf("cuda_check: %s ...\n", name.c_str());
        std::fflush(stdout);
        const auto t = Clock::now();
        json entry = {{"name", name}};
        try {
            const std::string detail = body();
            entry["ok"] = true;
            entry["detail"] = detail;
            std::printf("cuda_check: %s: ok (%s) [%.1f s]\n", name.c_str(), detail.c_str(), since(t));
        } catch (const std::exception& e) {
            ++failures;
            entry["ok"] = false;
            entry["detail"] = e.what();
            std::printf("cuda_check: %s: FAILED: %s [%.1f s]\n", name.c_str(), e.what(), since(t));
        }
        entry["seconds"] = since(t);
        checks.push_back(entry);
        std::fflush(stdout);
    }
};

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

// AST-Tiny at the small preset on `device` (the same weights at every call), training, with its
// Adam and the working copies `precision` takes.
struct SmallAst {
    models::Ast net;
    std::unique_ptr<train::Adam> adam;
};
SmallAst small_ast(const torch::Device& device, train::Precision precision) {
    torch::manual_seed(13);
    SmallAst m{models::make_classifier("ast-tiny", 128, 10, models::Preset::Small), nullptr};
    m.net->to(device);
    m.net->train();
    std::vector<std::pair<std::string, torch::Tensor>> params;
    for (const auto& p : m.net->named_parameters(true)) params.emplace_back(p.key(), p.value());
    m.adam = std::make_unique<train::Adam>(params);
    train::keep_working_copies(*m.adam, *m.net, precision);
    return m;
}

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, a, b, c);
    return buf;
}

// Largest |a - b| against the tolerance 1e-3 x max(1, max |a|).
std::string compare(const char* what, const torch::Tensor& expected, const torch::Tensor& got) {
    if (expected.sizes() != got.sizes())
        fail(std::string(what) + ": shapes differ (" + std::to_string(expected.dim()) + "-d vs " +
             std::to_string(got.dim()) + "-d)");
    const double scale = std::max(1.0, expected.abs().max().item<double>());
    const double diff = (expected - got).abs().max().item<double>();
    const double tol = 1e-3 * scale;
    if (!std::isfinite(diff) || diff > tol)
        fail(std::string(what) + fmt(": max |cpu - cuda| = %.3g, over the tolerance %.3g", diff, tol));
    return std::string(what) + fmt(" max diff %.2g (tol %.2g)", diff, tol);
}

constexpr int kSampleRate = 22050;

} // namespace

int main(int argc, char** argv) {
    bool dry_run = false;
    std::string json_path, workdir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--cpu-dry-run") dry_run = true;
        else if (a == "--json" && i + 1 < argc) json_path = argv[++i];
        else if (a == "--workdir" && i + 1 < argc) workdir = argv[++i];
        else {
            std::fprintf(stderr, "usage: cuda_check [--cpu-dry-run] [--json FILE] [--workdir DIR]\n");
            return 2;
        }
    }
    const BuildInfo info = build_info();
    std::printf("cuda_check: gafx %s, libtorch %s, CUDA available: %s, devices: %d\n", info.gafx.c_str(),
                info.libtorch.c_str(), info.cuda_available ? "yes" : "no", info.cuda_devices);
    if (!torch::cuda::is_available() && !dry_run) {
        std::printf("no CUDA device: skipped\n");
        return 0;
    }
    const torch::Device device = dry_run ? torch::Device(torch::kCPU) : torch::Device(torch::kCUDA, 0);
    const std::string device_name = dry_run ? "cpu" : "cuda";
    auto sync = [&] {
        if (device.is_cuda()) torch::cuda::synchronize();
    };
    Report report;

    // 1. Precision.
    train::Precision train_precision = train::Precision::Fp32;
    report.run("precision auto", [&] {
        train_precision = train::resolve_precision("auto", device);
        const std::string got = train::to_string(train_precision);
        if (device.is_cuda() && train_precision != train::Precision::Bf16)
            fail("resolve_precision(\"auto\", cuda) gave " + got + ", expected bf16 on an Ampere-or-newer GPU");
        return "auto -> " + got + " on " + device_name;
    });

    // 2. CUDA forward == CPU forward (fp32, no TF32: cuDNN convolutions default to TF32).
    const int64_t samples = 3 * kSampleRate;
    torch::manual_seed(0);
    auto extractor = models::make_extractor("mel");
    const int64_t frames = extractor->output_frames(samples);
    auto model = train::TrainModel(extractor, models::make_classifier("ast-tiny", frames, 10, models::Preset::Small));

    // The input path training takes: batches pinned, copied without waiting; cuDNN autotuned.
    report.run("input path on " + device_name, [&] {
        const train::DevicePath path = train::prepare_device(device);
        if (device.is_cuda() && !path.pinned_input) fail("batches would not be pinned on " + device_name);
        const torch::Tensor expected = torch::arange(1 << 22, torch::kFloat32);
        const torch::Tensor host = path.pinned_input ? expected.pin_memory() : expected;
        if (path.pinned_input && !host.is_pinned()) fail("pin_memory() gave pageable memory");
        const torch::Tensor back = train::to_device(host, device).cpu(); // ordered after the copy on its stream
        if (!torch::equal(back, expected)) fail("the copy to " + device_name + " changed the batch");
        std::string said;
        for (const auto& [what, how] : train::describe(path, device)) said += (said.empty() ? "" : "; ") + what + " " + how;
        return said;
    });

    report.run("forward cpu vs " + device_name, [&] {
        auto& ctx = at::globalContext();
        const bool tf32_cudnn = ctx.allowTF32CuDNN(), tf32_cublas = ctx.allowTF32CuBLAS();
        ctx.setAllowTF32CuDNN(false);
        ctx.setAllowTF32CuBLAS(false);
        torch::NoGradGuard no_grad;
        model->eval();
        const torch::Tensor wave = torch::randn({2, 1, samples}) * 0.1;
        const torch::Tensor cpu_features = model->features(wave), cpu_logits = model->forward(wave);
        model->to(device);
        const torch::Tensor dev_wave = wave.to(device);
        const torch::Tensor features = model->features(dev_wave).cpu(), logits = model->forward(dev_wave).cpu();
        sync();
        ctx.setAllowTF32CuDNN(tf32_cudnn);
        ctx.setAllowTF32CuBLAS(tf32_cublas);
        return compare("features", cpu_features, features) + ", " + compare("logits", cpu_logits, logits) +
               ", " + std::to_string(frames) + " frames";
    });

    // 3. bf16 (or what auto gave) steps on one fixed batch: the model must fit it.
    report.run(std::string("20 ") + train::to_string(train_precision) + " steps on " + device_name, [&] {
        model->to(device);
        model->train();
        std::vector<std::pair<std::string, torch::Tensor>> params;
        for (const auto& p : model->named_parameters(true)) params.emplace_back(p.key(), p.value());
        train::Adam adam(params);
        torch::manual_seed(1);
        const torch::Tensor wave = (torch::randn({4, 1, samples}) * 0.1).to(device);
        const torch::Tensor targets = torch::tensor({1, 4, 7, 9}, torch::kInt64).to(device);
        train::Forward forward = [&](const torch::Tensor& x) { return model->forward(x); };
        double scale = 65536;
        std::vector<double> losses;
        const auto t = Clock::now();
        for (int i = 0; i < 20; ++i) {
            const auto out = train::train_step(forward, adam, wave, targets,
                                               {device, train_precision, false, 5e-4, int64_t(i), &scale});
            if (!std::isfinite(out.loss)) fail("step " + std::to_string(i + 1) + ": the loss is not finite");
            if (!out.applied) fail("step " + std::to_string(i + 1) + " was not applied");
            losses.push_back(out.loss);
        }
        sync();
        const double seconds = since(t);
        const double first = losses.front();
        double last = 0;
        for (size_t i = losses.size() - 5; i < losses.size(); ++i) last += losses[i] / 5;
        std::string curve;
        for (size_t i = 0; i < losses.size(); i += 4) curve += (curve.empty() ? "" : " ") + fmt("%.3f", losses[i]);
        // ln 10 = 2.30 at the start; four clips are memorised well within 20 steps at 5e-4.
        if (!(last < 0.5 * first)) fail(fmt("the loss did not fall: first %.4f, mean of the last five %.4f", first, last) +
                                        " (every 4th: " + curve + ")");
        return fmt("loss %.4f -> %.4f (mean of last 5), %.1f ms/step", first, last, 1000 * seconds / 20) +
               ", every 4th: " + curve;
    });

    // 3b. Steps replayed as one CUDA graph (train/graph_step) against the same steps run eagerly:
    // two copies of one model, 8 steps each on one batch, the graph captured at the third.
    report.run("CUDA graph steps on " + device_name, [&] {
        const train::StepSettings settings{device, train_precision, false, 5e-4, 0, nullptr};
        if (const std::string why = train::GraphedStep::refusal(settings); !why.empty()) return "not run: " + why;
        torch::manual_seed(12);
        const torch::Tensor x = torch::randn({4, 128, 128}).to(device);
        const torch::Tensor y = torch::tensor({1, 4, 7, 9}, torch::kInt64).to(device);
        struct Result {
            std::vector<double> losses;
            double ms = 0; // per step, over the last four
            std::string path;
        };
        // host_read: the forward reads a value back to the host, which a capture cannot hold.
        auto steps = [&](bool graph, bool host_read) {
            SmallAst model = small_ast(device, train_precision);
            auto& net = model.net;
            train::Adam& adam = *model.adam;
            const train::Forward forward = [&](const torch::Tensor& in) {
                torch::Tensor out = net->forward(in);
                if (host_read && !std::isfinite(out.sum().item<double>())) fail("the logits are not finite");
                return out;
            };
            train::GraphedStep graphed(forward, adam, settings, 2);
            Result r;
            Clock::time_point t{};
            for (int i = 0; i < 8; ++i) {
                if (i == 4) {
                    sync();
                    t = Clock::now();
                }
                train::StepSettings s = settings;
                s.step = i;
                const auto out = graph ? graphed.run(x, y, s.lr, i) : train::train_step(forward, adam, x, y, s);
                if (!out.applied) fail(std::string(graph ? "graphed" : "eager") + " step " + std::to_string(i + 1) + " was not applied");
                r.losses.push_back(out.loss);
            }
            sync();
            r.ms = 1000 * since(t) / 4;
            r.path = graph ? graphed.describe() : "eager";
            return r;
        };
        const auto compare = [&](const Result& graph, const Result& eager) {
            for (size_t i = 0; i < eager.losses.size(); ++i)
                if (std::abs(graph.losses[i] - eager.losses[i]) > 2e-2 * std::max(1.0, std::abs(eager.losses[i])))
                    fail(fmt("step %.0f: loss %.5f ", double(i + 1), graph.losses[i]) + graph.path +
                         fmt(" against %.5f eager", eager.losses[i]));
        };
        const Result eager = steps(false, false), graph = steps(true, false);
        if (graph.path != "replayed") fail("the graph was not captured: " + graph.path);
        compare(graph, eager);
        // A capture that fails (here: a read back to the host inside the forward) must leave the
        // steps eager and whole. Ended on the wrong stream, it once left the side stream capturing
        // and the next copy threw "operation not permitted when stream is capturing".
        const Result refused = steps(true, true);
        if (refused.path.rfind("eager (the capture failed", 0) != 0)
            fail("a forward that reads back to the host: " + refused.path);
        compare(refused, eager);
        return fmt("losses within 2e-2 over 8 steps (last %.4f vs %.4f); %.2f ms/step replayed, ", graph.losses.back(),
                   eager.losses.back(), graph.ms) +
               fmt("%.2f eager; a failed capture goes on eagerly: ", eager.ms) + refused.path.substr(0, 120);
    });

    // 4. A whole run through the trainer on generated audio, its steps replayed as CUDA graphs
    // (the default on a GPU) and eager.
    const auto train_run_check = [&](bool graphs) {
        const fs::path root = workdir.empty() ? fs::temp_directory_path() / ("gafx-cuda-check-" + std::to_string(::getpid()))
                                              : fs::path(workdir);
        const fs::path dir = root / (graphs ? "graphs" : "eager");
        fs::remove_all(dir);
        fs::create_directories(dir);
        data::DemoOptions demo;
        demo.tracks_per_genre = 3;
        demo.seconds = 4.0;
        data::write_gtzan_demo((dir / "audio").string(), demo);
        data::GtzanOptions go;
        go.name = "tiny";
        data::Catalog catalog = data::import_gtzan((dir / "audio").string(), go);
        store::RunStore store((dir / "ws.db").string());
        const int64_t dataset = store.save_catalog(catalog);
        store.save_split(dataset, catalog, data::make_split(catalog, data::SplitOptions{}));
        const std::string config =
            R"({"dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
                "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "epochs": 2, "batch_size": 8,
                "lr": 0.0005, "warmup_steps": 2, "lr_halving_epochs": [], "precision": "auto", "seed": 3})";
        const int64_t run = store.create_run(0, config, 3);
        train::TrainOptions options;
        options.device = device_name;
        options.loader_threads = 2;
        options.checkpoint_dir = (dir / "runs").string();
        options.cuda_graphs = graphs;
        train::TrainControl control;
        int64_t steps = 0;
        train::TrainCallbacks cb;
        cb.on_step = [&](const train::StepProgress&) { ++steps; };
        const train::RunResult r = train::train_run(store, run, options, control, cb);
        if (r.status != gafx::store::RunStatus::Finished) fail(std::string("status ") + gafx::store::to_string(r.status) + ": " + r.message);
        const auto rec = store.run(run);
        if (!rec) fail("the run vanished from the store");
        if (rec->device.rfind(device_name, 0) != 0) fail("the run trained on " + rec->device + ", not " + device_name);
        if (rec->precision != train::to_string(train_precision))
            fail("the run trained in " + rec->precision + ", auto resolved to " + train::to_string(train_precision));
        if (steps == 0 || rec->epochs_done != 2) fail("the run did " + std::to_string(rec->epochs_done) + " of 2 epochs");
        if (!fs::exists(gafx::store::run_paths(store.path(), *rec, options.checkpoint_dir).best))
            fail("no best.safetensors was written");
        const std::string step_kind = r.cuda_graph_steps ? "replayed as a CUDA graph" : "eager" + (r.eager_why.empty() ? "" : " (" + r.eager_why + ")");
        if (device.is_cuda() && graphs && !r.cuda_graph_steps)
            fail("the steps were not replayed as a CUDA graph: " + step_kind);
        if (workdir.empty()) fs::remove_all(root);
        return "finished: " + std::to_string(steps) + " steps (" + step_kind + "), " +
               rec->precision + " on " + rec->device + fmt(", final track accuracy %.2f", rec->final_test_track_accuracy);
    };
    report.run("train_run on " + device_name + ", CUDA graph steps", [&] { return train_run_check(true); });
    report.run("train_run on " + device_name + ", eager steps", [&] { return train_run_check(false); });

    // 5. Data-parallel collectives on this device's backend.
    const auto world_spec = [&](int rank, int size) {
        train::WorldSpec w;
        w.rank = rank;
        w.world_size = size;
        w.master_port = workflows::free_loopback_port();
        w.timeout_seconds = 60;
        w.device = device.is_cuda() ? "cuda:0" : "cpu";
        return w;
    };
    report.run("collectives, a world of one on " + device_name, [&] {
        auto world = train::World::join(world_spec(0, 1));
        const std::string backend = world->spec().backend;
        if (device.is_cuda() && backend != "nccl") fail("CUDA ranks got " + backend + ": this build has no NCCL");
        std::vector<at::Tensor> params{torch::arange(5, torch::kFloat), torch::ones({3}, torch::kFloat).to(device)};
        world->broadcast(params);
        if (!params[0].is_cpu() || params[0][4].item<float>() != 4.0f) fail("broadcast changed a host tensor");
        std::vector<at::Tensor> grads{torch::full({300}, 2.0f).to(device), torch::full({2, 2}, 3.0, torch::kDouble).to(device)};
        world->average(grads, 512); // two buckets: one per dtype
        if (grads[0].sum().item<double>() != 600.0 || grads[1].sum().item<double>() != 12.0) fail("average");
        at::Tensor counts = torch::tensor({1.5, 7.0}, torch::kDouble);
        world->sum(counts);
        if (!counts.is_cpu() || counts[1].item<double>() != 7.0) fail("sum of host doubles");
        const auto all = world->all_gather(torch::tensor({int64_t(3), int64_t(1) << 40}, torch::kLong));
        if (all.size() != 1 || !all[0].is_cpu() || all[0][1].item<int64_t>() != int64_t(1) << 40) fail("all_gather");
        world->barrier();
        return backend + ": broadcast, bucketed average, sum and all_gather of host and " + device_name + " tensors";
    });
    // The trainer's data-parallel gradient sum, during backward (hooks on the GPU's autograd
    // thread, the collectives started from there) against a step with no world: a sum over one
    // rank leaves the gradients as they are, so the losses must be the same.
    report.run("gradients summed during backward, a world of one on " + device_name, [&] {
        auto world = train::World::join(world_spec(0, 1));
        torch::manual_seed(14);
        const torch::Tensor x = torch::randn({4, 128, 128}).to(device);
        const torch::Tensor y = torch::tensor({1, 4, 7, 9}, torch::kInt64).to(device);
        int early = 0, buckets = 0;
        const auto losses = [&](bool world_step) {
            SmallAst model = small_ast(device, train_precision);
            auto& net = model.net;
            train::Adam& adam = *model.adam;
            std::unique_ptr<train::GradReducer> reducer;
            if (world_step) reducer = std::make_unique<train::GradReducer>(*world, adam, size_t(64) << 10);
            const train::Forward forward = [&](const torch::Tensor& in) { return net->forward(in); };
            std::vector<double> out;
            for (int i = 0; i < 4; ++i) {
                train::StepSettings s{device, train_precision, false, 5e-4, i, nullptr};
                if (reducer) train::share_step(s, *world, adam, x.size(0), reducer.get());
                out.push_back(train::train_step(forward, adam, x, y, s).loss);
            }
            if (reducer) {
                early = reducer->sent_during_backward();
                buckets = reducer->buckets();
            }
            return out;
        };
        const auto plain = losses(false), summed = losses(true);
        for (size_t i = 0; i < plain.size(); ++i)
            // Not bit for bit: a GPU's backward kernels may sum in another order from run to run.
            if (std::abs(plain[i] - summed[i]) > 1e-3 * std::max(1.0, std::abs(plain[i])))
                fail(fmt("step %.0f: loss %.6f summed during backward, %.6f without a world", double(i + 1), summed[i],
                         plain[i]));
        if (early < buckets / 2) fail(fmt("only %.0f of %.0f buckets went during backward", early, buckets));
        return world->spec().backend + fmt(": the same losses over 4 steps (last %.5f); %.0f of ", summed.back(), early) +
               fmt("%.0f buckets sent during the last backward", buckets);
    });
    if (device.is_cuda())
        report.run("two ranks on one GPU refused", [&] {
            train::WorldSpec w0 = world_spec(0, 2);
            w0.backend = "nccl"; // "auto" would choose Gloo for two ranks on a one-GPU node when told
            train::WorldSpec w1 = w0;
            w1.rank = 1;
            std::string said[2];
            auto rank = [&](const train::WorldSpec& w) {
                try {
                    train::World::join(w);
                    said[w.rank] = "joined";
                } catch (const std::exception& e) {
                    said[w.rank] = e.what();
                }
            };
            std::thread other(rank, w1);
            rank(w0);
            other.join();
            for (const auto& s : said)
                if (s.find("are on one GPU") == std::string::npos) fail("a rank said: " + s);
            return said[0];
        });

    if (!json_path.empty()) {
        const json out = {{"libtorch", info.libtorch}, {"device", device_name}, {"dry_run", dry_run},
                          {"failures", report.failures}, {"checks", report.checks}};
        std::ofstream(json_path) << out.dump(2) << "\n";
    }
    if (report.failures) {
        std::printf("cuda_check: %d check(s) FAILED\n", report.failures);
        return 1;
    }
    std::printf("cuda_check: all %zu checks passed on %s\n", report.checks.size(), device_name.c_str());
    return 0;
}
