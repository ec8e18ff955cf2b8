#include "experiments/analysis_format.h"

#include "core/error.h"
#include "data/csv.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <set>

using Json = nlohmann::ordered_json;

namespace gafx::experiments {
namespace {

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// Percent with two decimals for people, four for machines; empty where there is no value.
std::string md_percent(double fraction) { return std::isnan(fraction) ? "—" : fmt("%.2f", 100.0 * fraction); }
std::string csv_number(double v) { return std::isnan(v) ? "" : fmt("%.4f", v); }
Json json_number(double v) { return std::isnan(v) ? Json(nullptr) : Json(v); }

std::string md_cell(std::string s) {
    for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.insert(i, "\\");
    return s;
}

std::string md_row(const std::vector<std::string>& cells) {
    std::string line = "|";
    for (const auto& c : cells) line += " " + md_cell(c) + " |";
    return line + "\n";
}

std::string md_rule(size_t numeric_columns) {
    std::string line = "|---|";
    for (size_t i = 0; i < numeric_columns; ++i) line += "---:|";
    return line + "\n";
}

double at_epoch(const Series& s, double epoch) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
        if (s.x[i] == epoch) return s.y[i];
    return std::nan("");
}

} // namespace

std::string format_confusion(const Confusion& c, TextFormat format) {
    if (format == TextFormat::Json) {
        return Json{{"run", c.run},
                    {"runs", c.runs},
                    {"selected_epoch", c.selected_epoch},
                    {"subset", "test"},
                    {"tracks", c.tracks},
                    {"track_accuracy", 100.0 * c.track_accuracy},
                    {"unmatched", c.unmatched},
                    {"classes", c.classes},
                    {"counts", c.counts}}
                   .dump(2) +
               "\n";
    }
    if (format == TextFormat::Csv) {
        std::string out = "true";
        for (const auto& name : c.classes) out += "," + data::csv_field(name);
        out += "\n";
        for (size_t t = 0; t < c.counts.size(); ++t) {
            out += data::csv_field(t < c.classes.size() ? c.classes[t] : std::to_string(t));
            for (int64_t n : c.counts[t]) out += "," + std::to_string(n);
            out += "\n";
        }
        return out;
    }
    std::string runs;
    for (int64_t r : c.runs) runs += (runs.empty() ? "" : ", ") + std::to_string(r);
    std::string out = c.runs.size() == 1
                          ? "### Run " + std::to_string(c.run) + ", test set at epoch " +
                                std::to_string(c.selected_epoch) + " (selected on val): confusion matrix\n\nTrack accuracy " +
                                fmt("%.2f", 100.0 * c.track_accuracy) + " % on " + std::to_string(c.tracks) +
                                " test tracks (clip probabilities averaged per track). Rows: true class, columns: "
                                "predicted.\n\n"
                          : "### Runs " + runs + " summed, each on its test set at its epoch selected on val: confusion "
                                "matrix\n\nTrack accuracy " + fmt("%.2f", 100.0 * c.track_accuracy) + " % over " +
                                std::to_string(c.tracks) +
                                " (run, test track) pairs (clip probabilities averaged per track). Rows: true class, "
                                "columns: predicted.\n\n";
    std::vector<std::string> header = {"true \\ predicted"};
    header.insert(header.end(), c.classes.begin(), c.classes.end());
    out += md_row(header) + md_rule(c.classes.size());
    for (size_t t = 0; t < c.counts.size(); ++t) {
        std::vector<std::string> cells = {t < c.classes.size() ? c.classes[t] : std::to_string(t)};
        for (int64_t n : c.counts[t]) cells.push_back(std::to_string(n));
        out += md_row(cells);
    }
    if (c.unmatched)
        out += "\n- " + std::to_string(c.unmatched) +
               " predicted clips belong to tracks the dataset no longer has; they are not counted\n";
    return out;
}

int class_of(const Confusion& c, const std::string& name) {
    for (size_t k = 0; k < c.classes.size(); ++k)
        if (c.classes[k] == name) return int(k);
    std::string lower = name;
    for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    for (size_t k = 0; k < c.classes.size(); ++k) {
        std::string n = c.classes[k];
        for (char& ch : n) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        if (n == lower) return int(k);
    }
    char* end = nullptr;
    const long k = std::strtol(name.c_str(), &end, 10);
    if (!name.empty() && !*end && k >= 0 && size_t(k) < c.classes.size()) return int(k);
    std::string all;
    for (const auto& n : c.classes) all += (all.empty() ? "" : ", ") + n;
    throw Error({}, "no class '" + name + "' in the matrix", "name one of: " + all + " (or its index from 0)");
}

