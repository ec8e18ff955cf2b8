#pragma once
// A run's (or a group of runs') track-level confusion matrix from stored predictions, and what
// each cell holds: the tracks behind a count, with their true class, prediction, confidence and
// per-clip probabilities, so a researcher can go from "blues taken for jazz 4 times" to the four
// recordings. Counts and track lists come from one pass, so a cell lists exactly its count.
#include "data/catalog.h"
#include "store/run_store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gafx::experiments {

// One test track as one run classified it.
struct TrackOutcome {
    int64_t run = 0, track = 0;
    std::string key;       // the track's key in its dataset ("blues/blues.00000.wav")
    int true_class = -1, predicted = -1;
    double confidence = 0; // the predicted class's probability, averaged over the clips
    std::vector<std::vector<float>> clip_probabilities; // [clip][class], clips in stored order
};

struct Confusion {
    int64_t run = 0, selected_epoch = 0; // one run: the predictions are the test side's at the epoch chosen on val
    std::vector<int64_t> runs;           // every run counted (one for a single run)
    std::vector<std::string> classes;          // display names, in class-index order
    std::vector<std::vector<int64_t>> counts;  // [true][predicted] tracks, summed over `runs`
    int64_t tracks = 0;                        // (run, track) pairs counted
    double track_accuracy = 0;
    int64_t unmatched = 0; // predicted clips of tracks the dataset no longer holds (re-imported since)
    std::vector<TrackOutcome> outcomes; // one per counted (run, track), by run then track id
};

// The predictions averaged per track (clip probabilities, then arg-max, the first class on a
// tie, as evaluation counts) against each track's class in `dataset`. `source` names what errors
// are about (the database). Throws gafx::Error when there are no predictions, the dataset is
// multi-label, or its class count differs.
Confusion confusion_matrix(const data::Catalog& dataset, const std::vector<store::Prediction>& predictions,
                           const std::string& source, int64_t run = 0);
// The run's predictions (test, at the epoch selected on val) against its dataset as stored now.
// Throws gafx::Error when the run, its dataset or its predictions are missing, or as confusion_matrix.
Confusion load_confusion(store::RunStore& store, int64_t run);
// The same through a connection of its own (for worker threads).
Confusion load_confusion(const std::string& db_path, int64_t run);
// Several runs summed cell by cell (seeds of one configuration, a group): each run's test tracks
// count once per run (a run named twice, once). Throws gafx::Error naming the run when one cannot be counted or the runs
// are on different datasets.
Confusion load_confusion(const std::string& db_path, const std::vector<int64_t>& runs);

// The outcomes in cell [true_class][predicted], the most confident first (then by run, track).
std::vector<const TrackOutcome*> cell_tracks(const Confusion& c, int true_class, int predicted);

} // namespace gafx::experiments
