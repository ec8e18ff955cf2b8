#include "run_analysis.h"

#include "core/error.h"
#include "experiments/experiment.h"
#include "train/evaluation.h"

#include <cmath>
#include <unordered_map>

namespace gafx::app {

RunCurves epoch_curves(const std::vector<store::MetricRow>& rows) {
    RunCurves c;
    for (const auto& m : rows) { // ordered by step: epochs arrive in order
        if (m.split == "test" && m.name == "track_accuracy") {
            c.track_accuracy.x << double(m.epoch);
            c.track_accuracy.y << m.value;
        } else if (m.split == "train" && m.name == "epoch_loss") {
            c.train_loss.x << double(m.epoch);
            c.train_loss.y << m.value;
        }
    }
    return c;
}

std::map<int64_t, RunCurves> load_curves(const std::string& db_path, const std::vector<int64_t>& runs) {
    store::RunStore store(db_path);
    std::map<int64_t, RunCurves> out;
    for (int64_t id : runs) out[id] = epoch_curves(store.metrics(id));
    return out;
}

Band mean_band(const std::vector<const Series*>& series) {
    std::map<double, std::vector<double>> at;
    for (const Series* s : series)
        for (int i = 0; i < s->x.size(); ++i)
            if (!std::isnan(s->y[i])) at[s->x[i]].push_back(s->y[i]);
    Band b;
    for (const auto& [x, v] : at) {
        double sum = 0;
        for (double y : v) sum += y;
        const double mean = sum / double(v.size());
        double sd = std::nan("");
        if (v.size() > 1) {
            double ss = 0;
            for (double y : v) ss += (y - mean) * (y - mean);
            sd = std::sqrt(ss / double(v.size() - 1));
        }
        b.x << x;
        b.mean << mean;
        b.std << sd;
    }
    return b;
}

Confusion load_confusion(const std::string& db_path, int64_t run_id) {
    store::RunStore store(db_path);
    const auto run = store.run(run_id);
    if (!run) throw Error(db_path, "there is no run " + std::to_string(run_id));
    const auto config = experiments::parse_run_config(run->config);
    const auto dataset = store.load_dataset(config.dataset);
    if (!dataset)
        throw Error(db_path, "run " + std::to_string(run_id) + " was trained on dataset '" + config.dataset +
                                 "', which this workspace no longer has",
                    "import it again under that name");
    const data::Catalog& cat = dataset->catalog;
    if (cat.multi_label)
        throw Error(db_path, "'" + cat.name + "' is multi-label (" + std::to_string(cat.classes.size()) +
                                 " classes): a track has no single true class to put in a confusion matrix",
                    "its runs report mAP instead");
    const auto predictions = store.predictions(run_id);
    if (predictions.empty())
        throw Error(db_path, "run " + std::to_string(run_id) + " has no stored predictions yet",
                    "they are kept from its best epoch once it has evaluated");
    std::unordered_map<int64_t, int> label;
    for (const auto& t : cat.tracks)
        if (!t.labels.empty()) label[t.id] = cat.class_index(t.labels.front());
    const int classes = int(cat.classes.size());
    Confusion out;
    std::vector<train::ClipScores> clips;
    for (const auto& p : predictions) {
        const auto it = label.find(p.track_id);
        if (it == label.end() || it->second < 0) {
            ++out.unmatched;
            continue;
        }
        if (int(p.probabilities.size()) != classes)
            throw Error(db_path, "run " + std::to_string(run_id) + " predicted " + std::to_string(p.probabilities.size()) +
                                     " classes, but '" + cat.name + "' now has " + std::to_string(classes),
                        "the dataset was re-imported with other classes; retrain the run");
        clips.push_back({p.track_id, p.clip, p.probabilities, {it->second}});
    }
    const train::Evaluation e = train::evaluate(clips, classes, false, 0.0);
    for (const auto& c : cat.classes) out.classes << QString::fromStdString(c.display_name.empty() ? c.id : c.display_name);
    out.counts = e.confusion;
    out.tracks = e.tracks;
    out.track_accuracy = e.track_accuracy;
    return out;
}

} // namespace gafx::app
