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
    "  import gtzan DIR [--name N] [SPLIT OPTIONS]\n"
    "      catalogue <DIR>/<genre>/<track>.<ext> (or its genres_original/), probe every file, split\n"
    "  import audioset DIR|FILE.json [--name N] [SPLIT OPTIONS]\n"
    "      catalogue an AudioSet release folder (class_labels_indices.csv, segment CSVs, audio\n"
    "      named by YouTube id) or an AST-style JSON list; eval segments are test, val a seeded\n"
    "      slice of the balanced training segments\n"
    "  split NAME [SPLIT OPTIONS]\n"
    "      a new split of an imported dataset; runs already queued keep the split they were queued on\n"
    "  list [--json]          the datasets in the workspace\n"
    "  show NAME [--json]     tracks, classes, split and every invalid file with its reason\n"
    "\n"
    "SPLIT OPTIONS (by track, stratified by class; a run selects its epoch on val, reports test):\n"
    "  --split random         seeded (default), with --test 0.2 --val 0.1 (val taken from the\n"
    "                         training side)\n"
    "  --split fault-filtered GTZAN's fault-filtered lists (443 train / 197 val / 290 test; the\n"
    "                         other 70 tracks excluded), matched by file name\n"
    "  --split kfold:K        K folds; fold f tests on fold f and validates on fold f+1 (mod K);\n"
    "                         experiments pick folds with \"fold\"\n"
    "  --seed K               the split's seed (0)\n"
    "  --groups FILE.csv      columns track,group: a group (song, artist) never straddles subsets\n"
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

// --split, --test, --val, --seed, --groups: the options import and split share.
data::SplitOptions split_options(const Args& a) {
    data::SplitOptions o;
    try {
        data::parse_split_arg(a.get_or("--split", "random"), o);
    } catch (const Error& e) {
        throw UsageError(e.reason() + " (" + e.fix() + ")");
    }
    o.test_fraction = a.get_double("--test", o.test_fraction);
    o.val_fraction = a.get_double("--val", o.val_fraction);
    o.seed = uint64_t(a.get_int("--seed", 0));
    o.groups_file = a.get_or("--groups", "");
    if (o.kind != data::SplitKind::Random && (a.has("--test") || a.has("--val")))
        throw UsageError("--test and --val are for --split random; " + o.describe_kind() + " fixes its own subsets");
    try {
        data::check_split_options(o);
    } catch (const Error& e) {
        throw UsageError(e.reason() + " (" + e.fix() + ")");
    }
    return o;
}

void print_split(const data::SplitCounts& n, const std::vector<int64_t>& folds, const std::vector<std::string>& missing,
                 const std::string& method, uint64_t seed) {
    if (!folds.empty()) {
        std::string sizes;
        for (int64_t f : folds) sizes += (sizes.empty() ? "" : " ") + std::to_string(f);
        std::printf("split: %zu folds of %s tracks (%s, seed %llu)\n", folds.size(), sizes.c_str(), method.c_str(),
                    (unsigned long long)seed);
    } else {
        std::printf("split: %lld train / %lld val / %lld test, %lld excluded (%s, seed %llu)\n", (long long)n.train,
                    (long long)n.val, (long long)n.test, (long long)n.excluded, method.c_str(), (unsigned long long)seed);
    }
    if (!missing.empty())
        std::printf("warning: %zu track(s) of the published lists are not in this dataset (first: %s)\n",
                    missing.size(), missing.front().c_str());
}

json split_json(const data::Split& split) {
    const data::SplitCounts n = split.counts();
    json j{{"kind", split.options.describe_kind()}, {"train", n.train}, {"val", n.val}, {"test", n.test},
           {"excluded", n.excluded}, {"seed", split.options.seed}, {"groups_file", split.options.groups_file},
           {"method", split.method}, {"missing_listed", split.missing}};
    if (split.options.kind == data::SplitKind::Random) {
        j["test_fraction"] = split.options.test_fraction;
        j["val_fraction"] = split.options.val_fraction;
    }
    if (split.is_kfold()) {
        j["folds"] = split.fold_sizes();
        j["fold_shown"] = 0;
    }
    return j;
}

