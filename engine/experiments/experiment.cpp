#include "experiments/experiment.h"

#include "core/error.h"
#include "models/model_names.h"
#include "weights/catalog.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

using Json = nlohmann::ordered_json;

namespace gafx::experiments {
namespace {

const char* kFix = "see docs/experiments.md";

// Where a value sits: its JSON path and the config key a form shows for it.
using At = ErrorField;

struct Field {
    const char* name;
    std::function<void(RunConfig&, const Json&, const At& at)> set;
    std::function<Json(const RunConfig&)> get;
};

// Without the file: parse_experiment adds it on the way out.
[[noreturn]] void fail(const At& at, const std::string& reason) { throw Error({}, reason, kFix, at); }

// A form writes a field left empty as null: say so in its words rather than JSON's.
[[noreturn]] void wrong_type(const At& at, const Json& v, const std::string& expected) {
    if (v.is_null()) fail(at, "the field is empty");
    fail(at, "expected " + expected + ", got " + std::string(v.type_name()));
}

std::string text(const Json& v, const At& at, const std::vector<std::string>& allowed = {}) {
    if (!v.is_string()) wrong_type(at, v, "a string");
    const auto s = v.get<std::string>();
    if (!allowed.empty()) {
        bool ok = false;
        for (const auto& a : allowed) ok = ok || a == s;
        if (!ok) {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            fail(at, "'" + s + "' is not one of: " + list);
        }
    }
    return s;
}

double number(const Json& v, const At& at, double min_exclusive) {
    if (!v.is_number()) wrong_type(at, v, "a number");
    const double d = v.get<double>();
    if (!(d > min_exclusive)) fail(at, "must be greater than " + Json(min_exclusive).dump());
    return d;
}

int64_t integer(const Json& v, const At& at, int64_t min) {
    if (!v.is_number_integer()) wrong_type(at, v, "an integer");
    const auto i = v.get<int64_t>();
    if (i < min) fail(at, "must be at least " + std::to_string(min));
    return i;
}

// An id, or {"experiment": NAME, "seed": S} naming the run of another experiment.
void set_pretrained_run(RunConfig& c, const Json& v, const At& p) {
    if (!v.is_object()) {
        c.pretrained_run = integer(v, p, 0);
        c.pretrained_experiment.clear();
        return;
    }
    c.pretrained_run = 0;
    c.pretrained_experiment.clear();
    c.pretrained_seed = 0;
    for (auto it = v.begin(); it != v.end(); ++it) {
        const At at{p.json_path + "." + it.key(), p.key};
        if (it.key() == "experiment") c.pretrained_experiment = text(it.value(), at);
        else if (it.key() == "seed") c.pretrained_seed = uint64_t(integer(it.value(), at, 0));
        else fail(at, "unknown key (allowed: experiment, seed)");
    }
    if (c.pretrained_experiment.empty()) fail({p.json_path + ".experiment", p.key}, "missing: name the pretraining experiment");
}

const std::vector<Field>& fields() {
    static const std::vector<Field> f = {
        {"dataset", [](RunConfig& c, const Json& v, const At& p) { c.dataset = text(v, p); },
         [](const RunConfig& c) { return Json(c.dataset); }},
        {"extractor", [](RunConfig& c, const Json& v, const At& p) { c.extractor = text(v, p, models::extractor_names()); },
         [](const RunConfig& c) { return Json(c.extractor); }},
        {"classifier", [](RunConfig& c, const Json& v, const At& p) { c.classifier = text(v, p, models::classifier_names()); },
         [](const RunConfig& c) { return Json(c.classifier); }},
        {"preset", [](RunConfig& c, const Json& v, const At& p) { c.preset = text(v, p, {"paper", "small"}); },
         [](const RunConfig& c) { return Json(c.preset); }},
        {"augmentation", [](RunConfig& c, const Json& v, const At& p) {
             if (!v.is_boolean()) wrong_type(p, v, "true or false");
             c.augmentation = v.get<bool>();
         }, [](const RunConfig& c) { return Json(c.augmentation); }},
        {"clips_per_track", [](RunConfig& c, const Json& v, const At& p) { c.clips_per_track = int(integer(v, p, 1)); },
         [](const RunConfig& c) { return Json(c.clips_per_track); }},
        {"clip_seconds", [](RunConfig& c, const Json& v, const At& p) { c.clip_seconds = number(v, p, 0); },
         [](const RunConfig& c) { return Json(c.clip_seconds); }},
        {"track_seconds", [](RunConfig& c, const Json& v, const At& p) { c.track_seconds = number(v, p, 0); },
         [](const RunConfig& c) { return Json(c.track_seconds); }},
        {"pretraining", [](RunConfig& c, const Json& v, const At& p) { c.pretraining = text(v, p, {"none", "weights", "run"}); },
         [](const RunConfig& c) { return Json(c.pretraining); }},
        {"pretrained_weights", [](RunConfig& c, const Json& v, const At& p) { c.pretrained_weights = text(v, p); },
         [](const RunConfig& c) { return Json(c.pretrained_weights); }},
        {"classifier_weights", [](RunConfig& c, const Json& v, const At& p) { c.classifier_weights = text(v, p); },
         [](const RunConfig& c) { return Json(c.classifier_weights); }},
        {"extractor_weights", [](RunConfig& c, const Json& v, const At& p) { c.extractor_weights = text(v, p); },
         [](const RunConfig& c) { return Json(c.extractor_weights); }},
        {"pretrained_run", [](RunConfig& c, const Json& v, const At& p) { set_pretrained_run(c, v, p); },
         [](const RunConfig& c) {
             if (c.pretrained_run == 0 && !c.pretrained_experiment.empty())
                 return Json{{"experiment", c.pretrained_experiment}, {"seed", c.pretrained_seed}};
             return Json(c.pretrained_run);
         }},
        {"lr", [](RunConfig& c, const Json& v, const At& p) { c.lr = number(v, p, 0); },
         [](const RunConfig& c) { return Json(c.lr); }},
        {"batch_size", [](RunConfig& c, const Json& v, const At& p) { c.batch_size = integer(v, p, 1); },
         [](const RunConfig& c) { return Json(c.batch_size); }},
        {"epochs", [](RunConfig& c, const Json& v, const At& p) { c.epochs = int(integer(v, p, 1)); },
         [](const RunConfig& c) { return Json(c.epochs); }},
        {"warmup_steps", [](RunConfig& c, const Json& v, const At& p) { c.warmup_steps = integer(v, p, 0); },
         [](const RunConfig& c) { return Json(c.warmup_steps); }},
        {"lr_halving_epochs", [](RunConfig& c, const Json& v, const At& p) {
             if (!v.is_array()) wrong_type(p, v, "a list of epochs");
             c.lr_halving_epochs.clear();
             for (size_t i = 0; i < v.size(); ++i)
                 c.lr_halving_epochs.push_back(int(integer(v[i], {p.json_path + "[" + std::to_string(i) + "]", p.key}, 1)));
         }, [](const RunConfig& c) { return Json(c.lr_halving_epochs); }},
        {"precision", [](RunConfig& c, const Json& v, const At& p) { c.precision = text(v, p, {"auto", "fp32", "bf16", "fp16"}); },
         [](const RunConfig& c) { return Json(c.precision); }},
        {"activation_checkpointing", [](RunConfig& c, const Json& v, const At& p) {
             if (!v.is_boolean()) wrong_type(p, v, "true or false");
             c.activation_checkpointing = v.get<bool>();
         }, [](const RunConfig& c) { return Json(c.activation_checkpointing); }},
        {"seed", [](RunConfig& c, const Json& v, const At& p) { c.seed = uint64_t(integer(v, p, 0)); },
         [](const RunConfig& c) { return Json(c.seed); }},
        {"compression", [](RunConfig& c, const Json& v, const At& p) { c.compression = text(v, p, {"none", "log"}); },
         [](const RunConfig& c) { return Json(c.compression); }},
        {"frames", [](RunConfig& c, const Json& v, const At& p) { c.frames = integer(v, p, 0); },
         [](const RunConfig& c) { return Json(c.frames); }},
        {"freq_mask", [](RunConfig& c, const Json& v, const At& p) { c.freq_mask = integer(v, p, 0); },
         [](const RunConfig& c) { return Json(c.freq_mask); }},
        {"time_mask", [](RunConfig& c, const Json& v, const At& p) { c.time_mask = integer(v, p, 0); },
         [](const RunConfig& c) { return Json(c.time_mask); }},
        {"mixup", [](RunConfig& c, const Json& v, const At& p) {
             if (!v.is_number()) wrong_type(p, v, "a number");
             c.mixup = v.get<double>();
             if (!(c.mixup >= 0)) fail(p, "must be at least 0 (0: off)");
         }, [](const RunConfig& c) { return Json(c.mixup); }},
        {"crop", [](RunConfig& c, const Json& v, const At& p) { c.crop = text(v, p, {"tiles", "random"}); },
         [](const RunConfig& c) { return Json(c.crop); }},
        {"fold", [](RunConfig& c, const Json& v, const At& p) { c.fold = int(integer(v, p, -1)); },
         [](const RunConfig& c) { return Json(c.fold); }},
    };
    return f;
}

const Field* find_field(const std::string& name) {
    for (const auto& f : fields())
        if (name == f.name) return &f;
    return nullptr;
}

[[noreturn]] void unknown_key(const std::string& path, const std::string& key) {
    std::string list;
    for (const auto& f : fields()) list += (list.empty() ? "" : ", ") + std::string(f.name);
    fail({path + "." + key, key}, "unknown key (allowed: " + list + ")");
}

void apply_object(RunConfig& c, const Json& obj, const std::string& path) {
    if (!obj.is_object()) fail({path, {}}, "expected an object, got " + std::string(obj.type_name()));
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const Field* f = find_field(it.key());
        if (!f) unknown_key(path, it.key());
        f->set(c, it.value(), {path + "." + it.key(), it.key()});
    }
}

// Rules across fields name the field a user would change: for clips that do not fit, the
// track length (clips and clip length are the grid's usual factors).
void check_run(const RunConfig& c, const std::string& where) {
    if (c.dataset.empty()) fail({where + ".dataset", "dataset"}, "missing: name the imported dataset to train on");
    if (c.augmentation && c.clips_per_track * c.clip_seconds > c.track_seconds + 1e-9)
        fail({where, "track_seconds"}, std::to_string(c.clips_per_track) + " clips of " + Json(c.clip_seconds).dump() +
                                           " s do not fit in track_seconds " + Json(c.track_seconds).dump());
    if (c.pretraining == "weights" && c.pretrained_weights.empty())
        fail({where + ".pretrained_weights", "pretrained_weights"}, "missing: pretraining \"weights\" needs a file");
    // A built-in name that cannot fit is said here; added names are only known where the run queues.
    const auto fits = [&](const std::string& value, weights::Role role, const std::string& model, const char* key) {
        if (value.empty() || weights::is_file_value(value)) return;
        const auto& builtin = weights::builtin_entries();
        if (weights::entry_for(builtin, value, role, model)) return;
        bool known = false;
        for (const auto& e : builtin) known = known || e.name == value || e.family == value;
        if (known)
            fail({where + "." + key, key}, "'" + value + "' has no weights for the " + std::string(weights::to_string(role)) +
                                               " " + model + " (see gafx weights list)");
    };
    fits(c.classifier_weights, weights::Role::Classifier, c.classifier, "classifier_weights");
    fits(c.extractor_weights, weights::Role::Extractor, c.extractor, "extractor_weights");
    if (c.pretraining == "run" && c.pretrained_run == 0 && c.pretrained_experiment.empty())
        fail({where + ".pretrained_run", "pretrained_run"},
             "missing: pretraining \"run\" needs an AudioSet run: its id, or {\"experiment\": NAME, \"seed\": S}");
}

// The same error, now about `file`.
Error in_file(const Error& e, const std::string& file) { return Error(file, e.reason(), e.fix(), e.field()); }

} // namespace

