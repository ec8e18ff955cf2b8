#include "args.h"
#include "commands.h"
#include "progress_line.h"

#include "core/text.h"
#include "weights/catalog.h"
#include "weights/install.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

using nlohmann::json;

namespace gafx::cli {
namespace {

std::string mib(int64_t bytes) {
    if (bytes <= 0) return "?";
    char b[32];
    std::snprintf(b, sizeof b, "%.1f MiB", double(bytes) / (1 << 20));
    return b;
}

int list(const Args& a) {
    a.expect_positional(1, "");
    const std::string dir = weights::default_dir();
    const auto entries = weights::list_entries(dir);
    if (a.has("--json")) {
        json out = json::array();
        for (const auto& e : entries) {
            const std::string path = weights::entry_path(e, dir);
            out.push_back({{"name", e.name}, {"family", e.family}, {"role", weights::to_string(e.role)}, {"fits", e.fits},
                           {"description", e.description}, {"url", e.url}, {"size", e.size}, {"sha256", e.sha256},
                           {"licence", e.licence}, {"builtin", e.builtin}, {"path", path},
                           {"present", std::filesystem::is_regular_file(path)}});
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    std::printf("%-14s %-22s %10s  %-5s %s\n", "name", "for", "size", "here", "licence");
    for (const auto& e : entries) {
        const bool here = std::filesystem::is_regular_file(weights::entry_path(e, dir));
        std::printf("%-14s %-22s %10s  %-5s %s\n", e.name.c_str(),
                    (std::string(weights::to_string(e.role)) + " " + join(e.fits, ",")).c_str(), mib(e.size).c_str(),
                    here ? "yes" : "no", e.licence.empty() ? "-" : e.licence.c_str());
        std::printf("    %s\n", e.description.c_str());
        if (!e.url.empty()) std::printf("    %s\n", e.url.c_str());
        std::printf("    sha256 %s%s\n", e.sha256.c_str(), e.sha256.size() < 64 ? "... (published prefix)" : "");
    }
    std::printf("\nfolder: %s\n", dir.c_str());
    return 0;
}

int fetch(const Args& a) {
    a.expect_positional(2, "NAME");
    const std::string name = a.positional()[1];
    const std::string dir = weights::default_dir();
    const auto entries = weights::list_entries(dir);
    const weights::Entry* e = weights::find_entry(entries, name);
    if (!e) {
        std::vector<std::string> names;
        for (const auto& x : entries) names.push_back(x.name);
        throw UsageError("no weights named '" + name + "' (listed: " + join(names) + ")");
    }
    weights::FetchOptions o;
    o.mirror = a.get_or("--mirror", "");
    ProgressLine line("fetching " + name + ":");
    o.progress = [&](int64_t have, int64_t total) {
        line.update(have >> 10, total > 0 ? total >> 10 : (have >> 10) + 1, "KiB");
    };
    const auto r = weights::fetch(*e, dir, o);
    line.finish();
    std::printf("%s: %s (%lld bytes, sha256 %s)%s\n", name.c_str(), r.path.c_str(), (long long)r.size, r.sha256.c_str(),
                r.already_there ? ", already here" : r.resumed ? ", resumed and checked" : ", checked");
    return 0;
}

int add(const Args& a) {
    a.expect_positional(2, "FILE");
    const auto name = a.get("--name");
    if (!name) throw UsageError("missing --name N");
    const auto r = weights::add(a.positional()[1], *name, weights::default_dir());
    std::printf("%s: %s weights for %s, %s\n", r.entry.name.c_str(), weights::to_string(r.entry.role),
                join(r.entry.fits, ",").c_str(), r.path.c_str());
    return 0;
}

} // namespace

int cmd_weights(const std::vector<std::string>& argv) {
    if (wants_help(argv) || argv.empty()) {
        std::printf("usage: gafx weights list [--json]\n"
                    "       gafx weights fetch NAME [--mirror URL]\n"
                    "       gafx weights add FILE --name N\n\n"
                    "pretrained weights that runs name in classifier_weights and extractor_weights: the\n"
                    "paper's ImageNet DeiT-Tiny/Small (AST) and torchaudio's trained Hybrid Demucs (GAFX-U),\n"
                    "kept in $XDG_DATA_HOME/gafx/weights (else ~/.local/share/gafx/weights).\n\n"
                    "list: each entry's name, what it is for, size, whether it is here, licence, URL and\n"
                    "SHA-256 (--json: all of it, with the path).\n"
                    "fetch: downloads NAME (from --mirror URL/FILE_NAME instead of its own URL when given),\n"
                    "resuming an interrupted download; the file is kept only once its SHA-256 (and size)\n"
                    "match the published ones.\n"
                    "add: a copy you already have. Under a listed name it must be the published file (same\n"
                    "SHA-256); under a new name it must load into AST-Tiny, AST-Small or GAFX-U.\n");
        return argv.empty() ? 2 : 0;
    }
    Args a(argv, {"--mirror", "--name"}, {"--json"});
    const std::string verb = a.positional().empty() ? "" : a.positional()[0];
    if (verb == "list") return list(a);
    if (verb == "fetch") return fetch(a);
    if (verb == "add") return add(a);
    throw UsageError("unknown verb '" + verb + "' (list, fetch, add)");
}

} // namespace gafx::cli
