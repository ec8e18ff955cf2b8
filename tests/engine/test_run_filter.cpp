// The filter language of the Runs page and `gafx runs --where` (experiments/run_filter.h):
// fields from the run and from its config (defaults filled in), ranges, comparisons, lists,
// negation, bare words, percentages, runs without a figure, and errors that name the term.
#include "core/error.h"
#include "experiments/experiment.h"
#include "experiments/run_filter.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace gafx;

namespace {

store::RunRecord run(int64_t id, const std::string& extractor, uint64_t seed, double test, store::RunStatus status,
                     const std::string& extra = {}) {
    store::RunRecord r;
    r.id = id;
    r.experiment = id == 4 ? "my grid" : "demo";
    r.seed = int64_t(seed);
    r.status = status;
    experiments::RunConfig c;
    c.dataset = "demo";
    c.extractor = extractor;
    c.seed = seed;
    r.config = to_json(c);
    if (!extra.empty()) r.config = r.config.substr(0, r.config.size() - 1) + "," + extra + "}";
    r.test_track_accuracy = test;
    r.val_track_accuracy = std::isnan(test) ? test : test - 0.05;
    r.selected_epoch = std::isnan(test) ? 0 : 3;
    return r;
}

QList<qint64> ids(const std::vector<store::RunRecord>& runs, const std::string& filter) {
    QList<qint64> out;
    for (const auto& r : experiments::filter_runs(runs, experiments::parse_run_filter(filter))) out << r.id;
    return out;
}

} // namespace

class TestRunFilter : public QObject {
    Q_OBJECT
    const double nan_ = std::numeric_limits<double>::quiet_NaN();
    std::vector<store::RunRecord> runs_;

private Q_SLOTS:
    void initTestCase() {
        using S = store::RunStatus;
        runs_ = {run(1, "gafx-u", 0, 0.75, S::Finished), run(2, "gafx-u", 2, 0.65, S::Finished),
                 run(3, "mel", 1, nan_, S::Queued), run(4, "gafx-r", 3, 0.40, S::Failed, R"("lr": 0.0005)")};
    }

    void fieldsRangesAndComparisons() {
        using L = QList<qint64>;
        QCOMPARE(ids(runs_, ""), (L{1, 2, 3, 4}));
        QCOMPARE(ids(runs_, "extractor:gafx-u"), (L{1, 2}));
        QCOMPARE(ids(runs_, "EXTRACTOR:GAFX-U"), (L{1, 2})); // names and words ignore case
        QCOMPARE(ids(runs_, "seed:0..2"), (L{1, 2, 3}));
        QCOMPARE(ids(runs_, "seed:2.."), (L{2, 4}));
        QCOMPARE(ids(runs_, "seed:..0"), (L{1}));
        QCOMPARE(ids(runs_, "extractor:gafx-u seed:0..2 test>0.7"), (L{1}));
        QCOMPARE(ids(runs_, "test>70"), (L{1})); // a percentage
        QCOMPARE(ids(runs_, "acc>=0.65"), (L{1, 2}));
        QCOMPARE(ids(runs_, "val<0.65"), (L{2, 4}));
        QCOMPARE(ids(runs_, "-status:failed"), (L{1, 2, 3}));
        QCOMPARE(ids(runs_, "status!=finished"), (L{3, 4}));
        QCOMPARE(ids(runs_, "extractor:mel,gafx-r"), (L{3, 4}));
        QCOMPARE(ids(runs_, "id>=3"), (L{3, 4}));
    }

