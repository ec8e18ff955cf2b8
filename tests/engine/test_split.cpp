// Splits: seeded and reproducible, stratified by class, by track, groups kept together; three
// subsets (val chooses epochs), GTZAN's fault-filtered lists, k-fold.
#include "core/error.h"
#include "data/gtzan_filtered.h"
#include "data/split.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <array>
#include <map>
#include <numeric>
#include <set>

using namespace gafx;
using data::Subset;

namespace {

data::Catalog catalog(int classes, int per_class, int invalid_every = 0) {
    data::Catalog c;
    c.kind = "gtzan";
    for (int g = 0; g < classes; ++g) {
        const std::string genre = "g" + std::to_string(g);
        c.classes.push_back({genre, genre});
        for (int i = 0; i < per_class; ++i) {
            data::Track t;
            t.key = genre + "/" + genre + "." + std::to_string(10000 + i).substr(1) + ".wav";
            t.labels = {genre};
            if (invalid_every && i % invalid_every == 0) t.status = data::TrackStatus::Invalid;
            c.tracks.push_back(t);
        }
    }
    return c;
}

// Per class: tracks in train, val, test.
std::map<std::string, std::array<int, 3>> per_class(const data::Catalog& c, const data::Split& s) {
    std::map<std::string, std::array<int, 3>> out;
    for (size_t i = 0; i < c.tracks.size(); ++i) {
        auto& n = out[c.tracks[i].labels[0]];
        if (s.subset[i] == Subset::Train) n[0]++;
        if (s.subset[i] == Subset::Val) n[1]++;
        if (s.subset[i] == Subset::Test) n[2]++;
    }
    return out;
}

data::SplitOptions random(double test, double val, uint64_t seed) {
    data::SplitOptions o;
    o.test_fraction = test;
    o.val_fraction = val;
    o.seed = seed;
    return o;
}

data::SplitOptions kfold(int k, uint64_t seed) {
    data::SplitOptions o;
    o.kind = data::SplitKind::KFold;
    o.folds = k;
    o.seed = seed;
    return o;
}

// GTZAN as distributed: 10 genres x genre.00000..genre.00099.
data::Catalog gtzan_named() {
    data::Catalog c;
    c.kind = "gtzan";
    for (const char* genre : {"blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae",
                              "rock"}) {
        c.classes.push_back({genre, genre});
        for (int i = 0; i < 100; ++i) {
            data::Track t;
            t.key = std::string(genre) + "/" + genre + "." + std::to_string(100000 + i).substr(1) + ".wav";
            t.labels = {genre};
            c.tracks.push_back(t);
        }
    }
    return c;
}

} // namespace

