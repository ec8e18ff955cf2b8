// Our torch.save zip reader (engine/models/torch_zip.h): dtypes, views sharing one storage,
// parameters, nested dicts and plain Python values read exactly; a PyTorch 2.x style archive;
// and damaged files of every kind end in a gafx::Error naming the file, never a crash.
// Fixtures: tests/data/make_weight_fixtures.py.
#include "core/error.h"
#include "models/torch_zip.h"
#include "models/weights.h"
#include "test_support.h"

#include <caffe2/serialize/inline_container.h>

#include <QtTest>

#include <cstring>

#include <fstream>
#include <map>

using namespace gafx;

namespace {

std::string fixture(const char* name) { return std::string(GAFX_TEST_DATA_DIR) + "/" + name; }

std::vector<char> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::map<std::string, torch::Tensor> by_name(const models::StateDict& sd) {
    std::map<std::string, torch::Tensor> m;
    for (const auto& [k, v] : sd) m[k] = v;
    return m;
}

bool same(const torch::Tensor& a, const torch::Tensor& b) {
    return a.defined() && a.dtype() == b.dtype() && a.sizes() == b.sizes() && a.equal(b);
}

// A zip as torch.save writes it ("archive/data.pkl", "archive/data/<key>", "archive/version").
std::vector<char> make_zip(const std::string& pkl, const std::vector<std::pair<std::string, std::string>>& records = {}) {
    std::vector<char> out;
    caffe2::serialize::PyTorchStreamWriter w([&](const void* b, size_t n) {
        if (b) out.insert(out.end(), static_cast<const char*>(b), static_cast<const char*>(b) + n);
        else out.insert(out.end(), n, '\0');
        return n;
    });
    w.writeRecord("data.pkl", pkl.data(), pkl.size());
    for (const auto& [name, data] : records) w.writeRecord(name, data.data(), data.size());
    w.writeEndOfFile();
    return out;
}

// A string literal with its NUL bytes.
template <size_t N> std::string B(const char (&s)[N]) { return std::string(s, N - 1); }

std::string pickle(std::initializer_list<std::string> parts) {
    std::string s = "\x80\x02";
    for (const auto& p : parts) s += p;
    return s + ".";
}

// A float tensor over storage "0": _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu',
// numel), offset, (size,), (stride,), False, OrderedDict()), without PROTO and STOP.
std::string tensor_ops(int numel, int offset, int size, int stride) {
    auto i1 = [](int v) { return std::string("K") + char(v); };
    return "ctorch._utils\n_rebuild_tensor_v2\n((" + B("X\x07\0\0\0storage") + "ctorch\nFloatStorage\n" +
           B("X\x01\0\0\0" "0") + B("X\x03\0\0\0cpu") + i1(numel) + "tQ" + i1(offset) + i1(size) + "\x85" +
           i1(stride) + "\x85" + "\x89" + "ccollections\nOrderedDict\n)R" + "tR";
}

std::string tensor_pickle(int numel, int offset, int size, int stride) {
    return pickle({tensor_ops(numel, offset, size, stride)});
}

// What reading gives: "" when it worked, else the gafx::Error's reason (the error must name the
// file). Any other exception escapes and fails the test.
QString read_outcome(const std::vector<char>& zip) {
    try {
        models::read_torch_zip_state(zip, "damaged.pt");
        return {};
    } catch (const Error& e) {
        if (e.path() != "damaged.pt") return QStringLiteral("WRONG PATH ") + QString::fromStdString(e.path());
        return QString::fromStdString(e.reason());
    }
}

const std::string kFourFloats = B("\0\0\x80?\0\0\0@\0\0@@\0\0\x80@"); // 1, 2, 3, 4

} // namespace

