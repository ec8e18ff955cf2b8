#include "train/embeddings.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "data/batch_loader.h"
#include "data/csv.h"
#include "experiments/experiment.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "train/run_model.h"

#include <torch/types.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <numeric>
#include <unordered_map>

namespace gafx::train {

const char* to_string(EmbeddingKind k) { return k == EmbeddingKind::Features ? "features" : "pooled"; }

std::optional<EmbeddingKind> parse_embedding_kind(const std::string& s) {
    if (s == "pooled") return EmbeddingKind::Pooled;
    if (s == "features") return EmbeddingKind::Features;
    return std::nullopt;
}

EmbeddingJob embedding_job(store::RunStore& store, int64_t run_id, std::optional<data::Subset> subset) {
    const std::string name = "run " + std::to_string(run_id);
    const auto run = store.run(run_id);
    if (!run) throw Error(store.path(), "there is no " + name, "`gafx runs` lists them");
    const auto config = experiments::parse_run_config(run->config);
    // The split the run trained on, not the dataset's latest: a re-split would put its training
    // tracks on the test side.
    const auto ds = store.load_dataset(config.dataset, run->split_id);
    if (!ds)
        throw Error(store.path(), name + " was trained on dataset '" + config.dataset +
                                      "', which this workspace no longer has",
                    "import it again under that name");
    if (ds->split_id == 0)
        throw Error(store.path(), "dataset '" + config.dataset + "' of " + name + " has no split",
                    "split it with gafx dataset split " + config.dataset);
    const data::Split split = ds->split.for_fold(config.fold);
    const data::Catalog& cat = ds->catalog;

    EmbeddingJob job;
    job.run = run_id;
    job.config = run->config;
    job.weights = store::run_paths(store.path(), *run).best;
    job.multi_label = cat.multi_label;
    for (const auto& c : cat.classes) job.class_names.push_back(c.display_name.empty() ? c.id : c.display_name);
    for (size_t i = 0; i < cat.tracks.size() && i < split.subset.size(); ++i) {
        const data::Subset side = split.subset[i];
        const bool used = side == data::Subset::Train || side == data::Subset::Val || side == data::Subset::Test;
        if (!used || (subset && side != *subset)) continue;
        const data::Track& t = cat.tracks[i];
        if (t.status != data::TrackStatus::Valid || t.path.empty()) {
            job.skipped.push_back(t.key); // split while valid, missing or broken since
            continue;
        }
        job.tracks.push_back(t);
        job.subsets.push_back(side);
        job.true_class.push_back(t.labels.empty() ? -1 : cat.class_index(t.labels.front()));
    }
    if (job.tracks.empty())
        throw Error(store.path(),
                    name + ": dataset '" + config.dataset + "' has no valid " +
                        (subset ? std::string(data::to_string(*subset)) : std::string("train, val or test")) +
                        " track",
                    "check gafx dataset show " + config.dataset);
    return job;
}

namespace {

std::string class_name(const Embeddings& e, int k) {
    return k >= 0 && size_t(k) < e.class_names.size() ? e.class_names[size_t(k)] : std::string();
}

// One record per row of every part, stacked; `middle` adds the columns between the track and
// its classes.
void write_rows(const std::vector<const Embeddings*>& parts, const std::string& path, const std::string& extra_header,
                const std::function<std::string(size_t part, size_t row)>& middle) {
    std::string text = "row,run,track_id,track," + extra_header + "true_class,predicted_class,subset\n";
    size_t row = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
        const Embeddings& e = *parts[p];
        for (size_t r = 0; r < size_t(e.rows()); ++r)
            text += std::to_string(row++) + "," + std::to_string(e.run) + "," + std::to_string(e.track_ids[r]) + "," +
                    data::csv_field(e.track_keys[r]) + "," + middle(p, r) +
                    data::csv_field(class_name(e, e.true_class[r])) + "," +
                    data::csv_field(class_name(e, e.predicted_class[r])) + "," + data::to_string(e.subsets[r]) + "\n";
    }
    write_file_atomic(path, [&](const auto& write) { write(text.data(), text.size()); });
}

} // namespace

std::string tracks_csv_path(const std::string& npy_path) {
    const std::string ext = ".npy";
    const bool npy = npy_path.size() > ext.size() && npy_path.compare(npy_path.size() - ext.size(), ext.size(), ext) == 0;
    return (npy ? npy_path.substr(0, npy_path.size() - ext.size()) : npy_path) + ".tracks.csv";
}

void write_embeddings(const Embeddings& e, const std::string& npy_path, const std::string& csv_path) {
    write_embeddings(std::vector<const Embeddings*>{&e}, npy_path, csv_path);
}

void write_embeddings(const std::vector<const Embeddings*>& parts, const std::string& npy_path,
                      const std::string& csv_path) {
    int64_t rows = 0;
    for (const Embeddings* e : parts) {
        if (e->dim != parts.front()->dim)
            throw Error(npy_path,
                        "run " + std::to_string(parts.front()->run) + "'s embeddings have " +
                            std::to_string(parts.front()->dim) + " values a track, run " + std::to_string(e->run) +
                            "'s " + std::to_string(e->dim) + ": one matrix cannot hold both",
                        "export the runs one at a time, or the CSV layout");
        rows += e->rows();
    }
    const int64_t dim = parts.empty() ? 0 : parts.front()->dim;
    std::vector<float> matrix;
    matrix.reserve(size_t(rows * dim));
    for (const Embeddings* e : parts) matrix.insert(matrix.end(), e->matrix.begin(), e->matrix.end());
    write_npy_f32(npy_path, matrix.data(), {rows, dim});
    write_rows(parts, csv_path, "", [](size_t, size_t) { return std::string(); });
}

