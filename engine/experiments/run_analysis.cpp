#include "experiments/run_analysis.h"

#include "experiments/stats.h"

#include "core/error.h"
#include "experiments/experiment.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <unordered_map>

using Json = nlohmann::ordered_json;

namespace gafx::experiments {
namespace {

std::string value_text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string run_name(int64_t id) { return "run " + std::to_string(id); }

} // namespace

MeanStd mean_std(const std::vector<double>& values) {
    const stats::Summary s = stats::summarise(values);
    MeanStd out;
    out.n = s.n;
    if (s.n == 0) return out;
    out.mean = s.mean;
    out.std = s.sd;
    out.ci_low = s.ci_low;
    out.ci_high = s.ci_high;
    return out;
}

RunCurves epoch_curves(const std::vector<store::MetricRow>& rows) {
    RunCurves c;
    std::map<int64_t, double> epoch_seconds;
    for (const auto& m : rows) { // ordered by step: epochs arrive in order
        if (m.split == "test" && m.name == "track_accuracy") {
            c.track_accuracy.x.push_back(double(m.epoch));
            c.track_accuracy.y.push_back(m.value);
        } else if (m.split == "train" && m.name == "epoch_loss") {
            c.train_loss.x.push_back(double(m.epoch));
            c.train_loss.y.push_back(m.value);
            c.epoch_end[m.epoch].first = m.step;
        } else if (m.split == "train" && m.name == "loss") {
            c.step_loss.x.push_back(double(m.step));
            c.step_loss.y.push_back(m.value);
        } else if (m.split == "time" && m.name == "epoch_seconds") {
            epoch_seconds[m.epoch] = m.value;
        }
    }
    double total = 0;
    for (auto& [epoch, end] : c.epoch_end) {
        const auto it = epoch_seconds.find(epoch);
        total += it == epoch_seconds.end() ? 0.0 : it->second;
        end.second = total;
    }
    return c;
}

Series along(const Series& per_epoch, const RunCurves& c, CurveAxis axis) {
    if (axis == CurveAxis::Epoch) return per_epoch;
    Series out;
    for (size_t i = 0; i < per_epoch.x.size() && i < per_epoch.y.size(); ++i) {
        const auto it = c.epoch_end.find(int64_t(per_epoch.x[i]));
        if (it == c.epoch_end.end()) continue;
        out.x.push_back(axis == CurveAxis::Step ? double(it->second.first) : it->second.second);
        out.y.push_back(per_epoch.y[i]);
    }
    return out;
}

Series train_loss_along(const RunCurves& c, CurveAxis axis) {
    return axis == CurveAxis::Step && !c.step_loss.x.empty() ? c.step_loss : along(c.train_loss, c, axis);
}

Series smooth_ema(const Series& s, double weight) {
    if (weight <= 0) return s;
    weight = std::min(weight, 0.999);
    Series out = s;
    double last = 0, debias = 1;
    for (size_t i = 0; i < out.y.size(); ++i) {
        if (std::isnan(out.y[i])) continue;
        last = last * weight + (1 - weight) * out.y[i];
        debias *= weight;
        out.y[i] = last / (1 - debias);
    }
    return out;
}

std::map<int64_t, RunCurves> load_curves(const std::string& db_path, const std::vector<int64_t>& runs) {
    store::RunStore store(db_path);
    std::map<int64_t, RunCurves> out;
    for (int64_t id : runs) {
        if (!store.run(id)) throw Error(db_path, "there is no " + run_name(id), "`gafx runs` lists them");
        out[id] = epoch_curves(store.metrics(id));
    }
    return out;
}

namespace {

// One x of a band: the values' mean, sample std and count there.
void add_point(Band& b, double x, const std::vector<double>& values) {
    const MeanStd m = mean_std(values);
    b.x.push_back(x);
    b.mean.push_back(m.mean);
    b.std.push_back(m.std);
    b.n.push_back(m.n);
}

} // namespace

Band mean_band(const std::vector<const Series*>& series) {
    std::map<double, std::vector<double>> at;
    for (const Series* s : series)
        for (size_t i = 0; i < s->x.size() && i < s->y.size(); ++i)
            if (!std::isnan(s->y[i])) at[s->x[i]].push_back(s->y[i]);
    Band b;
    for (const auto& [x, v] : at) add_point(b, x, v);
    return b;
}

Band mean_band_along(const std::vector<const Series*>& series, CurveAxis axis, int points) {
    if (axis != CurveAxis::Seconds) return mean_band(series);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Series* s : series)
        if (!s->x.empty()) {
            lo = std::min(lo, s->x.front());
            hi = std::max(hi, s->x.back());
        }
    Band b;
    if (!(lo <= hi) || points < 1) return b;
    for (int i = 0; i < points; ++i) {
        const double t = points == 1 || hi == lo ? lo : lo + (hi - lo) * double(i) / double(points - 1);
        std::vector<double> v;
        for (const Series* s : series) {
            const size_t n = std::min(s->x.size(), s->y.size());
            if (n == 0 || t < s->x.front() || t > s->x[n - 1]) continue;
            const size_t j = size_t(std::lower_bound(s->x.begin(), s->x.begin() + long(n), t) - s->x.begin());
            double y;
            if (s->x[j] == t || j == 0) y = s->y[j];
            else {
                const double u = (t - s->x[j - 1]) / (s->x[j] - s->x[j - 1]);
                y = s->y[j - 1] + u * (s->y[j] - s->y[j - 1]);
            }
            if (!std::isnan(y)) v.push_back(y);
        }
        if (!v.empty()) add_point(b, t, v);
    }
    return b;
}

