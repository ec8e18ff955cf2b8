#include "train/run_model.h"

#include "core/error.h"
#include "data/batch_loader.h"
#include "models/weights.h"
#include "train/run_setup.h"

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <mutex>

namespace gafx::train {

RunModel load_run_model(const std::string& config_json, int classes, bool multi_label, const std::string& weights) {
    RunModel m;
    m.config = experiments::parse_run_config(config_json);
    m.clips = clip_plan_options(m.config);
    m.multi_label = multi_label;
    if (!std::filesystem::exists(weights))
        throw Error(weights, "the run has no best weights: it never finished an epoch",
                    "train or resume it for at least one epoch");
    // Building draws initial weights from torch's global generator, which a run training on
    // another thread draws dropout masks from; its state goes back afterwards so inspecting does
    // not shift that run's random stream (unless it draws during the build itself). The loaded
    // weights replace these draws anyway.
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    at::Tensor state;
    {
        std::lock_guard<std::mutex> lock(gen.mutex());
        state = gen.get_state();
    }
    m.model = build_model(m.config, classes);
    {
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(state);
    }
    models::LoadOptions o;
    o.strip_prefixes.clear(); // our own files: names are exact
    models::load_state_dict(*m.model, models::read_state_dict(weights), weights, o);
    m.model->eval();
    return m;
}

std::vector<data::Clip> run_clips(const experiments::RunConfig& c) {
    data::Catalog one;
    one.tracks.emplace_back();
    one.tracks[0].duration = c.track_seconds;
    return data::make_clip_plan(one, clip_plan_options(c)).tracks.at(0).clips;
}

TrackFeatures track_features(RunModel& m, const data::Track& track, const Feedback* feedback) {
    // A one-track catalogue through the same plan and loader evaluation uses, so the clips are
    // cut (padded, trimmed) exactly as the run saw them.
    data::Catalog one;
    one.tracks.push_back(track);
    one.tracks[0].labels.clear();
    one.tracks[0].status = data::TrackStatus::Valid;
    const data::ClipPlan plan = data::make_clip_plan(one, m.clips);
    auto items = data::make_load_items(one, plan, {0});
    const auto& extractor = *m.model->extractor;
    data::LoaderOptions o;
    o.batch_size = 1;
    o.threads = 1;
    o.shuffle = false;
    o.sample_rate = extractor.sample_rate();
    o.channels = extractor.input_channels() == 2 ? audio::ChannelMode::Stereo : audio::ChannelMode::Mono;

    TrackFeatures out;
    out.clips = plan.tracks.at(0).clips;
    const int64_t n = int64_t(items.size());
    data::BatchLoader loader(std::move(items), o, nullptr);
    loader.start_epoch(0);
    torch::NoGradGuard no_grad;
    int64_t done = 0;
    while (auto b = loader.next()) {
        throw_if_cancelled(feedback, track.path);
        const torch::Tensor f = m.model->features(b->audio).to(torch::kFloat32).contiguous();
        const torch::Tensor logits = m.model->classifier->forward(f).to(torch::kFloat32);
        const torch::Tensor p = (m.multi_label ? logits.sigmoid() : logits.softmax(1)).contiguous();
        out.frames_per_clip = f.size(1);
        out.bins = f.size(2);
        out.classes = p.size(1);
        out.features.insert(out.features.end(), f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
        out.probabilities.insert(out.probabilities.end(), p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
        if (feedback) feedback->progress(++done, n, track.path);
    }
    return out;
}

} // namespace gafx::train
