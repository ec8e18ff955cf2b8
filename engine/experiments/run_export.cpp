#include "experiments/run_export.h"

#include "data/csv.h"
#include "experiments/experiment.h"
#include "experiments/report.h"

#include <nlohmann/json.hpp>

#include <cmath>

using nlohmann::json;

namespace gafx::experiments {
namespace {

json number_or_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

json run_object(const store::RunRecord& r) {
    const json config = json::parse(r.config, nullptr, false);
    return {{"id", r.id},
            {"uuid", r.uuid},
            {"experiment", r.experiment},
            {"status", store::to_string(r.status)},
            {"config", config},
            {"seed", r.seed},
            {"device", r.device},
            {"precision", r.precision},
            {"world_size", r.world_size},
            {"backend", r.backend},
            {"epochs_done", r.epochs_done},
            {"epochs", config.is_object() ? config.value("epochs", 0) : 0},
            {"step", r.step},
            {"dataset_id", r.dataset_id},
            {"split_id", r.split_id},
            {"selected_epoch", r.selected_epoch},
            {"val_score", number_or_null(r.val_score)},
            {"val_track_accuracy", number_or_null(r.val_track_accuracy)},
            {"test_accuracy", number_or_null(r.test_accuracy)},
            {"test_track_accuracy", number_or_null(r.test_track_accuracy)},
            {"test_macro_f1", number_or_null(r.test_macro_f1)},
            {"final_test_accuracy", number_or_null(r.final_test_accuracy)},
            {"final_test_track_accuracy", number_or_null(r.final_test_track_accuracy)},
            {"seconds", r.seconds},
            {"error", r.error},
            {"tags", r.tags},
            {"note", r.note}};
}

// Round-trips a double ("0.0005", "0.8333333333333334"); "" for null.
std::string csv_value(const json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array()) { // tags: as typed, space-separated
        std::string out;
        for (const auto& e : v) out += (out.empty() ? "" : " ") + csv_value(e);
        return out;
    }
    return v.dump();
}

} // namespace

std::string runs_json(const std::vector<store::RunRecord>& runs) {
    json out = json::array();
    for (const auto& r : runs) out.push_back(run_object(r));
    // Text from the database (an error message, a note written by an older tool) may not be
    // UTF-8; it is exported with U+FFFD rather than failing the whole export.
    return out.dump(2, ' ', false, json::error_handler_t::replace);
}

std::string runs_csv(const std::vector<store::RunRecord>& runs) {
    const std::vector<std::string> fields = {"id", "experiment", "status", "seed", "device", "precision",
                                             "world_size", "backend", "epochs_done", "epochs", "step", "split_id", "selected_epoch",
                                             "val_score", "val_track_accuracy", "test_accuracy", "test_track_accuracy", "test_macro_f1", "final_test_accuracy",
                                             "final_test_track_accuracy", "seconds", "error", "tags", "note"};
    const std::vector<std::string> keys = factor_names();
    std::string out;
    for (const auto& f : fields) out += f + ",";
    for (size_t i = 0; i < keys.size(); ++i) out += "config." + keys[i] + (i + 1 < keys.size() ? "," : "\n");
    for (const auto& r : runs) {
        const json o = run_object(r);
        for (const auto& f : fields) out += data::csv_field(csv_value(o.at(f))) + ",";
        json cfg = json::object();
        try {
            cfg = json::parse(to_json(parse_run_config(r.config)));
        } catch (const std::exception&) {} // a config that no longer parses leaves its columns empty
        for (size_t i = 0; i < keys.size(); ++i)
            out += data::csv_field(cfg.contains(keys[i]) ? csv_value(cfg.at(keys[i])) : "") +
                   (i + 1 < keys.size() ? "," : "\n");
    }
    return out;
}

} // namespace gafx::experiments