const char* to_string(LeftOutReason reason) {
    switch (reason) {
    case LeftOutReason::UnreadableConfig: return "config does not parse";
    case LeftOutReason::Pretraining: return "pretraining (AudioSet dataset)";
    case LeftOutReason::Diverged: return store::to_string(store::RunStatus::Diverged);
    case LeftOutReason::NotEvaluated: return "not evaluated yet";
    case LeftOutReason::NoValidation: return "trained before validation splits (no epoch chosen on val)";
    case LeftOutReason::OtherDataset: return "another dataset";
    case LeftOutReason::NotPaperPreset: return "not the paper preset";
    case LeftOutReason::Unfinished: return "unfinished";
    }
    return "?";
}

const std::string& AnalysedRun::value(const std::string& key) const {
    for (const auto& [k, v] : *values)
        if (k == key) return v;
    throw std::out_of_range("no config key " + key);
}

std::vector<std::string> factor_names() {
    std::vector<std::string> out;
    RunConfig defaults;
    defaults.dataset = "-";
    const Json cfg = Json::parse(to_json(defaults));
    for (auto it = cfg.begin(); it != cfg.end(); ++it) out.push_back(it.key());
    return out;
}

void check_factors(const std::vector<std::string>& factors) {
    const auto names = factor_names();
    std::string allowed;
    for (const auto& n : names) allowed += (allowed.empty() ? "" : ", ") + n;
    if (factors.empty()) throw Error({}, "no factor to group by", "allowed: " + allowed);
    for (const auto& f : factors) {
        bool known = false;
        for (const auto& n : names) known = known || n == f;
        if (!known) throw Error({}, "unknown factor '" + f + "'", "allowed: " + allowed);
    }
}

std::shared_ptr<const ConfigValues> config_values(const std::string& text) {
    static std::mutex mutex;
    static std::unordered_map<std::string, std::shared_ptr<const ConfigValues>> memo;
    {
        const std::lock_guard<std::mutex> lock(mutex);
        const auto it = memo.find(text);
        if (it != memo.end()) return it->second;
    }
    const Json cfg = Json::parse(to_json(parse_run_config(text))); // throws: not remembered
    auto values = std::make_shared<ConfigValues>();
    for (auto it = cfg.begin(); it != cfg.end(); ++it) values->emplace_back(it.key(), it.value().dump());
    const std::lock_guard<std::mutex> lock(mutex);
    if (memo.size() >= 100000) memo.clear();
    return memo.emplace(text, std::move(values)).first->second;
}

std::vector<AnalysedRun> analysable_runs(const std::vector<store::RunRecord>& runs, const ReportOptions& o,
                                         std::vector<LeftOut>& left_out) {
    std::vector<AnalysedRun> out;
    for (const auto& r : runs) {
        AnalysedRun a;
        a.run = &r;
        try {
            a.values = config_values(r.config);
        } catch (const std::exception& e) {
            left_out.push_back({r.id, LeftOutReason::UnreadableConfig, e.what()});
            continue;
        }
        const std::string dataset = Json::parse(a.value("dataset")).get<std::string>();
        if (o.pretraining_datasets.count(dataset)) {
            left_out.push_back({r.id, LeftOutReason::Pretraining, dataset});
            continue;
        }
        out.push_back(std::move(a));
    }
    return out;
}

