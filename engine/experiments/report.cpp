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

bool matches(const AnalysedRun& run, const std::vector<Cond>& conds) {
    for (const auto& c : conds)
        if ((Json::parse(run.value(c.key)) == c.value) != c.equal) return false;
    return true;
}

// Unreadable configs become the report's warnings; pretraining runs are no row by design.
void warn_left_out(const std::vector<LeftOut>& left_out, std::vector<std::string>& warnings) {
    for (const auto& l : left_out)
        if (l.reason == LeftOutReason::UnreadableConfig)
            warnings.push_back("run " + std::to_string(l.run) + " skipped: its config does not parse (" + l.detail + ")");
}

void fill_row(ReportRow& row, const GroupStats& g) {
    row.n = g.n;
    row.track_mean = g.track.mean;
    row.track_std = g.track.std;
    row.clip_mean = g.clip.mean;
    row.clip_std = g.clip.std;
    row.f1_mean = g.f1.mean;
    row.f1_std = g.f1.std;
    row.track_ci_low = g.track.ci_low;
    row.track_ci_high = g.track.ci_high;
    row.track_by_pairing = g.track_by_pairing;
    row.run_ids = g.run_ids;
    row.unfinished_run_ids = g.unfinished_run_ids;
    row.diverged = g.diverged();
    row.left_out = g.left_out;
    row.mixed = g.mixed;
    for (const auto& c : g.per_class) row.class_mean.push_back(c.mean);
    row.class_n = g.per_class.empty() ? 0 : g.per_class[0].n;
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

namespace {

// Rows a and b over the seeds/folds both ran; none when they share none.
std::optional<Comparison> paired(const ReportRow& a, const ReportRow& b) {
    if (a.paper_only || b.paper_only || a.baseline || b.baseline) return std::nullopt;
    std::vector<double> xa, xb;
    for (const auto& [key, v] : a.track_by_pairing)
        if (auto it = b.track_by_pairing.find(key); it != b.track_by_pairing.end()) {
            xa.push_back(v);
            xb.push_back(it->second);
        }
    if (xa.empty()) return std::nullopt;
    return Comparison{a.label, b.label, stats::paired_test(xa, xb)};
}

} // namespace

void compare_rows(Report& rep, const std::string& a, const std::string& b) {
    const auto find = [&](const std::string& name) -> const ReportRow& {
        for (const auto& r : rep.rows)
            if (r.label == name || (!r.key.empty() && r.key == name)) return r;
        std::string rows;
        for (const auto& r : rep.rows) rows += (rows.empty() ? "" : "; ") + (r.key.empty() ? r.label : r.key);
        throw Error({}, "no row '" + name + "' to compare in " + rep.title, "name one of: " + rows);
    };
    const ReportRow &ra = find(a), &rb = find(b);
    const auto c = paired(ra, rb);
    if (!c)
        throw Error({}, "rows '" + a + "' and '" + b + "' share no seed or fold with a counted run",
                    "train both on the same seeds (and folds)");
    rep.comparisons.push_back(*c);
}

ReportRow::ReportRow()
    : track_mean(kNaN), track_std(kNaN), clip_mean(kNaN), clip_std(kNaN), track_ci_low(kNaN), track_ci_high(kNaN),
      f1_mean(kNaN), f1_std(kNaN) {}

Report paper_table(int number, const std::vector<store::RunRecord>& runs, const ReportOptions& options) {
    const TableSpec spec = table_spec(number);
    Report rep;
    rep.table = number;
    rep.title = spec.title;
    rep.column = spec.column;
    rep.fixed = describe_conds(spec.fixed);
    rep.note = spec.note;
    rep.statistic = options.statistic;
    std::vector<LeftOut> left_out;
    const auto analysable = analysable_runs(runs, options, left_out);
    warn_left_out(left_out, rep.warnings);
    // The paper's protocol: its dataset, its model sizes. Demo runs (synthetic audio, ~100 %)
    // and small-preset runs would otherwise pool into its rows.
    std::vector<const AnalysedRun*> all;
    for (const auto& a : analysable) {
        const std::string dataset = Json::parse(a.value("dataset")).get<std::string>();
        const std::string preset = Json::parse(a.value("preset")).get<std::string>();
        if (!options.dataset.empty() && dataset != options.dataset)
            rep.left_out.push_back({a.run->id, LeftOutReason::OtherDataset, dataset});
        else if (preset != "paper")
            rep.left_out.push_back({a.run->id, LeftOutReason::NotPaperPreset, preset});
        else
            all.push_back(&a);
    }
    for (const auto& rs : spec.rows) {
        ReportRow row;
        row.label = rs.label;
        row.paper = rs.paper;
        row.paper_only = rs.paper_only;
        std::vector<const AnalysedRun*> matched;
        if (!rs.paper_only)
            for (const AnalysedRun* c : all)
                if (matches(*c, spec.fixed) && matches(*c, rs.where)) matched.push_back(c);
        fill_row(row, count_runs(matched, options));
        rep.rows.push_back(std::move(row));
    }
    // The first row against each other one, over the seeds and folds both ran.
    for (size_t i = 1; i < rep.rows.size(); ++i)
        if (auto c = paired(rep.rows[0], rep.rows[i])) rep.comparisons.push_back(*c);
    rep.dataset_note = options.dataset_note;
    rep.class_names = options.class_names;
    if (!std::isnan(options.majority_track_accuracy)) {
        ReportRow base;
        base.label = "Majority class (baseline)";
        base.baseline = true;
        base.track_mean = options.majority_track_accuracy;
        rep.rows.push_back(std::move(base));
    }
    return rep;
}

Report group_by(const std::vector<std::string>& factors, const std::vector<store::RunRecord>& runs,
                const ReportOptions& options) {
    const Grouping grouping = group_runs(factors, runs, options);
    Report rep;
    rep.column = "Group";
    rep.class_names = options.class_names;
    rep.statistic = options.statistic;
    for (const auto& f : factors) rep.title += (rep.title.empty() ? "Grouped by " : ", ") + f;
    warn_left_out(grouping.left_out, rep.warnings);
    for (const auto& g : grouping.groups) {
        ReportRow row;
        row.label = g.label;
        for (const auto& v : g.values) row.key += (row.key.empty() ? "" : "/") + v;
        fill_row(row, g.stats);
        if (row.n > 0 || row.diverged > 0) rep.rows.push_back(std::move(row));
    }
    return rep;
}

std::string statistic_note(RunStatistic s) {
    switch (s) {
    case RunStatistic::ValSelected:
        return "Test set at the epoch each run selected on val (never chosen on test); clip accuracy at that epoch.";
    case RunStatistic::Final:
        return "Test set at each run's last evaluated epoch (statistic: final); clip accuracy there, macro-F1 not "
               "stored for it.";
    case RunStatistic::BestVal:
        return "Validation set, not test: each run's val track accuracy at its epoch selected on val (statistic: "
               "best-val, optimistic by construction); no clip accuracy or macro-F1.";
    }
    return {};
}

std::vector<std::string> table_header(const Report& rep) {
    std::vector<std::string> h = {rep.column, "n",
                                  rep.statistic == RunStatistic::BestVal ? "val track acc. %" : "track acc. %", "95 % CI",
                                  "clip acc. %", "macro-F1 %"};
    if (rep.table) h.push_back("paper %");
    return h;
}

std::vector<std::string> table_cells(const Report& rep, const ReportRow& row) {
    std::string n = row.paper_only ? "n/a" : row.baseline ? "—" : std::to_string(row.n);
    if (!row.unfinished_run_ids.empty()) n += " (" + std::to_string(row.unfinished_run_ids.size()) + " unfinished)";
    if (row.diverged) n += " (+" + std::to_string(row.diverged) + " diverged)";
    const std::string ci = std::isnan(row.track_ci_low) ? "—"
                                                         : "[" + fmt("%.2f", row.track_ci_low) + ", " +
                                                               fmt("%.2f", row.track_ci_high) + "]";
    std::vector<std::string> cells = {row.label, n, stat_text(row, row.track_mean, row.track_std), ci,
                                      row.baseline ? "—" : stat_text(row, row.clip_mean, row.clip_std),
                                      row.baseline ? "—" : stat_text(row, row.f1_mean, row.f1_std)};
    if (rep.table) cells.push_back(row.paper);
    return cells;
}

std::vector<std::string> report_notes(const Report& rep) {
    std::vector<std::string> notes;
    for (const auto& row : rep.rows) {
        if (!row.unfinished_run_ids.empty())
            notes.push_back(row.label + ": unfinished runs " + ids_text(row.unfinished_run_ids) +
                            " count at their selected epoch so far");
        if (!row.mixed.empty()) {
            std::string m;
            for (const auto& k : row.mixed) m += (m.empty() ? "" : ", ") + k;
            notes.push_back(row.label + ": its runs differ in " + m + " (besides seed)");
        }
    }
    // Every run a row matched but did not count, and why (diverged ones are in the n column too).
    for (const auto& row : rep.rows) {
        std::map<std::string, std::vector<int64_t>> by_reason;
        for (const auto& l : row.left_out)
            by_reason[std::string(to_string(l.reason)) + (l.detail.empty() ? "" : " (" + l.detail + ")")].push_back(l.run);
        for (const auto& [why, ids] : by_reason)
            notes.push_back(row.label + ": left out " + (ids.size() == 1 ? "run " : "runs ") + ids_text(ids) + ": " + why);
    }
    std::map<std::string, std::vector<int64_t>> table_left;
    for (const auto& l : rep.left_out) {
        const std::string why = l.reason == LeftOutReason::OtherDataset
                                    ? "dataset '" + l.detail + "'"
                                    : l.reason == LeftOutReason::NotPaperPreset ? "preset " + l.detail
                                                                                : to_string(l.reason);
        table_left[why].push_back(l.run);
    }
    for (const auto& [why, ids] : table_left)
        notes.push_back("Not in this table: " + std::string(ids.size() == 1 ? "run " : "runs ") + ids_text(ids) + " (" +
                        why + ")");
    for (const auto& c : rep.comparisons) {
        const auto& t = c.test;
        notes.push_back("Paired over " + std::to_string(t.n) + " shared seed/fold(s): " + c.a + " − " + c.b + " = " +
                        (std::isnan(t.mean_diff) ? std::string("—") : fmt("%+.2f", t.mean_diff)) +
                        " points; paired t p = " + (std::isnan(t.p_t) ? std::string("—") : fmt("%.3g", t.p_t)) +
                        ", Wilcoxon p = " + (std::isnan(t.p_wilcoxon) ? std::string("—") : fmt("%.3g", t.p_wilcoxon)) +
                        ", sign p = " + (std::isnan(t.p_sign) ? std::string("—") : fmt("%.3g", t.p_sign)));
    }
    if (!rep.note.empty()) notes.push_back(rep.note);
    if (!rep.dataset_note.empty()) notes.push_back(rep.dataset_note);
    for (const auto& w : rep.warnings) notes.push_back(w);
    return notes;
}

namespace {

std::string per_class_text(const Report& rep, const ReportRow& row) {
    std::string out;
    for (size_t k = 0; k < row.class_mean.size() && k < rep.class_names.size(); ++k)
        out += (out.empty() ? "" : ";") + rep.class_names[k] + "=" + csv_number(row.class_mean[k]);
    return out;
}

template <typename MdRow> std::string per_class_markdown(const Report& rep, const MdRow& md_row) {
    bool any = false;
    for (const auto& row : rep.rows) any = any || !row.class_mean.empty();
    if (!any || rep.class_names.empty()) return {};
    std::vector<std::string> head = {rep.column, "n"};
    for (const auto& c : rep.class_names) head.push_back(c);
    std::string out = "\nPer-class test track accuracy (%, mean over the n runs whose predictions were read):\n\n" +
                      md_row(head) + "|---|---:|";
    for (size_t k = 0; k < rep.class_names.size(); ++k) out += "---:|";
    out += "\n";
    for (const auto& row : rep.rows) {
        if (row.class_mean.empty()) continue;
        std::vector<std::string> cells = {row.label, std::to_string(row.class_n)};
        for (double v : row.class_mean) cells.push_back(std::isnan(v) ? "—" : fmt("%.1f", v));
        out += md_row(cells);
    }
    return out;
}

} // namespace

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
               (rep.table && !options.dataset.empty() ? ", on dataset '" + options.dataset + "' at preset paper"
                                                      : std::string(", not on AudioSet")) +
               ". " + statistic_note(rep.statistic) + " Mean ± sample std over runs, n runs, 95 % t interval of the mean.\n\n";
        out += md_row(table_header(rep));
        out += std::string("|---|---:|---:|---:|---:|---:|") + (rep.table ? "---:|" : "") + "\n";
        for (const auto& row : rep.rows) out += md_row(table_cells(rep, row));
        if (rep.rows.empty()) out += "| (no runs) | 0 | — | — | — | — |" + std::string(rep.table ? " |" : "") + "\n";
        std::string notes;
        for (const auto& n : report_notes(rep)) notes += "- " + n + "\n";
        if (!notes.empty()) out += "\n" + notes;
        out += per_class_markdown(rep, md_row);
    }
    return out;
}

