// The workspace at the size of a long ablation: --runs runs (default 10 000) of a grid over
// extractor x classifier x lr x batch x seed, each with --steps training steps (default 2 400:
// loss and lr per step plus 8 rows per epoch, ~54 M metric rows in all), written straight through
// RunStore as the trainer would. Then the figures issue 14 asks for, each the median of --repeat
// runs: opening the workspace and listing its runs (the Runs page's first read), filtering
// (parse + match every run) and grouping by a factor, and loading one run's curves.
// Usage: bench_runs_scale [--runs N] [--steps S] [--db FILE (kept; reused when it exists)]
#include "experiments/experiment.h"
#include "experiments/grid_compare.h"
#include "experiments/run_analysis.h"
#include "experiments/run_filter.h"
#include "store/run_store.h"

#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace gafx;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

template <typename F> double median_ms(int repeat, F&& f) {
    std::vector<double> t;
    for (int i = 0; i < repeat; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        t.push_back(ms_since(t0));
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

void generate(const std::string& path, int runs, int steps) {
    store::RunStore s(path);
    const int64_t ex = s.create_experiment("scale", "{}");
    const char* extractors[] = {"mel", "gafx-u", "gafx-r", "gafx-a"};
    const char* classifiers[] = {"ast-tiny", "ast-small"};
    const double lrs[] = {5e-5, 1e-4, 5e-4};
    const int64_t batches[] = {4, 8};
    const int epochs = 80, per_epoch = std::max(1, steps / epochs);
    const auto t0 = std::chrono::steady_clock::now();
    int64_t rows_written = 0;
    for (int r = 0; r < runs; ++r) {
        experiments::RunConfig c;
        c.dataset = "gtzan";
        c.extractor = extractors[r % 4];
        c.classifier = classifiers[(r / 4) % 2];
        c.lr = lrs[(r / 8) % 3];
        c.batch_size = batches[(r / 24) % 2];
        c.seed = uint64_t(r / 48);
        c.epochs = epochs;
        const int64_t id = s.create_run(ex, experiments::to_json(c), int64_t(c.seed));
        std::vector<store::MetricRow> rows;
        rows.reserve(size_t(steps) * 2 + epochs * 8);
        for (int step = 1; step <= steps; ++step) {
            const int64_t epoch = (step - 1) / per_epoch + 1;
            rows.push_back({step, epoch, "train", "loss", 2.3 * std::exp(-step / 2000.0) + 0.01 * (step % 7)});
            rows.push_back({step, epoch, "train", "lr", c.lr});
            if (step % per_epoch == 0) {
                const double acc = 0.5 + 0.4 * (1 - std::exp(-epoch / 20.0)) + 0.001 * (r % 13);
                rows.push_back({step, epoch, "train", "epoch_loss", 2.3 * std::exp(-step / 2000.0)});
                rows.push_back({step, epoch, "val", "selection", acc - 0.02});
                rows.push_back({step, epoch, "val", "track_accuracy", acc - 0.02});
                rows.push_back({step, epoch, "val", "loss", 1.0 / epoch});
                rows.push_back({step, epoch, "test", "track_accuracy", acc});
                rows.push_back({step, epoch, "test", "accuracy", acc - 0.05});
                rows.push_back({step, epoch, "test", "macro_f1", acc - 0.03});
                rows.push_back({step, epoch, "time", "epoch_seconds", 60.0});
            }
        }
        s.append_metrics(id, rows);
        s.set_run_status(id, store::RunStatus::Finished);
        rows_written += int64_t(rows.size());
        if ((r + 1) % 500 == 0)
            std::fprintf(stderr, "  %d runs, %lld metric rows, %.0f s\n", r + 1, (long long)rows_written,
                         ms_since(t0) / 1000);
    }
    std::printf("generated: %d runs, %lld metric rows in %.0f s\n", runs, (long long)rows_written, ms_since(t0) / 1000);
}

} // namespace

int main(int argc, char** argv) {
    int runs = 10000, steps = 2400, repeat = 5;
    std::string db;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--db")) db = argv[i + 1];
        else if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
    }
    QTemporaryDir dir;
    if (db.empty()) db = (dir.path() + "/scale.db").toStdString();
    if (!std::filesystem::exists(db)) generate(db, runs, steps);
    std::printf("workspace: %s, %.2f GB\n", db.c_str(), double(std::filesystem::file_size(db)) / 1e9);

    std::vector<store::RunRecord> listed;
    const double open_ms = median_ms(repeat, [&] {
        store::RunStore s(db);
        listed = s.list_runs();
    });
    std::printf("open + list %zu runs:             %8.1f ms  (target: workbench open < 2000 ms)\n", listed.size(), open_ms);

    std::vector<experiments::FilterableRun> views;
    const double build_ms = median_ms(repeat, [&] {
        views.clear();
        views.reserve(listed.size());
        for (const auto& r : listed) views.emplace_back(r);
    });
    size_t kept = 0;
    const double filter_ms = median_ms(repeat, [&] {
        const auto f = experiments::parse_run_filter("extractor:gafx-u seed:0..2 test>0.7 -status:failed");
        kept = 0;
        for (const auto& v : views) kept += v.matches(f);
    });
    std::printf("filter views of every run (once):  %8.1f ms\n", build_ms);
    std::printf("filter (parse + match, %zu kept): %8.1f ms  (target < 100 ms)\n", kept, filter_ms);

    experiments::ReportOptions options;
    size_t groups = 0;
    // The first grouping parses every config; the page regroups at every commit, and then the
    // parsed configs are remembered (experiments::config_values).
    const double first_group_ms = median_ms(1, [&] {
        groups = experiments::group_runs({"extractor"}, listed, options).groups.size();
    });
    const double group_ms = median_ms(repeat, [&] {
        groups = experiments::group_runs({"extractor"}, listed, options).groups.size();
    });
    std::printf("group by extractor, first time:    %8.1f ms\n", first_group_ms);
    std::printf("group by extractor (%zu groups):    %8.1f ms  (target < 100 ms)\n", groups, group_ms);
    const double compare_ms = median_ms(repeat, [&] {
        experiments::factor_effect("extractor", listed, options);
        experiments::parallel_coordinates(listed, options);
    });
    std::printf("compare a grid (factor + parallel):%8.1f ms\n", compare_ms);

    const int64_t one = listed.empty() ? 0 : listed[listed.size() / 2].id;
    size_t points = 0;
    const double curves_ms = median_ms(repeat, [&] {
        const auto c = experiments::load_curves(db, {one});
        points = c.at(one).step_loss.x.size();
    });
    std::printf("one run's curves (%zu steps):      %8.1f ms  (target < 200 ms)\n", points, curves_ms);
    return 0;
}
