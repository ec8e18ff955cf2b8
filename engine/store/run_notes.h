#pragma once
// The rules for a researcher's tags and notes on runs, shared by `gafx tag`/`gafx note` and the
// Runs page. A tag is a short word the filter language can name (`tag:good`): lower case
// letters, digits and . _ + - /, at most 40 characters; "Good" is stored as "good". A note is
// free UTF-8 text up to 64 KiB.
#include <string>
#include <vector>

namespace gafx::store {

constexpr size_t kMaxTagLength = 40;
constexpr size_t kMaxNoteBytes = 64 * 1024;

// The stored form of `tag` (trimmed, lower case); throws gafx::Error (path "tag") saying which
// character is not allowed, or that it is empty or too long.
std::string normalise_tag(const std::string& tag);

// "good, baseline  paper" -> {"baseline", "good", "paper"}: split on commas and spaces,
// normalised, sorted, without repeats. Throws like normalise_tag; an empty list is an error.
std::vector<std::string> parse_tag_list(const std::string& text);

// The tags several runs all have, sorted.
std::vector<std::string> shared_tags(const std::vector<std::vector<std::string>>& tags_per_run);

// An edit of the tags a selection of runs shares: `shared` is what they all had, `typed` what
// the user left (commas or spaces between tags; may be empty). Tags only some runs had stay as
// they are. Throws like normalise_tag.
struct TagChanges {
    std::vector<std::string> add, remove;
};
TagChanges tag_changes(const std::vector<std::string>& shared, const std::string& typed);

// Throws gafx::Error (path "note") when `note` is longer than kMaxNoteBytes or not UTF-8.
void check_note(const std::string& note);

} // namespace gafx::store