json show_json(const store::StoredDataset& d) {
    const data::Catalog& c = d.catalog;
    json errors = json::array(), classes = json::object(), per_split = json::object();
    // K-fold: the subsets of fold 0, the folds' sizes beside.
    const data::Split shown = d.split.for_fold(0);
    for (const auto& cls : c.classes) {
        classes[cls.display_name] = 0;
        per_split[cls.display_name] = json{{"train", 0}, {"val", 0}, {"test", 0}, {"excluded", 0}};
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
        const data::Subset s = shown.subset[i];
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
                {"split", split_json(d.split)},
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
    const std::string groups = sp["groups_file"].get<std::string>();
    std::printf("split: %s, %lld train / %lld val / %lld test, %lld excluded (seed %llu%s) - %s\n",
                sp["kind"].get<std::string>().c_str(), sp["train"].get<long long>(), sp["val"].get<long long>(),
                sp["test"].get<long long>(), sp["excluded"].get<long long>(), sp["seed"].get<unsigned long long>(),
                groups.empty() ? "" : (", groups " + groups).c_str(), sp["method"].get<std::string>().c_str());
    if (sp.contains("folds")) std::printf("folds (tracks): %s; the counts are fold 0's\n", sp["folds"].dump().c_str());
    if (!sp["missing_listed"].empty())
        std::printf("listed but not here: %zu (first %s)\n", sp["missing_listed"].size(),
                    sp["missing_listed"][0].get<std::string>().c_str());
    std::printf("\n%-28s %7s %7s %7s %7s %8s\n", "class", "valid", "train", "val", "test", "excluded");
    for (auto it = j["classes"].begin(); it != j["classes"].end(); ++it) {
        const json& s = j["classes_by_split"][it.key()];
        std::printf("%-28s %7lld %7lld %7lld %7lld %8lld\n", it.key().c_str(), it.value().get<long long>(),
                    s["train"].get<long long>(), s["val"].get<long long>(), s["test"].get<long long>(),
                    s["excluded"].get<long long>());
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
    Args a(argv, {"--name", "--split", "--test", "--val", "--seed", "--groups", "--db"}, {});
    a.expect_positional(2, "KIND and DIR (gafx dataset import gtzan DIR)");
    workflows::ImportRequest r;
    r.kind = a.positional()[0];
    r.source = a.positional()[1];
    r.name = a.get_or("--name", "");
    if (r.kind != "gtzan" && r.kind != "audioset") throw UsageError("import kind must be gtzan or audioset, got '" + r.kind + "'");
    r.split = split_options(a);

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
    print_split(rep.counts, rep.fold_sizes, rep.missing_listed, rep.split_method, rep.split.seed);
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
                           {"classes", d.classes},
                           {"split", {{"kind", d.split_kind}, {"folds", d.folds}, {"train", d.train}, {"val", d.val},
                                      {"test", d.test}, {"excluded", d.excluded}}},
                           {"updated_at", d.updated_at}});
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    if (all.empty()) {
        std::printf("no datasets in %s (import one with: gafx dataset import gtzan DIR)\n", db.path().c_str());
        return 0;
    }
    std::printf("%-20s %-9s %7s %7s %7s %7s  %s\n", "name", "kind", "tracks", "valid", "invalid", "missing", "split");
    for (const auto& d : all) {
        const std::string split = d.split_kind == "kfold"
                                      ? std::to_string(d.folds) + " folds of " + std::to_string(d.train) + " tracks"
                                      : d.split_kind + " " + std::to_string(d.train) + "/" + std::to_string(d.val) + "/" +
                                            std::to_string(d.test) + (d.excluded ? " +" + std::to_string(d.excluded) + " excluded" : "");
        std::printf("%-20s %-9s %7lld %7lld %7lld %7lld  %s\n", d.name.c_str(), d.kind.c_str(), (long long)d.tracks,
                    (long long)d.valid, (long long)d.invalid, (long long)d.missing, split.c_str());
    }
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

int split(const std::vector<std::string>& argv) {
    Args a(argv, {"--split", "--test", "--val", "--seed", "--groups", "--db"}, {});
    a.expect_positional(1, "NAME");
    const data::SplitOptions o = split_options(a);
    store::RunStore db(workspace_db(a));
    const workflows::ResplitReport rep = workflows::resplit_dataset(db, a.positional()[0], o);
    for (const auto& w : rep.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    print_split(rep.counts, rep.fold_sizes, rep.missing_listed, rep.split_method, rep.split.seed);
    return 0;
}

} // namespace

int cmd_dataset(const std::vector<std::string>& argv) {
    if (argv.empty()) throw UsageError("missing verb (demo, import, split, list, show)");
    if (wants_help(argv)) {
        print_help();
        return 0;
    }
    const std::string verb = argv[0];
    const std::vector<std::string> rest(argv.begin() + 1, argv.end());
    if (verb == "demo") return demo(rest);
    if (verb == "import") return import(rest);
    if (verb == "split") return split(rest);
    if (verb == "list") return list(rest);
    if (verb == "show") return show(rest);
    throw UsageError("unknown verb '" + verb + "'");
}

} // namespace gafx::cli
