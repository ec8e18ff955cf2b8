// Pretrained weights by name: the catalogue, runs resolving names and families to files,
// `fetch` from a local HTTP server (resumed, hash-checked, refused on a mismatch) and `add`
// (checked to load). No test touches the internet.
#include "core/error.h"
#include "experiments/experiment.h"
#include "weights/catalog.h"
#include "weights/install.h"
#include "weights/sha256.h"
#include "http_server.h"
#include "test_support.h"

#include <QCryptographicHash>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <random>

using namespace gafx;
namespace fs = std::filesystem;

namespace {

std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = char(g() & 0xff);
    return s;
}

std::string sha256_of(const std::string& bytes) {
    return QCryptographicHash::hash(QByteArray::fromStdString(bytes), QCryptographicHash::Sha256).toHex().toStdString();
}

weights::Entry entry_for_bytes(const std::string& bytes, const std::string& file_name) {
    weights::Entry e;
    e.name = "test-weights";
    e.role = weights::Role::Classifier;
    e.fits = {"ast-tiny"};
    e.file_name = file_name;
    e.sha256 = sha256_of(bytes);
    e.size = int64_t(bytes.size());
    return e;
}

// `n` random bytes served as w.bin, an entry with their hash and size, options fetching from the
// server, and an empty folder to fetch into.
struct Served {
    QTemporaryDir dir;
    std::string d = dir.path().toStdString();
    test::HttpServer server;
    std::string bytes;
    weights::Entry e;
    weights::FetchOptions o;
    Served(size_t n, unsigned seed) : bytes(random_bytes(n, seed)), e(entry_for_bytes(bytes, "w.bin")) {
        server.serve("w.bin", bytes);
        o.mirror = server.url();
    }
};

} // namespace

