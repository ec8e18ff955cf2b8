#pragma once
// Stored runs -> the paper's tables (section 4.2, tables 3-7) or any grouping by run-config
// factors, with mean ± std over seeds. Pure functions of RunRecords: no SQL, no Qt, so the CLI,
// the workbench and the tests all get the same numbers. Which runs count, their statistics and
// grouping come from run_analysis.h (ReportOptions, factor_names, check_factors live there).
#include "experiments/run_analysis.h"
#include "experiments/stats.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace gafx::experiments {

// Statistics are in percent; NaN when there is nothing to show (n = 0, or std with n < 2).
struct ReportRow {
    std::string label;
    std::string key; // group-by: the values joined by "/" ("mel/ast-tiny"); compare_rows takes it or the label
    int n = 0;
    double track_mean, track_std, clip_mean, clip_std;
    double track_ci_low, track_ci_high; // 95 % t interval of the mean track accuracy
    double f1_mean, f1_std;             // test macro-F1 (track level); NaN for runs from before it was logged
    bool baseline = false;              // the majority-class row: no runs, one number
    std::map<std::string, double> track_by_pairing; // counted runs by "seed=S fold=F"
    std::string paper;      // the published value as printed ("51.00 ± 2.00", "/"), "" in group-by
    bool paper_only = false; // a row we have no runs for by design (CLMR in table 7)
    std::vector<int64_t> run_ids, unfinished_run_ids; // counted runs; the unfinished among them
    int diverged = 0;        // matching runs that diverged and are not counted
    std::vector<LeftOut> left_out; // every matching run not counted, and why (diverged among them)
    std::vector<std::string> mixed; // factors other than seed in which the counted runs differ
    // Mean test track accuracy per class (%, Report::class_names order) over the class_n counted
    // runs whose predictions were read (ReportOptions::per_class); empty when none.
    std::vector<double> class_mean;
    int class_n = 0;
    ReportRow();
};

// Two rows paired over the seeds and folds both have: paired t, exact sign and Wilcoxon tests.
struct Comparison {
    std::string a, b;
    stats::PairedTest test; // a - b, percentage points
};

struct Report {
    int table = 0;      // 3..7, or 0 for a group-by report
    std::string title;  // "Table 3: ..." or "Grouped by extractor, classifier"
    std::string fixed;  // what the table holds fixed, e.g. "extractor=gafx-r, batch_size=8"
    std::string column; // the first column's heading
    std::vector<ReportRow> rows;
    std::string note;   // the table's footnote, e.g. what the paper's "/" means
    std::vector<std::string> warnings; // runs skipped, e.g. a config that no longer parses
    std::vector<LeftOut> left_out;     // runs no row could take (another dataset, another preset)
    std::string dataset_note;          // ReportOptions::dataset_note, for paper tables
    std::vector<Comparison> comparisons; // paper tables: the first row against each other one
    std::vector<std::string> class_names; // for ReportRow::class_mean
    RunStatistic statistic = RunStatistic::ValSelected; // what the track columns are (ReportOptions::statistic)
};

// Table `number` (3..7) of the paper; throws gafx::Error for any other number.
Report paper_table(int number, const std::vector<store::RunRecord>& runs, const ReportOptions& options);
// One row per distinct combination of `factors` (checked as check_factors does, run_analysis.h)
// that has a counted or a diverged run, sorted by value: group_runs as a table.
Report group_by(const std::vector<std::string>& factors, const std::vector<store::RunRecord>& runs,
                const ReportOptions& options);

// Pairs the rows named `a` and `b` (a label, or a group-by row's key) over the seeds and folds
// both ran and adds the paired tests to report.comparisons (`gafx report --compare A,B`). Throws
// gafx::Error listing the rows when a name matches none.
void compare_rows(Report& report, const std::string& a, const std::string& b);

// One report as a table, as the markdown and the workbench show it: the heading (first column,
// n, track accuracy "mean ± std" and its interval, clip accuracy, macro-F1, all in %, and the
// paper's value for tables 3-7), the
// cells of one row, and the notes under the table (unfinished runs, mixed factors, warnings).
std::vector<std::string> table_header(const Report& report);
// What the track columns are, one sentence (which set, which epoch), for captions and notes.
std::string statistic_note(RunStatistic statistic);
std::vector<std::string> table_cells(const Report& report, const ReportRow& row);
std::vector<std::string> report_notes(const Report& report);

// md: a title line, notes and a GitHub table per report, then its per-class table when rows have
// one; csv: one header (RFC 4180), one line per row, per-class accuracy as "class=value;..." in
// one column; json: one array of row objects (per_class: {class: value} or null); latex: a
// booktabs table per report, the best mean track accuracy in bold (no per-class table). Several
// reports go into one document.
std::string format_markdown(const std::vector<Report>& reports, const ReportOptions& options);
std::string format_latex(const std::vector<Report>& reports);
std::string format_csv(const std::vector<Report>& reports);
std::string format_json(const std::vector<Report>& reports);

} // namespace gafx::experiments
