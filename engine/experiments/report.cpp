#include "experiments/report.h"

#include "core/error.h"
#include "data/csv.h"
#include "experiments/experiment.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>

using Json = nlohmann::ordered_json;

namespace gafx::experiments {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A condition on one normalised RunConfig value: key = value, or key != value.
struct Cond {
    std::string key;
    bool equal;
    Json value;
};
Cond eq(const char* k, Json v) { return {k, true, std::move(v)}; }
Cond ne(const char* k, Json v) { return {k, false, std::move(v)}; }

struct RowSpec {
    std::string label;
    std::vector<Cond> where;
    std::string paper;
    bool paper_only = false;
};

struct TableSpec {
    std::string title, column, note;
    std::vector<Cond> fixed; // shown as "held fixed"; applied to every row
    std::vector<RowSpec> rows;
};

// The paper's tables 3-7 (section 4.2). Rows select runs by the factors the paper names;
// `fixed` adds the settings its captions state, which also keeps tables 4 and 5 apart.
TableSpec table_spec(int number) {
    switch (number) {
    case 3:
        return {"Table 3: AST baseline on mel, DeiT-Tiny vs DeiT-Small", "Model", "",
                {eq("extractor", "mel")},
                {{"AST Based on DeiT-Tiny", {eq("classifier", "ast-tiny")}, "61.00"},
                 {"AST Based on DeiT-Small", {eq("classifier", "ast-small")}, "64.50"}}};
    case 4:
        return {"Table 4: w/ and wo/ AudioSet pretraining", "Approach",
                "w/ counts any pretraining other than none (an AudioSet run, or a weights file).",
                {eq("extractor", "gafx-r"), eq("classifier", "ast-small"), eq("batch_size", 8), eq("lr", 5e-4)},
                {{"w/ AudioSet Pretraining", {ne("pretraining", "none")}, "51.00 ± 2.00"},
                 {"wo/ AudioSet Pretraining", {eq("pretraining", "none")}, "47.10 ± 1.50"}}};
    case 5:
        return {"Table 5: w/ and wo/ data augmentation", "Approach", "",
                {eq("extractor", "gafx-r"), eq("classifier", "ast-small"), eq("batch_size", 4)},
                {{"w/ Augmentation", {eq("augmentation", true)}, "48.67"},
                 {"wo/ Augmentation", {eq("augmentation", false)}, "37.00"}}};
    case 6:
        return {"Table 6: feature extractors", "Feature Extractor",
                "The paper's \"/\": GAFX-A diverged there (NaN loss).",
                {eq("classifier", "ast-tiny")},
                {{"GAFX-A", {eq("extractor", "gafx-a")}, "/"},
                 {"GAFX-R", {eq("extractor", "gafx-r")}, "53.00"},
                 {"GAFX-U", {eq("extractor", "gafx-u")}, "72.50"}}};
    case 7:
        return {"Table 7: music genre classification on GTZAN", "Model",
                "CLMR is the paper's cited result; there are no runs of it here.",
                {},
                {{"GAFX-U + AST('DeiT-Ti')", {eq("extractor", "gafx-u"), eq("classifier", "ast-tiny")}, "72.50"},
                 {"(Contrastive) Probing CLMR", {}, "68.60", true},
                 {"AST('DeiT-Small')", {eq("extractor", "mel"), eq("classifier", "ast-small")}, "64.50"},
                 {"AST('DeiT-Ti')", {eq("extractor", "mel"), eq("classifier", "ast-tiny")}, "61.00"}}};
    default:
        throw Error({}, "there is no table " + std::to_string(number) + " to report", "the paper's tables are 3 to 7");
    }
}

std::string value_text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string describe_conds(const std::vector<Cond>& conds) {
    std::string out;
    for (const auto& c : conds) out += (out.empty() ? "" : ", ") + c.key + (c.equal ? "=" : "!=") + value_text(c.value);
    return out;
}

bool matches(const Json& cfg, const std::vector<Cond>& conds) {
    for (const auto& c : conds)
        if ((cfg.at(c.key) == c.value) != c.equal) return false;
    return true;
}

// A stored run that is not pretraining, with its config normalised (defaults filled in).
struct Candidate {
    const store::RunRecord* run;
    Json cfg;
};

std::vector<Candidate> candidates(const std::vector<store::RunRecord>& runs, const ReportOptions& o,
                                  std::vector<std::string>& warnings) {
    std::vector<Candidate> out;
    for (const auto& r : runs) {
        Json cfg;
        try {
            cfg = Json::parse(to_json(parse_run_config(r.config)));
        } catch (const std::exception& e) {
            warnings.push_back("run " + std::to_string(r.id) + " skipped: its config does not parse (" + e.what() + ")");
            continue;
        }
        if (o.pretraining_datasets.count(cfg.at("dataset").get<std::string>())) continue;
        out.push_back({&r, std::move(cfg)});
    }
    return out;
}

struct Stat {
    double mean = kNaN, std = kNaN;
};

// Mean and sample std (n - 1) in percent, over the values that are not NaN.
Stat stat(const std::vector<double>& fractions) {
    std::vector<double> v;
    for (double x : fractions)
        if (!std::isnan(x)) v.push_back(100.0 * x);
    Stat s;
    if (v.empty()) return s;
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / double(v.size());
    if (v.size() > 1) {
        double ss = 0;
        for (double x : v) ss += (x - s.mean) * (x - s.mean);
        s.std = std::sqrt(ss / double(v.size() - 1));
    }
    return s;
}

// Decides, per matching run, whether it counts; fills the row's statistics.
void fill_row(ReportRow& row, const std::vector<const Candidate*>& matched, const ReportOptions& o) {
    std::vector<double> track, clip;
    std::map<std::string, std::set<std::string>> values;
    for (const Candidate* c : matched) {
        const auto& r = *c->run;
        const bool evaluated = !std::isnan(r.best_track_accuracy);
        const bool finished = r.status == store::RunStatus::Finished;
        if (!(evaluated && (finished || o.include_unfinished))) {
            row.diverged += r.status == store::RunStatus::Diverged;
            continue;
        }
        row.run_ids.push_back(r.id);
        if (!finished) row.unfinished_run_ids.push_back(r.id);
        track.push_back(r.best_track_accuracy);
        clip.push_back(r.best_accuracy);
        for (auto it = c->cfg.begin(); it != c->cfg.end(); ++it) values[it.key()].insert(it.value().dump());
    }
    row.n = int(row.run_ids.size());
    const Stat t = stat(track), a = stat(clip);
    row.track_mean = t.mean;
    row.track_std = t.std;
    row.clip_mean = a.mean;
    row.clip_std = a.std;
    for (const auto& [key, seen] : values)
        if (key != "seed" && seen.size() > 1) row.mixed.push_back(key);
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string ids_text(const std::vector<int64_t>& ids) {
    std::string out;
    for (auto id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
    return out;
}

std::string md_cell(std::string s) {
    for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.insert(i, "\\");
    return s;
}

std::string stat_text(const ReportRow& row, double mean, double std) {
    if (row.paper_only) return "n/a";
    if (std::isnan(mean)) return "—";
    return fmt("%.2f", mean) + (std::isnan(std) ? "" : " ± " + fmt("%.2f", std));
}

std::string csv_number(double v) { return std::isnan(v) ? "" : fmt("%.4f", v); }

Json json_number(double v) { return std::isnan(v) ? Json(nullptr) : Json(v); }

} // namespace

ReportRow::ReportRow() : track_mean(kNaN), track_std(kNaN), clip_mean(kNaN), clip_std(kNaN) {}

std::vector<std::string> factor_names() {
    std::vector<std::string> out;
    RunConfig defaults;
    defaults.dataset = "-";
    const Json cfg = Json::parse(to_json(defaults));
    for (auto it = cfg.begin(); it != cfg.end(); ++it) out.push_back(it.key());
    return out;
}

Report paper_table(int number, const std::vector<store::RunRecord>& runs, const ReportOptions& options) {
    const TableSpec spec = table_spec(number);
    Report rep;
    rep.table = number;
    rep.title = spec.title;
    rep.column = spec.column;
    rep.fixed = describe_conds(spec.fixed);
    rep.note = spec.note;
    const auto all = candidates(runs, options, rep.warnings);
    for (const auto& rs : spec.rows) {
        ReportRow row;
        row.label = rs.label;
        row.paper = rs.paper;
        row.paper_only = rs.paper_only;
        std::vector<const Candidate*> matched;
        if (!rs.paper_only)
            for (const auto& c : all)
                if (matches(c.cfg, spec.fixed) && matches(c.cfg, rs.where)) matched.push_back(&c);
        fill_row(row, matched, options);
        rep.rows.push_back(std::move(row));
    }
    return rep;
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

Report group_by(const std::vector<std::string>& factors, const std::vector<store::RunRecord>& runs,
                const ReportOptions& options) {
    check_factors(factors);
    Report rep;
    rep.column = "Group";
    for (const auto& f : factors) rep.title += (rep.title.empty() ? "Grouped by " : ", ") + f;
    const auto all = candidates(runs, options, rep.warnings);
    // Json's ordering compares numbers as numbers, so lr 5e-05 sorts before 0.0005.
    std::map<std::vector<Json>, std::vector<const Candidate*>> groups;
    for (const auto& c : all) {
        std::vector<Json> key;
        for (const auto& f : factors) key.push_back(c.cfg.at(f));
        groups[key].push_back(&c);
    }
    for (const auto& [key, matched] : groups) {
        ReportRow row;
        for (size_t i = 0; i < factors.size(); ++i)
            row.label += (i ? " " : "") + factors[i] + "=" + value_text(key[i]);
        fill_row(row, matched, options);
        if (row.n > 0 || row.diverged > 0) rep.rows.push_back(std::move(row));
    }
    return rep;
}

std::vector<std::string> table_header(const Report& rep) {
    std::vector<std::string> h = {rep.column, "n", "track acc. %", "clip acc. %"};
    if (rep.table) h.push_back("paper %");
    return h;
}

std::vector<std::string> table_cells(const Report& rep, const ReportRow& row) {
    std::string n = row.paper_only ? "n/a" : std::to_string(row.n);
    if (!row.unfinished_run_ids.empty()) n += " (" + std::to_string(row.unfinished_run_ids.size()) + " unfinished)";
    if (row.diverged) n += " (+" + std::to_string(row.diverged) + " diverged)";
    std::vector<std::string> cells = {row.label, n, stat_text(row, row.track_mean, row.track_std),
                                      stat_text(row, row.clip_mean, row.clip_std)};
    if (rep.table) cells.push_back(row.paper);
    return cells;
}

std::vector<std::string> report_notes(const Report& rep) {
    std::vector<std::string> notes;
    for (const auto& row : rep.rows) {
        if (!row.unfinished_run_ids.empty())
            notes.push_back(row.label + ": unfinished runs " + ids_text(row.unfinished_run_ids) +
                            " count with their best epoch so far");
        if (!row.mixed.empty()) {
            std::string m;
            for (const auto& k : row.mixed) m += (m.empty() ? "" : ", ") + k;
            notes.push_back(row.label + ": its runs differ in " + m + " (besides seed)");
        }
    }
    if (!rep.note.empty()) notes.push_back(rep.note);
    for (const auto& w : rep.warnings) notes.push_back(w);
    return notes;
}

std::string format_markdown(const std::vector<Report>& reports, const ReportOptions& options) {
    auto md_row = [](const std::vector<std::string>& cells) {
        std::string line = "|";
        for (const auto& c : cells) line += " " + md_cell(c) + " |";
        return line + "\n";
    };
    std::string out;
    for (const auto& rep : reports) {
        if (!out.empty()) out += "\n";
        out += "### " + rep.title + "\n\n";
        if (!rep.fixed.empty()) out += "Held fixed: " + rep.fixed + ". ";
        out += std::string("Runs: ") + (options.include_unfinished ? "finished, and unfinished ones that evaluated"
                                                                   : store::to_string(store::RunStatus::Finished)) +
               ", not on AudioSet. Best test epoch by track accuracy, as the paper reports (it has no validation "
               "split); clip accuracy at that epoch. Mean ± sample std over runs.\n\n";
        out += md_row(table_header(rep));
        out += std::string("|---|---:|---:|---:|") + (rep.table ? "---:|" : "") + "\n";
        for (const auto& row : rep.rows) out += md_row(table_cells(rep, row));
        if (rep.rows.empty()) out += "| (no runs) | 0 | — | — |" + std::string(rep.table ? " |" : "") + "\n";
        std::string notes;
        for (const auto& n : report_notes(rep)) notes += "- " + n + "\n";
        if (!notes.empty()) out += "\n" + notes;
    }
    return out;
}

std::string format_csv(const std::vector<Report>& reports) {
    std::string out = "table,label,n,track_accuracy_mean,track_accuracy_std,accuracy_mean,accuracy_std,paper,"
                      "diverged,unfinished_run_ids,run_ids\n";
    for (const auto& rep : reports)
        for (const auto& row : rep.rows)
            out += (rep.table ? std::to_string(rep.table) : "") + "," + data::csv_field(row.label) + "," +
                   std::to_string(row.n) + "," + csv_number(row.track_mean) + "," + csv_number(row.track_std) + "," +
                   csv_number(row.clip_mean) + "," + csv_number(row.clip_std) + "," + data::csv_field(row.paper) + "," +
                   std::to_string(row.diverged) + "," + ids_text(row.unfinished_run_ids) + "," +
                   ids_text(row.run_ids) + "\n";
    return out;
}

std::string format_json(const std::vector<Report>& reports) {
    Json out = Json::array();
    for (const auto& rep : reports)
        for (const auto& row : rep.rows)
            out.push_back({{"table", rep.table ? Json(rep.table) : Json(nullptr)},
                           {"label", row.label},
                           {"n", row.n},
                           {"track_accuracy_mean", json_number(row.track_mean)},
                           {"track_accuracy_std", json_number(row.track_std)},
                           {"accuracy_mean", json_number(row.clip_mean)},
                           {"accuracy_std", json_number(row.clip_std)},
                           {"paper", rep.table ? Json(row.paper) : Json(nullptr)},
                           {"paper_only", row.paper_only},
                           {"diverged", row.diverged},
                           {"mixed", row.mixed},
                           {"run_ids", row.run_ids},
                           {"unfinished_run_ids", row.unfinished_run_ids}});
    return out.dump(2) + "\n";
}

} // namespace gafx::experiments
