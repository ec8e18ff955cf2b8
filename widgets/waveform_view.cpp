#include "waveform_view.h"

#include "qcustomplot_include.h"

#include <algorithm>
#include <cmath>

namespace gafx::widgets {

WaveformView::WaveformView(QWidget* parent) : TimePlot(parent) {
    auto* p = plot();
    auto* upper = p->addGraph();
    auto* lower = p->addGraph();
    const QColor c(40, 90, 160);
    upper->setPen(QPen(c, 1));
    lower->setPen(QPen(c, 1));
    upper->setBrush(QColor(c.red(), c.green(), c.blue(), 160));
    upper->setChannelFillGraph(lower);
    p->yAxis->setLabel(tr("amplitude"));
    setMinimumHeight(140);
}

void WaveformView::set_envelope(const std::vector<float>& mins, const std::vector<float>& maxs, double seconds) {
    const size_t n = std::min(mins.size(), maxs.size());
    buckets_ = int(n);
    const int count = int(n);
    QVector<double> t(count), lo(count), hi(count);
    double peak = 1e-6;
    for (size_t i = 0; i < n; ++i) {
        t[int(i)] = n > 1 ? seconds * double(i) / double(n - 1) : 0.0;
        lo[int(i)] = mins[i];
        hi[int(i)] = maxs[i];
        peak = std::max({peak, std::fabs(double(mins[i])), std::fabs(double(maxs[i]))});
    }
    plot()->graph(0)->setData(t, hi, true);
    plot()->graph(1)->setData(t, lo, true);
    plot()->yAxis->setRange(-peak * 1.05, peak * 1.05);
    set_time_range(0, std::max(seconds, 1e-3));
    show_plot();
}

} // namespace gafx::widgets
