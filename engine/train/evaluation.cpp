#include "train/evaluation.h"

#include "experiments/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

namespace gafx::train {
namespace {

int arg_max(const std::vector<double>& v) {
    return int(std::max_element(v.begin(), v.end()) - v.begin());
}

bool has_label(const std::vector<int>& labels, int k) {
    return std::find(labels.begin(), labels.end(), k) != labels.end();
}

} // namespace

double average_precision(const std::vector<float>& scores, const std::vector<bool>& positive) {
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    const auto total = std::count(positive.begin(), positive.end(), true);
    if (total == 0) return std::numeric_limits<double>::quiet_NaN();
    double ap = 0, tp = 0, fp = 0, last_recall = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        positive[order[i]] ? ++tp : ++fp;
        // Tied scores form one threshold: only the last of a run of equal scores counts.
        if (i + 1 < order.size() && scores[order[i + 1]] == scores[order[i]]) continue;
        const double recall = tp / double(total);
        ap += (recall - last_recall) * (tp / (tp + fp));
        last_recall = recall;
    }
    return ap;
}

Evaluation evaluate(const std::vector<ClipScores>& clips, int classes, bool multi_label, double loss_sum) {
    Evaluation e;
    e.clips = int64_t(clips.size());
    e.class_accuracy.assign(size_t(classes), std::numeric_limits<double>::quiet_NaN());
    e.confusion.assign(size_t(classes), std::vector<int64_t>(size_t(classes), 0));
    if (clips.empty()) return e;
    e.loss = loss_sum / double(clips.size());

    struct Track {
        std::vector<double> sum;
        std::vector<int> labels;
        int n = 0;
    };
    std::map<int64_t, Track> tracks;
    int64_t clip_correct = 0;
    for (const ClipScores& c : clips) {
        if (int(c.probabilities.size()) != classes) throw std::invalid_argument("evaluate: probabilities of another width");
        for (int l : c.labels)
            if (l < 0 || l >= classes) throw std::invalid_argument("evaluate: label outside the classes");
        const std::vector<double> p(c.probabilities.begin(), c.probabilities.end());
        clip_correct += has_label(c.labels, arg_max(p));
        Track& t = tracks[c.track_id];
        if (t.sum.empty()) t.sum.assign(size_t(classes), 0.0);
        for (int k = 0; k < classes; ++k) t.sum[size_t(k)] += p[size_t(k)];
        t.labels = c.labels;
        ++t.n;
    }
    e.accuracy = double(clip_correct) / double(clips.size());
    e.tracks = int64_t(tracks.size());

    std::vector<int64_t> per_class_n(size_t(classes), 0), per_class_ok(size_t(classes), 0);
    int64_t track_correct = 0;
    for (const auto& [id, t] : tracks) {
        const int pred = arg_max(t.sum);
        const bool ok = has_label(t.labels, pred);
        track_correct += ok;
        if (t.labels.empty()) continue;
        const int truth = t.labels.front();
        ++e.confusion[size_t(truth)][size_t(pred)];
        ++per_class_n[size_t(truth)];
        per_class_ok[size_t(truth)] += ok;
    }
    e.track_accuracy = double(track_correct) / double(tracks.size());
    for (size_t k = 0; k < size_t(classes); ++k)
        if (per_class_n[k]) e.class_accuracy[k] = double(per_class_ok[k]) / double(per_class_n[k]);
    // Accuracy hides a class the model never predicts; macro-F1 does not.
    e.macro_f1 = multi_label ? std::numeric_limits<double>::quiet_NaN() : experiments::stats::macro_f1(e.confusion);

    if (multi_label) {
        double sum = 0;
        int n = 0;
        for (int k = 0; k < classes; ++k) {
            std::vector<float> scores;
            std::vector<bool> pos;
            for (const ClipScores& c : clips) {
                scores.push_back(c.probabilities[size_t(k)]);
                pos.push_back(has_label(c.labels, k));
            }
            const double ap = average_precision(scores, pos);
            if (!std::isnan(ap)) sum += ap, ++n;
        }
        e.map = n ? sum / n : 0.0;
    }
    return e;
}

} // namespace gafx::train
