#pragma once
// Putting weights on this machine: `fetch` downloads a catalogue entry (resumable, the hash
// checked before the file is kept), `add` takes a copy someone already has (checked to load).
#include "core/error.h"
#include "weights/catalog.h"

#include <cstdint>
#include <functional>
#include <string>

namespace gafx::weights {

// A file whose SHA-256 is not the published one: both are fields, for a front end to show.
class HashMismatch : public Error {
public:
    HashMismatch(const std::string& path, const std::string& expected, const std::string& found, const std::string& fix);
    const std::string& expected() const noexcept { return expected_; }
    const std::string& found() const noexcept { return found_; }

private:
    std::string expected_, found_;
};

struct FetchOptions {
    std::string mirror; // a folder URL holding the file under its own name, instead of entry.url
    std::function<void(int64_t have, int64_t total)> progress;
    long stall_seconds = 30;
};

struct FetchResult {
    std::string path;
    std::string sha256;
    int64_t size = 0;
    bool already_there = false; // present and checked; nothing downloaded
    bool resumed = false;
};

// Downloads `e` into `dir` (created) through `<file>.part`: a failed transfer keeps the part
// file and the next call resumes it. The whole file is then checked against e.size and
// e.sha256; a mismatch removes the part file and throws HashMismatch. Only a checked file is
// renamed into place. A file already in place is checked and kept.
FetchResult fetch(const Entry& e, const std::string& dir, const FetchOptions& options = {});

struct AddResult {
    Entry entry;
    std::string path;
};

// Copies `file` into `dir` as weights named `name` after checking that it loads into the
// paper-size model(s) it is for (AST-Tiny, AST-Small or GAFX-U; found by trying). A built-in
// name takes only a copy with the published hash (an institute mirror of the same file); any
// other name is recorded in the folder's index, added.json. Throws gafx::Error naming the file.
AddResult add(const std::string& file, const std::string& name, const std::string& dir);

} // namespace gafx::weights