void check_experiment(const Experiment& ex, const std::function<bool(const std::string&)>& dataset_exists) {
    if (ex.name.empty()) fail({"$.name", "name"}, "missing: give the experiment a name");
    if (ex.runs.empty()) fail({"$", {}}, "no runs: the grid expands to nothing");
    const bool dataset_axis = std::find(ex.axes.begin(), ex.axes.end(), "dataset") != ex.axes.end();
    for (size_t i = 0; i < ex.runs.size(); ++i) {
        const std::string where = "$ (run " + std::to_string(i + 1) + " of " + std::to_string(ex.runs.size()) + ")";
        check_run(ex.runs[i], where);
        if (dataset_exists && !dataset_exists(ex.runs[i].dataset))
            throw Error({}, "no imported dataset named '" + ex.runs[i].dataset + "'",
                        "import it with gafx dataset import, see gafx dataset list",
                        {dataset_axis ? where + ".dataset" : "$.base.dataset", "dataset"});
    }
}

void check_weights(const Experiment& ex, const std::string& dir) {
    for (size_t i = 0; i < ex.runs.size(); ++i) {
        const RunConfig& c = ex.runs[i];
        const std::string where = "$ (run " + std::to_string(i + 1) + " of " + std::to_string(ex.runs.size()) + ").";
        const auto check = [&](const std::string& value, weights::Role role, const std::string& model) {
            if (value.empty()) return;
            try {
                weights::resolve(value, role, model, dir);
            } catch (const Error& e) {
                const std::string key = std::string(weights::to_string(role)) + "_weights";
                throw Error(e.path(), e.reason(), e.fix(), {where + key, key});
            }
        };
        check(c.classifier_weights, weights::Role::Classifier, c.classifier);
        check(c.extractor_weights, weights::Role::Extractor, c.extractor);
    }
}

