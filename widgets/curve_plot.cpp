#include "curve_plot.h"

#include "plot_title.h"
#include "qcustomplot_include.h"

#include <QEvent>
#include <QVBoxLayout>

#include <cmath>

namespace gafx::widgets {
namespace {

constexpr int kReplotMs = 100; // at most ~10 redraws a second

} // namespace

CurvePlot::CurvePlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->setMinimumSize(200, 140);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->legend->setVisible(true);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    plot_->legend->setFont(small);
    plot_->legend->setBrush(QColor(255, 255, 255, 200));
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    plot_->installEventFilter(this);
    plot_->setToolTip(tr("Drag to pan, wheel to zoom, double-click to fit the data again"));
    replot_timer_.setSingleShot(true);
    replot_timer_.setInterval(kReplotMs);
    connect(&replot_timer_, &QTimer::timeout, this, &CurvePlot::replot_now);
}

void CurvePlot::set_title(const QString& title) {
    set_plot_title(plot_, title);
    schedule_replot();
}

void CurvePlot::set_axis_labels(const QString& x, const QString& y) {
    plot_->xAxis->setLabel(x);
    plot_->yAxis->setLabel(y);
    schedule_replot();
}

void CurvePlot::set_log_y(bool log) {
    plot_->yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log) plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else plot_->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    schedule_replot();
}

void CurvePlot::set_integer_x(bool integer) {
    if (integer) {
        auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples); // 1, 2, 5, 10... epochs apart when crowded
        plot_->xAxis->setTicker(ticker);
    } else {
        plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }
    schedule_replot();
}

void CurvePlot::set_legend_corner(Qt::Alignment corner) {
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, corner);
    schedule_replot();
}

int CurvePlot::add_curve(const QString& name, const QColor& color, bool dots) {
    Curve c;
    c.line = plot_->addGraph();
    c.line->setName(name);
    c.line->setPen(QPen(color, 1.6));
    if (dots) c.line->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
    curves_.push_back(c);
    schedule_replot();
    return int(curves_.size()) - 1;
}

int CurvePlot::add_faint_curve(const QColor& color) {
    Curve c;
    c.line = plot_->addGraph();
    QColor faint = color;
    faint.setAlpha(70);
    c.line->setPen(QPen(faint, 1.0));
    c.line->removeFromLegend();
    c.faint = true;
    curves_.push_back(c);
    schedule_replot();
    return int(curves_.size()) - 1;
}

bool CurvePlot::is_faint(int curve) const {
    return curve >= 0 && curve < int(curves_.size()) && curves_[size_t(curve)].faint;
}

QVector<double> CurvePlot::xs(int curve) const { return values(curve, true); }

QVector<double> CurvePlot::ys(int curve) const { return values(curve, false); }

QVector<double> CurvePlot::values(int curve, bool keys) const {
    QVector<double> out;
    if (curve < 0 || curve >= int(curves_.size())) return out;
    const auto data = curves_[size_t(curve)].line->data();
    for (auto it = data->constBegin(); it != data->constEnd(); ++it) out << (keys ? it->key : it->value);
    return out;
}

int CurvePlot::add_band(const QString& name, const QColor& color, const QVector<double>& x,
                        const QVector<double>& mean, const QVector<double>& std) {
    QVector<double> hi(mean.size()), lo(mean.size());
    for (int i = 0; i < mean.size(); ++i) {
        const double s = i < std.size() && !std::isnan(std[i]) ? std[i] : 0.0;
        hi[i] = mean[i] + s;
        lo[i] = mean[i] - s;
    }
    Curve c;
    QColor fill = color;
    fill.setAlpha(50);
    c.upper = plot_->addGraph();
    c.upper->setPen(Qt::NoPen);
    c.upper->setData(x, hi, true);
    c.upper->removeFromLegend();
    c.lower = plot_->addGraph();
    c.lower->setPen(Qt::NoPen);
    c.lower->setBrush(fill);
    c.lower->setChannelFillGraph(c.upper);
    c.lower->setData(x, lo, true);
    c.lower->removeFromLegend();
    c.line = plot_->addGraph();
    c.line->setName(name);
    c.line->setPen(QPen(color, 1.8));
    c.line->setData(x, mean, true);
    curves_.push_back(c);
    schedule_replot();
    return int(curves_.size()) - 1;
}

void CurvePlot::set_points(int curve, const QVector<double>& x, const QVector<double>& y) {
    curves_.at(size_t(curve)).line->setData(x, y);
    schedule_replot();
}

void CurvePlot::append(int curve, double x, double y) {
    QCPGraph* g = curves_.at(size_t(curve)).line;
    if (!g->data()->isEmpty() && x <= (g->data()->constEnd() - 1)->key) return;
    g->addData(x, y);
    schedule_replot();
}

void CurvePlot::clear() {
    plot_->clearGraphs();
    curves_.clear();
    auto_range_ = true;
    schedule_replot();
}

int CurvePlot::point_count(int curve) const { return curves_.at(size_t(curve)).line->dataCount(); }

QString CurvePlot::curve_name(int curve) const { return curves_.at(size_t(curve)).line->name(); }

bool CurvePlot::has_band(int curve) const { return curves_.at(size_t(curve)).lower != nullptr; }

QColor CurvePlot::palette(int k) {
    // Tableau 10: distinct on screen and in print.
    static const QRgb colours[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                   0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    return QColor(colours[k % 10]);
}

bool CurvePlot::eventFilter(QObject* watched, QEvent* event) {
    if (watched == plot_) {
        if (event->type() == QEvent::MouseButtonDblClick) {
            auto_range_ = true;
            replot_now();
        } else if (event->type() == QEvent::Wheel || event->type() == QEvent::MouseButtonPress) {
            auto_range_ = false; // the user is looking at something; stop refitting under them
        }
    }
    return QWidget::eventFilter(watched, event);
}

void CurvePlot::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (stale_) replot_now();
}

void CurvePlot::schedule_replot() {
    if (!replot_timer_.isActive()) replot_timer_.start();
}

void CurvePlot::replot_now() {
    if (!isVisible()) { // a page in the background draws nothing until it is looked at
        stale_ = true;
        return;
    }
    stale_ = false;
    if (auto_range_) {
        plot_->rescaleAxes();
        // A little room around the data, so end points and their dots are not cut in half.
        const QCPRange x = plot_->xAxis->range(), y = plot_->yAxis->range();
        const double xpad = x.size() > 0 ? 0.02 * x.size() : 0.5;
        plot_->xAxis->setRange(x.lower - xpad, x.upper + xpad);
        if (plot_->yAxis->scaleType() == QCPAxis::stLinear) {
            const double ypad = y.size() > 0 ? 0.05 * y.size() : 0.5;
            plot_->yAxis->setRange(y.lower - ypad, y.upper + ypad);
        }
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
    ++replots_;
}

} // namespace gafx::widgets
