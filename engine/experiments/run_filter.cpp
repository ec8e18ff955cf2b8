#include "experiments/run_filter.h"

#include "core/error.h"
#include "core/text.h"
#include "experiments/experiment.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

namespace gafx::experiments {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Run fields that are not config keys (sorted: binary_search); the fractions read 70 as 0.70.
const std::vector<std::string> kRunFields = {"acc",  "device",  "epochs_done", "experiment", "f1",     "final", "host",
                                             "id",   "precision", "seconds",   "seed",       "selected", "status", "tag", "test",
                                             "val"};
const std::set<std::string> kFractions = {"acc", "f1", "final", "test", "val"};

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

Error filter_error(const std::string& term, const std::string& what, const std::string& fix = {}) {
    return Error("filter", "'" + term + "': " + what, fix);
}

// "1e-4", "0.7", "3" -> number; nothing else (no trailing text, no NaN or inf).
bool parse_number(const std::string& s, double& out) {
    if (s.empty()) return false;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return false;
    out = v;
    return true;
}

std::vector<std::string> split_terms(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false, any = false;
    for (char c : text) {
        if (c == '"') {
            quoted = !quoted;
            any = true;
            continue;
        }
        if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
            if (any) out.push_back(cur);
            cur.clear();
            any = false;
            continue;
        }
        cur += c;
        any = true;
    }
    if (quoted) throw filter_error(text, "a quote is not closed", "close it: experiment:\"my grid\"");
    if (any) out.push_back(cur);
    return out;
}

bool is_field_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Fields whose values are words, where <, > and ranges mean nothing.
const std::set<std::string>& text_fields() {
    static const std::set<std::string> all = [] {
        std::set<std::string> names = {"device", "experiment", "host", "precision", "status", "tag"};
        const nlohmann::json defaults = nlohmann::json::parse(to_json(RunConfig{}));
        for (const auto& kv : defaults.items())
            if (kv.value().is_string()) names.insert(kv.key());
        return names;
    }();
    return all;
}

} // namespace

const std::vector<std::string>& run_filter_fields() {
    static const std::vector<std::string> all = [] {
        std::set<std::string> names(kRunFields.begin(), kRunFields.end());
        const nlohmann::json defaults = nlohmann::json::parse(to_json(RunConfig{}));
        for (const auto& kv : defaults.items()) names.insert(kv.key());
        return std::vector<std::string>(names.begin(), names.end());
    }();
    return all;
}