void write_layout_csv(const Embeddings& e, const std::vector<float>& xy, const std::string& path) {
    write_layout_csv(std::vector<const Embeddings*>{&e}, {&xy}, path);
}

void write_layout_csv(const std::vector<const Embeddings*>& parts, const std::vector<const std::vector<float>*>& xys,
                      const std::string& path) {
    if (xys.size() != parts.size()) throw Error(path, "a layout for each run is needed");
    for (size_t p = 0; p < parts.size(); ++p)
        if (int64_t(xys[p]->size()) != 2 * parts[p]->rows())
            throw Error(path, "run " + std::to_string(parts[p]->run) + "'s layout has " +
                                  std::to_string(xys[p]->size() / 2) + " points for " +
                                  std::to_string(parts[p]->rows()) + " tracks");
    write_rows(parts, path, "x,y,", [&](size_t p, size_t r) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.9g,%.9g,", double((*xys[p])[2 * r]), double((*xys[p])[2 * r + 1]));
        return std::string(buf);
    });
}

Embeddings compute_embeddings(const EmbeddingJob& job, EmbeddingKind kind, const Feedback* feedback,
                              int loader_threads) {
    RunModel m = load_run_model(job.config, int(job.class_names.size()), job.multi_label, job.weights);

    // The job's tracks through the plan and loader evaluation uses, so clips are cut (padded,
    // trimmed) as the run saw them. Labels are the job's already; the loader needs none.
    data::Catalog cat;
    cat.tracks = job.tracks;
    for (auto& t : cat.tracks) t.labels.clear();
    const data::ClipPlan plan = data::make_clip_plan(cat, m.clips);
    std::vector<size_t> all(cat.tracks.size());
    std::iota(all.begin(), all.end(), size_t(0));
    std::vector<int64_t> expected(all.size(), 0);
    for (const auto& p : plan.tracks) expected[p.track] = int64_t(p.clips.size());
    const auto& extractor = *m.model->extractor;
    data::LoaderOptions o;
    // One track a batch while every track has the same clips, so cancel lands between tracks.
    o.batch_size = plan.tracks.empty() ? 1 : std::max(1, int(plan.tracks.front().clips.size()));
    o.threads = std::max(1, loader_threads);
    o.shuffle = false;
    o.sample_rate = extractor.sample_rate();
    o.channels = extractor.input_channels() == 2 ? audio::ChannelMode::Stereo : audio::ChannelMode::Mono;
    data::BatchLoader loader(data::make_load_items(cat, plan, all), o, nullptr);

    std::unordered_map<int64_t, size_t> row_of;
    for (size_t i = 0; i < job.tracks.size(); ++i) row_of[job.tracks[i].id] = i;
    const size_t rows = job.tracks.size(), classes = job.class_names.size();
    std::vector<double> sums, prob_sums(rows * classes, 0.0);
    std::vector<int64_t> seen(rows, 0);
    int64_t dim = 0, done = 0;

    loader.start_epoch(0);
    torch::NoGradGuard no_grad;
    while (auto b = loader.next()) {
        const size_t first = row_of.at(b->track_ids.front());
        throw_if_cancelled(feedback, job.tracks[first].path);
        const torch::Tensor f = m.model->features(b->audio).to(torch::kFloat32);
        const torch::Tensor pooled = m.model->classifier->pooled(f);
        const torch::Tensor logits = m.model->classifier->mlp_head->forward(pooled).to(torch::kFloat32);
        const torch::Tensor probs = (m.multi_label ? logits.sigmoid() : logits.softmax(1)).to(torch::kFloat64).contiguous();
        const torch::Tensor emb = (kind == EmbeddingKind::Pooled ? pooled : f.mean(1)).to(torch::kFloat64).contiguous();
        if (sums.empty()) {
            dim = emb.size(1);
            sums.assign(rows * size_t(dim), 0.0);
        }
        const double* pe = emb.data_ptr<double>();
        const double* pp = probs.data_ptr<double>();
        for (size_t i = 0; i < b->track_ids.size(); ++i) {
            const size_t r = row_of.at(b->track_ids[i]);
            for (int64_t j = 0; j < dim; ++j) sums[r * size_t(dim) + size_t(j)] += pe[int64_t(i) * dim + j];
            for (size_t k = 0; k < classes; ++k) prob_sums[r * classes + k] += pp[i * classes + k];
            if (++seen[r] == expected[r] && feedback) feedback->progress(++done, int64_t(rows), job.tracks[r].key);
        }
    }

    Embeddings e;
    e.run = job.run;
    e.kind = kind;
    e.subsets = job.subsets;
    e.true_class = job.true_class;
    e.class_names = job.class_names;
    e.dim = dim;
    e.matrix.resize(rows * size_t(dim));
    for (size_t r = 0; r < rows; ++r) {
        const data::Track& t = job.tracks[r];
        if (seen[r] == 0) throw Error(t.path, "gave no clip to embed", "check gafx dataset show");
        e.track_ids.push_back(t.id);
        e.track_keys.push_back(t.key);
        for (int64_t j = 0; j < dim; ++j)
            e.matrix[r * size_t(dim) + size_t(j)] = float(sums[r * size_t(dim) + size_t(j)] / double(seen[r]));
        // Summed, not averaged, as evaluation's arg-max takes it: the same winner, ties included.
        const auto p = prob_sums.begin() + std::ptrdiff_t(r * classes);
        e.predicted_class.push_back(classes ? int(std::max_element(p, p + std::ptrdiff_t(classes)) - p) : -1);
    }
    return e;
}

} // namespace gafx::train