std::string format_csv(const std::vector<Report>& reports) {
    std::string out = "table,label,n,track_accuracy_mean,track_accuracy_std,track_accuracy_ci_low,"
                      "track_accuracy_ci_high,accuracy_mean,accuracy_std,macro_f1_mean,macro_f1_std,paper,diverged,"
                      "unfinished_run_ids,run_ids,per_class,statistic\n";
    for (const auto& rep : reports)
        for (const auto& row : rep.rows)
            out += (rep.table ? std::to_string(rep.table) : "") + "," + data::csv_field(row.label) + "," +
                   std::to_string(row.n) + "," + csv_number(row.track_mean) + "," + csv_number(row.track_std) + "," +
                   csv_number(row.track_ci_low) + "," + csv_number(row.track_ci_high) + "," +
                   csv_number(row.clip_mean) + "," + csv_number(row.clip_std) + "," + csv_number(row.f1_mean) + "," +
                   csv_number(row.f1_std) + "," + data::csv_field(row.paper) + "," +
                   std::to_string(row.diverged) + "," + ids_text(row.unfinished_run_ids) + "," +
                   ids_text(row.run_ids) + "," + data::csv_field(per_class_text(rep, row)) + "," +
                   to_string(rep.statistic) + "\n";
    return out;
}

namespace {

// The paired test of `row` against the report's first row, null when there is none.
Json paired_json(const Report& rep, const ReportRow& row) {
    for (const auto& c : rep.comparisons)
        if (c.b == row.label)
            return {{"against", c.a},     {"n", c.test.n},       {"mean_diff", json_number(c.test.mean_diff)},
                    {"p_t", json_number(c.test.p_t)}, {"p_wilcoxon", json_number(c.test.p_wilcoxon)},
                    {"p_sign", json_number(c.test.p_sign)}};
    return nullptr;
}

Json per_class_json(const Report& rep, const ReportRow& row) {
    if (row.class_mean.empty()) return nullptr;
    Json o = Json::object();
    for (size_t k = 0; k < row.class_mean.size() && k < rep.class_names.size(); ++k)
        o[rep.class_names[k]] = json_number(row.class_mean[k]);
    return o;
}

std::string tex(const std::string& s) {
    std::string out;
    for (char ch : s) {
        switch (ch) {
        case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += ch; break;
        case '~': out += "\\textasciitilde{}"; break;
        case '^': out += "\\textasciicircum{}"; break;
        case '\\': out += "\\textbackslash{}"; break;
        default: out += ch;
        }
    }
    return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t i = 0; (i = s.find(from, i)) != std::string::npos; i += to.size()) s.replace(i, from.size(), to);
    return s;
}

