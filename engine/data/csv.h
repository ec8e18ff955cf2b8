#pragma once
// A small RFC 4180 reader for the lists importers take (AudioSet segment and class lists, a
// `track,group` file): quoted fields with "" escapes and embedded commas or newlines, CRLF or
// LF, a UTF-8 BOM. Every row keeps the line it started on so errors can point at it. Writers
// (reports, run exports) quote their fields with csv_field.
#include <string>
#include <vector>

namespace gafx::data {

struct CsvRow {
    int line = 0; // 1-based line the record starts on
    std::vector<std::string> fields;
};

struct CsvOptions {
    // AudioSet writes ", " between fields; spaces around unquoted fields and before an
    // opening quote are dropped (Python's skipinitialspace, plus the trailing side).
    bool trim = true;
    // Records whose first character is this are skipped; '\0' keeps every record.
    char comment = '#';
    bool skip_blank = true;
};

// Throws gafx::Error naming `source` and the line on an unterminated quote or text after a
// closing quote.
std::vector<CsvRow> parse_csv(const std::string& text, const std::string& source,
                              const CsvOptions& options = {});

// Reads the file and parses it; throws gafx::Error naming the file when it cannot be read.
std::vector<CsvRow> read_csv(const std::string& path, const CsvOptions& options = {});

// One field as a writer puts it in a record: quoted (with "" escapes) only when it holds a
// comma, a quote or a line break.
std::string csv_field(const std::string& s);

// "a, b,,c" -> {"a", "b", "c"}: a list packed into one field (AudioSet's label lists).
std::vector<std::string> split_list(const std::string& field, char sep = ',');

} // namespace gafx::data
