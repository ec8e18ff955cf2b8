#include "args.h"
#include "commands.h"

#include "core/error.h"
#include "core/text.h"
#include "experiments/experiment.h"
#include "experiments/run_export.h"
#include "experiments/run_filter.h"
#include "store/run_store.h"
#include "train/trainer.h"
#include "workflows/import_runs.h"

#include <cmath>
#include <cstdio>

namespace gafx::cli {
namespace {

std::string pct(double v) {
    if (std::isnan(v)) return "-";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f", 100.0 * v);
    return buf;
}

std::string hms(double s) {
    char buf[32];
    const long t = long(s + 0.5);
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    return buf;
}

int runs_import(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx runs import OTHER.db... [--db FILE] [--link]\n\n"
                    "merges the runs of other workspaces (the shards of gafx train --shard, Slurm tasks, another\n"
                    "machine) into this one, by each run's uuid: importing a file again changes nothing. Runs that\n"
                    "are results (finished, failed, diverged, cancelled, interrupted) come with their metrics,\n"
                    "predictions, tags, note, experiment, dataset (matched by name and content: classes, track keys,\n"
                    "labels, lengths) and split; queued or running ones are skipped. A run that differs from the one\n"
                    "here, or was trained on another dataset of the same name, is a conflict: reported, never\n"
                    "overwritten. Each run's folder (checkpoints, best weights) is found where the trainer finds it,\n"
                    "or in runs/ beside OTHER.db, and copied to runs/ beside this workspace.\n"
                    "Exit 0 when nothing conflicted and every folder came, else 1.\n\n"
                    "  --link      hard-link the run files where the filesystem allows, instead of copying\n"
                    "  --db FILE   the workspace to import into\n");
        return 0;
    }
    Args a(argv, {"--db"}, {"--link"});
    if (a.positional().empty()) throw UsageError("name at least one OTHER.db to import");
    store::RunStore db(workspace_db(a));
    int problems = 0;
    for (const auto& rep : workflows::import_runs(db, a.positional(), a.has("--link"))) {
        const auto lines = workflows::describe(rep);
        for (size_t i = 0; i < lines.size(); ++i) std::printf("%s%s\n", i ? "  " : "", lines[i].c_str());
        problems += workflows::has_problems(rep);
    }
    return problems ? 1 : 0;
}

} // namespace

