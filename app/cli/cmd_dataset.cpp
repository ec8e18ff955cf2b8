#include "args.h"
#include "commands.h"
#include "progress_line.h"

#include "core/error.h"
#include "core/feedback.h"
#include "store/run_store.h"
#include "workflows/demo_dataset.h"
#include "workflows/import_dataset.h"

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
    workflows::DemoRequest r;
    r.dir = a.positional()[0];
    r.kind = a.get_or("--kind", "gtzan");
    if (r.kind != "gtzan" && r.kind != "audioset") throw UsageError("--kind must be gtzan or audioset, got '" + r.kind + "'");
    if (a.has("--tracks-per-genre")) r.tracks = int(a.get_int("--tracks-per-genre", 0));
    if (a.has("--seconds")) r.seconds = a.get_double("--seconds", 0);
    r.seed = uint64_t(a.get_int("--seed", 0));
    if (r.kind == "gtzan" && ((r.tracks && *r.tracks < 1) || (r.seconds && !(*r.seconds > 0))))
        throw UsageError("--tracks-per-genre and --seconds must be > 0");
    ProgressLine line("writing demo");
    Feedback fb([&](int64_t d, int64_t t, const std::string& item) { line.update(d, t, item); });
    const size_t files = workflows::write_demo(r, &fb).size();
    line.finish();
    std::printf("wrote %zu files to %s\nimport with: gafx dataset import %s %s\n", files, r.dir.c_str(), r.kind.c_str(),
                r.dir.c_str());
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
    workflows::ImportRequest r;
    r.kind = a.positional()[0];
    r.source = a.positional()[1];
    r.name = a.get_or("--name", "");
    if (r.kind != "gtzan" && r.kind != "audioset") throw UsageError("import kind must be gtzan or audioset, got '" + r.kind + "'");
    r.split.train_fraction = a.get_double("--split", r.split.train_fraction);
    r.split.seed = uint64_t(a.get_int("--seed", 0));
    r.split.groups_file = a.get_or("--groups", "");
    if (!(r.split.train_fraction > 0 && r.split.train_fraction < 1)) throw UsageError("--split must be between 0 and 1");

    store::RunStore db(workspace_db(a));
    ProgressLine line("probing");
    Feedback fb([&](int64_t d, int64_t t, const std::string& item) { line.update(d, t, item); });
    workflows::ImportReport rep;
    try {
        rep = workflows::import_dataset(db, r, &fb);
    } catch (const workflows::NoValidAudio& e) {
        line.finish();
        std::fprintf(stderr, "gafx: error: %s: %s\n", e.path().c_str(), e.reason().c_str());
        for (const auto& t : e.tracks())
            if (!t.error.empty()) std::fprintf(stderr, "  %s: %s\n", t.path.c_str(), t.error.c_str());
        return 1;
    }
    line.finish();
    // The groups file's warning on stderr, as soon as known; the catalogue's with the summary.
    const size_t catalog_warnings = rep.warnings.size() - (rep.unmatched_group_rows.empty() ? 0 : 1);
    if (!rep.unmatched_group_rows.empty()) std::fprintf(stderr, "warning: %s\n", rep.warnings.back().c_str());

    std::printf("imported '%s' (%s): %lld tracks, %lld valid, %lld invalid, %lld missing, %lld classes\n",
                rep.dataset.c_str(), rep.kind.c_str(), (long long)rep.tracks, (long long)rep.valid,
                (long long)rep.invalid, (long long)rep.missing, (long long)rep.classes);
    std::printf("split: %lld train / %lld test (%s, seed %llu)\n", (long long)rep.train, (long long)rep.test,
                rep.split_method.c_str(), (unsigned long long)rep.split.seed);
    if (rep.skipped_non_audio || rep.skipped_hidden)
        std::printf("skipped: %lld non-audio, %lld hidden\n", (long long)rep.skipped_non_audio,
                    (long long)rep.skipped_hidden);
    for (const auto& t : rep.invalid_tracks) std::printf("invalid: %s: %s\n", t.path.c_str(), t.error.c_str());
    if (rep.missing)
        std::printf("missing audio for %lld segment(s): see gafx dataset show %s\n", (long long)rep.missing,
                    rep.dataset.c_str());
    for (size_t i = 0; i < catalog_warnings; ++i) std::printf("warning: %s\n", rep.warnings[i].c_str());
    std::printf("database: %s\n", rep.database.c_str());
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
