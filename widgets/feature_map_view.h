#pragma once
// One feature map (time x bins) as QCPColorMaps with a colour scale, over the seconds of the
// track: a map may come in segments (a run's clips), each drawn where it lies in the track, so
// gaps between clips stay visible and every plot of the track shares one time axis.
#include "time_plot.h"

#include <QPair>
#include <QString>

#include <vector>

class QCPColorScale;

namespace gafx::widgets {

struct MapSegment {
    double start_seconds = 0; // where the segment starts on the time axis
    double seconds = 0;       // how long it lasts
    int frames = 0;           // its rows of the map
};

class FeatureMapView : public TimePlot {
    Q_OBJECT
public:
    explicit FeatureMapView(QWidget* parent = nullptr);

    // `values`: [sum of the segments' frames, bins], row-major, segments in order. Shows the plot
    // with the time axis over [0, track_seconds] and the colour scale over the data's range.
    void set_map(const std::vector<float>& values, int bins, const std::vector<MapSegment>& segments,
                 double track_seconds);
    void set_labels(const QString& bins_label, const QString& value_label);
    bool has_map() const { return frames_ > 0 && message().isEmpty(); } // a map, and showing
    int frames() const { return frames_; }
    int bins() const { return bins_; }

    QPair<double, double> data_range() const { return data_range_; } // the map's min and max
    QPair<double, double> colour_range() const;
    void set_colour_range(double lower, double upper);
    void reset_colour_range(); // back to data_range()

private:
    QCPColorScale* scale_ = nullptr;
    int frames_ = 0, bins_ = 0;
    QPair<double, double> data_range_{0, 1};
};

} // namespace gafx::widgets
