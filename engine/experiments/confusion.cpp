#include "experiments/confusion.h"

#include "core/error.h"
#include "experiments/experiment.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace gafx::experiments {
namespace {

std::string run_name(int64_t id) { return "run " + std::to_string(id); }

// The first maximum, as train::evaluate picks a track's class.
int arg_max(const std::vector<double>& v) {
    return int(std::max_element(v.begin(), v.end()) - v.begin());
}

struct Counted {
    Confusion confusion;
    std::string dataset;
};

Counted count_run(store::RunStore& store, int64_t run_id) {
    const std::string& db_path = store.path();
    const auto run = store.run(run_id);
    if (!run) throw Error(db_path, "there is no " + run_name(run_id), "`gafx runs` lists them");
    const auto config = parse_run_config(run->config);
    const auto dataset = store.load_dataset(config.dataset);
    if (!dataset)
        throw Error(db_path, run_name(run_id) + " was trained on dataset '" + config.dataset +
                                 "', which this workspace no longer has",
                    "import it again under that name");
    const auto predictions = store.predictions(run_id);
    try {
        Confusion c = confusion_matrix(dataset->catalog, predictions, db_path, run_id);
        c.selected_epoch = run->selected_epoch;
        return {std::move(c), config.dataset};
    } catch (const Error& e) { // say which run
        throw Error(e.path(), run_name(run_id) + ": " + e.reason(), e.fix());
    }
}

} // namespace

Confusion confusion_matrix(const data::Catalog& cat, const std::vector<store::Prediction>& predictions,
                           const std::string& source, int64_t run) {
    if (cat.multi_label)
        throw Error(source, "'" + cat.name + "' is multi-label (" + std::to_string(cat.classes.size()) +
                                " classes): a track has no single true class to put in a confusion matrix",
                    "its runs report mAP instead");
    if (predictions.empty())
        throw Error(source, "there are no stored predictions yet", "they are kept from the best epoch once it has evaluated");
    std::unordered_map<int64_t, const data::Track*> tracks;
    for (const auto& t : cat.tracks)
        if (!t.labels.empty() && cat.class_index(t.labels.front()) >= 0) tracks[t.id] = &t;
    const size_t classes = cat.classes.size();
    Confusion out;
    out.run = run;
    out.runs = {run};
    struct Sum {
        const data::Track* track = nullptr;
        std::vector<double> sum;
        std::vector<std::vector<float>> clips;
    };
    std::map<int64_t, Sum> by_track; // by id, as evaluation orders them
    for (const auto& p : predictions) {
        const auto it = tracks.find(p.track_id);
        if (it == tracks.end()) {
            ++out.unmatched;
            continue;
        }
        if (p.probabilities.size() != classes)
            throw Error(source, "the predictions have " + std::to_string(p.probabilities.size()) + " classes, but '" +
                                    cat.name + "' now has " + std::to_string(classes),
                        "the dataset was re-imported with other classes; retrain the run");
        Sum& s = by_track[p.track_id];
        s.track = it->second;
        if (s.sum.empty()) s.sum.assign(classes, 0.0);
        // Summed as doubles from the stored floats, exactly as train::evaluate sums them.
        for (size_t k = 0; k < classes; ++k) s.sum[k] += double(p.probabilities[k]);
        s.clips.push_back(p.probabilities);
    }
    for (const auto& c : cat.classes) out.classes.push_back(c.display_name.empty() ? c.id : c.display_name);
    out.counts.assign(classes, std::vector<int64_t>(classes, 0));
    int64_t correct = 0;
    for (auto& [id, s] : by_track) {
        TrackOutcome o;
        o.run = run;
        o.track = id;
        o.key = s.track->key;
        o.true_class = cat.class_index(s.track->labels.front());
        o.predicted = arg_max(s.sum);
        o.confidence = s.sum[size_t(o.predicted)] / double(s.clips.size());
        o.clip_probabilities = std::move(s.clips);
        ++out.counts[size_t(o.true_class)][size_t(o.predicted)];
        correct += o.true_class == o.predicted;
        out.outcomes.push_back(std::move(o));
    }
    out.tracks = int64_t(out.outcomes.size());
    out.track_accuracy = out.tracks ? double(correct) / double(out.tracks) : 0.0;
    return out;
}

Confusion load_confusion(store::RunStore& store, int64_t run) { return count_run(store, run).confusion; }

Confusion load_confusion(const std::string& db_path, int64_t run) {
    store::RunStore store(db_path);
    return load_confusion(store, run);
}

Confusion load_confusion(const std::string& db_path, const std::vector<int64_t>& asked) {
    std::vector<int64_t> runs; // a run named twice counts once
    for (int64_t id : asked)
        if (std::find(runs.begin(), runs.end(), id) == runs.end()) runs.push_back(id);
    if (runs.empty()) throw Error(db_path, "no run to count", "select one or more evaluated runs");
    store::RunStore store(db_path);
    Counted first = count_run(store, runs.front());
    Confusion out = std::move(first.confusion);
    if (runs.size() == 1) return out;
    out.run = 0;
    out.selected_epoch = 0; // each run has its own
    int64_t correct = 0;
    for (const auto& o : out.outcomes) correct += o.true_class == o.predicted;
    for (size_t i = 1; i < runs.size(); ++i) {
        Counted next = count_run(store, runs[i]);
        if (next.dataset != first.dataset || next.confusion.classes != out.classes)
            throw Error(db_path,
                        run_name(runs[i]) + " is on dataset '" + next.dataset + "', " + run_name(runs.front()) +
                            " on '" + first.dataset + "': their matrices count different tracks",
                        "select runs of one dataset");
        for (size_t t = 0; t < out.counts.size(); ++t)
            for (size_t p = 0; p < out.counts[t].size(); ++p) out.counts[t][p] += next.confusion.counts[t][p];
        out.runs.push_back(runs[i]);
        out.tracks += next.confusion.tracks;
        out.unmatched += next.confusion.unmatched;
        for (auto& o : next.confusion.outcomes) {
            correct += o.true_class == o.predicted;
            out.outcomes.push_back(std::move(o));
        }
    }
    out.track_accuracy = out.tracks ? double(correct) / double(out.tracks) : 0.0;
    return out;
}

std::vector<const TrackOutcome*> cell_tracks(const Confusion& c, int true_class, int predicted) {
    std::vector<const TrackOutcome*> out;
    for (const auto& o : c.outcomes)
        if (o.true_class == true_class && o.predicted == predicted) out.push_back(&o);
    std::stable_sort(out.begin(), out.end(),
                     [](const TrackOutcome* a, const TrackOutcome* b) { return a->confidence > b->confidence; });
    return out;
}

} // namespace gafx::experiments
