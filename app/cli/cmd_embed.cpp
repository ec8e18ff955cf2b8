// gafx embed: a run's per-track embeddings (train/embeddings.h), optionally laid out in 2-D
// (experiments/projection.h), as the workbench's embedding explorer computes them.
#include "args.h"
#include "commands.h"
#include "progress_line.h"

#include "core/error.h"
#include "core/feedback.h"
#include "experiments/projection.h"
#include "store/run_store.h"
#include "train/embeddings.h"

#include <cstdio>
#include <optional>

namespace gafx::cli {

int cmd_embed(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf(
            "usage: gafx embed RUN --out FILE.npy [--kind pooled|features] [--subset all|train|val|test]\n"
            "                  [--csv FILE.csv] [--project pca|tsne --out2d FILE.csv]\n"
            "                  [--perplexity P] [--iterations N] [--db FILE]\n\n"
            "one embedding per track of the run's dataset, with its best epoch's weights, each track cut\n"
            "into the run's clips as evaluation cuts it and the clips averaged:\n"
            "  pooled    the classifier's pooled token, what its head classifies (default)\n"
            "  features  the run's feature map (mel or learned), averaged over time: a baseline\n"
            "--subset: the side of the run's split (default all: train, val and test; excluded tracks\n"
            "are on none). Writes FILE.npy, float32 [tracks, dim], and FILE.tracks.csv (or --csv):\n"
            "row,run,track_id,track,true_class,predicted_class,subset, one line per matrix row.\n"
            "--project writes a 2-D layout to --out2d: row,run,track_id,track,x,y,true_class,predicted_class,\n"
            "subset. pca: the first two principal axes. tsne: exact t-SNE (O(tracks^2); seconds at 1000\n"
            "tracks), perplexity 30 (--perplexity), 1000 iterations (--iterations), PCA start.\n");
        return 0;
    }
    Args a(argv, {"--db", "--out", "--kind", "--subset", "--csv", "--project", "--out2d", "--perplexity", "--iterations"},
           {});
    a.expect_positional(1, "RUN");
    const int64_t run = parse_run_id(a.positional()[0]);
    const auto out = a.get("--out");
    if (!out) throw UsageError("missing --out FILE.npy");
    const auto kind = train::parse_embedding_kind(a.get_or("--kind", "pooled"));
    if (!kind) throw UsageError("--kind takes pooled or features, not '" + a.get_or("--kind", "") + "'");
    const std::string subset_word = a.get_or("--subset", "all");
    std::optional<data::Subset> subset;
    if (subset_word != "all") {
        subset = data::subset_from_string(subset_word);
        if (*subset != data::Subset::Train && *subset != data::Subset::Val && *subset != data::Subset::Test)
            throw UsageError("--subset takes all, train, val or test, not '" + subset_word + "'");
    }
    const std::string project = a.get_or("--project", "");
    if (!project.empty() && project != "pca" && project != "tsne")
        throw UsageError("--project takes pca or tsne, not '" + project + "'");
    if (project.empty() != !a.has("--out2d"))
        throw UsageError(project.empty() ? "--out2d needs --project pca|tsne" : "--project needs --out2d FILE.csv");
    experiments::TsneOptions tsne;
    tsne.perplexity = a.get_double("--perplexity", tsne.perplexity);
    tsne.iterations = int(a.get_int("--iterations", tsne.iterations));
    if (!(tsne.perplexity > 0) || tsne.iterations <= 0)
        throw UsageError("--perplexity and --iterations must be > 0");

    train::EmbeddingJob job;
    {
        store::RunStore db(workspace_db(a));
        job = train::embedding_job(db, run, subset);
    }
    if (!job.skipped.empty())
        std::fprintf(stderr, "note: %zu track(s) of the run's split are no longer valid and are left out (first: %s)\n",
                     job.skipped.size(), job.skipped.front().c_str());
    train::Embeddings e;
    {
        ProgressLine line("embedding");
        Feedback fb([&](int64_t d, int64_t t, const std::string& item) { line.update(d, t, item); });
        e = train::compute_embeddings(job, *kind, &fb);
        line.finish();
    }
    const std::string csv = a.get_or("--csv", train::tracks_csv_path(*out));
    train::write_embeddings(e, *out, csv);
    std::printf("run %lld: %lld tracks x %lld (%s) -> %s, %s\n", (long long)run, (long long)e.rows(),
                (long long)e.dim, train::to_string(*kind), out->c_str(), csv.c_str());
    if (project.empty()) return 0;

    experiments::Projection p;
    if (project == "pca") {
        p = experiments::pca_2d(e.matrix, e.rows(), e.dim);
    } else {
        ProgressLine line("t-SNE");
        Feedback fb([&](int64_t d, int64_t t, const std::string& item) { line.update(d, t, item); });
        p = experiments::tsne_2d(e.matrix, e.rows(), e.dim, tsne, &fb);
        line.finish();
    }
    const std::string out2d = *a.get("--out2d");
    train::write_layout_csv(e, p.xy, out2d);
    if (project == "pca")
        std::printf("pca: %.1f %% + %.1f %% of the variance -> %s\n", 100 * p.explained[0], 100 * p.explained[1],
                    out2d.c_str());
    else
        std::printf("tsne: perplexity %g, %d iterations, KL %.4f -> %s\n", p.perplexity, tsne.iterations,
                    p.kl_divergence, out2d.c_str());
    return 0;
}

} // namespace gafx::cli