// A statistic as report cells print it, in LaTeX: ± as $\pm$, the dash for "none" as --.
std::string tex_stat(const std::string& s) { return replace_all(replace_all(tex(s), "±", "$\\pm$"), "—", "--"); }

} // namespace

std::string format_latex(const std::vector<Report>& reports) {
    std::string out;
    for (const auto& rep : reports) {
        double best = -1;
        for (const auto& row : rep.rows)
            if (!row.paper_only && !row.baseline && !std::isnan(row.track_mean)) best = std::max(best, row.track_mean);
        out += "% " + rep.title + (rep.fixed.empty() ? "" : "; held fixed: " + rep.fixed) + "\n";
        out += "\\begin{table}[t]\n\\centering\n\\caption{" + tex(rep.title) +
               ". " + tex(statistic_note(rep.statistic)) +
               " Track accuracy (\\%): mean $\\pm$ sample std over $n$ runs, 95\\% $t$ interval.}\n";
        out += std::string("\\begin{tabular}{lrrrrr") + (rep.table ? "r" : "") + "}\n\\toprule\n";
        out += tex(rep.column) + " & $n$ & Track acc. & 95\\% CI & Clip acc. & Macro-F1" + (rep.table ? " & Paper" : "") +
               " \\\\\n\\midrule\n";
        for (const auto& row : rep.rows) {
            if (row.baseline) out += "\\midrule\n";
            std::string track = tex_stat(stat_text(row, row.track_mean, row.track_std));
            if (!row.baseline && row.track_mean == best)
                track = "\\textbf{" + fmt("%.2f", row.track_mean) + "}" +
                        (std::isnan(row.track_std) ? "" : " $\\pm$ " + fmt("%.2f", row.track_std));
            const std::string clip = row.baseline ? "--" : tex_stat(stat_text(row, row.clip_mean, row.clip_std));
            const std::string f1 = row.baseline ? "--" : tex_stat(stat_text(row, row.f1_mean, row.f1_std));
            const std::string ci = std::isnan(row.track_ci_low)
                                       ? "--"
                                       : "[" + fmt("%.2f", row.track_ci_low) + ", " + fmt("%.2f", row.track_ci_high) + "]";
            const std::string n = row.paper_only ? "n/a" : row.baseline ? "--" : std::to_string(row.n);
            const std::string paper = row.paper.empty() ? "--" : tex_stat(row.paper);
            out += tex(row.label) + " & " + n + " & " + track + " & " + ci + " & " + clip + " & " + f1 +
                   (rep.table ? " & " + paper : std::string()) + " \\\\\n";
        }
        out += "\\bottomrule\n\\end{tabular}\n\\end{table}\n";
        for (const auto& n : report_notes(rep)) out += "% " + n + "\n";
        out += "\n";
    }
    return out;
}

