#pragma once
// The Runs page's search box and `gafx runs --where`: one language, parsed and applied here.
//
//   extractor:gafx-u seed:0..2 test>0.7 -status:failed lr<=1e-4 classifier:ast-tiny,ast-small rock
//
// Terms separated by spaces must all hold. `field:value` is equality (text case-insensitively;
// `a,b` any of them; `lo..hi` an inclusive numeric range, either end optional), `field=value`
// the same, `!=`, `<`, `<=`, `>`, `>=` compare numbers. A leading `-` negates a term. A bare word
// must appear in the run's text (experiment, status, device, config values, error, tags,
// note) ignoring case. Values with spaces are quoted: experiment:"my grid".
//
// Fields: every key of a run's config (dataset, extractor, lr, batch_size, mixup, crop, ...,
// defaults filled in), and id, experiment, status, device, precision, host, seed, epochs_done,
// tag (any of the run's tags), selected (the epoch chosen on val), seconds, and the
// figures at the val-selected epoch: val (val track accuracy), test (test track accuracy;
// `acc` is the same), f1 (test macro-F1), and final (test track accuracy at the last epoch).
// Accuracies are fractions; a value above 1 is read as a percentage (test>70 is test>0.7).
// A run without the value (not evaluated yet) fails a term on it, and passes its negation.
#include "store/run_store.h"

#include <string>
#include <vector>

namespace gafx::experiments {

struct FilterTerm {
    enum class Op { Word, Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual, Range };
    bool negate = false;
    Op op = Op::Word;
    std::string field;              // empty for a bare word
    std::vector<std::string> texts; // Word, Equal, NotEqual: the word or the alternatives, lower case
    double low = 0, high = 0;       // the number compared with; Range: both ends (inclusive)
    std::string source;             // the term as typed, for messages
};

struct RunFilter {
    std::vector<FilterTerm> terms;
    bool empty() const { return terms.empty(); }
};

// Throws gafx::Error (path "filter") naming the term and what is wrong: an unknown field (the
// fix lists the known ones), a number that is not one, a comparison on a text field, an
// unclosed quote.
RunFilter parse_run_filter(const std::string& text);

// The names a filter may use, sorted: the run fields above and every config key.
const std::vector<std::string>& run_filter_fields();

// One run as the filter sees it; built once per run, then matched against any filter.
class FilterableRun {
public:
    explicit FilterableRun(const store::RunRecord& run);
    bool matches(const RunFilter& filter) const;

private:
    struct Value {
        std::string text; // lower case
        double number;    // NaN when not a number
        bool present = false;
    };
    Value value(const std::string& field) const;
    bool term_holds(const FilterTerm& term) const;

    std::vector<std::pair<std::string, Value>> fields_; // sorted by name
    std::vector<std::string> tags_;                     // lower case
    std::string haystack_;                              // lower case, for bare words
};

std::vector<store::RunRecord> filter_runs(const std::vector<store::RunRecord>& runs, const RunFilter& filter);

} // namespace gafx::experiments
