#include "weights/catalog.h"

#include "core/error.h"
#include "core/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace gafx::weights {
namespace {

bool fits(const Entry& e, Role role, const std::string& model) {
    return e.role == role && std::find(e.fits.begin(), e.fits.end(), model) != e.fits.end();
}

} // namespace

const char* to_string(Role r) { return r == Role::Classifier ? "classifier" : "extractor"; }

const std::vector<Entry>& builtin_entries() {
    // Hashes: the whole SHA-256 where it is on record; for DeiT-Tiny only the prefix that its
    // file name publishes (torch.hub's check_hash convention).
    static const std::vector<Entry> e = {
        {"deit-tiny", "deit", Role::Classifier, {"ast-tiny"},
         "ImageNet-1k DeiT-Tiny, distilled (Touvron et al. 2021): the AST-Tiny classifier's starting point",
         "https://dl.fbaipublicfiles.com/deit/deit_tiny_distilled_patch16_224-b40b3cf7.pth",
         "deit_tiny_distilled_patch16_224-b40b3cf7.pth", "b40b3cf7", 0, "Apache-2.0"},
        {"deit-small", "deit", Role::Classifier, {"ast-small"},
         "ImageNet-1k DeiT-Small, distilled (Touvron et al. 2021): the AST-Small classifier's starting point",
         "https://dl.fbaipublicfiles.com/deit/deit_small_distilled_patch16_224-649709d9.pth",
         "deit_small_distilled_patch16_224-649709d9.pth",
         "649709d94f9fd790ea86c16f99d788e709b86a1f64315a19d887895f9948fb09", 89795170, "Apache-2.0"},
        {"hdemucs-high", "hdemucs", Role::Extractor, {"gafx-u"},
         "Hybrid Demucs trained on MUSDB-HQ plus extra data (torchaudio's HDEMUCS_HIGH_MUSDB_PLUS): GAFX-U's "
         "starting point",
         "https://download.pytorch.org/torchaudio/models/hdemucs_high_trained.pt", "hdemucs_high_trained.pt",
         "a004b2790d73ffeaa535db458a1a79b539dfdbafbccc31f275d07e632ebd7816", 334697255,
         "MIT (Demucs), published by torchaudio (BSD-2-Clause)"},
    };
    return e;
}

std::string default_dir() {
    const char* xdg = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    if (xdg && *xdg) return (fs::path(xdg) / "gafx" / "weights").string();
    if (home && *home) return (fs::path(home) / ".local" / "share" / "gafx" / "weights").string();
    throw Error({}, "neither XDG_DATA_HOME nor HOME is set, so there is no folder for pretrained weights",
                "set HOME (or XDG_DATA_HOME)");
}

std::vector<Entry> list_entries(const std::string& dir) {
    std::vector<Entry> out = builtin_entries();
    const fs::path index = fs::path(dir) / "added.json";
    std::error_code ec;
    if (!fs::exists(index, ec)) return out;
    try {
        std::ifstream in(index);
        const auto j = nlohmann::json::parse(in);
        for (const auto& a : j.at("entries")) {
            Entry e;
            e.name = a.at("name").get<std::string>();
            e.role = a.at("role").get<std::string>() == "extractor" ? Role::Extractor : Role::Classifier;
            e.fits = a.at("fits").get<std::vector<std::string>>();
            e.description = a.value("description", std::string());
            e.file_name = a.at("file_name").get<std::string>();
            e.sha256 = a.at("sha256").get<std::string>();
            e.size = a.at("size").get<int64_t>();
            e.licence = a.value("licence", std::string());
            e.builtin = false;
            if (e.file_name.find('/') != std::string::npos || e.file_name.empty() || e.file_name[0] == '.')
                throw std::runtime_error("file_name '" + e.file_name + "' is not a plain file name");
            out.push_back(std::move(e));
        }
    } catch (const std::exception& e) {
        throw Error(index.string(), std::string("the index of added weights is unreadable: ") + e.what(),
                    "move it aside and add the files again with gafx weights add");
    }
    return out;
}

const Entry* find_entry(const std::vector<Entry>& entries, const std::string& name) {
    for (const auto& e : entries)
        if (e.name == name) return &e;
    return nullptr;
}

std::string entry_path(const Entry& e, const std::string& dir) { return (fs::path(dir) / e.file_name).string(); }

bool is_file_value(const std::string& value) {
    if (value.find('/') != std::string::npos) return true;
    for (const char* ext : {".pt", ".pth", ".th", ".bin", ".safetensors", ".ckpt"}) {
        const std::string x = ext;
        if (value.size() > x.size() && value.compare(value.size() - x.size(), x.size(), x) == 0) return true;
    }
    return false;
}

const Entry* entry_for(const std::vector<Entry>& entries, const std::string& value, Role role,
                       const std::string& model) {
    if (is_file_value(value)) return nullptr;
    if (const Entry* e = find_entry(entries, value)) return fits(*e, role, model) ? e : nullptr;
    for (const auto& e : entries)
        if (e.family == value && fits(e, role, model)) return &e;
    return nullptr;
}

std::string resolve(const std::string& value, Role role, const std::string& model, const std::string& dir) {
    const std::string key = std::string(to_string(role)) + "_weights";
    if (is_file_value(value)) {
        std::error_code ec;
        if (!fs::is_regular_file(value, ec))
            throw Error(value, key + " names a file that does not exist",
                        "give the path of a .safetensors or .pt file, or a name from gafx weights list");
        return value;
    }
    const std::string folder = dir.empty() ? default_dir() : dir;
    const std::vector<Entry> entries = list_entries(folder);
    const Entry* e = entry_for(entries, value, role, model);
    if (!e) {
        std::vector<std::string> fitting;
        for (const auto& x : entries)
            if (fits(x, role, model)) fitting.push_back(x.name);
        const Entry* other = find_entry(entries, value);
        const std::string reason =
            other ? "weights '" + value + "' are for the " + to_string(other->role) + " " + join(other->fits) + ", not " + model
                  : "no weights named '" + value + "' (" + key + ")";
        throw Error({}, reason,
                    fitting.empty() ? "no listed weights fit " + model + ": give a file, or gafx weights add one"
                                    : "for " + model + " use " + join(fitting) + " (see gafx weights list)");
    }
    const std::string path = entry_path(*e, folder);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw Error(path, "weights '" + e->name + "' (" + key + " for " + model + ") are not on this machine",
                    e->builtin ? "run: gafx weights fetch " + e->name
                               : "add the file again: gafx weights add FILE --name " + e->name);
    return path;
}

} // namespace gafx::weights
