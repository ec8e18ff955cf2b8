#pragma once
// One vector per track of a run's dataset, for the embedding explorer and `gafx embed`:
// `pooled`, the classifier's pooled token (what its head classifies), or `features`, the model's
// feature map averaged over time (a baseline that needs no classifier). A track's clips are cut
// as evaluation cuts them and averaged, as track accuracy averages their probabilities.
#include "core/feedback.h"
#include "data/catalog.h"
#include "data/split.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gafx::store {
class RunStore;
} // namespace gafx::store

namespace gafx::train {

enum class EmbeddingKind { Pooled, Features };
const char* to_string(EmbeddingKind k); // "pooled" | "features"
std::optional<EmbeddingKind> parse_embedding_kind(const std::string& s);

// What to embed, read from the store up front: computing needs no database, so it can run on a
// worker thread.
struct EmbeddingJob {
    int64_t run = 0;
    std::string config;  // the run's stored RunConfig JSON
    std::string weights; // store::run_paths(...).best
    bool multi_label = false;
    std::vector<std::string> class_names; // the dataset's, by class index
    std::vector<data::Track> tracks;      // valid tracks of the asked subsets, in catalogue order
    std::vector<data::Subset> subsets;    // aligned with tracks: the run's side of each
    std::vector<int> true_class;          // aligned: first label's class index, -1 without one
    std::vector<std::string> skipped;     // keys of tracks on those sides that are no longer valid
};

// `subset`: Train, Val or Test; nullopt: all three (excluded and invalid tracks are on no side).
// The run's own split (k-fold: its fold's). Throws gafx::Error when the run, its dataset or its
// split is not there, or no valid track is on the asked side.
EmbeddingJob embedding_job(store::RunStore& store, int64_t run, std::optional<data::Subset> subset = std::nullopt);

struct Embeddings {
    int64_t run = 0;
    EmbeddingKind kind = EmbeddingKind::Pooled;
    std::vector<int64_t> track_ids;
    std::vector<std::string> track_keys;
    std::vector<int> true_class;      // -1 without a label
    std::vector<int> predicted_class; // arg-max of the clips' mean probabilities
    std::vector<data::Subset> subsets;
    std::vector<std::string> class_names;
    int64_t dim = 0;
    std::vector<float> matrix; // [rows(), dim], row i is track i
    int64_t rows() const { return int64_t(track_ids.size()); }
};

// Loads the run's best weights and runs every track of `job` through the model. Throws
// gafx::Error as load_run_model does (no weights: the run never finished an epoch) and naming the
// audio file that cannot be decoded; Cancelled when `feedback` asks (checked between tracks,
// where progress is reported). `loader_threads` decode ahead.
Embeddings compute_embeddings(const EmbeddingJob& job, EmbeddingKind kind, const Feedback* feedback = nullptr,
                              int loader_threads = 2);

// The files `gafx embed` writes and the explorer exports (docs/formats.md), atomically; throw
// gafx::Error naming the file. FILE.npy -> FILE.tracks.csv beside it.
std::string tracks_csv_path(const std::string& npy_path);
// The matrix as float32 .npy [rows, dim], and one CSV row per matrix row:
// row,run,track_id,track,true_class,predicted_class,subset (class names; empty without a label).
void write_embeddings(const Embeddings& e, const std::string& npy_path, const std::string& csv_path);
// Several runs' (the explorer's panels) stacked in the order given; every part must have the same
// dim (gafx::Error naming the file and both sizes otherwise).
void write_embeddings(const std::vector<const Embeddings*>& parts, const std::string& npy_path,
                      const std::string& csv_path);
// A 2-D layout of `e` (xy: [rows, 2]): row,run,track_id,track,x,y,true_class,predicted_class,subset.
void write_layout_csv(const Embeddings& e, const std::vector<float>& xy, const std::string& path);
// Several runs' layouts, each in its own projection's coordinates, stacked.
void write_layout_csv(const std::vector<const Embeddings*>& parts, const std::vector<const std::vector<float>*>& xys,
                      const std::string& path);

} // namespace gafx::train