int cmd_runs(const std::vector<std::string>& argv) {
    if (!argv.empty() && argv[0] == "import") return runs_import({argv.begin() + 1, argv.end()});
    if (wants_help(argv)) {
        std::printf("usage: gafx runs [--where FILTER] [--json] [--db FILE]\n"
                    "       gafx runs import OTHER.db... [--db FILE] [--link]   (see gafx runs import --help)\n\n"
                    "every run of the workspace: id, experiment, status, model, augmentation, pretraining, seed,\n"
                    "device/precision, epochs done, the epoch selected on val, track accuracy (%%) on val and\n"
                    "on test at that epoch, test track accuracy at the last epoch, duration. Nothing is chosen\n"
                    "on test. Runs whose process died (kill -9, power loss) are marked interrupted first.\n"
                    "--json: objects with id, uuid (the run's identity across workspaces), experiment, status,\n"
                    "config, seed, device, precision, epochs_done, epochs, step, dataset_id, split_id,\n"
                    "selected_epoch, val_score (track accuracy or mAP),\n"
                    "val_track_accuracy, test_accuracy and test_track_accuracy (selected epoch),\n"
                    "final_test_accuracy, final_test_track_accuracy, seconds, error (fractions; null before\n"
                    "the first evaluation)\n"
                    "--where: only the runs a filter keeps, the language of the Runs page's search box:\n"
                    "  terms that must all hold; field:value (a,b for either; lo..hi a range), field>x, >=, <, <=,\n"
                    "  !=; -term negates; a bare word must appear in the run. Accuracies are fractions (or %%),\n"
                    "  at the epoch selected on val. e.g. --where 'extractor:gafx-u seed:0..2 test>0.7'\n"
                    "  fields: %s\n",
                    join(experiments::run_filter_fields()).c_str());
        return 0;
    }
    Args a(argv, {"--db", "--where"}, {"--json"});
    a.expect_positional(0, "");
    // Parsed before the workspace opens: a mistyped filter says so without touching anything.
    const experiments::RunFilter filter = experiments::parse_run_filter(a.get_or("--where", ""));
    store::RunStore db(workspace_db(a));
    train::mark_dead_runs_interrupted(db);
    const auto runs = experiments::filter_runs(db.list_runs(), filter);
    if (a.has("--json")) {
        std::printf("%s\n", experiments::runs_json(runs).c_str());
        return 0;
    }
    std::printf("%4s  %-16s %-11s %-18s %-7s %-8s %5s  %-10s %7s  %3s %6s %6s %6s  %-8s %s\n", "id", "experiment", "status",
                "model", "aug", "pretrain", "seed", "device", "epochs", "sel", "val%", "test%", "last%", "time", "tags");
    for (const auto& r : runs) {
        experiments::RunConfig c;
        try {
            c = experiments::parse_run_config(r.config);
        } catch (const std::exception&) {}
        const std::string model = c.extractor + "+" + c.classifier + (c.preset == "small" ? "(s)" : "");
        const std::string aug = c.augmentation ? std::to_string(c.clips_per_track) + "x" +
                                                     std::to_string(int(c.clip_seconds)) + "s"
                                               : "off";
        const std::string dev = r.device.empty() ? "-" : r.device + "/" + r.precision;
        const std::string sel = r.selected_epoch ? std::to_string(r.selected_epoch) : "-";
        std::printf("%4lld  %-16.16s %-11s %-18.18s %-7s %-8.8s %5lld  %-10.10s %3lld/%-3d  %3s %6s %6s %6s  %-8s %s\n",
                    (long long)r.id, r.experiment.c_str(), store::to_string(r.status), model.c_str(), aug.c_str(),
                    c.pretraining.c_str(), (long long)r.seed, dev.c_str(), (long long)r.epochs_done, c.epochs,
                    sel.c_str(), pct(r.val_track_accuracy).c_str(), pct(r.test_track_accuracy).c_str(),
                    pct(r.final_test_track_accuracy).c_str(), hms(r.seconds).c_str(), join(r.tags, ",").c_str());
    }
    for (const auto& r : runs)
        if (!r.error.empty() && r.status != store::RunStatus::Finished)
            std::printf("run %lld %s: %s\n", (long long)r.id, store::to_string(r.status), r.error.c_str());
    return 0;
}

int cmd_cancel(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx cancel RUN [--db FILE]\n\n"
                    "a running run stops after its current step (checkpointed, status cancelled); a queued,\n"
                    "interrupted or paused one is marked cancelled at once. gafx resume can still continue it.\n");
        return 0;
    }
    Args a(argv, {"--db"}, {});
    const int64_t id = run_id_arg(a);
    store::RunStore db(workspace_db(a));
    train::mark_dead_runs_interrupted(db);
    const auto r = existing_run(db, id);
    switch (train::request_cancel(db, id, r.status, "cancelled with gafx cancel")) {
    case train::CancelOutcome::Asked:
        std::printf("asked run %lld (pid %lld on %s) to stop; it does after its current step\n", (long long)id,
                    (long long)r.pid, r.host.c_str());
        break;
    case train::CancelOutcome::Cancelled:
        std::printf("run %lld cancelled\n", (long long)id);
        break;
    case train::CancelOutcome::AlreadyEnded:
        throw Error(db.path(), "run " + std::to_string(id) + " has already ended (" + store::to_string(r.status) + ")");
    }
    return 0;
}

} // namespace gafx::cli