double majority_class_accuracy(const store::StoredDataset& d) {
    const data::Catalog& c = d.catalog;
    if (c.multi_label || d.split_id == 0) return std::numeric_limits<double>::quiet_NaN();
    std::vector<double> per_fold;
    for (int f = 0; f < (d.split.is_kfold() ? d.split.options.folds : 1); ++f) {
        const data::Split s = d.split.for_fold(f);
        std::map<std::string, int64_t> train;
        for (size_t i = 0; i < c.tracks.size(); ++i)
            if (s.subset[i] == data::Subset::Train && !c.tracks[i].labels.empty()) train[c.tracks[i].labels[0]]++;
        if (train.empty()) continue;
        const std::string majority =
            std::max_element(train.begin(), train.end(), [](const auto& x, const auto& y) { return x.second < y.second; })
                ->first;
        int64_t test = 0, right = 0;
        for (size_t i = 0; i < c.tracks.size(); ++i)
            if (s.subset[i] == data::Subset::Test) {
                ++test;
                right += !c.tracks[i].labels.empty() && c.tracks[i].labels[0] == majority;
            }
        if (test) per_fold.push_back(100.0 * double(right) / double(test));
    }
    return mean_std(per_fold).mean;
}

namespace {

void add_per_class(store::RunStore& store, const store::StoredDataset& d, ReportOptions& o) {
    o.class_names.clear();
    for (const auto& c : d.catalog.classes) o.class_names.push_back(c.display_name.empty() ? c.id : c.display_name);
    for (const auto& r : store.list_runs()) {
        if (std::isnan(r.test_track_accuracy)) continue;
        try {
            // Runs from before the dataset was recorded with them go by the name in their config.
            if (r.dataset_id != d.id && !(r.dataset_id == 0 && parse_run_config(r.config).dataset == d.catalog.name))
                continue;
            const auto predictions = store.predictions(r.id);
            if (predictions.empty()) continue;
            auto acc = stats::per_class_accuracy(confusion_matrix(d.catalog, predictions, store.path()).counts);
            for (double& a : acc) a *= 100.0;
            o.per_class[r.id] = std::move(acc);
        } catch (const std::exception&) {
            // An unreadable config, or a re-import with other classes since: no per-class values.
        }
    }
}

} // namespace

ReportOptions report_options(store::RunStore& store, bool include_unfinished, const std::string& paper_dataset,
                             bool per_class) {
    ReportOptions o;
    o.include_unfinished = include_unfinished;
    o.dataset = paper_dataset;
    bool found = false;
    for (const auto& d : store.list_datasets()) {
        if (d.kind == "audioset") o.pretraining_datasets.insert(d.name);
        if (d.name != paper_dataset) continue;
        found = true;
        if (d.kind != "gtzan") o.dataset_note = "dataset '" + paper_dataset + "' is " + d.kind + ", not GTZAN";
        else if (const auto loaded = store.load_dataset(paper_dataset)) {
            o.majority_track_accuracy = majority_class_accuracy(*loaded);
            if (per_class && !loaded->catalog.multi_label) add_per_class(store, *loaded, o);
        }
    }
    if (!found)
        o.dataset_note = "this workspace has no dataset named '" + paper_dataset +
                         "': the paper tables take runs on it (name your GTZAN import with --dataset NAME)";
    return o;
}

int GroupStats::diverged() const {
    int n = 0;
    for (const auto& l : left_out) n += l.reason == LeftOutReason::Diverged;
    return n;
}

const char* to_string(RunStatistic s) {
    switch (s) {
    case RunStatistic::ValSelected: return "val-selected";
    case RunStatistic::Final: return "final";
    case RunStatistic::BestVal: return "best-val";
    }
    return "?";
}

RunStatistic parse_statistic(const std::string& text) {
    for (RunStatistic s : {RunStatistic::ValSelected, RunStatistic::Final, RunStatistic::BestVal})
        if (text == to_string(s)) return s;
    throw Error({}, "no statistic '" + text + "'",
                "use val-selected (test at the epoch chosen on val), final (test at the last epoch) or best-val "
                "(val at the chosen epoch)");
}

