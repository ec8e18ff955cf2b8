#include "feature_map_view.h"

#include "qcustomplot_include.h"

#include <algorithm>
#include <cmath>

namespace gafx::widgets {

FeatureMapView::FeatureMapView(QWidget* parent) : TimePlot(parent) {
    auto* p = plot();
    scale_ = new QCPColorScale(p);
    p->plotLayout()->addElement(p->plotLayout()->rowCount() - 1, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    // Viridis (QCustomPlot 2.1 has no preset of it): perceptually even and readable in grey.
    QCPColorGradient viridis;
    viridis.setColorStops({{0.0, QColor(68, 1, 84)},
                           {0.25, QColor(59, 82, 139)},
                           {0.5, QColor(33, 145, 140)},
                           {0.75, QColor(94, 201, 98)},
                           {1.0, QColor(253, 231, 37)}});
    scale_->setGradient(viridis);
    scale_->setRangeDrag(false);
    scale_->setRangeZoom(false);
    // Colour bar and plot share their vertical margins, so the bar lines up with the map.
    auto* group = new QCPMarginGroup(p);
    p->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    p->yAxis->setLabel(tr("bin"));
    setMinimumHeight(200);
}

void FeatureMapView::set_labels(const QString& bins_label, const QString& value_label) {
    plot()->yAxis->setLabel(bins_label);
    scale_->axis()->setLabel(value_label);
    replot();
}

void FeatureMapView::set_map(const std::vector<float>& values, int bins, const std::vector<MapSegment>& segments,
                             double track_seconds) {
    auto* p = plot();
    p->clearPlottables();
    frames_ = 0;
    bins_ = bins;
    float lo = INFINITY, hi = -INFINITY;
    for (float v : values)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (lo == hi) hi = lo + 1;
    data_range_ = {lo, hi};
    for (const MapSegment& s : segments) {
        if (s.frames <= 0 || size_t(frames_ + s.frames) * size_t(bins) > values.size()) break;
        auto* map = new QCPColorMap(p->xAxis, p->yAxis);
        // Cell centres: a frame is seconds/frames wide, a bin one unit tall.
        const double dt = s.seconds / s.frames;
        map->data()->setSize(s.frames, bins);
        map->data()->setRange(QCPRange(s.start_seconds + dt / 2, s.start_seconds + s.seconds - dt / 2),
                              QCPRange(0, bins - 1));
        const float* row = values.data() + size_t(frames_) * size_t(bins);
        for (int f = 0; f < s.frames; ++f)
            for (int b = 0; b < bins; ++b) map->data()->setCell(f, b, row[size_t(f) * size_t(bins) + size_t(b)]);
        map->setColorScale(scale_);
        map->setGradient(scale_->gradient());
        map->setInterpolate(false);
        frames_ += s.frames;
    }
    scale_->setDataRange(QCPRange(lo, hi));
    p->yAxis->setRange(-0.5, bins - 0.5);
    set_time_range(0, std::max(track_seconds, 1e-3));
    show_plot();
}

QPair<double, double> FeatureMapView::colour_range() const { return {scale_->dataRange().lower, scale_->dataRange().upper}; }

void FeatureMapView::set_colour_range(double lower, double upper) {
    scale_->setDataRange(QCPRange(lower, upper));
    replot();
}

void FeatureMapView::reset_colour_range() { set_colour_range(data_range_.first, data_range_.second); }

} // namespace gafx::widgets
