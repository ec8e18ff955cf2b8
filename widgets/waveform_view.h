#pragma once
// A track's waveform as its min/max envelope (one pair per bucket of samples, computed off the
// GUI thread), drawn as a filled band over the seconds of the track.
#include "time_plot.h"

#include <vector>

namespace gafx::widgets {

class WaveformView : public TimePlot {
    Q_OBJECT
public:
    explicit WaveformView(QWidget* parent = nullptr);

    // `mins`/`maxs`: one value per bucket, buckets evenly spread over `seconds`.
    void set_envelope(const std::vector<float>& mins, const std::vector<float>& maxs, double seconds);
    int buckets() const { return buckets_; }

private:
    int buckets_ = 0;
};

} // namespace gafx::widgets
