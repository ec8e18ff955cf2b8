// The Trainer when things go wrong around a run: interrupted and resumed, a damaged checkpoint,
// paused, a second trainer, another workspace's run folder, a suspended laptop, a full disk.
// Each ends with the history an uninterrupted run logs (the reference trained first).
#include "data/split.h"
#include "experiments/experiment.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "store/sqlite_db.h"
#include "test_support.h"
#include "train/checkpoint.h"
#include "train/run_setup.h"
#include "train/trainer.h"
#include "train/heartbeat.h"
#include "trainer_fixture.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include <unistd.h>

using namespace gafx;
using namespace gafx::test;

class TestTrainerRecovery : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    std::vector<store::MetricRow> reference_;

    train::RunResult interrupt_mid_epoch_two(store::RunStore& s, int64_t id) {
        return test::interrupt_mid_epoch_two(s, id, dir_);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        db_ = test::make_demo_workspace(dir_.path(), 5, 4.0);
        // The uninterrupted run every recovery below must end up equal to.
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        train::TrainControl control;
        const auto r = train::train_run(s, id, options(dir_), control);
        QCOMPARE(QString::fromStdString(store::to_string(r.status) + r.message), QStringLiteral("finished"));
        reference_ = history(s, id);
    }

    void interruptedRunResumesToTheSameHistory() {
        QVERIFY(!reference_.empty());
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        const auto first = interrupt_mid_epoch_two(s, id);
        QCOMPARE(QString::fromLatin1(store::to_string(first.status)), QStringLiteral("interrupted"));
        QCOMPARE(first.step, int64_t(14));
        QCOMPARE(QString::fromLatin1(store::to_string(s.run(id)->status)), QStringLiteral("interrupted"));
        train::TrainControl fresh;
        const auto second = train::train_run(s, id, options(dir_), fresh);
        QCOMPARE(QString::fromStdString(store::to_string(second.status) + second.message), QStringLiteral("finished"));
        compare_histories(history(s, id), reference_);
    }

    void aDamagedCheckpointFallsBackToThePreviousOne() {
        QVERIFY(!reference_.empty());
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        QCOMPARE(interrupt_mid_epoch_two(s, id).status, store::RunStatus::Interrupted);
        // The stop's checkpoint is the newest; the end of epoch 1 is kept beside it. A bit flips
        // in the newest one's data (the header still parses).
        const store::RunPaths paths = store::run_paths(s.path(), *s.run(id), options(dir_).checkpoint_dir);
        const std::string prev = train::previous_checkpoint(paths.last);
        QVERIFY(std::filesystem::exists(prev));
        {
            QFile f(QString::fromStdString(paths.last));
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.seek(f.size() - 100);
            char byte = 0;
            f.getChar(&byte);
            f.seek(f.size() - 100);
            f.putChar(char(byte ^ 0x10));
        }
        std::string notes;
        train::TrainCallbacks told;
        told.on_status = [&](store::RunStatus st, const std::string& m) {
            if (st == store::RunStatus::Running) notes = m;
        };
        train::TrainControl fresh;
        const auto second = train::train_run(s, id, options(dir_), fresh, told);
        QCOMPARE(QString::fromStdString(store::to_string(second.status) + second.message), QStringLiteral("finished"));
        QVERIFY2(notes.find("resumed from " + prev + " (epoch 1, step 8)") != std::string::npos &&
                     notes.find("do not match the checksum") != std::string::npos,
                 notes.c_str());
        compare_histories(history(s, id), reference_); // epoch 2 again, to the same end
    }

    void pausedRunContinuesUnchanged() {
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        train::TrainControl control;
        train::TrainCallbacks cb;
        std::vector<std::string> statuses;
        std::thread resumer;
        cb.on_step = [&](const train::StepProgress& p) {
            if (p.step == 4) control.request(train::TrainControl::Pause);
        };
        cb.on_status = [&](store::RunStatus st, const std::string&) {
            const std::string status = store::to_string(st);
            statuses.push_back(status);
            if (status == "paused") {
                QCOMPARE(QString::fromLatin1(store::to_string(store::RunStore(db_).run(id)->status)), QStringLiteral("paused"));
                resumer = std::thread([&] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                    control.resume();
                });
            }
        };
        const auto r = train::train_run(s, id, options(dir_), control, cb);
        resumer.join();
        QCOMPARE(QString::fromLatin1(store::to_string(r.status)), QStringLiteral("finished"));
        QCOMPARE(int(std::count(statuses.begin(), statuses.end(), "paused")), 1);
        compare_histories(history(s, id), reference_);
    }

    void aSecondTrainerIsRefusedAndTouchesNothing() {
        // Two `gafx resume N` at once: the claim is one conditional UPDATE, so one of them trains.
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        train::TrainControl control;
        train::RunResult second;
        size_t rows_then = 0;
        train::TrainCallbacks cb;
        cb.on_step = [&](const train::StepProgress& p) {
            if (p.step != 2) return;
            store::RunStore other(db_);
            rows_then = other.metrics(id).size();
            train::TrainControl c2;
            second = train::train_run(other, id, options(dir_), c2);
            QCOMPARE(other.metrics(id).size(), rows_then); // its metrics were not cut back
        };
        const auto first = train::train_run(s, id, options(dir_), control, cb);
        QCOMPARE(QString::fromLatin1(store::to_string(first.status)), QStringLiteral("finished"));
        QVERIFY(second.refused);
        QCOMPARE(second.status, store::RunStatus::Running);
        QVERIFY2(second.message.find("already being trained by pid " + std::to_string(::getpid())) != std::string::npos,
                 second.message.c_str());
        QCOMPARE(QString::fromLatin1(store::to_string(s.run(id)->status)), QStringLiteral("finished"));
        // And at the store: a running run cannot be claimed again; a finished one can.
        QVERIFY(s.claim_run(id, "x", 1, "h"));
        QVERIFY(!s.claim_run(id, "y", 2, "h"));
        QCOMPARE(s.run(id)->owner, std::string("x"));
        s.set_run_status(id, store::RunStatus::Finished);
    }

    void anotherWorkspacesCheckpointIsNeverAdopted() {
        // a.db and b.db in one folder, each with its run 1, both with runs/ beside them.
        QTemporaryDir dir;
        const std::string a = test::make_demo_workspace(dir.path(), 5, 4.0);
        const std::string b = (dir.path() + "/b.db").toStdString();
        std::filesystem::copy_file(a, b);
        train::TrainOptions o = options(dir);
        o.checkpoint_dir.clear(); // the default: runs/ beside the database
        store::RunStore sa(a), sb(b);
        const int64_t ra = sa.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        const int64_t rb = sb.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        QCOMPARE(ra, rb);
        train::TrainControl control;
        QCOMPARE(train::train_run(sa, ra, o, control).status, store::RunStatus::Finished);
        const auto pa = store::run_paths(sa.path(), *sa.run(ra)), pb = store::run_paths(sb.path(), *sb.run(rb));
        QVERIFY(pa.dir != pb.dir);
        // b's run trains itself rather than adopting a's finished checkpoint.
        const auto r = train::train_run(sb, rb, o, control);
        QCOMPARE(QString::fromStdString(store::to_string(r.status) + r.message), QStringLiteral("finished"));
        QCOMPARE(r.epochs_done, 1);
        QVERIFY(!std::isnan(sb.run(rb)->test_track_accuracy));
        // A checkpoint of a's run put in b's folder by hand is refused, naming whose it is.
        const int64_t rb2 = sb.create_run(0, tiny_config(R"(, "epochs": 1)"), 3);
        const auto pb2 = store::run_paths(sb.path(), *sb.run(rb2));
        std::filesystem::create_directories(pb2.dir);
        std::filesystem::copy_file(pa.last, pb2.last);
        const auto refused = train::train_run(sb, rb2, o, control);
        QCOMPARE(refused.status, store::RunStatus::Failed);
        QVERIFY2(refused.message.find("belongs to another run (uid " + sa.run(ra)->uid + ")") != std::string::npos,
                 refused.message.c_str());
    }

    void aSuspendedTrainerKeepsItsRun() {
        // A heartbeat hours old, but its process (this one) alive: a suspended laptop, not a dead run.
        store::RunStore s(db_);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        const std::string host = train::host_name();
        QVERIFY(s.claim_run(id, train::owner_token(), ::getpid(), host));
        const auto age = [&] {
            store::Db raw(db_);
            raw.exec("UPDATE runs SET heartbeat_at='2000-01-01T00:00:00Z' WHERE id=" + std::to_string(id));
        };
        age();
        QVERIFY(train::mark_dead_runs_interrupted(s, 120).empty());
        QCOMPARE(s.run(id)->status, store::RunStatus::Running);
        // The same pid with another start time is another process that reused the pid.
        std::string token = train::owner_token();
        const size_t b = token.rfind(':'), st = token.rfind(':', b - 1);
        token.replace(st + 1, b - st - 1, "1");
        s.set_run_status(id, store::RunStatus::Interrupted);
        QVERIFY(s.claim_run(id, token, ::getpid(), host));
        age();
        QCOMPARE(train::mark_dead_runs_interrupted(s, 120), std::vector<int64_t>{id});
        QCOMPARE(s.run(id)->status, store::RunStatus::Interrupted);
    }

    void aFullDiskKeepsTheCheckpointAndEveryMetric() {
        // A file size limit (RLIMIT_FSIZE: no root needed) set after epoch 1's checkpoint makes
        // the next one fail as a full disk would: the run fails naming the file and the fix, the
        // earlier checkpoint and every committed metric stay, and once the limit is lifted the
        // resumed run ends with the uninterrupted history.
        QVERIFY(!reference_.empty());
        QTemporaryDir dir;
        const std::string db = test::make_demo_workspace(dir.path(), 5, 4.0);
        store::RunStore s(db);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        const train::TrainOptions o = options(dir);
        train::TrainCallbacks cb;
        int64_t limit = 0;
        std::optional<test::FileSizeLimit> full;
        cb.on_epoch = [&](const train::EpochReport& r) {
            if (r.epoch != 1) return;
            const auto paths = store::run_paths(s.path(), *s.run(id), o.checkpoint_dir);
            limit = int64_t(std::filesystem::file_size(paths.last)) / 2;
            // The database's files stay below the limit: its WAL starts again from empty.
            store::Db(db).exec("PRAGMA wal_checkpoint(TRUNCATE)");
            qInfo("checkpoint %lld bytes, limit %lld", (long long)std::filesystem::file_size(paths.last), (long long)limit);
            full.emplace(limit);
        };
        train::TrainControl control;
        const auto failed = train::train_run(s, id, o, control, cb);
        full.reset();
        QVERIFY(limit > 0);
        QCOMPARE(QString::fromLatin1(store::to_string(failed.status)), QStringLiteral("failed"));
        QVERIFY2(failed.message.find(".safetensors") != std::string::npos &&
                     failed.message.find("size limit") != std::string::npos,
                 failed.message.c_str());
        // Every row of epoch 1 is there, as the uninterrupted run logged it.
        const auto kept = history(s, id);
        size_t epoch1 = 0;
        for (const auto& r : reference_) epoch1 += r.epoch <= 1;
        QVERIFY(kept.size() >= epoch1);
        for (size_t i = 0, j = 0; i < reference_.size(); ++i)
            if (reference_[i].epoch <= 1) {
                while (j < kept.size() && !(kept[j].step == reference_[i].step && kept[j].name == reference_[i].name &&
                                            kept[j].split == reference_[i].split))
                    ++j;
                QVERIFY2(j < kept.size() && kept[j].value == reference_[i].value, reference_[i].name.c_str());
            }
        train::TrainControl fresh;
        const auto resumed = train::train_run(s, id, o, fresh);
        QCOMPARE(QString::fromStdString(store::to_string(resumed.status) + resumed.message), QStringLiteral("finished"));
        compare_histories(history(s, id), reference_);
    }

    void aFullDiskDuringAMetricBatchKeepsWhatWasCommitted() {
        // The database cannot grow (a file size limit set mid-epoch 2, once its WAL is emptied):
        // the next metric batch fails, naming the database and the fix; every row committed
        // before stays as the uninterrupted run logged it, and once the limit is lifted the
        // resumed run ends with the uninterrupted history.
        QVERIFY(!reference_.empty());
        QTemporaryDir dir;
        const std::string db = test::make_demo_workspace(dir.path(), 5, 4.0);
        store::RunStore s(db);
        const int64_t id = s.create_run(0, tiny_config(), 3);
        train::TrainCallbacks cb;
        size_t committed = 0;
        std::optional<test::FileSizeLimit> full;
        cb.on_step = [&](const train::StepProgress& p) {
            if (p.step != 10) return;
            store::Db(db).exec("PRAGMA wal_checkpoint(TRUNCATE)");
            committed = history(s, id).size();
            full.emplace(1); // no file may grow: the WAL's next frame fails
            // The log commits a batch once 2 s have passed since the last: the next step's
            // batch, before any checkpoint of this epoch is written.
            std::this_thread::sleep_for(std::chrono::milliseconds(2100));
        };
        train::TrainControl control;
        const auto failed = train::train_run(s, id, options(dir), control, cb);
        full.reset();
        QVERIFY(committed > 0);
        QCOMPARE(QString::fromLatin1(store::to_string(failed.status)), QStringLiteral("failed"));
        QVERIFY2(failed.message.find(db) != std::string::npos && failed.message.find("disk is full") != std::string::npos,
                 failed.message.c_str());
        const auto kept = history(s, id);
        QVERIFY(kept.size() >= committed && kept.size() < reference_.size());
        for (size_t i = 0; i < kept.size(); ++i) {
            QCOMPARE(kept[i].step, reference_[i].step);
            QCOMPARE(QString::fromStdString(kept[i].name), QString::fromStdString(reference_[i].name));
            QCOMPARE(kept[i].value, reference_[i].value);
        }
        QCOMPARE(QString::fromStdString(s.integrity_check()), QStringLiteral("ok"));
        // Recording "failed" needed the disk too, so the run still reads running under this
        // process; once the process is gone, gafx marks it interrupted (as here) and resumes it.
        s.set_run_status(id, store::RunStatus::Interrupted);
        train::TrainControl fresh;
        const auto resumed = train::train_run(s, id, options(dir), fresh);
        QCOMPARE(QString::fromStdString(store::to_string(resumed.status) + resumed.message), QStringLiteral("finished"));
        compare_histories(history(s, id), reference_);
    }
};

QTEST_GUILESS_MAIN(TestTrainerRecovery)
#include "test_trainer_recovery.moc"
