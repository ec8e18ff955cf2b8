// experiments::queue: the experiment and all its runs are written in one transaction, after the
// same checks as parse_experiment against the workspace's datasets; on any error, nothing.
#include "core/error.h"
#include "experiments/experiment.h"
#include "experiments/queue.h"
#include "experiments/run_cost.h"
#include "experiments/shard.h"
#include "store/run_store.h"
#include "test_support.h"
#include "workflows/parallel_train.h"
#include "workflows/queue_file.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <sqlite3.h>

using namespace gafx;

namespace {

data::Catalog one_track_catalog(const std::string& name) {
    data::Catalog c;
    c.name = name;
    c.kind = "gtzan";
    c.root = "/data/" + name;
    c.classes.push_back({"blues", "blues"});
    data::Track t;
    t.key = "blues/blues.00000.wav";
    t.path = c.root + "/" + t.key;
    t.labels = {"blues"};
    t.sample_rate = 22050;
    t.channels = 1;
    t.frames = 22050 * 30;
    t.duration = 30;
    c.tracks.push_back(t);
    return c;
}

// A second connection, as another process would see the file.
int64_t count_rows(const std::string& db_path, const char* table) {
    sqlite3* db = nullptr;
    if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) qFatal("cannot open %s", db_path.c_str());
    sqlite3_stmt* s = nullptr;
    const std::string sql = std::string("SELECT count(*) FROM ") + table;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) qFatal("%s", sqlite3_errmsg(db));
    const int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

void exec(const std::string& db_path, const char* sql) {
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    const QString msg = err ? QString::fromUtf8(err) : QString();
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, qPrintable(msg));
}

// Two extractors x three seeds on the imported "tiny".
experiments::Experiment grid() {
    return experiments::parse_experiment(R"({"name": "q", "base": {"dataset": "tiny", "preset": "small"},
        "grid": {"extractor": ["mel", "gafx-r"], "seed": [0, 1, 2]}})", "q.json");
}

} // namespace

class TestExperimentQueue : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    int n_ = 0;

    // A fresh workspace with dataset "tiny" imported.
    std::string workspace() {
        const std::string path = (dir_.path() + QStringLiteral("/ws%1.db").arg(++n_)).toStdString();
        store::RunStore s(path);
        data::Catalog c = one_track_catalog("tiny");
        s.save_catalog(c);
        return path;
    }

