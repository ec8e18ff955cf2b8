#include "train/run_setup.h"

#include "core/error.h"
#include "core/rng.h"
#include "data/clip_plan.h"
#include "models/ast_weights.h"
#include "models/registry.h"
#include "models/vit_block.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "train/trainer.h"
#include "weights/catalog.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <cmath>
#include <filesystem>
#include <map>

namespace gafx::train {
namespace {

torch::Device pick_device(const std::string& name) {
    if (name == "cpu") return torch::kCPU;
    if (name.rfind("cuda", 0) == 0) {
        if (!torch::cuda::is_available())
            throw Error({}, "no CUDA device is available to this libtorch",
                        "use --device cpu, or run on a machine with a GPU and a CUDA build of libtorch");
        return torch::Device(name);
    }
    throw Error({}, "unknown device '" + name + "'", "use cpu or cuda");
}

bool has_prefix(const models::StateDict& s, const std::string& p) {
    for (const auto& [n, t] : s)
        if (n.rfind(p, 0) == 0) return true;
    return false;
}

// Our own run weights (extractor.*, classifier.*): the classifier head is replaced when the
// class count differs (AudioSet 527 -> GTZAN 10), positional embeddings follow the new grid.
std::string load_run_weights(TrainModelImpl& model, const std::string& path) {
    models::StateDict state = models::read_state_dict(path);
    const auto& cfg = model.classifier->config();
    models::LoadOptions o;
    o.strip_prefixes.clear();
    std::string note = "weights from " + path;
    for (auto& [name, t] : state) {
        if (name == "classifier.mlp_head.1.weight" && t.size(0) != cfg.num_classes) {
            o.ignore = {"classifier.mlp_head.1."};
            o.optional = {"classifier.mlp_head.1."};
            note += " (new " + std::to_string(cfg.num_classes) + "-class head)";
        }
        if (name == "classifier.pos_embed" && t.size(1) != cfg.tokens()) {
            // A pretraining run at another length: its grid is (bins/16) x (old tokens / that).
            const int64_t f = cfg.freq_patches(), old_t = (t.size(1) - 2) / f;
            t = models::resize_pos_embed(t, f, old_t, f, cfg.time_patches());
            note += " (positional grid resized)";
        }
    }
    models::load_state_dict(model, state, path, o);
    return note;
}

// classifier_weights and extractor_weights, each into its part; "" when the run names neither.
std::string load_part_weights(TrainModelImpl& model, const experiments::RunConfig& c) {
    std::string notes;
    if (!c.classifier_weights.empty()) {
        const std::string path = weights::resolve(c.classifier_weights, weights::Role::Classifier, c.classifier);
        const auto r = models::load_ast_weights(*model.classifier, path);
        notes = "classifier weights (" + r.source + ") from " + path;
    }
    if (!c.extractor_weights.empty()) {
        const std::string path = weights::resolve(c.extractor_weights, weights::Role::Extractor, c.extractor);
        models::load_extractor_weights(*model.extractor, path);
        notes += (notes.empty() ? "" : "; ") + std::string("extractor weights from ") + path;
    }
    return notes;
}

std::string load_pretrained(TrainModelImpl& model, const experiments::RunConfig& c, store::RunStore& store,
                            const TrainOptions& options) {
    if (c.pretraining == "run") {
        auto pre = store.run(c.pretrained_run);
        if (!pre) throw Error({}, "pretrained_run " + std::to_string(c.pretrained_run) + " does not exist",
                              "see gafx runs for the id of a finished AudioSet run");
        const std::string path = store::run_paths(store.path(), *pre, options.checkpoint_dir).best;
        if (!std::filesystem::exists(path))
            throw Error(path, "pretrained_run " + std::to_string(c.pretrained_run) + " has no best weights yet (" +
                                  store::to_string(pre->status) + ")",
                        "let it finish at least one epoch, or pick another run");
        return load_run_weights(model, path);
    }
    if (c.pretraining != "weights") return {};
    const std::string& path = c.pretrained_weights;
    const models::StateDict state = models::read_state_dict(path);
    if (has_prefix(state, "classifier.") || has_prefix(state, "extractor.")) return load_run_weights(model, path);
    if (has_prefix(state, "blocks.") || has_prefix(state, "module.v.") || has_prefix(state, "v.") ||
        has_prefix(state, "model.blocks.")) {
        const auto r = models::load_ast_weights(*model.classifier, path);
        return "classifier weights (" + r.source + ") from " + path;
    }
    models::load_extractor_weights(*model.extractor, path);
    return "extractor weights from " + path;
}

} // namespace

data::ClipPlanOptions clip_plan_options(const experiments::RunConfig& c) {
    data::ClipPlanOptions po;
    po.track_seconds = c.track_seconds;
    po.clips_per_track = c.augmentation ? c.clips_per_track : 1;
    po.clip_seconds = c.augmentation ? c.clip_seconds : c.track_seconds;
    return po;
}

TrainModel build_model(const experiments::RunConfig& c, int classes) {
    const double clip_seconds = clip_plan_options(c).clip_seconds;
    const auto preset = c.preset == "small" ? models::Preset::Small : models::Preset::Paper;
    auto extractor = models::make_extractor(c.extractor, preset);
    extractor->set_activation_checkpointing(c.activation_checkpointing);
    const int64_t samples = std::llround(clip_seconds * extractor->sample_rate());
    const int64_t frames = c.frames > 0 ? c.frames : extractor->output_frames(samples);
    if (frames < 16)
        throw Error({}, "clips of " + std::to_string(clip_seconds) + " s give " + std::to_string(frames) +
                            " feature frames, fewer than one 16-frame patch",
                    "use longer clips");
    train::FeatureOptions fo;
    fo.log_compression = c.compression == "log";
    fo.frames = c.frames;
    fo.freq_mask = c.freq_mask;
    fo.time_mask = c.time_mask;
    auto classifier = models::make_classifier(c.classifier, frames, classes, preset);
    models::set_attention_recompute(*classifier, c.activation_checkpointing);
    return TrainModel(extractor, classifier, fo);
}

RunSetup setup_run(store::RunStore& store, const store::RunRecord& run, const TrainOptions& options) {
    RunSetup s;
    try {
        s.config = experiments::parse_run_config(run.config);
    } catch (const std::exception& e) {
        throw Error({}, "run " + std::to_string(run.id) + " has an unreadable config: " + e.what(),
                    "queue it again from its experiment file");
    }
    const auto& c = s.config;
    auto ds = store.load_dataset(c.dataset, run.split_id);
    if (!ds) throw Error({}, "no imported dataset named '" + c.dataset + "'", "import it with gafx dataset import");
    s.dataset = std::move(*ds);
    if (s.dataset.split_id == 0)
        throw Error(s.dataset.catalog.root, "dataset '" + c.dataset + "' has no split",
                    "split it with gafx dataset split " + c.dataset);
    // The run keeps this split from now on, whatever re-splits come later.
    if (run.split_id == 0) store.set_run_split(run.id, s.dataset.id, s.dataset.split_id);
    if (s.dataset.split.is_kfold() && c.fold < 0)
        throw Error(s.dataset.catalog.root, "dataset '" + c.dataset + "' is split into folds and the run names none",
                    "queue it with \"fold\" in its experiment", ErrorField{{}, "fold"});
    s.split = s.dataset.split.for_fold(c.fold);
    s.classes = int(s.dataset.catalog.classes.size());
    s.multi_label = s.dataset.catalog.multi_label;

    const data::ClipPlan plan = data::make_clip_plan(s.dataset.catalog, clip_plan_options(c));
    std::vector<size_t> idx[3];
    for (size_t i = 0; i < s.split.subset.size(); ++i) {
        const data::Subset sub = s.split.subset[i];
        if (sub == data::Subset::Train) idx[0].push_back(i);
        if (sub == data::Subset::Val) idx[1].push_back(i);
        if (sub == data::Subset::Test) idx[2].push_back(i);
    }
    s.train_items = data::make_load_items(s.dataset.catalog, plan, idx[0]);
    s.val_items = data::make_load_items(s.dataset.catalog, plan, idx[1]);
    s.test_items = data::make_load_items(s.dataset.catalog, plan, idx[2]);
    if (s.val_items.empty() && !idx[0].empty() && !idx[2].empty())
        throw Error(s.dataset.catalog.root,
                    "dataset '" + c.dataset + "' has no validation tracks in split " + std::to_string(s.dataset.split_id) +
                        " (made before validation splits existed): the best epoch would be chosen on test",
                    "re-split it (gafx dataset split " + c.dataset + ") and queue the run again");
    const char* empty = s.train_items.empty() ? "training" : s.val_items.empty() ? "validation"
                                                           : s.test_items.empty() ? "test" : nullptr;
    if (empty)
        throw Error(s.dataset.catalog.root, "dataset '" + c.dataset + "' has no valid tracks on the " + empty + " side",
                    "check gafx dataset show " + c.dataset);

    s.device = pick_device(options.device);
    s.device_path = prepare_device(s.device);
    s.precision = resolve_precision(c.precision, s.device);

    // The model's initial weights depend on the seed alone.
    torch::manual_seed(mix_seed(c.seed, 0x6d6f64656cULL));
    s.model = build_model(c, s.classes);
    // A front end with nothing to train (mel) runs in the loader's threads, which keep its output
    // beside the waveform cache, so later epochs skip it. Not under mixup: AST mixes waveforms
    // before the fbank, and mixing fbanks instead would be another method.
    s.model->front_end_in_loader = !s.model->extractor->front_end_key().empty() && c.mixup <= 0;
    // Part weights first: a pretraining run, trained from them, then replaces the whole model.
    s.notes = load_part_weights(*s.model, c);
    const std::string pretrained = load_pretrained(*s.model, c, store, options);
    if (!pretrained.empty()) s.notes += (s.notes.empty() ? "" : "; ") + pretrained;
    s.model->to(s.device);
    return s;
}

data::LoaderOptions loader_options(const RunSetup& s, const TrainOptions& options, bool train) {
    data::LoaderOptions o;
    o.batch_size = int(s.config.batch_size);
    o.threads = std::max(1, options.loader_threads);
    o.sample_rate = s.model->extractor->sample_rate();
    o.channels = s.model->extractor->input_channels() == 2 ? audio::ChannelMode::Stereo : audio::ChannelMode::Mono;
    o.shuffle = train;
    o.seed = s.config.seed;
    o.num_classes = s.classes;
    o.multi_label = s.multi_label;
    // Evaluation always sees the planned tiles.
    if (train && s.config.crop == "random") o.crop_within_seconds = clip_plan_options(s.config).track_seconds;
    o.rank = options.world.rank;
    o.world = std::max(1, options.world.world_size);
    o.pin_memory = s.device_path.pinned_input;
    if (s.model->front_end_in_loader) {
        auto extractor = s.model->extractor;
        o.front_end = [extractor](const torch::Tensor& clip) {
            torch::NoGradGuard no_grad;
            return extractor->forward(clip.unsqueeze(0)).squeeze(0);
        };
        o.front_end_key = extractor->front_end_key();
    }
    return o;
}

std::vector<size_t> normalisation_sample(const std::vector<data::LoadItem>& items, int classes, size_t max_clips,
                                         uint64_t seed) {
    const size_t want = std::min(items.size(), std::max(max_clips, size_t(std::max(classes, 0))));
    // Per class (its first label; unlabelled clips form one more pool), in seeded order.
    std::map<int, std::vector<size_t>> pools;
    for (size_t i = 0; i < items.size(); ++i) pools[items[i].labels.empty() ? -1 : items[i].labels.front()].push_back(i);
    Rng rng(mix_seed(seed, 0x6e6f726d));
    for (auto& [label, pool] : pools) rng.shuffle(pool);
    std::vector<size_t> out;
    for (size_t round = 0; out.size() < want; ++round)
        for (auto& [label, pool] : pools)
            if (round < pool.size() && out.size() < want) out.push_back(pool[round]);
    std::sort(out.begin(), out.end());
    return out;
}

void fit_normalisation(RunSetup& s, const TrainOptions& options, size_t max_clips) {
    if (s.config.pretraining == "run") return;
    std::vector<data::LoadItem> items;
    for (size_t i : normalisation_sample(s.train_items, s.classes, max_clips, s.config.seed))
        items.push_back(s.train_items[i]);
    data::LoaderOptions o = loader_options(s, options, false);
    o.rank = 0; // every clip of the sample, on whichever rank measures it
    o.world = 1;
    data::BatchLoader loader(std::move(items), o, options.cache);
    loader.start_epoch(0);
    torch::NoGradGuard no_grad;
    const bool was_training = s.model->is_training();
    s.model->eval();
    double sum = 0, sq = 0, n = 0;
    while (auto b = loader.next()) {
        const torch::Tensor f = s.model->shaped(to_device(b->audio, s.device)).to(torch::kFloat64);
        sum += f.sum().item<double>();
        sq += f.square().sum().item<double>();
        n += double(f.numel());
    }
    s.model->train(was_training);
    const double mean = sum / n;
    const double std = std::sqrt(std::max(1e-12, sq / n - mean * mean));
    s.model->set_normalisation(mean, std);
}

} // namespace gafx::train
