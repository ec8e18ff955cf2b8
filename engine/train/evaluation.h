#pragma once
// What one evaluation pass reports, from per-clip class probabilities. GTZAN's headline is the
// track accuracy: a track's clip probabilities are averaged, then the arg-max is compared with
// its genre, so a 3 x 10 s model and a 1 x 30 s one are judged on the same 30 s tracks.
#include <cstdint>
#include <vector>

namespace gafx::train {

struct ClipScores {
    int64_t track_id = 0;
    int clip = 0;
    std::vector<float> probabilities; // softmax (single-label) or sigmoid (multi-label), [K]
    std::vector<int> labels;          // true class indices (one for single-label)
};

struct Evaluation {
    double loss = 0;           // mean per clip, as the training loss is defined
    double accuracy = 0;       // clip level: arg-max in the clip's labels
    double track_accuracy = 0; // track level: arg-max of the mean clip probabilities
    double map = 0;            // multi-label only: mean over classes of average precision (clip level)
    double macro_f1 = 0;       // single-label: mean per-class F1 of the track confusion; NaN multi-label
    std::vector<double> class_accuracy;        // per true class, track level; NaN where no track
    std::vector<std::vector<int64_t>> confusion; // [true][predicted] track counts (first label)
    int64_t clips = 0, tracks = 0;
};

// `loss_sum` is the summed per-clip loss of the pass. Throws std::invalid_argument for rows of
// different widths or a label outside [0, classes).
Evaluation evaluate(const std::vector<ClipScores>& clips, int classes, bool multi_label, double loss_sum);

// Average precision of one class as scikit-learn computes it (step-wise, no interpolation);
// NaN when the class has no positive.
double average_precision(const std::vector<float>& scores, const std::vector<bool>& positive);

} // namespace gafx::train