private Q_SLOTS:
    void queuesTheExperimentAndItsRunsInOrder() {
        const std::string path = workspace();
        store::RunStore db(path);
        const auto ex = grid();
        const auto q = experiments::queue(db, ex);
        QVERIFY(q.experiment_id > 0);
        QCOMPARE(q.run_ids.size(), size_t(6));

        const auto runs = db.list_runs();
        QCOMPARE(runs.size(), size_t(6));
        for (size_t i = 0; i < runs.size(); ++i) {
            QCOMPARE(runs[i].id, q.run_ids[i]);
            QCOMPARE(runs[i].experiment_id, q.experiment_id);
            QCOMPARE(runs[i].experiment, std::string("q"));
            QVERIFY(runs[i].status == store::RunStatus::Queued);
            QCOMPARE(runs[i].config, experiments::to_json(ex.runs[i]));
            QCOMPARE(runs[i].seed, int64_t(ex.runs[i].seed));
        }
        QCOMPARE(experiments::parse_run_config(runs[4].config).extractor, std::string("gafx-r"));
        QCOMPARE(runs[4].seed, int64_t(1));
        QCOMPARE(count_rows(path, "experiments"), int64_t(1));
    }

    void aStoreErrorMidwayLeavesNothing() {
        const std::string path = workspace();
        store::RunStore db(path);
        const auto before = experiments::queue(db, grid()); // stays as it was
        // The third run of the next experiment cannot be written, as on a full disk.
        exec(path, "CREATE TRIGGER midway BEFORE INSERT ON runs "
                   "WHEN (SELECT count(*) FROM runs WHERE experiment_id = NEW.experiment_id) >= 2 "
                   "BEGIN SELECT RAISE(ABORT, 'simulated full disk'); END");
        try {
            experiments::queue(db, grid());
            QFAIL("the third run was written");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("simulated full disk")), e.what());
        }
        QCOMPARE(count_rows(path, "experiments"), int64_t(1));
        QCOMPARE(count_rows(path, "runs"), int64_t(6));
        for (const auto& r : db.list_runs()) QCOMPARE(r.experiment_id, before.experiment_id);

        // Once the disk has room again, the same store queues it whole.
        exec(path, "DROP TRIGGER midway");
        const auto q = experiments::queue(db, grid());
        QCOMPARE(q.run_ids.size(), size_t(6));
        QCOMPARE(count_rows(path, "experiments"), int64_t(2));
        QCOMPARE(count_rows(path, "runs"), int64_t(12));
    }

    void anInvalidExperimentLeavesNothing() {
        const std::string path = workspace();
        store::RunStore db(path);
        auto ex = grid();
        ex.runs[3].dataset = "elsewhere"; // not imported here
        try {
            experiments::queue(db, ex);
            QFAIL("a run on a dataset that is not imported was queued");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), QStringLiteral("q"));
            QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("dataset"));
            QCOMPARE(QString::fromStdString(e.reason()), QStringLiteral("no imported dataset named 'elsewhere'"));
        }
        ex = grid();
        ex.runs[5].clips_per_track = 4; // 4 x 10 s in a 30 s track
        try {
            experiments::queue(db, ex);
            QFAIL("a run whose clips do not fit was queued");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.field().json_path), QStringLiteral("$ (run 6 of 6)"));
            QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("track_seconds"));
        }
        ex = grid();
        ex.runs.clear();
        QVERIFY_THROWS_EXCEPTION(Error, experiments::queue(db, ex));
        QCOMPARE(count_rows(path, "experiments"), int64_t(0));
        QCOMPARE(count_rows(path, "runs"), int64_t(0));
        QVERIFY(db.list_runs().empty());
    }

    void pretrainingNamedByExperimentAndSeed() {
        const std::string path = workspace();
        store::RunStore db(path);
        const auto pre = experiments::parse_experiment(
            R"({"name": "pre", "base": {"dataset": "tiny", "preset": "small"}, "grid": {"seed": [0, 1]}})", "pre.json");
        const auto first = experiments::queue(db, pre).run_ids;
        db.set_run_status(first[0], store::RunStatus::Failed, "disk full");
        const int64_t retried = experiments::queue(db, pre).run_ids[0]; // seed 0 again
        const auto ft = experiments::parse_experiment(R"({"name": "ft", "base": {"dataset": "tiny", "preset": "small",
            "pretraining": "run", "pretrained_run": {"experiment": "pre", "seed": 0}}})", "ft.json");
        QCOMPARE(ft.runs[0].pretrained_experiment, std::string("pre"));
        const auto q = experiments::queue(db, ft);
        // The newest seed-0 run that has not failed; the stored config holds its id.
        const auto c = experiments::parse_run_config(db.run(q.run_ids[0])->config);
        QCOMPARE(c.pretrained_run, retried);
        QVERIFY(c.pretrained_experiment.empty());

        const auto missing = experiments::parse_experiment(R"({"name": "ft2", "base": {"dataset": "tiny",
            "pretraining": "run", "pretrained_run": {"experiment": "pre", "seed": 5}}})", "ft2.json");
        const size_t before = db.list_runs().size();
        try {
            experiments::queue(db, missing);
            QFAIL("a reference to a run that does not exist was queued");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("pretrained_run"));
            QVERIFY(QString::fromStdString(e.reason()).contains(QStringLiteral("'pre' seed 5")));
        }
        QCOMPARE(db.list_runs().size(), before);
        // An object with anything but experiment and seed is refused where it is written.
        QVERIFY_THROWS_EXCEPTION(Error, experiments::parse_experiment(R"({"name": "x", "base": {"dataset": "tiny",
            "pretraining": "run", "pretrained_run": {"experiment": "pre", "colour": 1}}})", "x.json"));
    }

    void requiredFilesQueueFirstAndCyclesAreRefused() {
        const std::string path = workspace();
        store::RunStore db(path);
        const QString d = dir_.path();
        test::write_bytes(d + "/pre.json", R"({"name": "pre", "base": {"dataset": "tiny", "preset": "small"}})");
        test::write_bytes(d + "/ft.json", R"({"name": "ft", "requires": ["pre.json"], "base": {"dataset": "tiny",
            "preset": "small", "pretraining": "run", "pretrained_run": {"experiment": "pre", "seed": 0}}})");
        auto q = workflows::queue_file(db, (d + "/ft.json").toStdString());
        QCOMPARE(q.size(), size_t(2));
        QCOMPARE(q[0].experiment.name, std::string("pre"));
        QCOMPARE(experiments::parse_run_config(db.run(q[1].queued.run_ids[0])->config).pretrained_run,
                 q[0].queued.run_ids[0]);
        q = workflows::queue_file(db, (d + "/ft.json").toStdString()); // pre is queued already: not again
        QCOMPARE(q.size(), size_t(1));
        test::write_bytes(d + "/a.json", R"({"name": "a", "requires": ["b.json"], "base": {"dataset": "tiny"}})");
        test::write_bytes(d + "/b.json", R"({"name": "b", "requires": ["a.json"], "base": {"dataset": "tiny"}})");
        QVERIFY(test::error_of([&] { workflows::queue_file(db, (d + "/a.json").toStdString()); }).contains("cycle"));
    }

    // A grid of 14 runs in 8 parts that must stay whole: two pretraining runs, each with the
    // three fine-tuning runs that start from it, and six runs trained from scratch.
    void shardsPartitionTheGridAndKeepPretrainingWithItsRuns() {
        const QString d = dir_.path();
        test::write_bytes(d + "/spre.json", R"({"name": "spre", "base": {"dataset": "tiny", "preset": "small"},
            "grid": {"seed": [0, 1]}})");
        test::write_bytes(d + "/sft.json", R"({"name": "sft", "requires": ["spre.json"], "base": {"dataset": "tiny",
            "preset": "small"}, "grid": {"pretraining": ["none", "run"], "pretrained_run": [{"experiment": "spre",
            "seed": 0}, {"experiment": "spre", "seed": 1}], "seed": [0, 1, 2]}})");
        const std::string ft = (d + "/sft.json").toStdString();
        const auto files = workflows::read_files(ft);
        QCOMPARE(files.size(), size_t(2));
        std::vector<experiments::Experiment> exs;
        for (const auto& f : files) exs.push_back(f.experiment);
        QCOMPARE(experiments::training_units(exs).size(), size_t(8));
        // The spre run a fine-tuning run starts from, by its seed.
        const auto base_of = [&](const experiments::RunRef& r) -> std::optional<experiments::RunRef> {
            const auto& c = exs[r.file].runs[r.run];
            if (r.file != 1 || c.pretraining != "run") return std::nullopt;
            return experiments::RunRef{0, size_t(c.pretrained_seed)};
        };
        for (int n = 1; n <= 16; ++n) {
            std::map<experiments::RunRef, int> part_of;
            size_t biggest = 0, smallest = 99;
            for (int i = 0; i < n; ++i) {
                const auto part = experiments::shard_runs(exs, i, n);
                biggest = std::max(biggest, part.size());
                smallest = std::min(smallest, part.size());
                for (const auto& r : part) QVERIFY2(part_of.emplace(r, i).second, "a run in two parts");
            }
            QCOMPARE(part_of.size(), size_t(14));
            for (const auto& [r, i] : part_of)
                if (const auto b = base_of(r)) QCOMPARE(part_of.at(*b), i);
            if (n <= 8) QVERIFY2(biggest - smallest <= 4, qPrintable(QString::number(n))); // a unit is 4 runs at most
        }

        // Three machines, three workspaces: every run queued once, each fine-tuning run pointing
        // at the pretraining run of its seed in its own workspace.
        size_t queued = 0;
        for (int i = 0; i < 3; ++i) {
            store::RunStore db(workspace());
            const auto q = workflows::queue_file(db, ft, {i, 3});
            for (const auto& f : q) {
                queued += f.queued.run_ids.size();
                for (size_t k = 0; k < f.queued.run_ids.size(); ++k) {
                    const auto& asked = f.experiment.runs[k];
                    if (asked.pretraining != "run") continue;
                    const auto stored = experiments::parse_run_config(db.run(f.queued.run_ids[k])->config);
                    const auto base = db.run(stored.pretrained_run);
                    QVERIFY(base.has_value());
                    QCOMPARE(base->experiment, std::string("spre"));
                    QCOMPARE(uint64_t(base->seed), asked.pretrained_seed);
                }
            }
        }
        QCOMPARE(queued, size_t(14));
        QVERIFY(test::error_of([&] { experiments::shard_runs(exs, 3, 3); }).contains("does not exist"));
    }

    // A run's estimated cost follows its models, epochs and audio per epoch, from its config alone.
    void aRunCostsWhatItsModelEpochsAndClipsDo() {
        const auto cost = [](const char* json) {
            return experiments::run_cost(experiments::parse_experiment(
                std::string(R"({"name": "c", "base": {"dataset": "d", )") + json + "}}", "c.json").runs[0]);
        };
        for (const char* preset : {"paper", "small"}) {
            const std::string p = preset;
            const double mel = experiments::clip_cost_ms("mel", "ast-tiny", p, 10);
            for (const char* ex : {"gafx-u", "gafx-r", "gafx-a"}) {
                QVERIFY2(experiments::clip_cost_ms(ex, "ast-tiny", p, 10) > 3 * mel, ex); // a network against a fixed front end
                QVERIFY2(experiments::clip_cost_ms(ex, "ast-small", p, 10) > experiments::clip_cost_ms(ex, "ast-tiny", p, 10), ex);
            }
            QVERIFY(experiments::clip_cost_ms("mel", "ast-small", p, 10) > 1.5 * mel);
        }
        // AST's attention grows with the square of its tokens: a 30 s track as one input (table 3's
        // 3308 frames) costs more than three 10 s clips.
        QVERIFY(experiments::clip_cost_ms("mel", "ast-tiny", "paper", 30, 3308) >
                3.3 * experiments::clip_cost_ms("mel", "ast-tiny", "paper", 10, 1103));
        // The frames AST gets follow the extractor's rate at that preset.
        QCOMPARE(experiments::extractor_frames("gafx-u", "paper", 30), int64_t(1884));
        QCOMPARE(experiments::extractor_frames("gafx-u", "small", 1.5), int64_t(1500));

        const int64_t base = cost(R"("extractor": "gafx-r", "epochs": 10)");
        QCOMPARE(cost(R"("extractor": "gafx-r", "epochs": 20)"), 2 * base);
        const int64_t one_clip = cost(R"("extractor": "gafx-r", "epochs": 10, "clips_per_track": 1)");
        QVERIFY(std::abs(3 * one_clip - base) <= 2);
        // Without augmentation, one 30 s clip: the same audio as three of 10 s, more tokens at once.
        QVERIFY(cost(R"("extractor": "gafx-r", "epochs": 10, "augmentation": false)") > base);
        QVERIFY(cost(R"("extractor": "gafx-r", "epochs": 10, "preset": "small")") < base);
        // A name no table holds (refused when queued) counts as the dearest of its kind.
        double dearest = 0;
        for (const char* ex : {"mel", "gafx-u", "gafx-r", "gafx-a"})
            dearest = std::max(dearest, experiments::clip_cost_ms(ex, "ast-small", "paper", 10));
        QCOMPARE(experiments::clip_cost_ms("gafx-z", "ast-huge", "paper", 10), dearest);
        // Whatever a config claims, a figure that sums safely.
        QCOMPARE(cost(R"("extractor": "gafx-u", "epochs": 1000000, "frames": 100000000)"), int64_t(1000000000000));
    }

    // The paper's kind of grid (extractor x classifier x seed) in 1 to 30 parts: every run once,
    // each part in training order, no part more than one run's cost above another. And a grid
    // whose extractor axis varies fastest: by run count, 2 parts were all mel runs and all GAFX-U
    // runs, one of them ~10x the other.
    void shardsBalanceCostNotCount() {
        const auto ex = experiments::parse_experiment(R"({"name": "t", "base": {"dataset": "d", "epochs": 80},
            "grid": {"extractor": ["mel", "gafx-u", "gafx-r", "gafx-a"], "classifier": ["ast-tiny", "ast-small"],
            "seed": [0, 1, 2]}})", "t.json");
        const std::vector<experiments::Experiment> exs{ex};
        int64_t dearest = 0;
        for (const auto& r : ex.runs) dearest = std::max(dearest, experiments::run_cost(r));
        for (int n = 1; n <= 30; ++n) {
            const auto plan = experiments::plan_shards(exs, n);
            QCOMPARE(plan.parts.size(), size_t(n));
            std::set<size_t> seen;
            int64_t total = 0;
            for (int i = 0; i < n; ++i) {
                QVERIFY(plan.parts[size_t(i)] == experiments::shard_runs(exs, i, n));
                QVERIFY(std::is_sorted(plan.parts[size_t(i)].begin(), plan.parts[size_t(i)].end()));
                int64_t cost = 0;
                for (const auto& r : plan.parts[size_t(i)]) {
                    QVERIFY2(seen.insert(r.run).second, "a run in two parts");
                    cost += experiments::run_cost(ex.runs[r.run]);
                }
                QCOMPARE(plan.cost[size_t(i)], cost);
                total += cost;
            }
            QCOMPARE(seen.size(), ex.runs.size());
            QCOMPARE(plan.total, total);
            const auto [lo, hi] = std::minmax_element(plan.cost.begin(), plan.cost.end());
            QVERIFY2(*hi - *lo <= dearest, qPrintable(QString::number(n))); // never more than one run apart
        }
        const auto mixed = experiments::parse_experiment(R"({"name": "m", "base": {"dataset": "d"},
            "grid": {"seed": [0, 1, 2, 3], "extractor": ["mel", "gafx-u"]}})", "m.json");
        const auto halves = experiments::plan_shards({mixed}, 2);
        for (const auto& part : halves.parts) {
            QCOMPARE(part.size(), size_t(4));
            QCOMPARE(std::count_if(part.begin(), part.end(), [&](const auto& r) { return mixed.runs[r.run].extractor == "mel"; }),
                     std::ptrdiff_t(2));
        }
        QCOMPARE(halves.cost[0], halves.cost[1]);
    }

    // --parallel starts the longest chain first: a pretraining run ahead of a dearer run, since
    // what starts from it waits for it; training order among equals.
    void parallelStartsTheLongestChainFirst() {
        const std::vector<int64_t> runs{1, 2, 3, 4, 5, 6};
        const std::map<int64_t, int64_t> starts_from{{4, 3}, {5, 99}}; // 99: trained already, not in the plan
        const std::map<int64_t, int64_t> cost{{1, 10}, {2, 100}, {3, 10}, {4, 95}, {5, 10}}; // 6: unknown
        QCOMPARE(workflows::start_order(runs, starts_from, cost), (std::vector<int64_t>{3, 2, 4, 1, 5, 6}));
        QCOMPARE(workflows::start_order({7, 8}, {{7, 8}, {8, 7}}, {{7, 1}, {8, 2}}).size(), size_t(2)); // a cycle ends
    }

    void shardIsWrittenFromOneToN() {
        QCOMPARE(experiments::parse_shard("2/3"), std::make_pair(1, 3));
        QCOMPARE(experiments::parse_shard("1/1"), std::make_pair(0, 1));
        for (const char* bad : {"0/3", "4/3", "3", "a/b", "/3", "1/0", "1/99999999"}) {
            try {
                experiments::parse_shard(bad);
                QFAIL(bad);
            } catch (const Error& e) {
                QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("shard"));
            }
        }
    }

    void hasDatasetAnswersWithoutLoading() {
        const std::string path = workspace();
        store::RunStore db(path);
        QVERIFY(db.has_dataset("tiny"));
        QVERIFY(!db.has_dataset("elsewhere"));
        QVERIFY(!db.has_dataset(""));
    }
};

QTEST_GUILESS_MAIN(TestExperimentQueue)
#include "test_experiment_queue.moc"