class TestSplit : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void stratifiedThreeWay() {
        const data::Catalog c = catalog(10, 100);
        const data::Split s = data::make_split(c, random(0.2, 0.1, 42));
        QCOMPARE(s.count(Subset::Train), int64_t(700));
        QCOMPARE(s.count(Subset::Val), int64_t(100));
        QCOMPARE(s.count(Subset::Test), int64_t(200));
        for (const auto& [cls, n] : per_class(c, s)) {
            QCOMPARE(n[0], 70);
            QCOMPARE(n[1], 10);
            QCOMPARE(n[2], 20);
        }
    }

    void sameSeedSameSplitOtherSeedOther() {
        const data::Catalog c = catalog(4, 25);
        const auto a = data::make_split(c, random(0.2, 0.1, 1));
        const auto b = data::make_split(c, random(0.2, 0.1, 1));
        const auto other = data::make_split(c, random(0.2, 0.1, 2));
        QVERIFY(a.subset == b.subset);
        QVERIFY(a.subset != other.subset);
    }

    void pinnedAcrossMachines() {
        // The stream is ours (xoshiro256** + Fisher-Yates), so this exact split must hold on
        // every platform and standard library; a change here breaks every stored comparison.
        // Test is drawn first, as before validation splits existed, so its tracks did not move.
        const data::Catalog c = catalog(1, 10);
        const auto s = data::make_split(c, random(0.2, 0.1, 42));
        QString test, val;
        for (size_t i = 0; i < c.tracks.size(); ++i) {
            if (s.subset[i] == Subset::Test) test += QString::number(i);
            if (s.subset[i] == Subset::Val) val += QString::number(i);
        }
        QCOMPARE(test, QStringLiteral("38"));
        QCOMPARE(val.size(), 1);
        QVERIFY(!test.contains(val));
    }

    void invalidTracksAreInNoSubset() {
        const data::Catalog c = catalog(2, 10, 5);
        const auto s = data::make_split(c, random(0.2, 0.1, 3));
        for (size_t i = 0; i < c.tracks.size(); ++i)
            QCOMPARE(s.subset[i] == Subset::None, c.tracks[i].status != data::TrackStatus::Valid);
        QCOMPARE(s.count(Subset::Train) + s.count(Subset::Val) + s.count(Subset::Test), int64_t(16));
    }

    void groupsNeverStraddle() {
        data::Catalog c = catalog(2, 30);
        data::Groups g;
        for (size_t i = 0; i < c.tracks.size(); ++i) g.by_key[c.tracks[i].key] = "artist" + std::to_string(i / 3);
        for (uint64_t seed = 0; seed < 20; ++seed) {
            const auto s = data::make_split(c, random(0.2, 0.1, seed), g);
            std::map<std::string, std::set<Subset>> sides;
            for (size_t i = 0; i < c.tracks.size(); ++i) sides[g.by_key[c.tracks[i].key]].insert(s.subset[i]);
            for (const auto& [group, set] : sides) QCOMPARE(set.size(), size_t(1));
            QCOMPARE(s.count(Subset::Test), int64_t(12)); // 6 per class = two groups of 3
            QCOMPARE(s.count(Subset::Val), int64_t(6));   // 3 per class = one group
        }
    }

    void parsesSplitArgument() {
        data::SplitOptions o;
        data::parse_split_arg("kfold:10", o);
        QCOMPARE(o.kind, data::SplitKind::KFold);
        QCOMPARE(o.folds, 10);
        QCOMPARE(QString::fromStdString(o.describe_kind()), QStringLiteral("kfold:10"));
        data::parse_split_arg("fault-filtered", o);
        QCOMPARE(o.kind, data::SplitKind::FaultFiltered);
        data::parse_split_arg("random", o);
        QCOMPARE(o.kind, data::SplitKind::Random);
        for (const char* bad : {"kfold:2", "kfold:x", "kfold", "0.8", "stratified"}) {
            try {
                data::parse_split_arg(bad, o);
                QFAIL(qPrintable(QStringLiteral("accepted --split %1").arg(QLatin1String(bad))));
            } catch (const Error& e) {
                QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("split"));
            }
        }
        // The old meaning (a train fraction) is named, so the user knows what changed.
        try {
            data::parse_split_arg("0.8", o);
        } catch (const Error& e) {
            QVERIFY(QString::fromStdString(e.reason()).contains(QStringLiteral("--test")));
        }
    }

    void readsGroupsCsvByKeyNameOrStem() {
        const data::Catalog c = catalog(1, 4);
        QTemporaryDir dir;
        const QString path = dir.path() + "/groups.csv";
        test::write_bytes(path, "track,group\n"
                                "g0/g0.0000.wav,a\n"
                                "g0.0001.wav,a\n"
                                "g0.0002,b\n"
                                "nosuch.wav,c\n");
        const auto g = data::read_groups_csv(path.toStdString(), c);
        QCOMPARE(g.by_key.size(), size_t(3));
        QCOMPARE(QString::fromStdString(g.by_key.at("g0/g0.0001.wav")), QStringLiteral("a"));
        QCOMPARE(QString::fromStdString(g.by_key.at("g0/g0.0002.wav")), QStringLiteral("b"));
        QCOMPARE(g.unmatched.size(), size_t(1));
    }

    void badGroupsCsvNamesFileAndLine() {
        const data::Catalog c = catalog(1, 2);
        QTemporaryDir dir;
        const QString path = dir.path() + "/groups.csv";
        test::write_bytes(path, "name,artist\nx,y\n");
        try {
            data::read_groups_csv(path.toStdString(), c);
            QFAIL("a CSV without track/group columns was accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), path);
            QVERIFY(QString::fromStdString(e.reason()).contains(QStringLiteral("track")));
        }
        test::write_bytes(path, "track,group\ng0.0000.wav\n");
        try {
            data::read_groups_csv(path.toStdString(), c);
            QFAIL("a short row was accepted");
        } catch (const Error& e) {
            QVERIFY(QString::fromStdString(e.reason()).contains(QStringLiteral("line 2")));
        }
    }

    void rejectsBadFractions() {
        const data::Catalog c = catalog(1, 4);
        QVERIFY_THROWS_EXCEPTION(Error, data::make_split(c, random(1.0, 0.1, 0)));
        QVERIFY_THROWS_EXCEPTION(Error, data::make_split(c, random(0.2, 0.0, 0))); // no val: test would choose
        try {
            data::make_split(c, random(0.5, 0.5, 0));
            QFAIL("a split leaving nothing to train on was accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.field().key), QStringLiteral("val_fraction"));
        }
    }

    void multiLabelUsesEvalSegments() {
        data::Catalog c;
        c.kind = "audioset";
        c.multi_label = true;
        c.classes = {{"/m/a", "A"}, {"/m/b", "B"}};
        for (int i = 0; i < 10; ++i) {
            data::Track t;
            t.key = "yt" + std::to_string(i);
            t.labels = {"/m/a", "/m/b"};
            t.origin = i < 3 ? "eval_segments" : "balanced_train_segments";
            c.tracks.push_back(t);
        }
        const auto s = data::make_split(c, data::SplitOptions{});
        QCOMPARE(s.count(Subset::Test), int64_t(3));
        QCOMPARE(s.count(Subset::Val), int64_t(1)); // round(0.1 x 7 balanced training segments)
        QCOMPARE(s.subset[0], Subset::Test);
        for (int i = 3; i < 10; ++i) QVERIFY(s.subset[size_t(i)] != Subset::Test);
    }

    void faultFilteredGivesThePublishedSplit() {
        data::Catalog c = gtzan_named();
        data::SplitOptions o;
        o.kind = data::SplitKind::FaultFiltered;
        const auto s = data::make_split(c, o);
        QCOMPARE(s.count(Subset::Train), int64_t(443));
        QCOMPARE(s.count(Subset::Val), int64_t(197));
        QCOMPARE(s.count(Subset::Test), int64_t(290));
        QCOMPARE(s.count(Subset::Excluded), int64_t(70));
        QVERIFY(s.missing.empty());
        // Membership, not just counts: every listed stem sits in its list's subset.
        std::map<std::string, Subset> by_stem;
        for (size_t i = 0; i < c.tracks.size(); ++i) {
            const std::string key = c.tracks[i].key;
            by_stem[key.substr(key.find('/') + 1, key.size() - key.find('/') - 5)] = s.subset[i];
        }
        const auto& l = data::gtzan_fault_filtered();
        for (int i = 0; i < l.n_train; ++i) QCOMPARE(by_stem.at(l.train[i]), Subset::Train);
        for (int i = 0; i < l.n_val; ++i) QCOMPARE(by_stem.at(l.val[i]), Subset::Val);
        for (int i = 0; i < l.n_test; ++i) QCOMPARE(by_stem.at(l.test[i]), Subset::Test);
        QCOMPARE(by_stem.at("classical.00042"), Subset::Excluded); // a known repeat

        // A listed track that does not decode is reported, not silently dropped.
        for (auto& t : c.tracks)
            if (t.key == "jazz/jazz.00054.wav") t.status = data::TrackStatus::Invalid;
        const auto damaged = data::make_split(c, o);
        QCOMPARE(damaged.missing.size(), size_t(1));
        QCOMPARE(QString::fromStdString(damaged.missing[0]), QStringLiteral("jazz.00054"));
        QCOMPARE(damaged.count(Subset::Train), int64_t(442));
    }

    void faultFilteredIsGtzanOnly() {
        data::Catalog c = catalog(2, 5);
        c.kind = "audioset";
        data::SplitOptions o;
        o.kind = data::SplitKind::FaultFiltered;
        QVERIFY_THROWS_EXCEPTION(Error, data::make_split(c, o));
    }

    void kfoldPartitionsByClassAndGroup() {
        data::Catalog c = catalog(4, 30, 10); // 3 invalid per class
        data::Groups g;
        for (size_t i = 0; i < c.tracks.size(); ++i) g.by_key[c.tracks[i].key] = "song" + std::to_string(i / 3);
        const auto s = data::make_split(c, kfold(5, 7), g);
        QCOMPARE(int(s.fold.size()), int(c.tracks.size()));
        // Every valid track in exactly one fold, every invalid one in none.
        for (size_t i = 0; i < c.tracks.size(); ++i)
            QCOMPARE(s.fold[i] >= 0, c.tracks[i].status == data::TrackStatus::Valid);
        std::map<std::string, std::set<int>> folds_of_group;
        for (size_t i = 0; i < c.tracks.size(); ++i)
            if (s.fold[i] >= 0) folds_of_group[g.by_key[c.tracks[i].key]].insert(s.fold[i]);
        for (const auto& [group, folds] : folds_of_group) QCOMPARE(folds.size(), size_t(1));
        const auto sizes = s.fold_sizes();
        QCOMPARE(std::accumulate(sizes.begin(), sizes.end(), int64_t(0)), int64_t(4 * 27));
        for (int64_t n : sizes) QVERIFY(n >= 18 && n <= 27); // balanced within a group or two per class
        // Fold f: test is fold f, val fold f+1, train the rest; the test folds cover every track once.
        std::vector<int> tested(c.tracks.size(), 0);
        for (int f = 0; f < 5; ++f) {
            const auto view = s.for_fold(f);
            for (size_t i = 0; i < c.tracks.size(); ++i) {
                if (s.fold[i] < 0) {
                    QCOMPARE(view.subset[i], Subset::None);
                    continue;
                }
                const Subset want = s.fold[i] == f ? Subset::Test : s.fold[i] == (f + 1) % 5 ? Subset::Val : Subset::Train;
                QCOMPARE(view.subset[i], want);
                tested[i] += view.subset[i] == Subset::Test;
            }
            for (const auto& [cls, n] : per_class(c, view)) QVERIFY(n[1] > 0 && n[2] > 0); // every class in val and test
        }
        for (size_t i = 0; i < c.tracks.size(); ++i) QCOMPARE(tested[i], s.fold[i] >= 0 ? 1 : 0);
        QVERIFY_THROWS_EXCEPTION(Error, s.for_fold(5));
    }

    void kfoldNeedsAGroupPerFold() {
        const data::Catalog c = catalog(2, 4);
        try {
            data::make_split(c, kfold(5, 0));
            QFAIL("5 folds of 4 tracks per class were accepted");
        } catch (const Error& e) {
            QVERIFY(QString::fromStdString(e.reason()).contains(QStringLiteral("fewer than 5 folds")));
        }
    }
};

QTEST_GUILESS_MAIN(TestSplit)
#include "test_split.moc"
