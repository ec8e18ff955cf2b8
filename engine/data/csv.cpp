#include "data/csv.h"

#include "core/error.h"

#include <fstream>
#include <sstream>

namespace gafx::data {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

class Parser {
public:
    Parser(const std::string& text, const std::string& source, const CsvOptions& o)
        : s_(text), source_(source), o_(o) {
        if (s_.compare(0, 3, "\xEF\xBB\xBF") == 0) i_ = 3;
    }

    std::vector<CsvRow> run() {
        std::vector<CsvRow> rows;
        while (i_ < s_.size()) {
            if (o_.comment != '\0' && s_[i_] == o_.comment) {
                skip_line();
                continue;
            }
            CsvRow row;
            row.line = line_;
            bool more = true;
            while (more) {
                row.fields.push_back(field());
                more = i_ < s_.size() && s_[i_] == ',';
                if (more) ++i_;
            }
            end_of_line();
            const bool blank = row.fields.size() == 1 && row.fields[0].empty();
            if (!(blank && o_.skip_blank)) rows.push_back(std::move(row));
        }
        return rows;
    }

private:
    bool at_eol() const { return i_ >= s_.size() || s_[i_] == '\n' || s_[i_] == '\r'; }

    // Consumes one line break (LF, CRLF or a lone CR) if there is one.
    void end_of_line() {
        if (i_ >= s_.size()) return;
        if (s_[i_] == '\r') ++i_;
        if (i_ < s_.size() && s_[i_] == '\n') ++i_;
        ++line_;
    }

    void skip_line() {
        while (!at_eol()) ++i_;
        end_of_line();
    }

    void skip_spaces() {
        if (o_.trim)
            while (i_ < s_.size() && is_space(s_[i_])) ++i_;
    }

    [[noreturn]] void fail(int line, const std::string& reason) const {
        throw Error(source_, "line " + std::to_string(line) + ": " + reason,
                    "quote fields that hold commas and double any quote inside them");
    }

    std::string field() {
        const size_t start = i_;
        skip_spaces();
        if (i_ < s_.size() && s_[i_] == '"') return quoted();
        // Spaces are kept when the field turns out unquoted and trimming is off.
        if (!o_.trim) i_ = start;
        std::string out;
        while (!at_eol() && s_[i_] != ',') out += s_[i_++];
        if (o_.trim)
            while (!out.empty() && is_space(out.back())) out.pop_back();
        return out;
    }

    std::string quoted() {
        const int opened = line_;
        ++i_;
        std::string out;
        for (;;) {
            if (i_ >= s_.size()) fail(opened, "unterminated quoted field");
            const char c = s_[i_++];
            if (c == '"') {
                if (i_ < s_.size() && s_[i_] == '"') {
                    out += '"';
                    ++i_;
                    continue;
                }
                break;
            }
            if (c == '\n' || (c == '\r' && (i_ >= s_.size() || s_[i_] != '\n'))) ++line_;
            out += c;
        }
        skip_spaces();
        if (!at_eol() && s_[i_] != ',') fail(line_, "unexpected text after a closing quote");
        return out;
    }

    const std::string& s_;
    const std::string& source_;
    const CsvOptions& o_;
    size_t i_ = 0;
    int line_ = 1;
};

} // namespace

std::vector<CsvRow> parse_csv(const std::string& text, const std::string& source,
                              const CsvOptions& options) {
    return Parser(text, source, options).run();
}

std::vector<CsvRow> read_csv(const std::string& path, const CsvOptions& options) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path, "cannot open the file", "check it exists and is readable");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(path, "cannot read the file", "check it is readable");
    return parse_csv(ss.str(), path, options);
}

std::vector<std::string> split_list(const std::string& field, char sep) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= field.size()) {
        size_t end = field.find(sep, pos);
        if (end == std::string::npos) end = field.size();
        size_t a = pos, b = end;
        while (a < b && is_space(field[a])) ++a;
        while (b > a && is_space(field[b - 1])) --b;
        if (b > a) out.push_back(field.substr(a, b - a));
        pos = end + 1;
    }
    return out;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

} // namespace gafx::data