std::string format_cell_tracks(const Confusion& c, int t, int p, TextFormat format) {
    const auto rows = cell_tracks(c, t, p);
    const std::string& tn = c.classes.at(size_t(t));
    const std::string& pn = c.classes.at(size_t(p));
    const auto clips_text = [&](const TrackOutcome& o) {
        std::string s;
        for (const auto& clip : o.clip_probabilities)
            s += (s.empty() ? "" : " ") + fmt("%.1f", 100.0 * clip[size_t(p)]) + "/" + fmt("%.1f", 100.0 * clip[size_t(t)]);
        return s;
    };
    if (format == TextFormat::Json) {
        Json out = Json::array();
        for (const TrackOutcome* o : rows)
            out.push_back({{"run", o->run}, {"track", o->track}, {"key", o->key}, {"true", tn}, {"predicted", pn},
                           {"confidence", 100.0 * o->confidence}, {"clip_probabilities", o->clip_probabilities}});
        return out.dump(2) + "\n";
    }
    if (format == TextFormat::Csv) {
        std::string out = "run,track,key,true,predicted,confidence,clips_predicted_true\n";
        for (const TrackOutcome* o : rows)
            out += std::to_string(o->run) + "," + std::to_string(o->track) + "," + data::csv_field(o->key) + "," +
                   data::csv_field(tn) + "," + data::csv_field(pn) + "," + fmt("%.4f", 100.0 * o->confidence) + "," +
                   data::csv_field(clips_text(*o)) + "\n";
        return out;
    }
    std::string out = "### True " + tn + ", predicted " + pn + ": " + std::to_string(rows.size()) +
                      " tracks (test set, epoch selected on val), the most confident first\n\n" +
                      "Confidence: the predicted class's probability averaged over the clips, in %; clips: each clip's "
                      "p(predicted)/p(true) in %.\n\n" +
                      md_row({"run", "track", "key", "confidence %", "clips"}) + "|---:|---:|---|---:|---|\n";
    for (const TrackOutcome* o : rows)
        out += md_row({std::to_string(o->run), std::to_string(o->track), o->key, fmt("%.1f", 100.0 * o->confidence),
                       clips_text(*o)});
    return out;
}

std::string format_run_curves(const std::map<int64_t, RunCurves>& curves, TextFormat format) {
    Json rows = Json::array();
    std::string csv = "run,epoch,track_accuracy,train_loss\n";
    std::string md = "### Curves per epoch\n\nTest track accuracy in %, train loss the epoch's mean.\n\n" +
                     md_row({"run", "epoch", "track acc. %", "train loss"}) + md_rule(3);
    for (const auto& [run, c] : curves) {
        std::set<double> epochs(c.track_accuracy.x.begin(), c.track_accuracy.x.end());
        epochs.insert(c.train_loss.x.begin(), c.train_loss.x.end());
        for (double e : epochs) {
            const double acc = at_epoch(c.track_accuracy, e), loss = at_epoch(c.train_loss, e);
            const std::string epoch = std::to_string(int64_t(e));
            rows.push_back({{"run", run}, {"epoch", int64_t(e)}, {"track_accuracy", json_number(100.0 * acc)},
                            {"train_loss", json_number(loss)}});
            csv += std::to_string(run) + "," + epoch + "," + csv_number(100.0 * acc) + "," + csv_number(loss) + "\n";
            md += md_row({std::to_string(run), epoch, md_percent(acc), std::isnan(loss) ? "—" : fmt("%.4f", loss)});
        }
    }
    if (format == TextFormat::Json) return rows.dump(2) + "\n";
    return format == TextFormat::Csv ? csv : md;
}

std::vector<GroupCurve> group_curves(const Grouping& grouping, const std::map<int64_t, RunCurves>& curves) {
    std::vector<GroupCurve> out;
    for (const auto& g : grouping.groups) {
        if (g.stats.run_ids.empty()) continue;
        GroupCurve gc;
        gc.label = g.label;
        gc.run_ids = g.stats.run_ids;
        std::vector<const Series*> series;
        for (int64_t id : g.stats.run_ids)
            if (const auto it = curves.find(id); it != curves.end()) series.push_back(&it->second.track_accuracy);
        gc.band = mean_band(series);
        out.push_back(std::move(gc));
    }
    return out;
}

std::string format_group_curves(const std::vector<GroupCurve>& groups, TextFormat format) {
    Json rows = Json::array();
    std::string csv = "group,epoch,n,track_accuracy_mean,track_accuracy_std\n";
    std::string md = "### Test track accuracy per epoch by group\n\nMean ± sample std over the group's counted runs "
                     "that reached the epoch, in %.\n\n" +
                     md_row({"group", "epoch", "n", "track acc. %"}) + md_rule(3);
    for (const auto& g : groups)
        for (size_t i = 0; i < g.band.x.size(); ++i) {
            const double mean = 100.0 * g.band.mean[i], sd = 100.0 * g.band.std[i];
            const std::string epoch = std::to_string(int64_t(g.band.x[i]));
            rows.push_back({{"group", g.label}, {"epoch", int64_t(g.band.x[i])}, {"n", g.band.n[i]},
                            {"track_accuracy_mean", json_number(mean)}, {"track_accuracy_std", json_number(sd)}});
            csv += data::csv_field(g.label) + "," + epoch + "," + std::to_string(g.band.n[i]) + "," + csv_number(mean) +
                   "," + csv_number(sd) + "\n";
            md += md_row({g.label, epoch, std::to_string(g.band.n[i]),
                          fmt("%.2f", mean) + (std::isnan(sd) ? "" : " ± " + fmt("%.2f", sd))});
        }
    if (format == TextFormat::Json) return rows.dump(2) + "\n";
    return format == TextFormat::Csv ? csv : md;
}

} // namespace gafx::experiments
