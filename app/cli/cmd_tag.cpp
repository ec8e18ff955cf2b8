// gafx tag and gafx note: a researcher's labels and free text on runs, kept in the workspace.
#include "args.h"
#include "commands.h"

#include "core/error.h"
#include "experiments/run_filter.h"
#include "store/run_notes.h"
#include "store/run_store.h"

#include <cstdio>
#include <fstream>
#include <iterator>

namespace gafx::cli {

int cmd_tag(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx tag TAGS RUN... [--remove] [--db FILE]\n"
                    "       gafx tag TAGS --where FILTER [--remove] [--db FILE]\n"
                    "       gafx tag --list [--db FILE]\n\n"
                    "adds (or with --remove takes off) tags on runs: TAGS is one or more words joined by commas\n"
                    "(good,baseline); a tag takes letters, digits and . _ + - /, is stored in lower case and is\n"
                    "found with tag:NAME in gafx runs --where and the Runs page. --where tags every run a filter\n"
                    "keeps. --list: every tag in use with its number of runs.\n");
        return 0;
    }
    Args a(argv, {"--db", "--where"}, {"--remove", "--list"});
    if (a.has("--list")) {
        a.expect_positional(0, "");
        store::RunStore db(workspace_db(a));
        for (const auto& [tag, n] : db.tag_counts()) std::printf("%-24s %lld\n", tag.c_str(), (long long)n);
        return 0;
    }
    if (a.positional().empty()) throw UsageError("give the tags, then the runs (gafx tag good 3 4)");
    const std::vector<std::string> tags = store::parse_tag_list(a.positional()[0]);
    std::vector<int64_t> ids;
    for (size_t i = 1; i < a.positional().size(); ++i) ids.push_back(parse_run_id(a.positional()[i]));
    const auto where = a.get("--where");
    if (where && !ids.empty()) throw UsageError("give run ids or --where, not both");
    if (!where && ids.empty()) throw UsageError("which runs? give their ids or --where FILTER");
    const experiments::RunFilter filter = experiments::parse_run_filter(where.value_or(""));
    store::RunStore db(workspace_db(a));
    if (where)
        for (const auto& r : experiments::filter_runs(db.list_runs(), filter)) ids.push_back(r.id);
    const bool remove = a.has("--remove");
    db.tag_runs(ids, remove ? std::vector<std::string>{} : tags, remove ? tags : std::vector<std::string>{});
    std::printf("%s %zu run%s\n", remove ? "untagged" : "tagged", ids.size(), ids.size() == 1 ? "" : "s");
    return 0;
}

int cmd_note(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx note RUN [TEXT | --file FILE | --clear] [--db FILE]\n\n"
                    "prints a run's note, or sets it: TEXT as given, or a UTF-8 text file's contents (at most\n"
                    "64 KiB); --clear empties it. Notes are exported with the runs and their words found by\n"
                    "gafx runs --where.\n");
        return 0;
    }
    Args a(argv, {"--db", "--file"}, {"--clear"});
    if (a.positional().empty() || a.positional().size() > 2) throw UsageError("give a run id, then the note");
    const int64_t id = parse_run_id(a.positional()[0]);
    const auto file = a.get("--file");
    const bool set_text = a.positional().size() == 2;
    if (int(set_text) + int(bool(file)) + int(a.has("--clear")) > 1)
        throw UsageError("give the note as TEXT, --file or --clear, one of them");
    std::string note;
    if (file) {
        std::ifstream in(*file, std::ios::binary);
        if (!in) throw Error(*file, "cannot open", "check the path");
        // Read no more than the limit allows (and one byte to tell it was longer).
        note.resize(store::kMaxNoteBytes + 1);
        in.read(note.data(), std::streamsize(note.size()));
        note.resize(size_t(in.gcount()));
        try {
            store::check_note(note);
        } catch (const Error& e) {
            throw Error(*file, e.reason(), e.fix());
        }
    } else if (set_text) {
        note = a.positional()[1];
    }
    store::RunStore db(workspace_db(a));
    if (!set_text && !file && !a.has("--clear")) {
        const auto r = db.run(id);
        if (!r) throw Error(db.path(), "no run " + std::to_string(id) + " in this workspace", "see gafx runs");
        if (!r->note.empty()) std::printf("%s\n", r->note.c_str());
        return 0;
    }
    db.set_run_note(id, note);
    return 0;
}

} // namespace gafx::cli
