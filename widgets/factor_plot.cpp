#include "factor_plot.h"

#include "curve_plot.h"
#include "plot_title.h"
#include "qcustomplot_include.h"

#include <QVBoxLayout>

#include <cmath>

namespace gafx::widgets {
namespace {

// Dots of one level spread sideways so equal values stay visible; the same run always lands
// at the same place.
double jitter(size_t i, size_t n) { return n < 2 ? 0.0 : -0.18 + 0.36 * double(i) / double(n - 1); }

} // namespace

FactorPlot::FactorPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->setMinimumSize(200, 160);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->setToolTip(tr("Each dot a run (click to select it); bars: mean and 95 % t interval; grey lines join one "
                         "seed's runs across levels"));
    connect(plot_, &QCustomPlot::mousePress, this, &FactorPlot::clicked);
    clear(tr("Choose a factor to compare its levels."));
}

void FactorPlot::clear(const QString& message) {
    plot_->clearPlottables();
    plot_->clearItems();
    levels_.clear();
    points_.clear();
    joined_ = 0;
    message_ = message;
    set_plot_title(plot_, message);
    plot_->replot();
}

void FactorPlot::set_effect(const experiments::FactorEffect& e) {
    clear(QString());
    if (e.levels.empty()) {
        clear(tr("No run counts for factor %1 with the %2 statistic yet.")
                  .arg(QString::fromStdString(e.factor), QString::fromLatin1(experiments::to_string(e.statistic))));
        return;
    }
    set_plot_title(plot_, tr("%1 by %2 (n runs per level under each)")
                              .arg(QString::fromStdString(experiments::describe(e.statistic)),
                                   QString::fromStdString(e.factor)));
    // Seeds joined first, so the dots and means draw over them.
    const QColor faint(120, 120, 120, 90);
    for (const auto& [pairing, values] : e.paired) {
        auto* g = plot_->addGraph();
        g->setPen(QPen(faint, 1.0));
        g->setName(QString::fromStdString(pairing));
        for (size_t l = 0; l < values.size(); ++l) {
            if (std::isnan(values[l])) continue;
            // Through the seed's own dot; through the level's centre when it has two there.
            const auto& level = e.levels[l];
            double x = double(l);
            int found = 0;
            for (size_t i = 0; i < level.runs.size(); ++i)
                if (level.pairing[i] == pairing) {
                    x = double(l) + jitter(i, level.runs.size());
                    ++found;
                }
            g->addData(found == 1 ? x : double(l), values[l]);
        }
        ++joined_;
    }
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    auto* dots = plot_->addGraph();
    dots->setLineStyle(QCPGraph::lsNone);
    dots->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, CurvePlot::palette(0), 6));
    auto* means = plot_->addGraph();
    means->setLineStyle(QCPGraph::lsNone);
    means->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssPlus, Qt::black, 14));
    auto* bars = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
    bars->setDataPlottable(means);
    bars->setPen(QPen(Qt::black, 1.5));
    QVector<double> err_low, err_high;
    double lo = 100, hi = 0;
    for (size_t l = 0; l < e.levels.size(); ++l) {
        const auto& level = e.levels[l];
        levels_.push_back(level.value);
        ticker->addTick(double(l), QStringLiteral("%1\nn=%2").arg(QString::fromStdString(level.value)).arg(level.stat.n));
        for (size_t i = 0; i < level.runs.size(); ++i) {
            const double x = double(l) + jitter(i, level.runs.size()), y = level.values[i];
            dots->addData(x, y);
            points_.push_back({level.runs[i], x, y});
            lo = std::min(lo, y);
            hi = std::max(hi, y);
        }
        means->addData(double(l), level.stat.mean);
        const bool ci = !std::isnan(level.stat.ci_low);
        err_low << (ci ? level.stat.mean - level.stat.ci_low : 0.0);
        err_high << (ci ? level.stat.ci_high - level.stat.mean : 0.0);
        if (ci) {
            lo = std::min(lo, level.stat.ci_low);
            hi = std::max(hi, level.stat.ci_high);
        }
    }
    bars->setData(err_low, err_high);
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setLabel(QString::fromStdString(e.factor));
    plot_->yAxis->setLabel(tr("%1 track accuracy %").arg(e.statistic == experiments::RunStatistic::BestVal ? tr("val")
                                                                                                         : tr("test")));
    plot_->xAxis->setRange(-0.6, double(e.levels.size()) - 0.4);
    const double pad = std::max(1.0, 0.08 * (hi - lo));
    plot_->yAxis->setRange(lo - pad, hi + pad);
    plot_->replot();
}

QPoint FactorPlot::point_position(int64_t run) const {
    for (const auto& p : points_)
        if (p.run == run)
            return QPoint(int(plot_->xAxis->coordToPixel(p.x)), int(plot_->yAxis->coordToPixel(p.y)));
    return {-1, -1};
}

QWidget* FactorPlot::canvas() const { return plot_; }

void FactorPlot::clicked(QMouseEvent* event) {
    const QPointF at = event->position();
    const Point* best = nullptr;
    double best_d = 8.0 * 8.0; // pixels
    for (const auto& p : points_) {
        const double dx = plot_->xAxis->coordToPixel(p.x) - at.x(), dy = plot_->yAxis->coordToPixel(p.y) - at.y();
        if (dx * dx + dy * dy <= best_d) {
            best_d = dx * dx + dy * dy;
            best = &p;
        }
    }
    if (best) Q_EMIT runsActivated({qint64(best->run)});
}

} // namespace gafx::widgets
