// Splits: seeded and reproducible, stratified by class, by track, groups kept together.
#include "core/error.h"
#include "data/split.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <map>
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

std::map<std::string, std::pair<int, int>> per_class(const data::Catalog& c, const data::Split& s) {
    std::map<std::string, std::pair<int, int>> out;
    for (size_t i = 0; i < c.tracks.size(); ++i) {
        if (s.subset[i] == Subset::Train) out[c.tracks[i].labels[0]].first++;
        if (s.subset[i] == Subset::Test) out[c.tracks[i].labels[0]].second++;
    }
    return out;
}

} // namespace

class TestSplit : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void stratifiedEightyTwenty() {
        const data::Catalog c = catalog(10, 100);
        const data::Split s = data::make_split(c, data::SplitOptions{0.8, 42, {}});
        QCOMPARE(s.count(Subset::Train), int64_t(800));
        QCOMPARE(s.count(Subset::Test), int64_t(200));
        for (const auto& [cls, counts] : per_class(c, s)) {
            QCOMPARE(counts.first, 80);
            QCOMPARE(counts.second, 20);
        }
    }

    void sameSeedSameSplitOtherSeedOther() {
        const data::Catalog c = catalog(4, 25);
        const auto a = data::make_split(c, data::SplitOptions{0.8, 1, {}});
        const auto b = data::make_split(c, data::SplitOptions{0.8, 1, {}});
        const auto other = data::make_split(c, data::SplitOptions{0.8, 2, {}});
        QVERIFY(a.subset == b.subset);
        QVERIFY(a.subset != other.subset);
    }

    void pinnedAcrossMachines() {
        // The stream is ours (xoshiro256** + Fisher-Yates), so this exact split must hold on
        // every platform and standard library; a change here breaks every stored comparison.
        const data::Catalog c = catalog(1, 10);
        const auto s = data::make_split(c, data::SplitOptions{0.8, 42, {}});
        QString test;
        for (size_t i = 0; i < c.tracks.size(); ++i)
            if (s.subset[i] == Subset::Test) test += QString::number(i);
        QCOMPARE(test, QStringLiteral("38"));
    }

    void invalidTracksAreInNeitherSide() {
        const data::Catalog c = catalog(2, 10, 5);
        const auto s = data::make_split(c, data::SplitOptions{0.8, 3, {}});
        for (size_t i = 0; i < c.tracks.size(); ++i)
            QCOMPARE(s.subset[i] == Subset::None, c.tracks[i].status != data::TrackStatus::Valid);
        QCOMPARE(s.count(Subset::Train) + s.count(Subset::Test), int64_t(16));
    }

    void groupsNeverStraddle() {
        data::Catalog c = catalog(2, 30);
        data::Groups g;
        for (size_t i = 0; i < c.tracks.size(); ++i) g.by_key[c.tracks[i].key] = "artist" + std::to_string(i / 3);
        for (uint64_t seed = 0; seed < 20; ++seed) {
            const auto s = data::make_split(c, data::SplitOptions{0.8, seed, {}}, g);
            std::map<std::string, std::set<Subset>> sides;
            for (size_t i = 0; i < c.tracks.size(); ++i) sides[g.by_key[c.tracks[i].key]].insert(s.subset[i]);
            for (const auto& [group, set] : sides) QCOMPARE(set.size(), size_t(1));
            QCOMPARE(s.count(Subset::Test), int64_t(12)); // 6 per class = two groups of 3
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

    void rejectsBadFraction() {
        const data::Catalog c = catalog(1, 4);
        QVERIFY_THROWS_EXCEPTION(Error, data::make_split(c, data::SplitOptions{1.0, 0, {}}));
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
        QCOMPARE(s.subset[0], Subset::Test);
        QCOMPARE(s.subset[9], Subset::Train);
    }
};

QTEST_GUILESS_MAIN(TestSplit)
#include "test_split.moc"
