// RunStore: schema and migrations, dataset upserts, splits, and durability when a writer is
// killed in the middle of a transaction.
#include "core/error.h"
#include "store/run_store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

using namespace gafx;

namespace {

data::Catalog small_catalog(int tracks_per_class) {
    data::Catalog c;
    c.name = "tiny";
    c.kind = "gtzan";
    c.root = "/data/tiny";
    for (const char* g : {"blues", "jazz"}) {
        c.classes.push_back({g, g});
        for (int i = 0; i < tracks_per_class; ++i) {
            data::Track t;
            t.key = std::string(g) + "/" + g + ".0000" + std::to_string(i) + ".wav";
            t.path = c.root + "/" + t.key;
            t.labels = {g};
            t.sample_rate = 22050;
            t.channels = 1;
            t.frames = 22050 * 30;
            t.duration = 30;
            c.tracks.push_back(t);
        }
    }
    return c;
}

const int kBatch = 20000;

// The child: append batches of metric rows forever, telling the parent on `fd` when each
// batch starts ('B') and when it has committed ('C').
[[noreturn]] void write_forever(const std::string& db, int64_t run, int fd) {
    store::RunStore s(db);
    for (int64_t k = 0;; ++k) {
        std::vector<store::MetricRow> rows;
        for (int i = 0; i < kBatch; ++i) rows.push_back({k * kBatch + i, k, "train", "loss", double(i)});
        const char b = 'B';
        if (write(fd, &b, 1) != 1) _exit(3);
        s.append_metrics(run, rows);
        const char c = 'C';
        if (write(fd, &c, 1) != 1) _exit(3);
    }
}

} // namespace

class TestStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void createsSchemaAndReopens() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/sub/ws.db").toStdString();
        {
            store::RunStore s(path);
            QCOMPARE(s.schema_version(), 2);
            QCOMPARE(QString::fromStdString(s.integrity_check()), QStringLiteral("ok"));
        }
        store::RunStore again(path);
        QCOMPARE(again.schema_version(), 2);
    }

    void refusesNewerSchema() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        { store::RunStore s(path); }
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        try {
            store::RunStore s(path);
            QFAIL("a newer schema was accepted");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), QString::fromStdString(path));
            QVERIFY(QString::fromStdString(e.reason()).contains(QStringLiteral("newer")));
        }
    }

    void refusesNonDatabase() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/notes.txt";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
        f.close();
        try {
            store::RunStore s(path.toStdString());
            QFAIL("a text file was opened as a workspace");
        } catch (const Error& e) {
            QCOMPARE(QString::fromStdString(e.path()), path);
        }
    }

    void reimportUpdatesWithoutDuplicates() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        data::Catalog c = small_catalog(3);
        const int64_t id = s.save_catalog(c);
        const int64_t first_track = c.tracks[0].id;
        QVERIFY(first_track > 0);

        data::Catalog again = small_catalog(3);
        again.tracks.pop_back(); // a file deleted on disk
        again.tracks[0].status = data::TrackStatus::Invalid;
        again.tracks[0].error = "truncated";
        QCOMPARE(s.save_catalog(again), id);
        QCOMPARE(again.tracks[0].id, first_track);

        const auto all = s.list_datasets();
        QCOMPARE(all.size(), size_t(1));
        QCOMPARE(all[0].tracks, int64_t(6));
        QCOMPARE(all[0].invalid, int64_t(1));
        QCOMPARE(all[0].missing, int64_t(1));
        const auto loaded = s.load_dataset("tiny");
        QVERIFY(loaded);
        QCOMPARE(loaded->catalog.classes.size(), size_t(2));
        QCOMPARE(QString::fromStdString(loaded->catalog.tracks[0].error), QStringLiteral("truncated"));

        // The same folder under no explicit new name is the same dataset.
        data::Catalog renamed = small_catalog(3);
        renamed.name = "tiny-renamed";
        QCOMPARE(s.save_catalog(renamed), id);
        QCOMPARE(s.list_datasets().size(), size_t(1));
    }

    void splitsAreStoredAndDeduplicated() {
        QTemporaryDir dir;
        store::RunStore s((dir.path() + "/ws.db").toStdString());
        data::Catalog c = small_catalog(5);
        const int64_t id = s.save_catalog(c);
        data::SplitOptions o;
        o.seed = 7;
        const data::Split split = data::make_split(c, o);
        const int64_t sid = s.save_split(id, c, split);
        QCOMPARE(s.save_split(id, c, split), sid);
        const auto loaded = s.load_dataset("tiny");
        QCOMPARE(loaded->split_id, sid);
        QCOMPARE(loaded->split.count(data::Subset::Train), int64_t(8));
        QCOMPARE(loaded->split.count(data::Subset::Test), int64_t(2));
        for (size_t i = 0; i < c.tracks.size(); ++i) {
            // load_dataset orders by key, like the catalogue here.
            QCOMPARE(loaded->catalog.tracks[i].key, c.tracks[i].key);
            QCOMPARE(loaded->split.subset[i], split.subset[i]);
        }
        o.seed = 8;
        const data::Split other = data::make_split(c, o);
        if (other.subset != split.subset) QVERIFY(s.save_split(id, c, other) != sid);
    }

    void killedWriterLeavesCommittedRows() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ws.db").toStdString();
        int64_t run = 0;
        {
            store::RunStore s(path);
            run = s.create_run(0, "{}", 1);
        }
        int fds[2];
        QCOMPARE(pipe(fds), 0);
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            close(fds[0]);
            write_forever(path, run, fds[1]);
        }
        close(fds[1]);

        // A second connection reads while the child writes (WAL: no "database is locked").
        store::RunStore reader(path);
        int committed = 0;
        bool in_batch = false;
        while (committed < 3 || !in_batch) {
            char ch = 0;
            QCOMPARE(read(fds[0], &ch, 1), ssize_t(1));
            if (ch == 'C') { ++committed; in_batch = false; }
            if (ch == 'B') in_batch = true;
            QVERIFY(reader.metrics(run).size() >= size_t(committed) * kBatch);
        }
        usleep(15000); // well inside the next batch's transaction
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        // The child may have run ahead of what was read: count every commit it reported.
        char ch = 0;
        while (read(fds[0], &ch, 1) == 1)
            if (ch == 'C') ++committed;
        close(fds[0]);
        QVERIFY(WIFSIGNALED(status));

        store::RunStore after(path);
        QCOMPARE(QString::fromStdString(after.integrity_check()), QStringLiteral("ok"));
        const size_t rows = after.metrics(run).size();
        QVERIFY2(rows % kBatch == 0, "a half-written batch survived the kill");
        QVERIFY(rows >= size_t(committed) * kBatch);
        QVERIFY(rows <= size_t(committed + 1) * kBatch);
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