Experiment parse_experiment(const std::string& json_text, const std::string& file,
                            const std::function<bool(const std::string&)>& dataset_exists) {
    Json root;
    try {
        root = Json::parse(json_text);
    } catch (const Json::exception& e) { // parse_error, and out_of_range for a number like 1e310
        throw Error(file, std::string("not valid JSON: ") + e.what(), kFix);
    }
    try {
        if (!root.is_object()) fail({"$", {}}, "expected an object with name, base and grid");
        Experiment ex;
        ex.source = json_text;
        RunConfig base;
        for (auto it = root.begin(); it != root.end(); ++it) {
            const std::string& k = it.key();
            if (k == "name") ex.name = text(it.value(), {"$.name", "name"});
            else if (k == "description") text(it.value(), {"$.description", "description"});
            else if (k == "requires") {
                if (!it.value().is_array()) wrong_type({"$.requires", "requires"}, it.value(), "a list of experiment files");
                for (size_t i = 0; i < it.value().size(); ++i)
                    ex.required_files.push_back(text(it.value()[i], {"$.requires[" + std::to_string(i) + "]", "requires"}));
            }
            else if (k == "base") apply_object(base, it.value(), "$.base");
            else if (k == "grid") {
                if (!it.value().is_object()) fail({"$.grid", {}}, "expected an object of factor: [values]");
            } else fail({"$." + k, k}, "unknown key (allowed: name, description, requires, base, grid)");
        }
        // Cartesian product; the last axis varies fastest, so seeds of one setting sit together.
        // Its size is checked before anything is expanded: five axes of 100 values would ask for
        // 10^10 configs.
        if (root.contains("grid") && root["grid"].is_object()) {
            uint64_t total = 1;
            std::string sizes;
            for (auto axis = root["grid"].begin(); axis != root["grid"].end(); ++axis) {
                const uint64_t n = axis.value().is_array() ? axis.value().size() : 1;
                sizes += (sizes.empty() ? "" : " x ") + axis.key() + " " + std::to_string(n);
                total = n == 0 ? 0 : total > kMaxRuns / n ? kMaxRuns + 1 : total * n;
            }
            if (total > kMaxRuns)
                throw Error({}, "the grid asks for more than " + std::to_string(kMaxRuns) + " runs (" + sizes + ")",
                            "split it into several experiment files, or drop values", {"$.grid", {}});
        }
        std::vector<RunConfig> runs = {base};
        if (root.contains("grid")) {
            for (auto axis = root["grid"].begin(); axis != root["grid"].end(); ++axis) {
                const At at{"$.grid." + axis.key(), axis.key()};
                const Field* f = find_field(axis.key());
                if (!f) unknown_key("$.grid", axis.key());
                if (!axis.value().is_array())
                    fail(at, "expected a list of values, got " + std::string(axis.value().type_name()));
                // A form writes a factor with nothing ticked or typed as an empty list.
                if (axis.value().empty()) fail(at, "choose at least one value");
                ex.axes.push_back(axis.key());
                std::vector<RunConfig> next;
                for (const RunConfig& r : runs)
                    for (size_t i = 0; i < axis.value().size(); ++i) {
                        RunConfig c = r;
                        f->set(c, axis.value()[i], {at.json_path + "[" + std::to_string(i) + "]", at.key});
                        next.push_back(c);
                    }
                runs = std::move(next);
            }
        }
        ex.runs = std::move(runs);
        check_experiment(ex, dataset_exists);
        return ex;
    } catch (const Error& e) {
        if (!e.path().empty()) throw;
        throw in_file(e, file);
    }
}

Experiment read_experiment(const std::string& path, const std::function<bool(const std::string&)>& dataset_exists) {
    std::ifstream in(path);
    if (!in) throw Error(path, "cannot open the experiment file", "check the path");
    std::stringstream s;
    s << in.rdbuf();
    return parse_experiment(s.str(), path, dataset_exists);
}

std::string to_json(const RunConfig& c) {
    Json o = Json::object();
    for (const auto& f : fields()) o[f.name] = f.get(c);
    return o.dump();
}

RunConfig parse_run_config(const std::string& json_text) {
    RunConfig c;
    apply_object(c, Json::parse(json_text), "$");
    return c;
}

std::string describe(const RunConfig& c, const std::vector<std::string>& axes) {
    std::string out;
    for (const auto& a : axes) {
        const Field* f = find_field(a);
        if (!f) continue;
        const Json v = f->get(c);
        out += (out.empty() ? "" : " ") + a + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    return out;
}

} // namespace gafx::experiments
