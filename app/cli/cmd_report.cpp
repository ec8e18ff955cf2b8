#include "args.h"
#include "commands.h"

#include "core/error.h"
#include "experiments/report.h"
#include "store/run_store.h"
#include "train/trainer.h"

#include <cstdio>
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
    std::printf("usage: gafx report [--table 3..7 | --group-by F,...] [--format md|csv|json] [--all] [--db FILE]\n\n"
                "the paper's tables (section 4.2) rebuilt from the stored runs: per row the number of runs n,\n"
                "our best test track and clip accuracy as mean ± sample std over runs (in %%), and the paper's\n"
                "value. Without --table or --group-by: all of tables 3 to 7.\n\n"
                "  --table N        one paper table (3, 4, 5, 6 or 7)\n"
                "  --group-by F,... one row per distinct value of these run-config keys:\n"
                "                   %s\n"
                "  --format F       md (default), csv or json\n"
                "  --all            also count unfinished runs that evaluated at least once (flagged)\n"
                "  --db FILE        the workspace database (default: %s)\n\n"
                "only finished runs on GTZAN-kind datasets count: runs on AudioSet datasets are pretraining.\n"
                "\"best\" is the epoch with the highest test track accuracy, as the paper reports.\n",
                factors.c_str(), store::RunStore::default_path().c_str());
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string part; std::getline(in, part, ',');)
        if (!part.empty()) out.push_back(part);
    return out;
}

} // namespace

int cmd_report(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        print_help();
        return 0;
    }
    Args a(argv, {"--table", "--group-by", "--format", "--db"}, {"--all"});
    a.expect_positional(0, "");
    if (a.has("--table") && a.has("--group-by")) throw UsageError("--table and --group-by exclude each other");
    const std::string format = a.get_or("--format", "md");
    if (format != "md" && format != "csv" && format != "json")
        throw UsageError("--format is md, csv or json, not '" + format + "'");
    std::vector<int> tables = {3, 4, 5, 6, 7};
    if (a.has("--table")) {
        const long long t = a.get_int("--table", 0);
        if (t < 3 || t > 7) throw UsageError("--table is 3, 4, 5, 6 or 7 (the paper's tables), not " + std::to_string(t));
        tables = {int(t)};
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

    store::RunStore db(workspace_db(a));
    train::mark_dead_runs_interrupted(db);
    experiments::ReportOptions options;
    options.include_unfinished = a.has("--all");
    for (const auto& d : db.list_datasets())
        if (d.kind == "audioset") options.pretraining_datasets.insert(d.name);
    const auto runs = db.list_runs();

    std::vector<experiments::Report> reports;
    if (!factors.empty()) reports.push_back(experiments::group_by(factors, runs, options));
    else
        for (int t : tables) reports.push_back(experiments::paper_table(t, runs, options));

    if (format == "md") {
        std::fputs(experiments::format_markdown(reports, options).c_str(), stdout);
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
