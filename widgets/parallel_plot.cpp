#include "parallel_plot.h"

#include "plot_title.h"
#include "qcustomplot_include.h"

#include <QVBoxLayout>

#include <cmath>
#include <cstdio>

namespace gafx::widgets {
namespace {

QColor heat(double t) { // 0: blue, 1: red, through grey
    t = std::clamp(t, 0.0, 1.0);
    const QColor lo(0x1f, 0x77, 0xb4), mid(150, 150, 150), hi(0xd6, 0x27, 0x28);
    const QColor& a = t < 0.5 ? lo : mid;
    const QColor& b = t < 0.5 ? mid : hi;
    const double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * u), float(a.greenF() + (b.greenF() - a.greenF()) * u),
                            float(a.blueF() + (b.blueF() - a.blueF()) * u), 0.75f);
}

QString number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return QString::fromLatin1(buf);
}

// Distance from p to the segment a-b, in pixels.
double segment_distance(QPointF p, QPointF a, QPointF b) {
    const QPointF ab = b - a;
    const double len2 = QPointF::dotProduct(ab, ab);
    const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / len2, 0.0, 1.0) : 0.0;
    const QPointF d = p - (a + t * ab);
    return std::sqrt(QPointF::dotProduct(d, d));
}

} // namespace

ParallelPlot::ParallelPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->setMinimumSize(240, 160);
    plot_->yAxis->setVisible(false);
    plot_->xAxis->setTickLabelRotation(0);
    plot_->xAxis->grid()->setPen(QPen(QColor(90, 90, 90), 1.2));
    plot_->yAxis->grid()->setVisible(false);
    plot_->setToolTip(tr("One line per run, coloured by the statistic (blue low, red high); click a line to select its run"));
    connect(plot_, &QCustomPlot::mousePress, this, &ParallelPlot::clicked);
    clear(tr("Runs that count appear here, one line each."));
}

QString ParallelPlot::axis_name(int i) const { return QString::fromStdString(axes_.at(size_t(i))); }

void ParallelPlot::clear(const QString& message) {
    plot_->clearPlottables();
    plot_->clearItems();
    axes_.clear();
    lines_.clear();
    message_ = message;
    set_plot_title(plot_, message);
    plot_->replot();
}

void ParallelPlot::set_data(const experiments::ParallelCoordinates& d) {
    clear(QString());
    if (d.lines.empty() || d.axes.size() < 2) {
        clear(d.lines.empty() ? tr("No run counts with the %1 statistic yet.").arg(QString::fromLatin1(to_string(d.statistic)))
                              : tr("All counted runs share every setting but the seed: nothing varies to draw."));
        return;
    }
    set_plot_title(plot_, tr("%1 runs; last axis: %2").arg(d.lines.size()).arg(QString::fromStdString(describe(d.statistic))));
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (size_t k = 0; k < d.axes.size(); ++k) {
        const auto& axis = d.axes[k];
        axes_.push_back(axis.name);
        ticker->addTick(double(k), QString::fromStdString(axis.name) + (axis.log ? tr(" (log)") : QString()));
        // The axis' own scale: its levels or its range, written beside it.
        const auto label = [&](double y, const QString& text) {
            auto* t = new QCPItemText(plot_);
            t->position->setCoords(double(k), y);
            t->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
            t->setPadding(QMargins(4, 0, 0, 0));
            t->setText(text);
            QFont f = font();
            f.setPointSizeF(f.pointSizeF() * 0.8);
            t->setFont(f);
        };
        if (axis.numeric) {
            label(0.0, number(axis.min));
            if (axis.max != axis.min) label(1.0, number(axis.max));
        } else {
            for (size_t i = 0; i < axis.levels.size(); ++i)
                label(axis.levels.size() < 2 ? 0.5 : double(i) / double(axis.levels.size() - 1),
                      QString::fromStdString(axis.levels[i]));
        }
    }
    const auto& metric = d.axes.back();
    for (const auto& line : d.lines) {
        auto* g = plot_->addGraph();
        const double t = metric.max > metric.min ? (line.statistic - metric.min) / (metric.max - metric.min) : 0.5;
        g->setPen(QPen(heat(t), 1.6));
        for (size_t k = 0; k < line.position.size(); ++k) g->addData(double(k), line.position[k]);
        lines_.push_back(line);
    }
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setRange(-0.15, double(d.axes.size()) - 0.6);
    plot_->yAxis->setRange(-0.06, 1.06);
    plot_->replot();
}

QPoint ParallelPlot::crossing(int64_t run, int axis) const {
    for (const auto& l : lines_)
        if (l.run == run && axis >= 0 && size_t(axis) < l.position.size())
            return QPoint(int(plot_->xAxis->coordToPixel(double(axis))),
                                             int(plot_->yAxis->coordToPixel(l.position[size_t(axis)])));
    return {-1, -1};
}

QWidget* ParallelPlot::canvas() const { return plot_; }

void ParallelPlot::clicked(QMouseEvent* event) {
    const QPointF at = event->position();
    const experiments::ParallelLine* best = nullptr;
    double best_d = 5.0; // pixels
    for (const auto& l : lines_)
        for (size_t k = 0; k + 1 < l.position.size(); ++k) {
            const QPointF a(plot_->xAxis->coordToPixel(double(k)), plot_->yAxis->coordToPixel(l.position[k]));
            const QPointF b(plot_->xAxis->coordToPixel(double(k + 1)), plot_->yAxis->coordToPixel(l.position[k + 1]));
            const double dist = segment_distance(at, a, b);
            if (dist <= best_d) {
                best_d = dist;
                best = &l;
            }
        }
    if (best) Q_EMIT runsActivated({qint64(best->run)});
}

} // namespace gafx::widgets
