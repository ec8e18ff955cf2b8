#pragma once
// What the Runs page computes from stored runs, away from any widget: per-epoch curves from a
// run's metric rows, the mean ± std band of several runs' curves, and a run's track-level
// confusion matrix from its stored predictions. The loaders open their own RunStore, so the
// page can run them on a worker thread while the GUI keeps its own connection.
#include "store/run_store.h"

#include <QStringList>
#include <QVector>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gafx::app {

struct Series {
    QVector<double> x, y;
};

// Per epoch: test track accuracy and the train loss (the epoch's mean, `epoch_loss`).
struct RunCurves {
    Series track_accuracy, train_loss;
};
RunCurves epoch_curves(const std::vector<store::MetricRow>& rows);
// Reads the runs' metrics through a connection of its own. Throws gafx::Error.
std::map<int64_t, RunCurves> load_curves(const std::string& db_path, const std::vector<int64_t>& runs);

// Per x present in any series: the mean and the sample std (n - 1; NaN with one value) of the
// series that have a point there.
struct Band {
    QVector<double> x, mean, std;
};
Band mean_band(const std::vector<const Series*>& series);

struct Confusion {
    QStringList classes;                       // display names, in class-index order
    std::vector<std::vector<int64_t>> counts;  // [true][predicted] tracks
    int64_t tracks = 0;
    double track_accuracy = 0;
    int64_t unmatched = 0; // predicted clips of tracks the dataset no longer holds (re-imported since)
};
// The run's best-epoch predictions averaged per track, arg-max, against each track's class in
// the run's dataset. Throws gafx::Error when the run, its dataset or its predictions are
// missing, or the dataset is multi-label.
Confusion load_confusion(const std::string& db_path, int64_t run);

} // namespace gafx::app