class TestWeightsInstall : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        if (!weights::can_fetch()) QSKIP("built without libcurl/OpenSSL (scripts/setup.sh installs them)");
    }

    void catalogueNamesThePapersFiles() {
        const auto& b = weights::builtin_entries();
        QCOMPARE(b.size(), size_t(3));
        for (const auto& e : b) {
            QVERIFY2(e.url.rfind("https://", 0) == 0, e.name.c_str());
            QVERIFY2(e.sha256.size() >= 8, e.name.c_str());
            QVERIFY2(!e.licence.empty(), e.name.c_str());
        }
        QCOMPARE(weights::find_entry(b, "hdemucs-high")->size, int64_t(334697255));
        // "deit" is the DeiT of the classifier's size.
        QCOMPARE(weights::entry_for(b, "deit", weights::Role::Classifier, "ast-tiny")->name, std::string("deit-tiny"));
        QCOMPARE(weights::entry_for(b, "deit", weights::Role::Classifier, "ast-small")->name, std::string("deit-small"));
        QVERIFY(!weights::entry_for(b, "deit-small", weights::Role::Classifier, "ast-tiny"));
        QVERIFY(!weights::entry_for(b, "hdemucs-high", weights::Role::Extractor, "gafx-r"));
        QVERIFY(weights::is_file_value("w/deit.pth") && weights::is_file_value("x.safetensors"));
        QVERIFY(!weights::is_file_value("deit-tiny"));
    }

    void hashPrefixesMatchAsTorchHubChecksThem() {
        const std::string full = sha256_of("abc");
        QVERIFY(weights::hash_matches(full, full));
        QVERIFY(weights::hash_matches(full.substr(0, 8), full));
        QVERIFY(weights::hash_matches("BA7816BF", full));
        QVERIFY(!weights::hash_matches(full.substr(0, 7), full)); // too short to mean anything
        QVERIFY(!weights::hash_matches("00000000", full));
    }

    void aMissingNameSaysWhichCommandFetchesIt() {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        try {
            weights::resolve("deit", weights::Role::Classifier, "ast-small", d);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString::fromStdString(e.fix()).contains("gafx weights fetch deit-small"), e.what());
        }
        const QString wrong = test::error_of([&] { weights::resolve("deit-small", weights::Role::Classifier, "ast-tiny", d); });
        QVERIFY2(wrong.contains("not ast-tiny") && wrong.contains("deit-tiny"), qPrintable(wrong));
        QVERIFY(test::error_of([&] { weights::resolve("/no/such.pth", weights::Role::Classifier, "ast-tiny", d); })
                    .contains("does not exist"));

        // The same at the experiment: the field, and nothing else needed to find it.
        experiments::Experiment ex;
        ex.name = "x";
        ex.runs.resize(2);
        ex.runs[1].classifier = "ast-small";
        ex.runs[1].classifier_weights = "deit";
        try {
            experiments::check_weights(ex, d);
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(e.field().key, std::string("classifier_weights"));
            QCOMPARE(e.field().json_path, std::string("$ (run 2 of 2).classifier_weights"));
        }
        // A built-in name that cannot fit is said when the file is read.
        const QString parse = test::error_of([] {
            experiments::parse_experiment(R"({"name": "x", "base": {"dataset": "d", "extractor": "gafx-r",
                "extractor_weights": "hdemucs-high"}})", "x.json");
        });
        QVERIFY2(parse.contains("no weights for the extractor gafx-r"), qPrintable(parse));
    }

    void fetchChecksTheHashBeforeKeepingTheFile() {
        Served f(300000, 1);
        auto& [dir, d, server, bytes, e, o] = f;
        int64_t last = -1;
        o.mirror += "/";
        o.progress = [&](int64_t have, int64_t) { last = have; };
        const auto r = weights::fetch(e, d, o);
        QCOMPARE(r.path, d + "/w.bin");
        QCOMPARE(weights::sha256_file(r.path), e.sha256);
        QVERIFY(!r.already_there && !r.resumed);
        QCOMPARE(last, int64_t(bytes.size()));
        QVERIFY(!fs::exists(d + "/w.bin.part"));
        // Again: checked and kept, nothing downloaded.
        const size_t requests = server.ranges().size();
        QVERIFY(weights::fetch(e, d, o).already_there);
        QCOMPARE(server.ranges().size(), requests);
    }

    void anInterruptedFetchResumes() {
        Served f(500000, 2);
        auto& [dir, d, server, bytes, e, o] = f;
        server.cut_next_after(123456);
        const QString cut = test::error_of([&] { weights::fetch(e, d, o); });
        QVERIFY2(cut.contains("resumes"), qPrintable(cut));
        QVERIFY(!fs::exists(d + "/w.bin"));
        QCOMPARE(int64_t(fs::file_size(d + "/w.bin.part")), int64_t(123456));
        const auto r = weights::fetch(e, d, o);
        QVERIFY(r.resumed);
        QCOMPARE(server.ranges().back(), std::string("bytes=123456-"));
        QCOMPARE(weights::sha256_file(r.path), e.sha256);
        QVERIFY(!fs::exists(d + "/w.bin.part"));
    }

    void aServerThatIgnoresTheRangeStartsOver() {
        Served f(200000, 3);
        auto& [dir, d, server, bytes, e, o] = f;
        server.cut_next_after(50000);
        QVERIFY(!test::error_of([&] { weights::fetch(e, d, o); }).isEmpty());
        server.ignore_range(true);
        const auto r = weights::fetch(e, d, o);
        QVERIFY(!r.resumed);
        QCOMPARE(weights::sha256_file(r.path), e.sha256);
    }

    void aMismatchIsRefusedAndNothingKept() {
        Served f(100000, 4);
        auto& [dir, d, server, bytes, e, o] = f;
        e = entry_for_bytes(random_bytes(100000, 5), "w.bin"); // another file's hash
        try {
            weights::fetch(e, d, o);
            QFAIL("no error");
        } catch (const weights::HashMismatch& m) {
            QCOMPARE(m.expected(), e.sha256);
            QCOMPARE(m.found(), sha256_of(bytes));
            QVERIFY(QString::fromStdString(m.reason()).contains(QString::fromStdString(sha256_of(bytes))));
        }
        QVERIFY(!fs::exists(d + "/w.bin"));
        QVERIFY(!fs::exists(d + "/w.bin.part"));
        // A wrong size is refused before hashing, and a missing file is the server's 404.
        e.sha256 = sha256_of(bytes);
        e.size = 99999;
        QVERIFY(test::error_of([&] { weights::fetch(e, d, o); }).contains("the published one has 99999"));
        e.file_name = "gone.bin";
        QVERIFY(test::error_of([&] { weights::fetch(e, d, o); }).contains("HTTP 404"));
    }

    void addChecksTheFileLoads() {
        QTemporaryDir dir;
        const std::string d = (dir.path() + "/weights").toStdString();
        const std::string file = (dir.path() + "/my_ast_tiny.safetensors").toStdString();
        test::write_classifier_weights(QString::fromStdString(file), "ast-tiny");
        const auto r = weights::add(file, "my-tiny", d);
        QCOMPARE(r.entry.role, weights::Role::Classifier);
        QCOMPARE(r.entry.fits, std::vector<std::string>{"ast-tiny"});
        QCOMPARE(r.entry.sha256, weights::sha256_file(file));
        QVERIFY(fs::exists(r.path));
        // Listed from the folder's index, and resolvable by runs.
        const auto entries = weights::list_entries(d);
        QVERIFY(weights::find_entry(entries, "my-tiny"));
        QCOMPARE(weights::resolve("my-tiny", weights::Role::Classifier, "ast-tiny", d), r.path);
        QVERIFY(test::error_of([&] { weights::add(file, "my-tiny", d); }).contains("already added"));

        // Not weights of anything here; a built-in name takes only the published file.
        test::write_bytes(dir.path() + "/junk.pt", QByteArray(1000, 'x'));
        QVERIFY(!test::error_of([&] { weights::add((dir.path() + "/junk.pt").toStdString(), "junk", d); }).isEmpty());
        QVERIFY(!fs::exists(d + "/junk.pt"));
        QVERIFY_EXCEPTION_THROWN(weights::add(file, "deit-tiny", d), weights::HashMismatch);
        QVERIFY(test::error_of([&] { weights::add(file, "Bad Name", d); }).contains("cannot name weights"));
    }
};

QTEST_GUILESS_MAIN(TestWeightsInstall)
#include "test_weights_install.moc"
