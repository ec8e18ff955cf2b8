#include "weights/install.h"

#include "core/atomic_file.h"
#include "models/ast_weights.h"
#include "models/registry.h"
#include "weights/download.h"
#include "weights/sha256.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace gafx::weights {
namespace {

void make_dir(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(dir, "cannot create the weights folder: " + ec.message(), "check its permissions, or set XDG_DATA_HOME");
}

void check_name(const std::string& name) {
    bool ok = !name.empty() && name.size() <= 64 && std::isalnum(static_cast<unsigned char>(name[0]));
    for (char c : name) ok = ok && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                                   c == '-' || c == '_' || c == '.');
    if (!ok || is_file_value(name))
        throw Error({}, "'" + name + "' cannot name weights",
                    "use lower-case letters, digits, '-', '_' and '.', at most 64, not ending like a file (.pt)");
}

// Copied beside its final place, then renamed: never half a file under a weights name.
void copy_into(const std::string& from, const std::string& to) {
    const std::string tmp = to + ".adding";
    std::error_code ec;
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(tmp, to, ec);
    if (ec) {
        fs::remove(tmp);
        throw Error(to, "could not copy the weights here: " + ec.message(), "check free space and permissions");
    }
}

void write_index(const std::string& dir, const std::vector<Entry>& entries) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : entries) {
        if (e.builtin) continue;
        list.push_back({{"name", e.name}, {"role", to_string(e.role)}, {"fits", e.fits}, {"description", e.description},
                        {"file_name", e.file_name}, {"sha256", e.sha256}, {"size", e.size}, {"licence", e.licence}});
    }
    const std::string text = nlohmann::json{{"entries", list}}.dump(2) + "\n";
    write_file_atomic((fs::path(dir) / "added.json").string(), [&](const auto& write) { write(text.data(), text.size()); });
}

// The paper-size models `file` loads into, by trying each; `why` gets the first refusal.
std::vector<std::string> models_it_fits(const std::string& file, Role& role, std::string& why) {
    std::vector<std::string> fits;
    for (const char* name : {"ast-tiny", "ast-small"}) {
        try {
            models::Ast ast = models::make_classifier(name, 1024, 10, models::Preset::Paper);
            models::load_ast_weights(*ast, file);
            fits.push_back(name);
            role = Role::Classifier;
        } catch (const Error& e) {
            if (why.empty()) why = e.reason();
        }
    }
    if (!fits.empty()) return fits;
    try {
        auto u = models::make_extractor("gafx-u", models::Preset::Paper);
        models::load_extractor_weights(*u, file);
        role = Role::Extractor;
        return {"gafx-u"};
    } catch (const Error& e) {
        if (why.empty()) why = e.reason();
    }
    return {};
}

} // namespace

HashMismatch::HashMismatch(const std::string& path, const std::string& expected, const std::string& found,
                           const std::string& fix)
    : Error(path, "SHA-256 mismatch: expected " + expected + (expected.size() < 64 ? "... (published prefix)" : "") +
                      ", found " + found,
            fix),
      expected_(expected), found_(found) {}

FetchResult fetch(const Entry& e, const std::string& dir, const FetchOptions& options) {
    make_dir(dir);
    const std::string path = entry_path(e, dir), part = path + ".part";
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
        const std::string h = sha256_file(path);
        // A damaged or foreign file stays until a checked download replaces it.
        if (hash_matches(e.sha256, h)) return {path, h, int64_t(fs::file_size(path)), true, false};
    }
    std::string url = e.url;
    if (!options.mirror.empty()) {
        url = options.mirror;
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += "/" + e.file_name;
    }
    if (url.empty())
        throw Error(path, "weights '" + e.name + "' were added by hand and have no download address",
                    "add the file again: gafx weights add FILE --name " + e.name);
    DownloadOptions d;
    d.progress = options.progress;
    d.stall_seconds = options.stall_seconds;
    const DownloadResult got = download(url, part, d);
    const int64_t size = int64_t(fs::file_size(part, ec));
    if (e.size > 0 && size < e.size)
        throw Error(url, "the download stopped at " + std::to_string(size) + " of " + std::to_string(e.size) + " bytes",
                    "run the same command again: it resumes from " + part);
    if (e.size > 0 && size > e.size) {
        fs::remove(part, ec);
        throw Error(url, "the file has " + std::to_string(size) + " bytes; the published one has " + std::to_string(e.size),
                    "it was removed: try again, or another --mirror");
    }
    const std::string h = sha256_file(part);
    if (!hash_matches(e.sha256, h)) {
        fs::remove(part, ec);
        throw HashMismatch(url, e.sha256, h,
                           "the download is damaged or is not the published file; it was removed, nothing was kept: "
                           "run the command again, or use another --mirror");
    }
    fs::rename(part, path, ec);
    if (ec) throw Error(path, "could not move the checked download into place: " + ec.message(), "check permissions");
    return {path, h, size, false, got.resumed};
}

AddResult add(const std::string& file, const std::string& name, const std::string& dir) {
    check_name(name);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw Error(file, "no such file", "give the path of a weights file");
    std::vector<Entry> entries = list_entries(dir);
    const Entry* builtin = find_entry(builtin_entries(), name);
    if (!builtin && find_entry(entries, name))
        throw Error(file, "weights named '" + name + "' were already added",
                    "choose another --name, or remove " + entry_path(*find_entry(entries, name), dir) +
                        " and its entry in added.json first");
    make_dir(dir);
    const std::string h = sha256_file(file);
    if (builtin) {
        if (!hash_matches(builtin->sha256, h))
            throw HashMismatch(file, builtin->sha256, h,
                               "this is not the published " + name + " file: add it under another --name");
        AddResult r{*builtin, entry_path(*builtin, dir)};
        copy_into(file, r.path);
        return r;
    }
    Entry e;
    e.name = name;
    e.builtin = false;
    std::string why;
    e.fits = models_it_fits(file, e.role, why);
    if (e.fits.empty())
        throw Error(file, "these weights load into none of ast-tiny, ast-small and gafx-u (" + why + ")",
                    "add DeiT or AST weights for a classifier, or Hybrid Demucs weights for GAFX-U; a run can still "
                    "name any file in pretrained_weights");
    e.file_name = name + fs::path(file).extension().string();
    e.sha256 = h;
    e.size = int64_t(fs::file_size(file));
    e.description = "added from " + fs::absolute(file).string();
    AddResult r{e, entry_path(e, dir)};
    copy_into(file, r.path);
    entries.push_back(e);
    write_index(dir, entries);
    return r;
}

} // namespace gafx::weights
