#include "args.h"
#include "commands.h"

#include "core/error.h"
#include "experiments/analysis_format.h"
#include "experiments/report.h"
#include "store/run_store.h"
#include "train/trainer.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

namespace gafx::cli {
namespace {

void print_help() {
    std::string factors, line;
    for (const auto& f : experiments::factor_names()) {
        if (!line.empty() && line.size() + f.size() > 60) {
            factors += line + ",\n                   ";
            line.clear();
        }
        line += (line.empty() ? "" : ", ") + f;
    }
    factors += line;
    std::printf("usage: gafx report [--table 3..7 | --group-by F,...] [--dataset NAME] [--format md|csv|json|latex]\n"
                "                   [--statistic val-selected|final|best-val] [--all] [--db FILE]\n"
                "       gafx report --group-by F,... --curves [--format md|csv|json] [--all] [--db FILE]\n"
                "       gafx report --curves --run ID,... [--format md|csv|json] [--db FILE]\n"
                "       gafx report --confusion RUN,... [--cell TRUE,PREDICTED] [--format md|csv|json] [--db FILE]\n\n"
                "the paper's tables (section 4.2) rebuilt from the stored runs: per row the number of runs n,\n"
                "test track and clip accuracy at the epoch each run selected on val, as mean ± sample std over\n"
                "runs (in %%) with the 95 %% t interval, the paper's value, a majority-class baseline row, and\n"
                "the first row paired against each other over shared seeds/folds (paired t, Wilcoxon, sign).\n"
                "Every run a table leaves out is listed with why. Without --table or --group-by: tables 3 to 7.\n\n"
                "  --table N        one paper table (3, 4, 5, 6 or 7)\n"
                "  --dataset NAME   the GTZAN dataset the paper tables take runs from (default: gtzan); runs\n"
                "                   on others (the demo set) and at preset small are left out, and said so.\n"
                "                   With --group-by: the dataset whose per-class accuracy the rows show\n"
                "  --group-by F,... one row per distinct value of these run-config keys:\n"
                "                   %s\n"
                "  --curves         per epoch instead of the best epoch: with --group-by, each group's test\n"
                "                   track accuracy as mean ± sample std over its counted runs (n per epoch);\n"
                "                   with --run, each run's test track accuracy and train loss\n"
                "  --run ID,...     the runs --curves shows\n"
                "  --confusion RUN,...  the run's confusion matrix at its epoch selected on val: its stored test\n"
                "                   predictions, clip probabilities averaged per track, against each track's\n"
                "                   class in its dataset (rows: true class, columns: predicted; single-label\n"
                "                   datasets only). Several runs (of one dataset) are summed cell by cell\n"
                "  --cell T,P       with --confusion: the tracks of that cell (true class T, predicted P, by\n"
                "                   name or index), the most confident first, with each clip's probabilities\n"
                "  --compare A,B    also pair rows A and B over shared seeds/folds (a label, or a group's\n"
                "                   values joined by /, e.g. --group-by extractor --compare mel,gafx-r)\n"
                "  --statistic S    what each run contributes: val-selected (default: test at the epoch chosen\n"
                "                   on val), final (test at the last evaluated epoch) or best-val (val at the\n"
                "                   chosen epoch: optimistic, never a test figure); the tables say which\n"
                "  --format F       md (default), csv, json or latex (booktabs, best mean in bold)\n"
                "  --all            also count unfinished runs that evaluated at least once (flagged)\n"
                "  --db FILE        the workspace database (default: %s)\n\n"
                "only finished runs count, and runs on AudioSet datasets are pretraining. Nothing is chosen on\n"
                "test: a run's epoch is selected on val, and test is reported at that epoch. Rows of runs on\n"
                "the --dataset also get per-class test track accuracy (md: a second table; csv: the\n"
                "per_class column; json: per_class), from each run's stored predictions.\n",
                factors.c_str(), store::RunStore::default_path().c_str());
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string part; std::getline(in, part, ',');)
        if (!part.empty()) out.push_back(part);
    return out;
}

std::vector<int64_t> run_ids(const std::string& opt, const std::string& text) {
    std::vector<int64_t> out;
    for (const auto& part : split_commas(text)) {
        char* end = nullptr;
        const long long id = std::strtoll(part.c_str(), &end, 10);
        if (*end || id <= 0) throw UsageError(opt + " takes run ids separated by commas, not '" + part + "'");
        out.push_back(id);
    }
    if (out.empty()) throw UsageError(opt + " needs at least one run id");
    return out;
}

experiments::TextFormat text_format(const std::string& format) {
    return format == "csv" ? experiments::TextFormat::Csv
           : format == "json" ? experiments::TextFormat::Json : experiments::TextFormat::Markdown;
}


} // namespace