class TestTorchZip : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void dtypesReadExactly() {
        const auto sd = models::read_torch_zip_state(file_bytes(fixture("torch_zip_mixed.pt")), "mixed.pt");
        auto m = by_name(sd);
        QVERIFY(same(m["half"], torch::tensor({1.5, -2.0, 65504.0}).to(torch::kHalf)));
        QVERIFY(same(m["bf16"], torch::tensor({1.0f, -0.5f, 3.0e38f}).to(torch::kBFloat16)));
        QVERIFY(same(m["long"], torch::tensor({-(int64_t(1) << 40), int64_t(0), int64_t(1) << 62})));
        QVERIFY(same(m["double"], torch::tensor({0.1, -1e300}, torch::kFloat64).reshape({1, 2})));
        QVERIFY(same(m["int8"], torch::tensor({-128, 127}).to(torch::kInt8)));
        QVERIFY(same(m["bool"], torch::tensor({true, false, true})));
        QVERIFY(same(m["scalar"], torch::tensor(7.25f)));
        QCOMPARE(m["scalar"].dim(), int64_t(0));
        QVERIFY(same(m["empty"], torch::zeros({0, 3})));
        QVERIFY(same(m["param"], torch::tensor({0.25f, 0.75f})));
    }

    void fileOrderAndNestedNames() {
        const auto sd = models::read_torch_zip_state(file_bytes(fixture("torch_zip_mixed.pt")), "mixed.pt");
        std::vector<std::string> names;
        for (const auto& kv : sd) names.push_back(kv.first);
        const std::vector<std::string> expected = {
            "half",      "bf16",     "long",     "double",    "int8",  "bool",
            "scalar",    "empty",    "view.base", "view.col", "view.t", "view.tail",
            "param",     "nested.inner.w", "nested.inner.deeper.b", "linear.weight", "linear.bias"};
        QCOMPARE(names, expected); // and no "linear._metadata": BUILD state is attributes, not items
        auto m = by_name(sd);
        QVERIFY(same(m["nested.inner.w"], torch::ones({2})));
        QVERIFY(same(m["nested.inner.deeper.b"], torch::full({1}, -3.0f)));
        QVERIFY(same(m["linear.weight"], torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2})));
        QVERIFY(same(m["linear.bias"], torch::tensor({0.5f, -0.5f})));
    }

    void viewsShareOneStorage() {
        auto m = by_name(models::read_torch_zip_state(file_bytes(fixture("torch_zip_mixed.pt")), "mixed.pt"));
        const auto base = torch::arange(12, torch::kFloat32).reshape({3, 4});
        QVERIFY(same(m["view.base"], base));
        QVERIFY(same(m["view.col"], base.select(1, 1)));
        QVERIFY(same(m["view.t"], base.t()));
        QVERIFY(same(m["view.tail"], torch::tensor({5.0f, 6.0f, 7.0f, 8.0f})));
        QVERIFY(!m["view.t"].is_contiguous());
        QCOMPARE(m["view.col"].stride(0), int64_t(4));
        QVERIFY(m["view.col"].is_alias_of(m["view.base"]));
        QVERIFY(m["view.t"].is_alias_of(m["view.base"]));
        QVERIFY(m["view.tail"].is_alias_of(m["view.base"]));
        QVERIFY(!m["half"].is_alias_of(m["view.base"]));
    }

    void plainValuesAlongside() {
        const c10::IValue root = models::read_torch_zip_object(file_bytes(fixture("torch_zip_mixed.pt")), "mixed.pt");
        QVERIFY(root.isGenericDict());
        std::map<std::string, c10::IValue> v;
        for (const auto& kv : root.toGenericDict()) v[kv.key().toStringRef()] = kv.value();
        QCOMPARE(v["epoch"].toInt(), int64_t(7));
        QCOMPARE(v["neg"].toInt(), int64_t(-5));
        QCOMPARE(v["big"].toInt(), int64_t(1) << 40);
        QCOMPARE(v["lr"].toDouble(), 0.125);
        QCOMPARE(v["name"].toStringRef(), std::string("gafx \xc3\xa9"));
        QCOMPARE(v["flag"].toBool(), true);
        QVERIFY(v.count("nothing") && v["nothing"].isNone());
        QVERIFY(v["device"].isNone()); // an unknown global: a placeholder
        QVERIFY(v["dtype"].isNone());
        const auto list = v["list"].toList();
        QCOMPARE(list.size(), size_t(4));
        QCOMPARE(list.get(0).toInt(), int64_t(1));
        QCOMPARE(list.get(1).toDouble(), 2.5);
        QCOMPARE(list.get(2).toStringRef(), std::string("x"));
        QVERIFY(same(list.get(3).toTensor(), torch::tensor({9, 8}, torch::kInt32)));
        const auto& tuple = v["tuple"].toTupleRef().elements();
        QCOMPARE(tuple.size(), size_t(2));
        QCOMPARE(tuple[0].toInt(), int64_t(1));
        QCOMPARE(tuple[1].toStringRef(), std::string("two"));
    }

    void pytorch2StyleArchive() {
        // archive/ folder, protocol 4, UntypedStorage, _rebuild_tensor_v3 with torch.float32,
        // wrapped in {"state_dict": ...}, which read_state_dict unwraps.
        const auto path = fixture("torch_zip_v2_style.pt");
        auto m = by_name(models::read_state_dict(path));
        QCOMPARE(m.size(), size_t(2));
        QVERIFY(same(m["w"], torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2})));
        QVERIFY(same(m["w_col"], torch::tensor({2.0f, 4.0f})));
        QVERIFY(m["w_col"].is_alias_of(m["w"]));
    }

    void readStateDictUsesThisReader() {
        const auto sd = models::read_state_dict(fixture("torch_zip_mixed.pt"));
        QCOMPARE(sd.size(), size_t(17));
    }

    void handMadePicklesWork() {
        // A list holding itself: the recursion becomes None, no hang.
        QCOMPARE(read_outcome(make_zip(pickle({B("]q\x00h\x00" "a")}))), QString());
        // A 2-element float view at offset 1, stride 2 over [1, 2, 3, 4], in a dict.
        const auto sd = models::read_torch_zip_state(
            make_zip(pickle({"}(" + B("X\x01\0\0\0t") + tensor_ops(4, 1, 2, 2) + "u"}), {{"data/0", kFourFloats}}),
            "hand.pt");
        QCOMPARE(sd.size(), size_t(1));
        QCOMPARE(sd[0].first, std::string("t"));
        QVERIFY(same(sd[0].second, torch::tensor({2.0f, 4.0f})));
    }

    void damagedFilesAreErrors() {
        const std::vector<std::pair<std::string, std::string>> storage = {{"data/0", kFourFloats}};
        QCOMPARE(read_outcome(make_zip(tensor_pickle(4, 0, 4, 1), storage)), QString());
        const std::vector<std::pair<std::vector<char>, const char*>> cases = {
            {make_zip(tensor_pickle(4, 1, 4, 1), storage), "past the end"},   // view past the storage
            {make_zip(tensor_pickle(4, 0, 3, 2), storage), "past the end"},   // strides past the storage
            {make_zip(tensor_pickle(8, 0, 4, 1), storage), "fewer than"},     // storage shorter than numel
            {make_zip(tensor_pickle(4, 0, 4, 1)), "missing"},                 // no storage record
            {make_zip(pickle({B("X\xff\xff\xff\x7f" "abc")})), "truncated"},      // string past the end
            {make_zip(pickle({"h\x05"})), "memo"},                            // never stored
            {make_zip(pickle({"a"})), "empty stack"},                         // APPEND to nothing
            {make_zip(pickle({"(u"})), "empty stack"},                        // SETITEMS without a dict
            {make_zip(pickle({"K\x01" "t"})), "MARK"},                        // TUPLE without MARK
            {make_zip(pickle({"I1\n"})), "opcode"},                           // protocol 0 INT
            {make_zip(pickle({"cos\nsystem"})), "end of line"},
            {make_zip(pickle({"K\x01" "b"})), "empty stack"},                 // BUILD on nothing
            {make_zip(std::string("\x80\x02")), "truncated"},                 // no STOP
            {make_zip(pickle({"ctorch._utils\n_rebuild_parameter\n(K\x01tR"})), "Parameter"},
            {make_zip(pickle({B("(X\x07\0\0\0" "storagectorch\nQInt8Storage\nX\x01\0\0\0" "0X\x03\0\0\0cpuK\x01tQ")})),
             "unsupported type"},
            {make_zip(tensor_pickle(4, 0, 4, 1), {{"data/0", kFourFloats}, {"byteorder", "big"}}), "big-endian"},
        };
        for (const auto& [zip, expect] : cases) {
            const QString msg = read_outcome(zip);
            QVERIFY2(msg.contains(QString::fromLatin1(expect)), qPrintable(QStringLiteral("expected '") +
                                                                          QString::fromLatin1(expect) + "', got '" +
                                                                          msg + "'"));
        }
        // Deep nesting and shared-dict blow-ups are refused, not a stack overflow or a hang.
        std::string deep(200000, ']');
        deep += std::string(199999, 'a');
        QVERIFY(read_outcome(make_zip(pickle({deep}))).contains(QStringLiteral("nested")));
        std::string bomb = "}";
        for (int k = 0; k < 40; ++k) bomb += B("q\x00}(X\x01\0\0\0ah\x00X\x01\0\0\0bh\x00u");
        const QString msg = read_outcome(make_zip(pickle({bomb})));
        QVERIFY2(msg.contains(QStringLiteral("dict entries")), qPrintable(msg));
        // A 1 MiB key set in 300 short-lived dicts: each dict's index would copy it (300 MiB
        // and more from a 1 MiB file); the copies share one budget.
        const auto str = [](const std::string& v) { // BINUNICODE
            const uint32_t n = uint32_t(v.size());
            return "X" + std::string(reinterpret_cast<const char*>(&n), 4) + v;
        };
        std::string copies = str(std::string(1 << 20, 'k')) + B("q\x00");
        for (int k = 0; k < 300; ++k) copies += B("}h\x00Ns0");
        const QString keys = read_outcome(make_zip(pickle({copies + "N"})));
        QVERIFY2(keys.contains(QStringLiteral("dict keys of more than 256 MiB")), qPrintable(keys));
        // Shared dicts 21 deep with two 4 KB keys: 2^21 entries stay under the entry cap, but
        // their dotted names would take ~180 GB.
        const std::string a(4096, 'a'), b(4096, 'b');
        std::string names = "}(" + str(a) + tensor_ops(4, 0, 4, 1) + "u";
        for (int k = 0; k < 21; ++k) names += B("q\x00}(") + str(a) + B("h\x00") + str(b) + B("h\x00u");
        const QString long_names = read_outcome(make_zip(pickle({names}), storage));
        QVERIFY2(long_names.contains(QStringLiteral("MiB of names")), qPrintable(long_names));
        // Not a zip, or a TorchScript archive.
        QVERIFY(read_outcome(std::vector<char>{'P', 'K', 3, 4, 'x'}).size() > 0);
        QVERIFY(read_outcome(make_zip(pickle({"N"}), {{"constants.pkl", pickle({")"})}})).contains(QStringLiteral("TorchScript")));
    }

    void recordsClaimingMoreThanTheFileAllocateNothing() {
        // The zip directory says how big each record is, and libtorch's reader allocates that
        // before reading: a 1 KB file whose "version" record claims 1.8 GB (found by
        // fuzz_torch_zip; tests/data/fuzz/torch_zip/record-claims-1.8-gb) is refused first.
        const std::vector<std::pair<std::string, std::string>> storage = {{"data/0", kFourFloats}};
        std::vector<char> zip = make_zip(tensor_pickle(4, 0, 4, 1), storage);
        QCOMPARE(read_outcome(zip), QString());
        const auto claim = [](std::vector<char> z, const std::string& record, uint16_t method, uint32_t size) {
            for (size_t at = 0; at + 46 < z.size(); ++at) {
                if (std::memcmp(z.data() + at, "PK\1\2", 4) != 0) continue;
                uint16_t name_len = 0;
                std::memcpy(&name_len, z.data() + at + 28, 2);
                const std::string name(z.data() + at + 46, name_len);
                if (name.size() < record.size() || name.compare(name.size() - record.size(), record.size(), record) != 0)
                    continue;
                std::memcpy(z.data() + at + 10, &method, 2);
                std::memcpy(z.data() + at + 24, &size, 4);
            }
            return z;
        };
        const QString stored = read_outcome(claim(zip, "/version", 0, 1802201963u));
        QVERIFY2(stored.contains(QStringLiteral("version' claims 1802201963 bytes from 2 stored")), qPrintable(stored));
        // Deflate expands at most 1032 times: 16 bytes cannot become 1 MB.
        const QString deflated = read_outcome(claim(zip, "data/0", 8, 1u << 20));
        QVERIFY2(deflated.contains(QStringLiteral("claims 1048576 bytes from 16")), qPrintable(deflated));
        QVERIFY(read_outcome(claim(zip, "data/0", 12, 16)).contains(QStringLiteral("compression method 12")));
    }

    void mutatedPicklesNeverCrash() {
        // Every truncation and many byte changes of a real data.pkl: each read works or ends in
        // a gafx::Error; nothing else may escape (and nothing may crash).
        caffe2::serialize::PyTorchStreamReader reader(fixture("torch_zip_mixed.pt"));
        std::vector<std::pair<std::string, std::string>> storages;
        std::string pkl;
        for (const auto& name : reader.getAllRecords()) {
            auto [ptr, size] = reader.getRecord(name);
            std::string data(static_cast<const char*>(ptr.get()), size);
            if (name == "data.pkl") pkl = data;
            else if (name.compare(0, 5, "data/") == 0) storages.emplace_back(name, data);
        }
        QVERIFY(pkl.size() > 1000);
        QCOMPARE(read_outcome(make_zip(pkl, storages)), QString());
        int errors = 0, tries = 0;
        for (size_t cut = 0; cut < pkl.size(); cut += 7, ++tries)
            errors += !read_outcome(make_zip(pkl.substr(0, cut), storages)).isEmpty();
        for (size_t at = 0; at < pkl.size(); ++at)
            for (const int value : {0x00, 0x7f, 0xff, (static_cast<unsigned char>(pkl[at]) + 1) & 0xff}) {
                std::string bad = pkl;
                bad[at] = char(value);
                const QString msg = read_outcome(make_zip(bad, storages));
                QVERIFY2(!msg.startsWith(QStringLiteral("WRONG PATH")), qPrintable(msg));
                ++tries;
            }
        QVERIFY(errors > 0);
        qInfo("%d damaged variants read without a crash", tries);
    }
};

QTEST_GUILESS_MAIN(TestTorchZip)
#include "test_torch_zip.moc"
