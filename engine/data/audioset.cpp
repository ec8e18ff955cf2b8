#include "data/audioset.h"

#include "audio/audio_file.h"
#include "core/error.h"
#include "data/csv.h"
#include "data/scan.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace gafx::data {
namespace {

constexpr const char* kClassFile = "class_labels_indices.csv";
constexpr const char* kClassFix =
    "use class_labels_indices.csv from the AudioSet release: header index,mid,display_name";

void check_cancel(const Feedback* feedback) {
    throw_if_cancelled(feedback);
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string absolute_root(const std::string& given) {
    std::string s = fs::absolute(given).lexically_normal().string();
    while (s.size() > 1 && s.back() == fs::path::preferred_separator) s.pop_back();
    return s;
}

std::string at_line(int line) { return "line " + std::to_string(line) + ": "; }

// Locale-free on purpose: a Qt host sets LC_NUMERIC from the user, and "30,000" is not 30.
std::optional<double> parse_number(const std::string& s) {
    double v = 0;
    const char* end = s.data() + s.size();
    const auto r = std::from_chars(s.data(), end, v);
    if (r.ec != std::errc() || r.ptr != end || !std::isfinite(v)) return std::nullopt;
    return v;
}

// Keys and file names use the shortest faithful spelling: 30.000 -> "30", 12.5 -> "12.5".
std::string format_seconds(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
}

std::vector<ClassInfo> read_class_list(const std::string& path) {
    const std::vector<CsvRow> rows = read_csv(path);
    if (rows.empty()) throw Error(path, "the class list is empty", kClassFix);
    int col_index = -1, col_mid = -1, col_name = -1;
    const auto& header = rows[0].fields;
    for (size_t i = 0; i < header.size(); ++i) {
        const std::string h = lower(header[i]);
        if (h == "index") col_index = int(i);
        if (h == "mid") col_mid = int(i);
        if (h == "display_name") col_name = int(i);
    }
    if (col_index < 0 || col_mid < 0 || col_name < 0)
        throw Error(path, at_line(rows[0].line) + "expected the header index,mid,display_name", kClassFix);

    std::vector<std::pair<long long, ClassInfo>> indexed;
    std::set<long long> seen_index;
    std::set<std::string> seen_mid;
    for (size_t r = 1; r < rows.size(); ++r) {
        const CsvRow& row = rows[r];
        if (row.fields.size() != header.size())
            throw Error(path,
                        at_line(row.line) + "expected " + std::to_string(header.size()) + " columns, found " +
                            std::to_string(row.fields.size()),
                        "quote display names that contain commas");
        const std::string& idx = row.fields[size_t(col_index)];
        long long index = 0;
        const auto res = std::from_chars(idx.data(), idx.data() + idx.size(), index);
        if (res.ec != std::errc() || res.ptr != idx.data() + idx.size())
            throw Error(path, at_line(row.line) + "index '" + idx + "' is not a whole number", kClassFix);
        ClassInfo c{row.fields[size_t(col_mid)], row.fields[size_t(col_name)]};
        if (c.id.empty()) throw Error(path, at_line(row.line) + "empty mid", kClassFix);
        if (!seen_index.insert(index).second)
            throw Error(path, at_line(row.line) + "index " + idx + " is listed twice", kClassFix);
        if (!seen_mid.insert(c.id).second)
            throw Error(path, at_line(row.line) + "mid " + c.id + " is listed twice", kClassFix);
        if (c.display_name.empty()) c.display_name = c.id;
        indexed.emplace_back(index, std::move(c));
    }
    if (indexed.empty()) throw Error(path, "the class list names no class", kClassFix);
    std::stable_sort(indexed.begin(), indexed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<ClassInfo> out;
    for (auto& [i, c] : indexed) out.push_back(std::move(c));
    return out;
}

// Drops labels the class list does not know and remembers them for one warning per mid: a
// partial class list against the full unbalanced CSV would otherwise mean thousands of lines.
class LabelFilter {
public:
    LabelFilter(const std::vector<ClassInfo>& classes, std::string class_file)
        : class_file_(std::move(class_file)) {
        for (const auto& c : classes) known_.insert(c.id);
    }

    std::vector<std::string> keep(const std::vector<std::string>& labels, const std::string& where) {
        std::vector<std::string> out;
        for (const auto& l : labels) {
            if (known_.count(l)) {
                if (std::find(out.begin(), out.end(), l) == out.end()) out.push_back(l);
                continue;
            }
            auto it = unknown_.find(l);
            if (it == unknown_.end()) {
                order_.push_back(l);
                unknown_[l] = {where, 1};
            } else {
                ++it->second.second;
            }
        }
        return out;
    }

    void report(std::vector<std::string>& warnings) const {
        for (const auto& mid : order_) {
            const auto& [where, n] = unknown_.at(mid);
            std::string w = "label " + mid + " (" + where;
            if (n > 1) w += ", and " + std::to_string(n - 1) + " more";
            warnings.push_back(w + ") is not in " + class_file_ + "; dropped");
        }
    }

private:
    std::string class_file_;
    std::set<std::string> known_;
    std::vector<std::string> order_;
    std::map<std::string, std::pair<std::string, int64_t>> unknown_;
};

// ---- release folder ---------------------------------------------------------------------

struct Segment {
    std::string ytid;
    double start = 0, end = 0;
    std::vector<std::string> labels;
    std::string origin; // CSV stem
    std::string where;  // "eval_segments.csv line 4", for warnings
};

constexpr const char* kSegmentFix =
    "rows are YTID, start_seconds, end_seconds, \"mid,mid\" as in the AudioSet release";

std::vector<Segment> read_segments(const fs::path& csv) {
    const std::string path = csv.string();
    const std::string origin = csv.stem().string();
    std::vector<Segment> out;
    for (const CsvRow& row : read_csv(path)) {
        if (row.fields.size() == 4 && lower(row.fields[0]) == "ytid") continue; // uncommented header
        if (row.fields.size() != 4)
            throw Error(path,
                        at_line(row.line) + "expected 4 columns, found " + std::to_string(row.fields.size()),
                        kSegmentFix);
        Segment s;
        s.ytid = row.fields[0];
        if (s.ytid.empty()) throw Error(path, at_line(row.line) + "empty YTID", kSegmentFix);
        const auto start = parse_number(row.fields[1]);
        const auto end = parse_number(row.fields[2]);
        if (!start || *start < 0)
            throw Error(path, at_line(row.line) + "start_seconds '" + row.fields[1] + "' is not a number",
                        kSegmentFix);
        if (!end || *end < *start)
            throw Error(path,
                        at_line(row.line) + "end_seconds '" + row.fields[2] +
                            "' is not a number at or after start_seconds",
                        kSegmentFix);
        s.start = *start;
        s.end = *end;
        s.labels = split_list(row.fields[3]);
        s.origin = origin;
        s.where = csv.filename().string() + " line " + std::to_string(row.line);
        out.push_back(std::move(s));
    }
    return out;
}

struct AudioFile {
    fs::path path;
    std::string top_folder; // first folder below the root, "" for files in the root
    bool used = false;
};

// One way a file's name can spell a YTID: its whole stem, or the stem less a numeric
// `_<start>[_<end>]` tail, which is kept to tell a YTID's segments apart.
struct NameMatch {
    size_t file = 0;
    std::optional<double> start; // none when the whole stem is the YTID
};

class AudioIndex {
public:
    void add(size_t file, const std::string& stem) {
        by_name_[stem].push_back({file, std::nullopt});
        std::string base = stem;
        for (int i = 0; i < 2; ++i) {
            const size_t us = base.rfind('_');
            if (us == std::string::npos || us == 0) break;
            const auto v = parse_number(base.substr(us + 1));
            if (!v || *v < 0) break;
            base.erase(us);
            by_name_[base].push_back({file, v});
        }
    }

    // The whole-stem spelling wins: a YTID may itself end in "_<digits>".
    std::vector<NameMatch> candidates(const std::string& ytid) const {
        std::map<size_t, NameMatch> found;
        for (const std::string& k : {ytid, "Y" + ytid})
            if (const auto it = by_name_.find(k); it != by_name_.end())
                for (const NameMatch& m : it->second) {
                    auto [slot, fresh] = found.emplace(m.file, m);
                    if (!fresh && !m.start) slot->second = m;
                }
        std::vector<NameMatch> out;
        for (const auto& [f, m] : found) out.push_back(m);
        return out;
    }

private:
    std::map<std::string, std::vector<NameMatch>> by_name_;
};

bool start_matches(double named, double start) {
    // 30, 30.000 and 30000 (milliseconds) all name the segment that starts at 30 s.
    return std::fabs(named - start) < 1e-3 || std::fabs(named / 1000.0 - start) < 1e-3;
}

// eval/ for eval_segments, balanced_train/ for balanced_train_segments.
bool folder_hint(const AudioFile& f, const std::string& origin) {
    return !f.top_folder.empty() && origin.compare(0, f.top_folder.size(), f.top_folder) == 0;
}

std::optional<size_t> pick_file(const Segment& s, bool ytid_unique, const AudioIndex& index,
                                const std::vector<AudioFile>& files) {
    std::optional<size_t> best;
    int best_rank = 99;
    for (const NameMatch& m : index.candidates(s.ytid)) {
        const AudioFile& a = files[m.file];
        if (a.used) continue;
        int rank;
        if (m.start && start_matches(*m.start, s.start)) rank = 0;
        else if (!m.start) rank = 2;
        else if (ytid_unique) rank = 4; // an odd start spelling still names the only segment
        else continue;
        if (!folder_hint(a, s.origin)) ++rank;
        if (rank < best_rank) best_rank = rank, best = m.file;
    }
    return best;
}

Catalog import_folder(const fs::path& root, Catalog c, const Feedback* feedback) {
    const fs::path class_file = root / kClassFile;
    if (!fs::is_regular_file(class_file))
        throw Error(root.string(), std::string("no ") + kClassFile,
                    "put the release's class_labels_indices.csv in this folder");
    c.classes = read_class_list(class_file.string());

    std::vector<fs::path> csvs;
    for (const auto& e : fs::directory_iterator(root)) {
        const fs::path& p = e.path();
        if (is_hidden(p) || !e.is_regular_file() || lower(p.extension().string()) != ".csv") continue;
        if (p.filename() != kClassFile) csvs.push_back(p);
    }
    if (csvs.empty())
        throw Error(root.string(), "no segment CSV",
                    "add balanced_train_segments.csv, eval_segments.csv or unbalanced_train_segments.csv "
                    "from the AudioSet release");
    std::sort(csvs.begin(), csvs.end(),
              [](const fs::path& a, const fs::path& b) { return a.stem().string() < b.stem().string(); });

    std::vector<Segment> segments;
    for (const fs::path& csv : csvs) {
        check_cancel(feedback);
        auto more = read_segments(csv);
        segments.insert(segments.end(), std::make_move_iterator(more.begin()),
                        std::make_move_iterator(more.end()));
    }

    FolderScan scan = scan_audio_files(root, root);
    for (const auto& r : scan.refused) c.warnings.push_back(r);
    c.skipped_hidden += scan.hidden;
    for (const std::string& p : scan.non_audio) {
        const fs::path path(p);
        const bool listing = path.parent_path() == root && lower(path.extension().string()) == ".csv";
        if (!listing) c.skipped_non_audio.push_back(p);
    }
    check_cancel(feedback);
    std::vector<AudioFile> files;
    for (const fs::path& p : scan.audio) {
        const fs::path rel = p.lexically_relative(root);
        files.push_back({p, rel.has_parent_path() ? rel.begin()->string() : std::string(), false});
    }
    AudioIndex index;
    for (size_t i = 0; i < files.size(); ++i) index.add(i, files[i].path.stem().string());

    std::map<std::string, std::set<double>> starts;
    for (const Segment& s : segments) starts[s.ytid].insert(s.start);

    LabelFilter filter(c.classes, kClassFile);
    std::map<std::string, std::string> listed; // key -> where it was first listed
    const int64_t total = static_cast<int64_t>(segments.size());
    for (int64_t i = 0; i < total; ++i) {
        check_cancel(feedback);
        const Segment& s = segments[size_t(i)];
        const bool unique = starts[s.ytid].size() == 1;
        Track t;
        t.key = unique ? s.ytid : s.ytid + "_" + format_seconds(s.start);
        const auto [prev, fresh] = listed.emplace(t.key, s.where);
        if (!fresh) {
            c.warnings.push_back("segment " + t.key + " (" + s.where + ") is already listed in " +
                                 prev->second + "; the repeat is skipped");
            if (feedback) feedback->progress(i + 1, total, t.key);
            continue;
        }
        t.labels = filter.keep(s.labels, s.where);
        t.start_seconds = s.start;
        t.end_seconds = s.end;
        t.origin = s.origin;
        if (const auto f = pick_file(s, unique, index, files)) {
            files[*f].used = true;
            t.path = files[*f].path.string();
            probe_track(t);
        } else {
            t.status = TrackStatus::Missing;
            t.error = "no audio file for " + s.ytid + " in " + root.string();
        }
        if (feedback) feedback->progress(i + 1, total, t.path.empty() ? t.key : t.path);
        c.tracks.push_back(std::move(t));
    }

    filter.report(c.warnings);
    std::vector<std::string> orphans;
    for (const AudioFile& f : files)
        if (!f.used) orphans.push_back(f.path.lexically_relative(root).generic_string());
    if (!orphans.empty()) {
        std::string w = std::to_string(orphans.size()) + " audio file(s) match no listed segment, e.g.";
        for (size_t i = 0; i < orphans.size() && i < 3; ++i) w += " " + orphans[i];
        c.warnings.push_back(w);
    }
    return c;
}

// ---- AST JSON list ------------------------------------------------------------------------

constexpr const char* kJsonFix = R"(expected {"data": [{"wav": "path", "labels": "/m/xx,/m/yy"}, ...]})";

Catalog import_json(const fs::path& file, Catalog c, const Feedback* feedback) {
    const std::string path = file.string();
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(path, "cannot open the file", "check it exists and is readable");
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) { // also out_of_range: a number like 1e310
        throw Error(path, std::string("malformed JSON: ") + e.what(), kJsonFix);
    }
    if (!doc.is_object() || !doc.contains("data")) throw Error(path, "no \"data\" list", kJsonFix);
    const nlohmann::json& data = doc["data"];
    if (!data.is_array()) throw Error(path, "data: expected a list", kJsonFix);

    const fs::path base = file.parent_path();
    std::optional<fs::path> class_file;
    for (const fs::path& dir : {base, base.parent_path()})
        if (fs::is_regular_file(dir / kClassFile)) {
            class_file = dir / kClassFile;
            break;
        }
    // The dataset's folder: where its class list is (the list's folder or its parent), else the
    // list's own. Every listed path must resolve below it.
    std::error_code base_ec;
    const fs::path top = class_file ? class_file->parent_path() : base;
    fs::path real_base = fs::canonical(top, base_ec);
    if (base_ec) real_base = top;
    if (class_file) c.classes = read_class_list(class_file->string());
    LabelFilter filter(c.classes, class_file ? class_file->string() : "");
    std::set<std::string> seen_mids;

    std::set<std::string> seen_keys;
    const int64_t total = static_cast<int64_t>(data.size());
    for (int64_t i = 0; i < total; ++i) {
        check_cancel(feedback);
        const std::string at = "data[" + std::to_string(i) + "]";
        const nlohmann::json& item = data[size_t(i)];
        if (!item.is_object()) throw Error(path, at + ": expected an object", kJsonFix);
        if (!item.contains("wav") || !item["wav"].is_string() || item["wav"].get<std::string>().empty())
            throw Error(path, at + ".wav: expected the audio file's path", kJsonFix);
        std::vector<std::string> labels;
        const auto lit = item.find("labels");
        if (lit != item.end() && lit->is_string()) {
            labels = split_list(lit->get<std::string>());
        } else if (lit != item.end() && lit->is_array()) {
            for (size_t j = 0; j < lit->size(); ++j) {
                if (!(*lit)[j].is_string())
                    throw Error(path, at + ".labels[" + std::to_string(j) + "]: expected a mid string", kJsonFix);
                labels.push_back((*lit)[j].get<std::string>());
            }
        } else {
            throw Error(path, at + ".labels: expected a comma-separated string of mids", kJsonFix);
        }

        Track t;
        t.key = item["wav"].get<std::string>();
        if (!seen_keys.insert(t.key).second) {
            c.warnings.push_back(path + ": " + at + ": " + t.key + " is listed twice; the repeat is skipped");
            continue;
        }
        if (class_file) {
            t.labels = filter.keep(labels, file.filename().string() + " " + at);
        } else {
            for (const auto& l : labels) {
                if (seen_mids.insert(l).second) c.classes.push_back({l, l});
                if (std::find(t.labels.begin(), t.labels.end(), l) == t.labels.end()) t.labels.push_back(l);
            }
        }
        t.origin = file.stem().string();
        const fs::path wav = fs::path(t.key).is_absolute() ? fs::path(t.key) : (base / t.key).lexically_normal();
        std::error_code ec;
        const fs::path real = fs::weakly_canonical(wav, ec);
        if (ec || !is_within(real, real_base)) {
            // A list may only point below its own folder: a hostile one would have gafx open any file.
            t.status = TrackStatus::Invalid;
            t.error = wav.string() + " is outside the dataset's folder " + real_base.string() +
                      " (the list's, or its parent's with class_labels_indices.csv): keep the audio below it";
        } else if (fs::exists(wav)) {
            t.path = wav.string();
            probe_track(t);
        } else {
            t.status = TrackStatus::Missing;
            t.error = "no audio file " + wav.string();
        }
        if (feedback) feedback->progress(i + 1, total, wav.string());
        c.tracks.push_back(std::move(t));
    }
    filter.report(c.warnings);
    return c;
}

} // namespace

Catalog import_audioset(const std::string& dir_or_json, const AudioSetOptions& options,
                        const Feedback* feedback) {
    constexpr const char* fix = "give the AudioSet folder (with class_labels_indices.csv) or an AST JSON list";
    if (dir_or_json.empty()) throw Error("", "no AudioSet folder or JSON list given", fix);
    const fs::path root = absolute_root(dir_or_json);
    if (!fs::exists(root)) throw Error(root.string(), "no such folder or file", fix);
    const bool is_dir = fs::is_directory(root);
    if (!is_dir && lower(root.extension().string()) != ".json") throw Error(root.string(), "not a folder or a .json list", fix);

    Catalog c;
    c.kind = "audioset";
    c.multi_label = true;
    c.root = root.string();
    c.name = !options.name.empty() ? options.name : is_dir ? root.filename().string() : root.stem().string();
    try {
        return is_dir ? import_folder(root, std::move(c), feedback) : import_json(root, std::move(c), feedback);
    } catch (const fs::filesystem_error& e) {
        // Callers handle gafx::Error only; an unreadable folder mid-scan must read like the rest.
        throw Error(e.path1().empty() ? root.string() : e.path1().string(), e.code().message(),
                    "check the folder is readable");
    }
}

} // namespace gafx::data
