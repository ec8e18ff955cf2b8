#include "store/run_notes.h"

#include "core/error.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>

namespace gafx::store {

std::string normalise_tag(const std::string& tag) {
    size_t b = 0, e = tag.size();
    while (b < e && std::isspace(static_cast<unsigned char>(tag[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(tag[e - 1]))) --e;
    std::string out = tag.substr(b, e - b);
    if (out.empty()) throw Error("tag", "an empty tag", "give a word such as good or baseline");
    if (out.size() > kMaxTagLength)
        throw Error("tag", "'" + out.substr(0, kMaxTagLength) + "...' is longer than " + std::to_string(kMaxTagLength) +
                               " characters");
    for (char& c : out) {
        c = char(std::tolower(static_cast<unsigned char>(c)));
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' || c == '-' ||
                        c == '/';
        if (!ok || static_cast<unsigned char>(c) >= 0x80)
            throw Error("tag", "'" + out + "' holds '" + std::string(1, c) + "'",
                        "tags take letters, digits and . _ + - / (no spaces: they separate tags)");
    }
    return out;
}

std::vector<std::string> parse_tag_list(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (size_t i = 0; i <= text.size(); ++i) {
        const char c = i < text.size() ? text[i] : ',';
        if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
            if (!cur.empty()) out.push_back(normalise_tag(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (out.empty()) throw Error("tag", "no tags given", "e.g. good,baseline");
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> shared_tags(const std::vector<std::vector<std::string>>& tags_per_run) {
    if (tags_per_run.empty()) return {};
    std::vector<std::string> out = tags_per_run.front();
    std::sort(out.begin(), out.end());
    for (size_t i = 1; i < tags_per_run.size(); ++i) {
        std::vector<std::string> other = tags_per_run[i], both;
        std::sort(other.begin(), other.end());
        std::set_intersection(out.begin(), out.end(), other.begin(), other.end(), std::back_inserter(both));
        out = std::move(both);
    }
    return out;
}

TagChanges tag_changes(const std::vector<std::string>& shared, const std::string& typed) {
    bool blank = true;
    for (char c : typed) blank = blank && (c == ',' || std::isspace(static_cast<unsigned char>(c)));
    const std::vector<std::string> now = blank ? std::vector<std::string>{} : parse_tag_list(typed);
    std::vector<std::string> before = shared;
    std::sort(before.begin(), before.end());
    TagChanges c;
    std::set_difference(now.begin(), now.end(), before.begin(), before.end(), std::back_inserter(c.add));
    std::set_difference(before.begin(), before.end(), now.begin(), now.end(), std::back_inserter(c.remove));
    return c;
}

void check_note(const std::string& note) {
    if (note.size() > kMaxNoteBytes)
        throw Error("note", "a note of " + std::to_string(note.size()) + " bytes; at most " +
                                std::to_string(kMaxNoteBytes / 1024) + " KiB are kept",
                    "shorten it, or keep the long text in a file and note its path");
    // UTF-8: every lead byte followed by its continuation bytes, no overlong forms or surrogates.
    for (size_t i = 0; i < note.size();) {
        const auto u = [&](size_t k) { return static_cast<unsigned char>(note[k]); };
        const unsigned char c = u(i);
        size_t n = 0;
        uint32_t cp = 0;
        if (c < 0x80) n = 0, cp = c;
        else if ((c & 0xe0) == 0xc0) n = 1, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) n = 2, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) n = 3, cp = c & 0x07;
        else throw Error("note", "not UTF-8 text (byte " + std::to_string(i) + ")", "save the text as UTF-8");
        for (size_t k = 1; k <= n; ++k) {
            if (i + k >= note.size() || (u(i + k) & 0xc0) != 0x80)
                throw Error("note", "not UTF-8 text (byte " + std::to_string(i) + ")", "save the text as UTF-8");
            cp = (cp << 6) | (u(i + k) & 0x3f);
        }
        const bool overlong = (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
        if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            throw Error("note", "not UTF-8 text (byte " + std::to_string(i) + ")", "save the text as UTF-8");
        i += n + 1;
    }
}

} // namespace gafx::store
