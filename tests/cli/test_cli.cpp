// `gafx dataset ...` end to end through the built binary: demo, import, list, show, exit codes.
#include "test_support.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using gafx::test::run_gafx;
using gafx::test::run_program;

namespace {
QJsonObject json_object(const QString& text) {
    QJsonParseError err{};
    const auto doc = QJsonDocument::fromJson(text.toUtf8(), &err);
    if (err.error != QJsonParseError::NoError) qWarning() << "bad JSON:" << err.errorString() << text.left(400);
    return doc.object();
}
} // namespace

class TestCli : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString db_, demo_;

private Q_SLOTS:
    void initTestCase() {
        db_ = dir_.path() + QStringLiteral("/ws.db");
        demo_ = dir_.path() + QStringLiteral("/demo");
    }

    void versionNamesEveryLibrary() {
        const auto r = run_gafx({QStringLiteral("--version")});
        QCOMPARE(r.exit_code, 0);
        for (const char* lib : {"libtorch", "BLAS", "Qt", "SQLite", "libsndfile", "CUDA"})
            QVERIFY2(r.out.contains(QLatin1String(lib)), lib);
        QVERIFY2(r.out.contains(QStringLiteral("OpenBLAS")), qPrintable(r.out));
    }

    // gafx starts without loading libtorch (~2 s of CPU) and becomes gafx-torch for the commands
    // that run models; where gafx-torch is missing those say so, and the others still work.
    void gafxLoadsNoLibtorchAndFindsItsTorchPart() {
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LD_TRACE_LOADED_OBJECTS"), QStringLiteral("1")); // glibc: list, do not run
        auto r = run_gafx({}, 60000, env);
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("libsqlite3")), qPrintable(r.out));
        QVERIFY2(!r.out.contains(QStringLiteral("libtorch")), qPrintable(r.out));

        const QString lone = dir_.path() + QStringLiteral("/lone/gafx");
        QVERIFY(QDir().mkpath(dir_.path() + QStringLiteral("/lone")));
        QVERIFY(QFile::copy(QStringLiteral(GAFX_CLI_PATH), lone));
        r = run_program(lone, {QStringLiteral("train"), QStringLiteral("x.json")}, 60000);
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("gafx-torch")) && r.err.contains(QStringLiteral("reinstall gafx")),
                 qPrintable(r.err));
        r = run_program(lone, {QStringLiteral("dataset"), QStringLiteral("list"), QStringLiteral("--db"),
                               dir_.path() + QStringLiteral("/lone/ws.db")},
                        60000);
        QCOMPARE(r.exit_code, 0);
        // Beside gafx, gafx-torch runs the command with the same arguments.
        r = run_gafx({QStringLiteral("models"), QStringLiteral("--json")});
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("gafx-u")), qPrintable(r.err));
    }

    void tuningSetsWhatIsMissingAndKeepsWhatIsSet() {
        auto env = QProcessEnvironment::systemEnvironment();
        for (const char* var : {"GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "GAFX_NO_TUNING", "ATEN_CPU_CAPABILITY"})
            env.remove(QLatin1String(var));
        // A missing load-time variable is set before libgomp reads it: by gafx before it becomes
        // gafx-torch, or by gafx-torch started alone, which then restarts itself with it. The
        // process that runs the command reports it, so the setting took.
        auto r = run_gafx({QStringLiteral("--version")}, 60000, env);
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("tuning     GOMP_SPINCOUNT=30000")), qPrintable(r.out));
        const QString torch_part = QFileInfo(QStringLiteral(GAFX_CLI_PATH)).absolutePath() + QStringLiteral("/gafx-torch");
        r = run_program(torch_part, {QStringLiteral("--version")}, 60000, env);
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("tuning     GOMP_SPINCOUNT=30000")), qPrintable(r.out));
        // The user's own value wins.
        env.insert(QStringLiteral("GOMP_SPINCOUNT"), QStringLiteral("123"));
        r = run_gafx({QStringLiteral("--version")}, 60000, env);
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("GOMP_SPINCOUNT=123")), qPrintable(r.out));
        // GAFX_NO_TUNING leaves everything alone.
        env.remove(QStringLiteral("GOMP_SPINCOUNT"));
        env.insert(QStringLiteral("GAFX_NO_TUNING"), QStringLiteral("1"));
        r = run_gafx({QStringLiteral("--version")}, 60000, env);
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("GAFX_NO_TUNING set")), qPrintable(r.out));
        QVERIFY2(!r.out.contains(QStringLiteral("GOMP_SPINCOUNT")), qPrintable(r.out));
    }

    void demoThenImportThenShow() {
        auto r = run_gafx({QStringLiteral("dataset"), QStringLiteral("demo"), demo_, QStringLiteral("--tracks-per-genre"),
                           QStringLiteral("3"), QStringLiteral("--seconds"), QStringLiteral("2")});
        QCOMPARE(r.exit_code, 0);
        QCOMPARE(QDir(demo_).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 10);
        // One broken file, and a file that is not audio.
        gafx::test::write_bytes(demo_ + QStringLiteral("/jazz/jazz.00054.wav"), QByteArray(4000, 'z'));
        gafx::test::write_bytes(demo_ + QStringLiteral("/README.md"), "demo");

        r = run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("gtzan"), demo_,
                      QStringLiteral("--name"), QStringLiteral("demo"), QStringLiteral("--seed"), QStringLiteral("3"),
                      QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains(QStringLiteral("jazz.00054.wav")));

        r = run_gafx({QStringLiteral("dataset"), QStringLiteral("show"), QStringLiteral("demo"), QStringLiteral("--json"),
                      QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 0);
        const QJsonObject j = json_object(r.out);
        QCOMPARE(j[QStringLiteral("name")].toString(), QStringLiteral("demo"));
        QCOMPARE(j[QStringLiteral("kind")].toString(), QStringLiteral("gtzan"));
        QCOMPARE(j[QStringLiteral("tracks")].toInt(), 31);
        QCOMPARE(j[QStringLiteral("valid")].toInt(), 30);
        QCOMPARE(j[QStringLiteral("invalid")].toInt(), 1);
        QCOMPARE(j[QStringLiteral("classes")].toObject().size(), 10);
        QCOMPARE(j[QStringLiteral("classes")].toObject()[QStringLiteral("rock")].toInt(), 3);
        const QJsonObject split = j[QStringLiteral("split")].toObject();
        QCOMPARE(split[QStringLiteral("train")].toInt() + split[QStringLiteral("val")].toInt() +
                     split[QStringLiteral("test")].toInt(),
                 30);
        QCOMPARE(split[QStringLiteral("test")].toInt(), 10); // round(0.2 * 3) = 1 per genre
        QCOMPARE(split[QStringLiteral("val")].toInt(), 10);  // at least one per genre of 3
        QCOMPARE(split[QStringLiteral("excluded")].toInt(), 0);
        QCOMPARE(split[QStringLiteral("kind")].toString(), QStringLiteral("random"));
        const QJsonArray errors = j[QStringLiteral("errors")].toArray();
        QCOMPARE(errors.size(), 1);
        QVERIFY(errors[0].toObject()[QStringLiteral("path")].toString().endsWith(QStringLiteral("jazz.00054.wav")));
        QVERIFY(!errors[0].toObject()[QStringLiteral("error")].toString().isEmpty());
    }

    void reimportUpdatesNeverDuplicates() {
        for (int i = 0; i < 2; ++i) {
            const auto r = run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("gtzan"), demo_,
                                     QStringLiteral("--name"), QStringLiteral("demo"), QStringLiteral("--seed"),
                                     QStringLiteral("3"), QStringLiteral("--db"), db_});
            QCOMPARE(r.exit_code, 0);
        }
        const auto r = run_gafx({QStringLiteral("dataset"), QStringLiteral("list"), QStringLiteral("--json"),
                                 QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 0);
        const QJsonArray all = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QCOMPARE(all.size(), 1);
        QCOMPARE(all[0].toObject()[QStringLiteral("tracks")].toInt(), 31);
    }

    void groupsFileKeepsGroupsTogether() {
        QString csv = QStringLiteral("track,group\n");
        for (int i = 0; i < 3; ++i) csv += QStringLiteral("blues.%1.wav,same-song\n").arg(i, 5, 10, QLatin1Char('0'));
        const QString path = dir_.path() + QStringLiteral("/groups.csv");
        gafx::test::write_bytes(path, csv.toUtf8());
        auto r = run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("gtzan"), demo_,
                           QStringLiteral("--name"), QStringLiteral("demo"), QStringLiteral("--groups"), path,
                           QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        r = run_gafx({QStringLiteral("dataset"), QStringLiteral("show"), QStringLiteral("demo"), QStringLiteral("--json"),
                      QStringLiteral("--db"), db_});
        const QJsonObject blues =
            json_object(r.out)[QStringLiteral("classes_by_split")].toObject()[QStringLiteral("blues")].toObject();
        // The three blues tracks are one group: all on one side.
        QVERIFY(blues[QStringLiteral("train")].toInt() == 3 || blues[QStringLiteral("test")].toInt() == 3);
    }

    void exitCodes() {
        QCOMPARE(run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("gtzan"),
                           dir_.path() + QStringLiteral("/nope"), QStringLiteral("--db"), db_}).exit_code, 1);
        QCOMPARE(run_gafx({QStringLiteral("dataset"), QStringLiteral("frobnicate")}).exit_code, 2);
        QCOMPARE(run_gafx({QStringLiteral("dataset"), QStringLiteral("list"), QStringLiteral("--bogus")}).exit_code, 2);
        QCOMPARE(run_gafx({QStringLiteral("nosuchcommand")}).exit_code, 2);
        QCOMPARE(run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("--help")}).exit_code, 0);
        QCOMPARE(run_gafx({QStringLiteral("dataset"), QStringLiteral("show"), QStringLiteral("absent"),
                           QStringLiteral("--db"), db_}).exit_code, 1);

        // A folder whose only audio is broken: nothing valid, nothing stored, exit 1.
        const QString broken = dir_.path() + QStringLiteral("/broken");
        gafx::test::write_bytes(broken + QStringLiteral("/rock/a.wav"), QByteArray(100, 'x'));
        const auto r = run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("gtzan"), broken,
                                 QStringLiteral("--db"), db_});
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.err.contains(QStringLiteral("a.wav")));
    }

    void importWithoutValidAudioListsEveryBadFile() {
        QTemporaryDir dir;
        const QString bad = dir.path() + QStringLiteral("/bad");
        const QString db = dir.path() + QStringLiteral("/ws.db");
        gafx::test::write_bytes(bad + QStringLiteral("/rock/first.wav"), QByteArray(100, 'x'));
        gafx::test::write_bytes(bad + QStringLiteral("/jazz/second.wav"), QByteArray(3000, '\1'));
        auto r = run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("gtzan"), bad,
                           QStringLiteral("--db"), db});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("gafx: error: %1: no valid audio among 2 tracks; nothing stored").arg(bad)),
                 qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("  %1/rock/first.wav: ").arg(bad)), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("  %1/jazz/second.wav: ").arg(bad)), qPrintable(r.err));
        QVERIFY(!r.out.contains(QStringLiteral("imported")));
        r = run_gafx({QStringLiteral("dataset"), QStringLiteral("list"), QStringLiteral("--json"), QStringLiteral("--db"), db});
        QCOMPARE(r.exit_code, 0);
        QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).array().size(), 0);
    }

    void audiosetDemoImports() {
        const QString as = dir_.path() + QStringLiteral("/as");
        auto r = run_gafx({QStringLiteral("dataset"), QStringLiteral("demo"), as, QStringLiteral("--kind"),
                           QStringLiteral("audioset"), QStringLiteral("--seconds"), QStringLiteral("1")});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        r = run_gafx({QStringLiteral("dataset"), QStringLiteral("import"), QStringLiteral("audioset"), as,
                      QStringLiteral("--name"), QStringLiteral("as"), QStringLiteral("--db"), db_});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        r = run_gafx({QStringLiteral("dataset"), QStringLiteral("show"), QStringLiteral("as"), QStringLiteral("--json"),
                      QStringLiteral("--db"), db_});
        const QJsonObject j = json_object(r.out);
        QCOMPARE(j[QStringLiteral("kind")].toString(), QStringLiteral("audioset"));
        QVERIFY(j[QStringLiteral("valid")].toInt() > 0);
        QVERIFY(j[QStringLiteral("missing")].toInt() > 0);
        QVERIFY(j[QStringLiteral("split")].toObject()[QStringLiteral("test")].toInt() > 0);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