    void configKeysWithDefaultsAndNumbersAsNumbers() {
        using L = QList<qint64>;
        QCOMPARE(ids(runs_, "lr:5e-4"), (L{4}));    // 0.0005 stored
        QCOMPARE(ids(runs_, "lr=0.0005"), (L{4}));
        QCOMPARE(ids(runs_, "lr<1e-4"), (L{1, 2, 3})); // the default 5e-5
        QCOMPARE(ids(runs_, "crop:tiles"), (L{1, 2, 3, 4}));
        QCOMPARE(ids(runs_, "augmentation:true"), (L{1, 2, 3, 4}));
        QCOMPARE(ids(runs_, "augmentation:false"), (L{}));
        QCOMPARE(ids(runs_, "lr_halving_epochs:12,24,50,65"), (L{})); // a list is one value, not alternatives
        // A config that no longer parses: its config fields are absent, its run fields still match.
        auto broken = runs_;
        broken[0].config = "{not json";
        QCOMPARE(ids(broken, "extractor:gafx-u"), (L{2}));
        QCOMPARE(ids(broken, "seed:0"), (L{1}));
    }

    void runsWithoutAFigure() {
        using L = QList<qint64>;
        // Run 3 has not been evaluated: no comparison holds for it, and every negation does.
        QCOMPARE(ids(runs_, "test<0.5"), (L{4}));
        QCOMPARE(ids(runs_, "-test>0.7"), (L{2, 3, 4}));
        QCOMPARE(ids(runs_, "selected:3"), (L{1, 2, 4}));
    }

    void bareWordsAndQuotes() {
        using L = QList<qint64>;
        QCOMPARE(ids(runs_, "gafx-r"), (L{4}));
        QCOMPARE(ids(runs_, "gafx-u finished"), (L{1, 2}));
        QCOMPARE(ids(runs_, "experiment:\"my grid\""), (L{4}));
        QCOMPARE(ids(runs_, "\"my grid\""), (L{4}));
        QCOMPARE(ids(runs_, "-\"my grid\""), (L{1, 2, 3}));
    }

    void tagsAndNotes() {
        using L = QList<qint64>;
        auto runs = runs_;
        runs[0].tags = {"baseline", "good"};
        runs[2].tags = {"good"};
        runs[3].note = "Diverged at lr 5e-4: retry with WARMUP";
        QCOMPARE(ids(runs, "tag:good"), (L{1, 3}));
        QCOMPARE(ids(runs, "tag:GOOD"), (L{1, 3}));
        QCOMPARE(ids(runs, "-tag:good"), (L{2, 4}));
        QCOMPARE(ids(runs, "tag:baseline,missing"), (L{1}));
        QCOMPARE(ids(runs, "tag:good extractor:mel"), (L{3}));
        QCOMPARE(ids(runs, "warmup"), (L{4}));   // a word of the note
        QCOMPARE(ids(runs, "baseline"), (L{1})); // a tag as a word
        QVERIFY(test::error_of([] { experiments::parse_run_filter("tag>1"); }).contains(QStringLiteral("is text")));
    }

    void errorsNameTheTerm() {
        const auto error = [](const std::string& f) {
            return test::error_of([&] { experiments::parse_run_filter(f); });
        };
        QString e = error("extractor:mel acuracy>0.7");
        QVERIFY2(e.contains(QStringLiteral("'acuracy>0.7': no field 'acuracy'")) && e.contains(QStringLiteral("seed")),
                 qPrintable(e));
        e = error("lr<small");
        QVERIFY2(e.contains(QStringLiteral("'small' is not a number")), qPrintable(e));
        e = error("extractor>3");
        QVERIFY2(e.contains(QStringLiteral("'extractor' is text")), qPrintable(e));
        e = error("status:0..1");
        QVERIFY2(e.contains(QStringLiteral("'status' is text")), qPrintable(e));
        QVERIFY(error("seed:").contains(QStringLiteral("no value")));
        QVERIFY(error("seed:..").contains(QStringLiteral("at least one end")));
        QVERIFY(error("experiment:\"my grid").contains(QStringLiteral("quote is not closed")));
        QVERIFY(error("test>nan").contains(QStringLiteral("not a number")));
        QCOMPARE(error("-"), QString()); // a lone dash is a word
        // Every field the error lists is one the filter takes.
        for (const auto& f : experiments::run_filter_fields())
            QCOMPARE(error(f + ":1"), QString());
    }
};

QTEST_GUILESS_MAIN(TestRunFilter)
#include "test_run_filter.moc"
