#include "args.h"
#include "commands.h"
#include "progress_line.h"

#include "core/error.h"
#include "data/audioset.h"
#include "data/audioset_demo.h"
#include "data/demo.h"
#include "data/gtzan.h"
#include "data/split.h"
#include "store/run_store.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

using nlohmann::json;

namespace gafx::cli {
namespace {

const char* kHelp =
    "usage: gafx dataset <verb> [args] [--db FILE]\n"
    "\n"
    "  demo DIR [--kind gtzan|audioset] [--tracks-per-genre N] [--seconds S] [--seed K]\n"
    "      write the synthetic demo dataset (GTZAN layout: 10 genres x N tracks of S seconds;\n"
    "      audioset: a small multi-label set in the release layout)\n"
    "  import gtzan DIR [--name N] [--split 0.8] [--seed K] [--groups FILE.csv]\n"
    "      catalogue <DIR>/<genre>/<track>.<ext> (or its genres_original/), probe every file,\n"
    "      split by track, stratified by genre; --groups keeps each group (song, artist) on one side\n"
    "  import audioset DIR|FILE.json [--name N] [--split 0.8] [--seed K] [--groups FILE.csv]\n"
    "      catalogue an AudioSet release folder (class_labels_indices.csv, segment CSVs, audio\n"
    "      named by YouTube id) or an AST-style JSON list\n"
    "  list [--json]          the datasets in the workspace\n"
    "  show NAME [--json]     tracks, classes, split and every invalid file with its reason\n"
    "\n"
    "--db FILE: the workspace database (default: " ;


void print_help() { std::printf("%s%s)\n", kHelp, store::RunStore::default_path().c_str()); }

int demo(const std::vector<std::string>& argv) {
    Args a(argv, {"--kind", "--tracks-per-genre", "--seconds", "--seed", "--db"}, {});
    a.expect_positional(1, "DIR");
    const std::string dir = a.positional()[0];
    const std::string kind = a.get_or("--kind", "gtzan");
    ProgressLine line("writing demo");
    Feedback fb([&](int64_t d, int64_t t, const std::string& item) { line.update(d, t, item); });
    size_t files = 0;
    if (kind == "gtzan") {
        data::DemoOptions o;
        o.tracks_per_genre = int(a.get_int("--tracks-per-genre", o.tracks_per_genre));
        o.seconds = a.get_double("--seconds", o.seconds);
        o.seed = uint64_t(a.get_int("--seed", int64_t(o.seed)));
        if (o.tracks_per_genre < 1 || !(o.seconds > 0)) throw UsageError("--tracks-per-genre and --seconds must be > 0");
        files = data::write_gtzan_demo(dir, o, &fb).files.size();
    } else if (kind == "audioset") {
        data::AudioSetDemoOptions o;
        o.seconds = a.get_double("--seconds", o.seconds);
        o.seed = uint64_t(a.get_int("--seed", int64_t(o.seed)));
        if (a.has("--tracks-per-genre")) o.clips = int(a.get_int("--tracks-per-genre", o.clips));
        files = data::write_audioset_demo(dir, o, &fb).size();
    } else {
        throw UsageError("--kind must be gtzan or audioset, got '" + kind + "'");
    }
    line.finish();
    std::printf("wrote %zu files to %s\nimport with: gafx dataset import %s %s\n", files, dir.c_str(), kind.c_str(),
                dir.c_str());
    return 0;
}

json show_json(const store::StoredDataset& d) {
    const data::Catalog& c = d.catalog;
    json errors = json::array(), classes = json::object(), per_split = json::object();
    for (const auto& cls : c.classes) {
        classes[cls.display_name] = 0;
        per_split[cls.display_name] = json{{"train", 0}, {"test", 0}};
    }
    std::map<std::string, std::string> name_of;
    for (const auto& cls : c.classes) name_of[cls.id] = cls.display_name;
    for (size_t i = 0; i < c.tracks.size(); ++i) {
        const data::Track& t = c.tracks[i];
        if (t.status != data::TrackStatus::Valid) {
            errors.push_back({{"path", t.path.empty() ? t.key : t.path}, {"status", data::to_string(t.status)},
                              {"error", t.error}});
            continue;
        }
        const data::Subset s = d.split.subset[i];
        for (const auto& l : t.labels) {
            auto it = name_of.find(l);
            if (it == name_of.end()) continue;
            classes[it->second] = classes[it->second].get<int64_t>() + 1;
            if (s == data::Subset::None) continue;
            auto& cell = per_split[it->second][data::to_string(s)];
            cell = cell.get<int64_t>() + 1;
        }
    }
    return json{{"name", c.name},
                {"kind", c.kind},
                {"root", c.root},
                {"multi_label", c.multi_label},
                {"tracks", c.tracks.size()},
                {"valid", c.count(data::TrackStatus::Valid)},
                {"invalid", c.count(data::TrackStatus::Invalid)},
                {"missing", c.count(data::TrackStatus::Missing)},
                {"classes", classes},
                {"classes_by_split", per_split},
                {"split", {{"train", d.split.count(data::Subset::Train)},
                           {"test", d.split.count(data::Subset::Test)},
                           {"seed", d.split.options.seed},
                           {"train_fraction", d.split.options.train_fraction},
                           {"groups_file", d.split.options.groups_file},
                           {"method", d.split.method}}},
                {"errors", errors},
                {"skipped", {{"hidden", c.skipped_hidden}, {"non_audio", c.skipped_non_audio.size()}}},
                {"empty_classes", c.empty_classes},
                {"warnings", c.warnings},
                {"updated_at", d.updated_at}};
}

void print_show(const json& j) {
    std::printf("%s (%s) %s\n", j["name"].get<std::string>().c_str(), j["kind"].get<std::string>().c_str(),
                j["root"].get<std::string>().c_str());
    std::printf("tracks %lld: %lld valid, %lld invalid, %lld missing\n", j["tracks"].get<long long>(),
                j["valid"].get<long long>(), j["invalid"].get<long long>(), j["missing"].get<long long>());
    const json& sp = j["split"];
    std::printf("split: %lld train / %lld test (fraction %.2f, seed %llu%s) - %s\n", sp["train"].get<long long>(),
                sp["test"].get<long long>(), sp["train_fraction"].get<double>(), sp["seed"].get<unsigned long long>(),
                sp["groups_file"].get<std::string>().empty() ? "" : (", groups " + sp["groups_file"].get<std::string>()).c_str(),
                sp["method"].get<std::string>().c_str());
    std::printf("\n%-28s %7s %7s %7s\n", "class", "valid", "train", "test");
    for (auto it = j["classes"].begin(); it != j["classes"].end(); ++it) {
        const json& s = j["classes_by_split"][it.key()];
        std::printf("%-28s %7lld %7lld %7lld\n", it.key().c_str(), it.value().get<long long>(),
                    s["train"].get<long long>(), s["test"].get<long long>());
    }
    if (!j["errors"].empty()) {
        std::printf("\nnot usable (%zu):\n", j["errors"].size());
        for (const json& e : j["errors"])
            std::printf("  [%s] %s: %s\n", e["status"].get<std::string>().c_str(), e["path"].get<std::string>().c_str(),
                        e["error"].get<std::string>().c_str());
    }
    for (const json& w : j["warnings"]) std::printf("warning: %s\n", w.get<std::string>().c_str());
}

int import(const std::vector<std::string>& argv) {
    Args a(argv, {"--name", "--split", "--seed", "--groups", "--db"}, {});
    a.expect_positional(2, "KIND and DIR (gafx dataset import gtzan DIR)");
    const std::string kind = a.positional()[0], src = a.positional()[1];
    if (kind != "gtzan" && kind != "audioset") throw UsageError("import kind must be gtzan or audioset, got '" + kind + "'");
    data::SplitOptions so;
    so.train_fraction = a.get_double("--split", so.train_fraction);
    so.seed = uint64_t(a.get_int("--seed", 0));
    if (!(so.train_fraction > 0 && so.train_fraction < 1)) throw UsageError("--split must be between 0 and 1");

    ProgressLine line("probing");
    Feedback fb([&](int64_t d, int64_t t, const std::string& item) { line.update(d, t, item); });
    data::Catalog catalog = kind == "gtzan"
                                ? data::import_gtzan(src, data::GtzanOptions{a.get_or("--name", "")}, &fb)
                                : data::import_audioset(src, data::AudioSetOptions{a.get_or("--name", "")}, &fb);
    line.finish();

    const int64_t valid = catalog.count(data::TrackStatus::Valid);
    if (valid == 0) {
        std::fprintf(stderr, "gafx: error: %s: no valid audio among %zu tracks; nothing stored\n", src.c_str(),
                     catalog.tracks.size());
        for (const auto& t : catalog.tracks)
            if (!t.error.empty()) std::fprintf(stderr, "  %s: %s\n", (t.path.empty() ? t.key : t.path).c_str(), t.error.c_str());
        return 1;
    }
    data::Groups groups;
    if (auto g = a.get("--groups")) {
        groups = data::read_groups_csv(*g, catalog);
        so.groups_file = *g;
        if (!groups.unmatched.empty())
            std::fprintf(stderr, "warning: %s: %zu row(s) name no track of this dataset (first: %s)\n", g->c_str(),
                         groups.unmatched.size(), groups.unmatched.front().c_str());
    }
    const data::Split split = data::make_split(catalog, so, groups);

    store::RunStore db(workspace_db(a));
    const int64_t id = db.save_catalog(catalog);
    db.save_split(id, catalog, split);

    std::printf("imported '%s' (%s): %zu tracks, %lld valid, %lld invalid, %lld missing, %zu classes\n",
                catalog.name.c_str(), kind.c_str(), catalog.tracks.size(), (long long)valid,
                (long long)catalog.count(data::TrackStatus::Invalid), (long long)catalog.count(data::TrackStatus::Missing),
                catalog.classes.size());
    std::printf("split: %lld train / %lld test (%s, seed %llu)\n", (long long)split.count(data::Subset::Train),
                (long long)split.count(data::Subset::Test), split.method.c_str(), (unsigned long long)so.seed);
    if (!catalog.skipped_non_audio.empty() || catalog.skipped_hidden)
        std::printf("skipped: %zu non-audio, %lld hidden\n", catalog.skipped_non_audio.size(),
                    (long long)catalog.skipped_hidden);
    for (const auto& t : catalog.tracks)
        if (t.status == data::TrackStatus::Invalid)
            std::printf("invalid: %s: %s\n", t.path.c_str(), t.error.c_str());
    if (const int64_t missing = catalog.count(data::TrackStatus::Missing))
        std::printf("missing audio for %lld segment(s): see gafx dataset show %s\n", (long long)missing,
                    catalog.name.c_str());
    for (const auto& w : catalog.warnings) std::printf("warning: %s\n", w.c_str());
    std::printf("database: %s\n", db.path().c_str());
    return 0;
}

int list(const std::vector<std::string>& argv) {
    Args a(argv, {"--db"}, {"--json"});
    a.expect_positional(0, "");
    store::RunStore db(workspace_db(a));
    const auto all = db.list_datasets();
    if (a.has("--json")) {
        json out = json::array();
        for (const auto& d : all)
            out.push_back({{"name", d.name}, {"kind", d.kind}, {"root", d.root}, {"tracks", d.tracks},
                           {"valid", d.valid}, {"invalid", d.invalid}, {"missing", d.missing},
                           {"classes", d.classes}, {"split", {{"train", d.train}, {"test", d.test}}},
                           {"updated_at", d.updated_at}});
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    if (all.empty()) {
        std::printf("no datasets in %s (import one with: gafx dataset import gtzan DIR)\n", db.path().c_str());
        return 0;
    }
    std::printf("%-20s %-9s %7s %7s %7s %7s %7s %7s\n", "name", "kind", "tracks", "valid", "invalid", "missing", "train",
                "test");
    for (const auto& d : all)
        std::printf("%-20s %-9s %7lld %7lld %7lld %7lld %7lld %7lld\n", d.name.c_str(), d.kind.c_str(),
                    (long long)d.tracks, (long long)d.valid, (long long)d.invalid, (long long)d.missing,
                    (long long)d.train, (long long)d.test);
    return 0;
}

int show(const std::vector<std::string>& argv) {
    Args a(argv, {"--db"}, {"--json"});
    a.expect_positional(1, "NAME");
    store::RunStore db(workspace_db(a));
    const auto d = db.load_dataset(a.positional()[0]);
    if (!d) {
        std::fprintf(stderr, "gafx: error: no dataset named '%s' in %s (see gafx dataset list)\n",
                     a.positional()[0].c_str(), db.path().c_str());
        return 1;
    }
    const json j = show_json(*d);
    if (a.has("--json"))
        std::printf("%s\n", j.dump(2).c_str());
    else
        print_show(j);
    return 0;
}

} // namespace

int cmd_dataset(const std::vector<std::string>& argv) {
    if (argv.empty()) throw UsageError("missing verb (demo, import, list, show)");
    if (wants_help(argv)) {
        print_help();
        return 0;
    }
    const std::string verb = argv[0];
    const std::vector<std::string> rest(argv.begin() + 1, argv.end());
    if (verb == "demo") return demo(rest);
    if (verb == "import") return import(rest);
    if (verb == "list") return list(rest);
    if (verb == "show") return show(rest);
    throw UsageError("unknown verb '" + verb + "'");
}

} // namespace gafx::cli