int cmd_report(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        print_help();
        return 0;
    }
    Args a(argv, {"--table", "--group-by", "--format", "--db", "--confusion", "--cell", "--run", "--dataset", "--compare", "--statistic"},
           {"--all", "--curves"});
    a.expect_positional(0, "");
    if (a.has("--table") && a.has("--group-by")) throw UsageError("--table and --group-by exclude each other");
    const std::string format = a.get_or("--format", "md");
    if (format != "md" && format != "csv" && format != "json" && format != "latex")
        throw UsageError("--format is md, csv, json or latex, not '" + format + "'");
    if (format == "latex" && (a.has("--confusion") || a.has("--curves")))
        throw UsageError("--format latex is for the tables; --confusion and --curves take md, csv or json");
    if (a.has("--dataset") && (a.has("--confusion") || a.has("--curves")))
        throw UsageError("--dataset chooses the runs of the paper tables (and per-class columns); it has no effect here");
    if (a.has("--cell") && !a.has("--confusion")) throw UsageError("--cell picks a cell of --confusion; add --confusion RUN");
    if (a.has("--confusion")) {
        for (const char* other : {"--table", "--group-by", "--curves", "--run", "--all", "--compare", "--statistic"})
            if (a.has(other)) throw UsageError(std::string("--confusion shows a matrix: drop ") + other);
        const auto runs = run_ids("--confusion", *a.get("--confusion"));
        const auto confusion = experiments::load_confusion(workspace_db(a), runs);
        if (a.has("--cell")) {
            const auto cell = split_commas(*a.get("--cell"));
            if (cell.size() != 2) throw UsageError("--cell takes TRUE,PREDICTED (class names or indices), not '" + *a.get("--cell") + "'");
            const int t = experiments::class_of(confusion, cell[0]), p = experiments::class_of(confusion, cell[1]);
            std::fputs(experiments::format_cell_tracks(confusion, t, p, text_format(format)).c_str(), stdout);
            return 0;
        }
        std::fputs(experiments::format_confusion(confusion, text_format(format)).c_str(), stdout);
        return 0;
    }
    if (a.has("--run") && !a.has("--curves")) throw UsageError("--run chooses the runs of --curves; add --curves");
    if (a.has("--curves")) {
        if (a.has("--table")) throw UsageError("--curves goes with --group-by or --run, not --table");
        if (a.has("--compare")) throw UsageError("--compare pairs table rows; drop --curves");
        if (a.has("--run") == a.has("--group-by"))
            throw UsageError("--curves needs either --run ID,... (per run) or --group-by F,... (per group)");
    }
    std::vector<int> tables = {3, 4, 5, 6, 7};
    if (a.has("--table")) {
        const long long t = a.get_int("--table", 0);
        if (t < 3 || t > 7) throw UsageError("--table is 3, 4, 5, 6 or 7 (the paper's tables), not " + std::to_string(t));
        tables = {int(t)};
    }
    experiments::RunStatistic statistic = experiments::RunStatistic::ValSelected;
    if (a.has("--statistic")) {
        if (a.has("--confusion") || (a.has("--curves"))) throw UsageError("--statistic is for the tables and groups");
        try {
            statistic = experiments::parse_statistic(*a.get("--statistic"));
        } catch (const Error& e) {
            throw UsageError("--statistic: " + e.detail());
        }
    }
    std::vector<std::string> factors;
    if (a.has("--group-by")) {
        factors = split_commas(*a.get("--group-by"));
        try {
            experiments::check_factors(factors);
        } catch (const Error& e) {
            throw UsageError("--group-by: " + e.detail());
        }
    }

    const std::vector<int64_t> curve_runs = a.has("--run") ? run_ids("--run", *a.get("--run")) : std::vector<int64_t>{};

    store::RunStore db(workspace_db(a));
    train::mark_dead_runs_interrupted(db);
    experiments::ReportOptions options =
        experiments::report_options(db, a.has("--all"), a.get_or("--dataset", "gtzan"), /*per_class=*/true);
    options.statistic = statistic;
    if (!curve_runs.empty()) {
        const auto curves = experiments::load_curves(db.path(), curve_runs);
        std::fputs(experiments::format_run_curves(curves, text_format(format)).c_str(), stdout);
        return 0;
    }
    const auto runs = db.list_runs();
    if (a.has("--curves")) {
        const auto grouping = experiments::group_runs(factors, runs, options);
        std::vector<int64_t> counted;
        for (const auto& g : grouping.groups) counted.insert(counted.end(), g.stats.run_ids.begin(), g.stats.run_ids.end());
        const auto bands = experiments::group_curves(grouping, experiments::load_curves(db.path(), counted));
        std::fputs(experiments::format_group_curves(bands, text_format(format)).c_str(), stdout);
        return 0;
    }

    std::vector<experiments::Report> reports;
    if (!factors.empty()) reports.push_back(experiments::group_by(factors, runs, options));
    else
        for (int t : tables) reports.push_back(experiments::paper_table(t, runs, options));
    if (a.has("--compare")) {
        const auto names = split_commas(*a.get("--compare"));
        if (names.size() != 2) throw UsageError("--compare takes two rows: A,B");
        if (reports.size() != 1) throw UsageError("--compare needs one table: add --table N or --group-by F");
        experiments::compare_rows(reports[0], names[0], names[1]);
    }

    if (format == "md" || format == "latex") {
        std::fputs((format == "md" ? experiments::format_markdown(reports, options) : experiments::format_latex(reports))
                       .c_str(),
                   stdout);
        return 0;
    }
    // The markdown carries warnings as notes; machine formats keep stdout clean.
    std::set<std::string> warned;
    for (const auto& r : reports)
        for (const auto& w : r.warnings)
            if (warned.insert(w).second) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::fputs((format == "csv" ? experiments::format_csv(reports) : experiments::format_json(reports)).c_str(), stdout);
    return 0;
}

} // namespace gafx::cli