std::string describe(RunStatistic s) {
    switch (s) {
    case RunStatistic::ValSelected: return "test track accuracy at the epoch selected on val";
    case RunStatistic::Final: return "test track accuracy at the last evaluated epoch";
    case RunStatistic::BestVal: return "val track accuracy at the epoch selected on val (best val; not a test figure)";
    }
    return "?";
}

double track_statistic(const store::RunRecord& r, RunStatistic s) {
    switch (s) {
    case RunStatistic::ValSelected: return r.test_track_accuracy;
    case RunStatistic::Final: return r.final_test_track_accuracy;
    case RunStatistic::BestVal: return r.selected_epoch > 0 ? r.val_track_accuracy : std::nan("");
    }
    return std::nan("");
}

GroupStats count_runs(const std::vector<const AnalysedRun*>& matched, const ReportOptions& o) {
    GroupStats g;
    std::vector<double> track, clip, f1;
    std::map<std::string, std::set<std::string>> values;
    const RunStatistic stat = o.statistic;
    for (const AnalysedRun* a : matched) {
        const auto& r = *a->run;
        const double value = track_statistic(r, stat);
        const bool evaluated = !std::isnan(value);
        const bool finished = r.status == store::RunStatus::Finished;
        if (!(evaluated && (finished || o.include_unfinished))) {
            if (r.status == store::RunStatus::Diverged) g.left_out.push_back({r.id, LeftOutReason::Diverged, {}});
            else if (!evaluated && !std::isnan(r.final_test_track_accuracy))
                g.left_out.push_back({r.id, LeftOutReason::NoValidation, {}});
            else if (!evaluated) g.left_out.push_back({r.id, LeftOutReason::NotEvaluated, {}});
            else g.left_out.push_back({r.id, LeftOutReason::Unfinished, store::to_string(r.status)});
            continue;
        }
        g.run_ids.push_back(r.id);
        if (!finished) g.unfinished_run_ids.push_back(r.id);
        track.push_back(100.0 * value);
        g.track_by_pairing["seed=" + a->value("seed") + " fold=" + a->value("fold")] = track.back();
        clip.push_back(stat == RunStatistic::ValSelected ? 100.0 * r.test_accuracy
                       : stat == RunStatistic::Final     ? 100.0 * r.final_test_accuracy
                                                         : std::nan(""));
        f1.push_back(stat == RunStatistic::ValSelected ? 100.0 * r.test_macro_f1 : std::nan(""));
        for (const auto& [key, value] : a->config()) values[key].insert(value);
    }
    g.n = int(g.run_ids.size());
    if (!o.class_names.empty() && stat == RunStatistic::ValSelected) { // predictions are the selected epoch's
        std::vector<std::vector<double>> by_class(o.class_names.size());
        for (int64_t id : g.run_ids) {
            const auto it = o.per_class.find(id);
            if (it == o.per_class.end() || it->second.size() != by_class.size()) continue;
            for (size_t k = 0; k < by_class.size(); ++k) by_class[k].push_back(it->second[k]);
        }
        if (!by_class[0].empty())
            for (const auto& v : by_class) g.per_class.push_back(mean_std(v));
    }
    g.track = mean_std(track);
    g.clip = mean_std(clip);
    g.f1 = mean_std(f1);
    for (const auto& [key, seen] : values)
        if (key != "seed" && seen.size() > 1) g.mixed.push_back(key);
    return g;
}

Grouping group_runs(const std::vector<std::string>& factors, const std::vector<store::RunRecord>& runs,
                    const ReportOptions& options) {
    check_factors(factors);
    Grouping out;
    out.factors = factors;
    const auto all = analysable_runs(runs, options, out.left_out);
    // Json's ordering compares numbers as numbers, so lr 5e-05 sorts before 0.0005.
    std::map<std::vector<Json>, std::vector<const AnalysedRun*>> groups;
    for (const auto& a : all) {
        std::vector<Json> key;
        for (const auto& f : factors) key.push_back(Json::parse(a.value(f)));
        groups[key].push_back(&a);
    }
    for (const auto& [key, matched] : groups) {
        RunGroup g;
        for (size_t i = 0; i < factors.size(); ++i) {
            g.values.push_back(value_text(key[i]));
            g.label += (i ? " " : "") + factors[i] + "=" + g.values.back();
        }
        g.stats = count_runs(matched, options);
        out.groups.push_back(std::move(g));
    }
    return out;
}

} // namespace gafx::experiments