RunFilter parse_run_filter(const std::string& text) {
    RunFilter f;
    for (const std::string& raw : split_terms(text)) {
        FilterTerm t;
        t.source = raw;
        std::string s = raw;
        if (s.size() > 1 && s[0] == '-') {
            t.negate = true;
            s.erase(0, 1);
        }
        size_t name_end = 0;
        while (name_end < s.size() && is_field_char(s[name_end])) ++name_end;
        static const std::vector<std::pair<std::string, FilterTerm::Op>> kOps = {
            {"!=", FilterTerm::Op::NotEqual}, {">=", FilterTerm::Op::GreaterEqual}, {"<=", FilterTerm::Op::LessEqual},
            {":", FilterTerm::Op::Equal},     {"=", FilterTerm::Op::Equal},         {">", FilterTerm::Op::Greater},
            {"<", FilterTerm::Op::Less}};
        const FilterTerm::Op* op = nullptr;
        size_t op_len = 0;
        if (name_end > 0)
            for (const auto& [symbol, o] : kOps)
                if (s.compare(name_end, symbol.size(), symbol) == 0) {
                    op = &o;
                    op_len = symbol.size();
                    break;
                }
        if (!op) { // a bare word
            t.texts = {lower(s)};
            f.terms.push_back(std::move(t));
            continue;
        }
        t.field = lower(s.substr(0, name_end));
        t.op = *op;
        const std::string value = s.substr(name_end + op_len);
        const auto& known = run_filter_fields();
        if (!std::binary_search(known.begin(), known.end(), t.field))
            throw filter_error(raw, "no field '" + t.field + "'", "fields: " + join(known));
        if (value.empty()) throw filter_error(raw, "no value after '" + t.field + "'", "e.g. seed:0..2, test>0.7");
        const bool fraction = kFractions.count(t.field) > 0;
        const bool compares = t.op != FilterTerm::Op::Equal && t.op != FilterTerm::Op::NotEqual;
        if ((compares || (t.op == FilterTerm::Op::Equal && value.find("..") != std::string::npos)) &&
            text_fields().count(t.field))
            throw filter_error(raw, "'" + t.field + "' is text, not a number",
                               "match it with " + t.field + ":value (a,b for either)");
        const auto number = [&](const std::string& v) {
            double d = 0;
            if (!parse_number(v, d)) throw filter_error(raw, "'" + v + "' is not a number");
            return fraction && d > 1 ? d / 100 : d;
        };
        const size_t dots = value.find("..");
        if (t.op == FilterTerm::Op::Equal && dots != std::string::npos) {
            t.op = FilterTerm::Op::Range;
            const std::string lo = value.substr(0, dots), hi = value.substr(dots + 2);
            if (lo.empty() && hi.empty()) throw filter_error(raw, "a range needs at least one end", "e.g. seed:0..2");
            t.low = lo.empty() ? -std::numeric_limits<double>::infinity() : number(lo);
            t.high = hi.empty() ? std::numeric_limits<double>::infinity() : number(hi);
        } else if (t.op == FilterTerm::Op::Equal || t.op == FilterTerm::Op::NotEqual) {
            size_t start = 0;
            for (;;) {
                const size_t comma = value.find(',', start);
                t.texts.push_back(lower(value.substr(start, comma - start)));
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
            // Numbers also compare as numbers (lr:5e-4 matches a stored 0.0005).
            if (t.texts.size() == 1) {
                double d = 0;
                t.low = parse_number(value, d) ? (fraction && d > 1 ? d / 100 : d) : kNaN;
            } else {
                t.low = kNaN;
            }
        } else {
            t.low = number(value);
        }
        f.terms.push_back(std::move(t));
    }
    return f;
}

FilterableRun::FilterableRun(const store::RunRecord& r) {
    const auto num = [](double v) { return Value{{}, v, !std::isnan(v)}; };
    const auto txt = [](const std::string& v) { return Value{lower(v), kNaN, true}; };
    fields_ = {
        {"acc", num(r.test_track_accuracy)},
        {"device", txt(r.device)},
        {"epochs_done", num(double(r.epochs_done))},
        {"experiment", txt(r.experiment)},
        {"f1", num(r.test_macro_f1)},
        {"final", num(r.final_test_track_accuracy)},
        {"host", txt(r.host)},
        {"id", num(double(r.id))},
        {"precision", txt(r.precision)},
        {"seconds", num(r.seconds)},
        {"seed", num(double(r.seed))},
        {"selected", r.selected_epoch > 0 ? num(double(r.selected_epoch)) : Value{}},
        {"status", txt(store::to_string(r.status))},
        {"test", num(r.test_track_accuracy)},
        {"val", num(r.val_track_accuracy)},
    };
    for (auto& kv : fields_)
        if (!kv.second.text.empty()) {
            double d = 0;
            if (parse_number(kv.second.text, d)) kv.second.number = d;
        } else if (kv.second.present) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", kv.second.number);
            kv.second.text = buf;
        }
    for (const auto& t : r.tags) tags_.push_back(lower(t));
    haystack_ = lower(r.experiment + " " + store::to_string(r.status) + " " + r.device + " " + r.precision + " " +
                      r.error + " " + join(r.tags, " ") + " " + r.note);
    // The config with its defaults filled in, as `gafx diff` shows it; a config that no longer
    // parses leaves its fields absent rather than failing the whole list.
    try {
        const nlohmann::json config = nlohmann::json::parse(to_json(parse_run_config(r.config)));
        for (const auto& kv : config.items()) {
            // The run's own record wins where both have a field (seed).
            if (std::binary_search(kRunFields.begin(), kRunFields.end(), kv.key())) continue;
            Value v;
            v.present = true;
            v.number = kNaN;
            const auto& j = kv.value();
            if (j.is_string()) {
                v.text = lower(j.get<std::string>());
            } else if (j.is_boolean()) {
                v.text = j.get<bool>() ? "true" : "false";
                v.number = j.get<bool>() ? 1 : 0;
            } else if (j.is_number()) {
                v.number = j.get<double>();
                v.text = j.dump();
            } else if (j.is_array()) {
                for (const auto& e : j) v.text += (v.text.empty() ? "" : ",") + (e.is_string() ? e.get<std::string>() : e.dump());
            } else {
                v.present = false;
            }
            if (v.present) haystack_ += " " + v.text;
            fields_.emplace_back(kv.key(), std::move(v));
        }
    } catch (const std::exception&) {
    }
    std::sort(fields_.begin(), fields_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

FilterableRun::Value FilterableRun::value(const std::string& field) const {
    auto it = std::lower_bound(fields_.begin(), fields_.end(), field,
                               [](const auto& kv, const std::string& name) { return kv.first < name; });
    return it != fields_.end() && it->first == field ? it->second : Value{{}, kNaN, false};
}

bool FilterableRun::term_holds(const FilterTerm& t) const {
    using Op = FilterTerm::Op;
    if (t.op == Op::Word) return haystack_.find(t.texts.front()) != std::string::npos;
    if (t.field == "tag") { // many values: tag:a,b holds when the run has either
        bool any = false;
        for (const auto& want : t.texts) any |= std::find(tags_.begin(), tags_.end(), want) != tags_.end();
        return t.op == Op::Equal ? any : !any;
    }
    const Value v = value(t.field);
    if (!v.present) return false;
    const double x = v.number;
    switch (t.op) {
    case Op::Equal:
    case Op::NotEqual: {
        bool any = false;
        for (const auto& want : t.texts) any |= v.text == want;
        // 5e-4 and 0.0005 are one number; "seed:3" matches 3.
        if (!any && !std::isnan(t.low) && !std::isnan(x)) any = x == t.low || std::fabs(x - t.low) <= 1e-12 * std::fabs(t.low);
        return t.op == Op::Equal ? any : !any;
    }
    case Op::Range: return !std::isnan(x) && x >= t.low && x <= t.high;
    case Op::Less: return !std::isnan(x) && x < t.low;
    case Op::LessEqual: return !std::isnan(x) && x <= t.low;
    case Op::Greater: return !std::isnan(x) && x > t.low;
    case Op::GreaterEqual: return !std::isnan(x) && x >= t.low;
    case Op::Word: break;
    }
    return false;
}

bool FilterableRun::matches(const RunFilter& filter) const {
    for (const auto& t : filter.terms)
        if (term_holds(t) == t.negate) return false;
    return true;
}

std::vector<store::RunRecord> filter_runs(const std::vector<store::RunRecord>& runs, const RunFilter& filter) {
    if (filter.empty()) return runs;
    std::vector<store::RunRecord> out;
    for (const auto& r : runs)
        if (FilterableRun(r).matches(filter)) out.push_back(r);
    return out;
}

} // namespace gafx::experiments