std::string format_json(const std::vector<Report>& reports) {
    Json out = Json::array();
    for (const auto& rep : reports)
        for (const auto& row : rep.rows)
            out.push_back({{"table", rep.table ? Json(rep.table) : Json(nullptr)},
                           {"label", row.label},
                           {"n", row.n},
                           {"statistic", to_string(rep.statistic)},
                           {"track_accuracy_mean", json_number(row.track_mean)},
                           {"track_accuracy_std", json_number(row.track_std)},
                           {"track_accuracy_ci_low", json_number(row.track_ci_low)},
                           {"track_accuracy_ci_high", json_number(row.track_ci_high)},
                           {"baseline", row.baseline},
                           {"accuracy_mean", json_number(row.clip_mean)},
                           {"accuracy_std", json_number(row.clip_std)},
                           {"macro_f1_mean", json_number(row.f1_mean)},
                           {"macro_f1_std", json_number(row.f1_std)},
                           {"paper", rep.table ? Json(row.paper) : Json(nullptr)},
                           {"paper_only", row.paper_only},
                           {"diverged", row.diverged},
                           {"mixed", row.mixed},
                           {"run_ids", row.run_ids},
                           {"unfinished_run_ids", row.unfinished_run_ids},
                           {"paired_vs_first", paired_json(rep, row)},
                           {"per_class", per_class_json(rep, row)}});
    return out.dump(2) + "\n";
}

} // namespace gafx::experiments
