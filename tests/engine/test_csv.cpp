// The CSV reader behind the AudioSet (and other) importers: quoting, AudioSet's ", "
// separators, comments, line numbers in errors.
#include "core/error.h"
#include "data/csv.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace gafx;
using namespace gafx::data;

namespace {
using Fields = std::vector<std::string>;

} // namespace

class TestCsv : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void quotedFieldsHoldCommasQuotesAndNewlines() {
        const auto rows = parse_csv("a,\"b, c\",\"say \"\"hi\"\"\"\r\n1,\"two\nlines\",3\r\nlast,,\n", "x.csv");
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(rows[0].fields, (Fields{"a", "b, c", "say \"hi\""}));
        QCOMPARE(rows[1].fields, (Fields{"1", "two\nlines", "3"}));
        QCOMPARE(rows[2].fields, (Fields{"last", "", ""}));
        QCOMPARE(rows[0].line, 1);
        QCOMPARE(rows[1].line, 2);
        QCOMPARE(rows[2].line, 4); // the quoted newline moved it down
    }

    void audiosetRowsTrimAndSkipComments() {
        const std::string text = "\xEF\xBB\xBF# Segments csv created Sun Mar  5 10:54:31 2017\n"
                                 "# YTID, start_seconds, end_seconds, positive_labels\n"
                                 "\n"
                                 "--PJHxphWEs, 30.000, 40.000, \"/m/09x0r,/t/dd00088\"\n"
                                 "  \n"
                                 "--ZhevVpy1s, 50.000, 60.000, \"/m/012xff\" \r\n";
        const auto rows = parse_csv(text, "seg.csv");
        QCOMPARE(rows.size(), size_t(2));
        QCOMPARE(rows[0].fields, (Fields{"--PJHxphWEs", "30.000", "40.000", "/m/09x0r,/t/dd00088"}));
        QCOMPARE(rows[0].line, 4);
        QCOMPARE(rows[1].fields, (Fields{"--ZhevVpy1s", "50.000", "60.000", "/m/012xff"}));
        QCOMPARE(rows[1].line, 6);
    }

    void optionsKeepSpacesCommentsAndBlanks() {
        CsvOptions o;
        o.trim = false;
        o.comment = '\0';
        o.skip_blank = false;
        const auto rows = parse_csv("# not a comment\n a , b\n\n", "x.csv", o);
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(rows[0].fields, (Fields{"# not a comment"}));
        QCOMPARE(rows[1].fields, (Fields{" a ", " b"}));
        QCOMPARE(rows[2].fields, (Fields{""}));
    }

    void noTrailingNewlineStillEndsTheRow() {
        const auto rows = parse_csv("track,group\nblues.00000.wav,7", "groups.csv");
        QCOMPARE(rows.size(), size_t(2));
        QCOMPARE(rows[1].fields, (Fields{"blues.00000.wav", "7"}));
    }

    void unterminatedQuoteNamesFileAndLine() {
        const QString msg = test::error_of([] { parse_csv("a,b\nc,\"open\nmore\n", "lists/bad.csv"); });
        QVERIFY2(msg.contains("lists/bad.csv") && msg.contains("line 2") && msg.contains("unterminated"),
                 qPrintable(msg));
    }

    void textAfterClosingQuoteIsAnError() {
        const QString msg = test::error_of([] { parse_csv("a\n\"b\"c,d\n", "bad.csv"); });
        QVERIFY2(msg.contains("bad.csv") && msg.contains("line 2"), qPrintable(msg));
    }

    void readCsvReadsFilesAndNamesMissingOnes() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath("t.csv");
        test::write_bytes(path, "x,\"y,z\"\n");
        const auto rows = read_csv(path.toStdString());
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows[0].fields, (Fields{"x", "y,z"}));
        const QString missing = tmp.filePath("nope.csv");
        const QString msg = test::error_of([&] { read_csv(missing.toStdString()); });
        QVERIFY2(msg.contains(missing), qPrintable(msg));
    }

    void splitListTrimsAndDropsEmpties() {
        QCOMPARE(split_list("/m/09x0r, /m/04rlf,,"), (Fields{"/m/09x0r", "/m/04rlf"}));
        QCOMPARE(split_list(""), Fields{});
        QCOMPARE(split_list("a;b", ';'), (Fields{"a", "b"}));
    }
};

QTEST_GUILESS_MAIN(TestCsv)
#include "test_csv.moc"
