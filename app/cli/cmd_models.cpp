#include "args.h"
#include "commands.h"

#include "audio/audio_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "models/registry.h"
#include "store/run_store.h"
#include "train/feature_maps.h"

#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>

using nlohmann::json;

namespace gafx::cli {
namespace {

std::string shape(const std::vector<int64_t>& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? " x " : "") + std::to_string(s[i]);
    return out + ")";
}

// The run's own map of a track, through the engine's cache beside the run.
int run_features(const Args& a, const std::string& track, const std::string& out) {
    if (a.has("--extractor") || a.has("--weights"))
        throw UsageError("--run uses the run's own extractor and weights: drop --extractor and --weights");
    const long long run = a.get_int("--run", 0);
    if (run <= 0) throw UsageError("--run takes a run id, not " + std::to_string(run));
    store::RunStore db(workspace_db(a));
    const train::FeatureMapRequest request = train::feature_map_request(db, run, track);
    const train::FeatureMap m = train::run_feature_map(request);
    write_npy_f32(out, m.features.data(), {int64_t(m.clips.size()) * m.frames_per_clip, m.bins});
    std::vector<size_t> order(m.probabilities.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return m.probabilities[x] > m.probabilities[y]; });
    std::string predicted;
    for (size_t i = 0; i < order.size() && i < 3; ++i) {
        const size_t k = order[i];
        const std::string name = k < request.class_names.size() ? request.class_names[k] : std::to_string(k);
        char p[32];
        std::snprintf(p, sizeof p, " %.3f", double(m.probabilities[k]));
        predicted += (i ? ", " : "") + name + p;
    }
    std::printf("%s: run %lld, %zu clips x %lld frames x %lld (%s) -> %s\npredicted: %s\n", track.c_str(), run,
                m.clips.size(), (long long)m.frames_per_clip, (long long)m.bins,
                m.from_cache ? "from the cache" : "computed", out.c_str(), predicted.c_str());
    return 0;
}

} // namespace

int cmd_models(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx models [--json]\n\n"
                    "every extractor and classifier at paper defaults, with its parameter count and\n"
                    "input/output shapes (extractors: 30 s of audio; classifiers: 1024 frames, 10 classes),\n"
                    "computed from the built modules\n");
        return 0;
    }
    Args a(argv, {}, {"--json"});
    a.expect_positional(0, "");
    const auto models = models::describe_models();
    if (a.has("--json")) {
        json out = json::array();
        for (const auto& m : models) {
            json o = {{"name", m.name}, {"kind", m.kind}, {"params", m.params}, {"input", m.input}, {"output", m.output}};
            if (m.sample_rate) o["sample_rate"] = m.sample_rate;
            out.push_back(o);
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    std::printf("%-10s %-10s %12s  %-26s %s\n", "name", "kind", "params", "input", "output");
    for (const auto& m : models) {
        std::string in = shape(m.input);
        if (m.sample_rate) in += " @" + std::to_string(m.sample_rate) + " Hz";
        std::printf("%-10s %-10s %12lld  %-26s %s\n", m.name.c_str(), m.kind.c_str(), (long long)m.params, in.c_str(),
                    shape(m.output).c_str());
    }
    return 0;
}

int cmd_features(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx features AUDIO --extractor mel|gafx-u|gafx-r|gafx-a [--weights FILE] --out FILE.npy\n"
                    "       gafx features TRACK --run ID --out FILE.npy [--db FILE]\n\n"
                    "writes the (frames x 128) float32 feature map of AUDIO as a .npy file. `mel` without\n"
                    "weights is exactly torchaudio.compliance.kaldi.fbank with AST's settings at 22050 Hz.\n"
                    "--weights loads a state dict (.safetensors or torch.save) into the extractor; for gafx-u\n"
                    "torchaudio's hdemucs_high_trained.pt works as it is.\n\n"
                    "--run ID: the learned feature map of a trained run instead, as the Inspector shows it: the\n"
                    "track fitted to the run's track_seconds and cut into its clips, each clip's normalised\n"
                    "features in time order ((clips x frames) x 128), with its best epoch's weights. TRACK is a\n"
                    "track key of the run's dataset (as `gafx dataset show` lists them), else the path of an\n"
                    "audio file. Prints the top classes of the clips' averaged prediction. The map is cached\n"
                    "beside the run (features/), reused while the weights, the config and the audio are the\n"
                    "same by content.\n");
        return 0;
    }
    Args a(argv, {"--extractor", "--weights", "--out", "--db", "--run"}, {});
    a.expect_positional(1, a.has("--run") ? "TRACK" : "AUDIO");
    const auto name = a.get("--extractor");
    const auto out = a.get("--out");
    if (!out) throw UsageError("missing --out FILE.npy");
    if (a.has("--run")) return run_features(a, a.positional()[0], *out);
    if (!name) throw UsageError("missing --extractor (mel, gafx-u, gafx-r, gafx-a)");
    auto extractor = models::make_extractor(*name);
    if (auto w = a.get("--weights")) models::load_extractor_weights(*extractor, *w);
    else if (*name != "mel")
        std::fprintf(stderr, "note: no --weights: %s runs with its random initialisation\n", name->c_str());
    extractor->eval();

    const auto mode = extractor->input_channels() == 2 ? audio::ChannelMode::Stereo : audio::ChannelMode::Mono;
    const audio::Waveform wave = audio::decode(a.positional()[0], extractor->sample_rate(), mode);
    torch::NoGradGuard no_grad;
    auto input = torch::from_blob(const_cast<float*>(wave.samples.data()), {1, wave.channels, wave.frames},
                                  torch::kFloat32);
    const torch::Tensor features = extractor->forward(input).squeeze(0).contiguous().to(torch::kFloat32);
    write_npy_f32(*out, features.data_ptr<float>(), {features.size(0), features.size(1)});
    std::printf("%s: %lld x %lld (%s) -> %s\n", a.positional()[0].c_str(), (long long)features.size(0),
                (long long)features.size(1), name->c_str(), out->c_str());
    return 0;
}

} // namespace gafx::cli
