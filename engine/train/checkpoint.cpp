#include "train/checkpoint.h"

#include "core/error.h"
#include "models/safetensors.h"

#include <ATen/CPUGeneratorImpl.h>

#include <charconv>
#include <map>
#include <mutex>

namespace gafx::train {
namespace {

constexpr const char* kFormat = "gafx-checkpoint-1";
const std::string kModel = "model.", kAdam = "adam.", kRng = "rng.cpu";

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

} // namespace

void save_checkpoint(const std::string& path, TrainModelImpl& model, const Adam& adam, const CheckpointState& s) {
    models::StateDict tensors;
    for (auto& [name, t] : named_state(model)) tensors.emplace_back(kModel + name, t);
    for (auto& [name, t] : adam.state()) tensors.emplace_back(kAdam + name, t);
    {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        tensors.emplace_back(kRng, gen.get_state());
    }
    const std::map<std::string, std::string> meta = {
        {"format", kFormat},
        {"epoch", std::to_string(s.position.epoch)},
        {"batch", std::to_string(s.position.batch)},
        {"step", std::to_string(s.position.step)},
        {"epoch_loss_sum", exact(s.epoch_loss_sum)},
        {"epoch_correct", std::to_string(s.epoch_correct)},
        {"epoch_clips", std::to_string(s.epoch_clips)},
        {"best_score", exact(s.best_score)},
        {"best_epoch", std::to_string(s.best_epoch)},
        {"loss_scale", exact(s.loss_scale)},
        {"config", s.config},
    };
    models::write_safetensors(path, tensors, meta);
}

CheckpointState load_checkpoint(const std::string& path, TrainModelImpl& model, Adam& adam) {
    std::map<std::string, std::string> meta;
    const models::StateDict all = models::read_state_dict(path, &meta);
    const std::string fix = "delete it to start the run again from scratch";
    if (meta["format"] != kFormat) throw Error(path, "not a gafx checkpoint", fix);
    models::StateDict weights, adam_state;
    torch::Tensor rng;
    for (const auto& [name, t] : all) {
        if (name.rfind(kModel, 0) == 0) weights.emplace_back(name.substr(kModel.size()), t);
        else if (name.rfind(kAdam, 0) == 0) adam_state.emplace_back(name.substr(kAdam.size()), t);
        else if (name == kRng) rng = t;
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
    } catch (const std::exception&) {
        throw Error(path, "checkpoint metadata is incomplete", fix);
    }
    return s;
}

void save_weights(const std::string& path, const torch::nn::Module& model) {
    models::write_safetensors(path, named_state(model), {{"format", "gafx-weights-1"}});
}

} // namespace gafx::train
