#include "core/error.h"
#include "data/csv.h"
#include "data/split.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace gafx::data {

Groups read_groups_csv(const std::string& path, const Catalog& catalog) {
    const std::vector<CsvRow> rows = read_csv(path);
    if (rows.empty()) throw Error(path, "empty groups file", "write a header `track,group` and one row per track");
    int track_col = -1, group_col = -1;
    for (size_t i = 0; i < rows[0].fields.size(); ++i) {
        if (rows[0].fields[i] == "track") track_col = int(i);
        if (rows[0].fields[i] == "group") group_col = int(i);
    }
    if (track_col < 0 || group_col < 0)
        throw Error(path, "line 1: the header must name the columns `track` and `group`",
                    "e.g. `track,group` then `blues.00000.wav,artist-17`");

    // A row may name a track by key, by file name, or by file name without extension.
    std::map<std::string, std::string> alias;
    for (const Track& t : catalog.tracks) {
        const fs::path p(t.key);
        alias.emplace(t.key, t.key);
        alias.emplace(p.filename().string(), t.key);
        alias.emplace(p.stem().string(), t.key);
    }
    Groups g;
    for (size_t r = 1; r < rows.size(); ++r) {
        const CsvRow& row = rows[r];
        if (row.fields.size() <= size_t(std::max(track_col, group_col)))
            throw Error(path, "line " + std::to_string(row.line) + ": expected columns track and group, got " +
                                  std::to_string(row.fields.size()) + " field(s)",
                        "every row needs a track and a group");
        const std::string& track = row.fields[size_t(track_col)];
        const std::string& group = row.fields[size_t(group_col)];
        if (group.empty())
            throw Error(path, "line " + std::to_string(row.line) + ": empty group for track '" + track + "'");
        auto it = alias.find(track);
        if (it == alias.end()) {
            g.unmatched.push_back(track);
            continue;
        }
        g.by_key[it->second] = group;
    }
    return g;
}

} // namespace gafx::data
