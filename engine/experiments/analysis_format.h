#pragma once
// Run analysis (run_analysis.h) as text for `gafx report`: a run's confusion matrix, runs'
// per-epoch curves and groups' mean ± std curves, as markdown, CSV (RFC 4180, one header) or
// JSON. Accuracies are in percent, as in the report's tables.
#include "experiments/run_analysis.h"

#include <map>
#include <string>
#include <vector>

namespace gafx::experiments {

enum class TextFormat { Markdown, Csv, Json };

// md: a title, the track accuracy, a table (rows: true class, columns: predicted) and a note on
// unmatched predictions; csv: a header `true,<class>...` and one line per true class; json: an
// object with run, runs, selected_epoch, subset, tracks, track_accuracy, unmatched, classes and counts.
std::string format_confusion(const Confusion& confusion, TextFormat format);

// A class of the matrix named by display name, id-like name or index ("jazz", "3"). Throws
// gafx::Error listing the classes when none matches.
int class_of(const Confusion& confusion, const std::string& name);
// The tracks of cell [true_class][predicted] (cell_tracks' order): run, track id and key, true and
// predicted class, confidence and each clip's probability of both classes, in percent. JSON
// adds every clip's full probability vector.
std::string format_cell_tracks(const Confusion& confusion, int true_class, int predicted, TextFormat format);

// One line per run and epoch (ascending) with the test track accuracy and the train loss, each
// empty / null where the run logged none. JSON: an array of {run, epoch, track_accuracy, train_loss}.
std::string format_run_curves(const std::map<int64_t, RunCurves>& curves, TextFormat format);

// A group's test track accuracy per epoch over its counted runs.
struct GroupCurve {
    std::string label;
    std::vector<int64_t> run_ids;
    Band band; // fractions, as the curves
};
std::vector<GroupCurve> group_curves(const Grouping& grouping, const std::map<int64_t, RunCurves>& curves);
// One line per group and epoch: n (runs with a point there), mean and sample std in percent.
// JSON: an array of {group, epoch, n, track_accuracy_mean, track_accuracy_std}.
std::string format_group_curves(const std::vector<GroupCurve>& groups, TextFormat format);

} // namespace gafx::experiments
