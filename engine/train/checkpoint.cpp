#include "train/checkpoint.h"

#include "core/error.h"
#include "models/safetensors.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/cuda.h>

#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <cstdlib>
#include <map>
#include <mutex>

namespace fs = std::filesystem;

namespace gafx::train {
namespace {

constexpr const char* kFormat = "gafx-checkpoint-1";
const std::string kModel = "model.", kAdam = "adam.", kRng = "rng.cpu", kCudaRng = "rng.cuda.";

// Dropout on a GPU draws from the device's generator: without its state a resumed run differs.
at::Generator cuda_generator(int64_t device) {
    return at::globalContext().defaultGenerator(at::Device(at::kCUDA, at::DeviceIndex(device)));
}

// Shortest round-trip text, independent of the C locale (the GUI sets one with a decimal comma).
std::string exact(double v) {
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

double parse_double(const std::string& s) {
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) throw std::invalid_argument(s);
    return v;
}

// XXH3 over every tensor by name (name, dtype, shape, bytes): a flipped bit anywhere in the data,
// which safetensors' own header cannot see, makes the checkpoint refuse to load.
std::string checksum(const models::StateDict& tensors) {
    std::vector<const std::pair<std::string, torch::Tensor>*> order;
    for (const auto& e : tensors) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> st(XXH3_createState(), XXH3_freeState);
    XXH3_64bits_reset(st.get());
    for (const auto* e : order) {
        const torch::Tensor t = e->second.detach().to(torch::kCPU).contiguous();
        XXH3_64bits_update(st.get(), e->first.data(), e->first.size() + 1);
        const int8_t dtype = int8_t(t.scalar_type());
        XXH3_64bits_update(st.get(), &dtype, 1);
        for (int64_t d : t.sizes()) XXH3_64bits_update(st.get(), &d, sizeof d);
        XXH3_64bits_update(st.get(), t.data_ptr(), size_t(t.nbytes()));
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)XXH3_64bits_digest(st.get()));
    return hex;
}

} // namespace

std::string previous_checkpoint(const std::string& path) {
    const fs::path p(path);
    return (p.parent_path() / (p.stem().string() + ".prev" + p.extension().string())).string();
}

void save_checkpoint(const std::string& path, TrainModelImpl& model, const Adam& adam, const CheckpointState& s) {
    models::StateDict tensors;
    for (auto& [name, t] : named_state(model)) tensors.emplace_back(kModel + name, t);
    for (auto& [name, t] : adam.state()) tensors.emplace_back(kAdam + name, t);
    {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        tensors.emplace_back(kRng, gen.get_state());
    }
    for (int64_t d = 0; d < int64_t(torch::cuda::device_count()); ++d) {
        at::Generator gen = cuda_generator(d);
        std::lock_guard<std::mutex> lock(gen.mutex());
        tensors.emplace_back(kCudaRng + std::to_string(d), gen.get_state());
    }
    std::map<std::string, std::string> meta = {
        {"format", kFormat},
        {"epoch", std::to_string(s.position.epoch)},
        {"batch", std::to_string(s.position.batch)},
        {"step", std::to_string(s.position.step)},
        {"epoch_loss_sum", exact(s.epoch_loss_sum)},
        {"epoch_correct", std::to_string(s.epoch_correct)},
        {"epoch_clips", std::to_string(s.epoch_clips)},
        {"best_score", exact(s.best_score)},
        {"best_loss", exact(s.best_loss)},
        {"selected_on", "val"},
        {"best_epoch", std::to_string(s.best_epoch)},
        {"loss_scale", exact(s.loss_scale)},
        {"config", s.config},
    };
    if (!s.run_uid.empty()) meta["run_uid"] = s.run_uid;
    meta["xxh3"] = checksum(tensors);
    // Two generations: the last one becomes the previous before the new one is written, so a
    // damaged newest file still leaves a whole older one.
    std::error_code ec;
    if (fs::exists(path, ec)) {
        fs::rename(path, previous_checkpoint(path), ec);
        if (ec) throw Error(path, "cannot keep the previous checkpoint: " + ec.message(), "check the folder's permissions");
    }
    models::write_safetensors(path, tensors, meta);
}

CheckpointState load_checkpoint(const std::string& path, TrainModelImpl& model, Adam& adam) {
    std::map<std::string, std::string> meta;
    const models::StateDict all = models::read_state_dict(path, &meta);
    const std::string fix = "delete it to start the run again from scratch";
    if (meta["format"] != kFormat) throw Error(path, "not a gafx checkpoint", fix);
    if (meta.count("xxh3") && meta["xxh3"] != checksum(all))
        throw Error(path, "damaged: its contents do not match the checksum written with them", fix);
    models::StateDict weights, adam_state;
    torch::Tensor rng;
    models::StateDict cuda_rng;
    for (const auto& [name, t] : all) {
        if (name.rfind(kModel, 0) == 0) weights.emplace_back(name.substr(kModel.size()), t);
        else if (name.rfind(kAdam, 0) == 0) adam_state.emplace_back(name.substr(kAdam.size()), t);
        else if (name == kRng) rng = t;
        else if (name.rfind(kCudaRng, 0) == 0) cuda_rng.emplace_back(name.substr(kCudaRng.size()), t);
    }
    models::LoadOptions exact_names;
    exact_names.strip_prefixes.clear();
    models::load_state_dict(model, weights, path, exact_names);
    adam.load_state(adam_state, path);
    if (rng.defined()) {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(rng);
    }
    // A checkpoint moved to a machine with fewer GPUs restores the devices it has.
    for (const auto& [index, state] : cuda_rng) {
        const int64_t d = std::strtoll(index.c_str(), nullptr, 10);
        if (d < 0 || d >= int64_t(torch::cuda::device_count())) continue;
        at::Generator gen = cuda_generator(d);
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(state);
    }
    CheckpointState s;
    try {
        s.position.epoch = std::stoi(meta.at("epoch"));
        s.position.batch = std::stoll(meta.at("batch"));
        s.position.step = std::stoll(meta.at("step"));
        s.epoch_loss_sum = parse_double(meta.at("epoch_loss_sum"));
        s.epoch_correct = std::stoll(meta.at("epoch_correct"));
        s.epoch_clips = std::stoll(meta.at("epoch_clips"));
        s.best_score = parse_double(meta.at("best_score"));
        s.best_epoch = std::stoi(meta.at("best_epoch"));
        s.loss_scale = parse_double(meta.at("loss_scale"));
        s.config = meta.at("config");
        if (meta.count("run_uid")) s.run_uid = meta.at("run_uid");
        // Before validation splits the best epoch was chosen on test: start choosing again.
        if (meta.count("selected_on") == 0 || meta.at("selected_on") != "val") {
            s.best_score = -1;
            s.best_epoch = 0;
        } else {
            s.best_loss = parse_double(meta.at("best_loss"));
        }
    } catch (const std::exception&) {
        throw Error(path, "checkpoint metadata is incomplete", fix);
    }
    return s;
}

void save_weights(const std::string& path, const torch::nn::Module& model) {
    models::write_safetensors(path, named_state(model), {{"format", "gafx-weights-1"}});
}

} // namespace gafx::train
