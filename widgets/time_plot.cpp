#include "time_plot.h"

#include "plot_title.h"
#include "qcustomplot_include.h"

#include <QLabel>
#include <QMouseEvent>
#include <QStackedLayout>

#include <cmath>

namespace gafx::widgets {

TimePlot::TimePlot(QWidget* parent)
    : QWidget(parent), plot_(new QCustomPlot(this)), message_(new QLabel(this)), playhead_at_(std::nan("")) {
    stack_ = new QStackedLayout(this);
    stack_->setContentsMargins(0, 0, 0, 0);
    message_->setAlignment(Qt::AlignCenter);
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_->setObjectName(QStringLiteral("message"));
    plot_->setObjectName(QStringLiteral("plot"));
    stack_->addWidget(plot_);
    stack_->addWidget(message_);
    plot_->setMinimumSize(240, 140);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->axisRect()->setRangeDrag(Qt::Horizontal);
    plot_->axisRect()->setRangeZoom(Qt::Horizontal);
    plot_->xAxis->setLabel(tr("time (s)"));
    connect(plot_->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this](const QCPRange& r) {
        if (!applying_) Q_EMIT timeRangeChanged(r.lower, r.upper);
    });
    plot_->setToolTip(tr("Drag to pan, wheel to zoom in time; every plot of the track follows. Click to play from "
                         "there, shift + drag to loop a span"));
    connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        if (e->button() != Qt::LeftButton) return;
        press_x_ = int(e->position().x());
        selecting_ = e->modifiers() & Qt::ShiftModifier;
        if (selecting_) plot_->axisRect()->setRangeDrag(Qt::Orientations()); // a span, not a pan
    });
    connect(plot_, &QCustomPlot::mouseRelease, this, [this](QMouseEvent* e) {
        if (e->button() != Qt::LeftButton || press_x_ < 0) return;
        const int x = int(e->position().x());
        if (selecting_) {
            plot_->axisRect()->setRangeDrag(Qt::Horizontal);
            if (std::abs(x - press_x_) >= 4) {
                const double a = time_at(std::min(x, press_x_)), b = time_at(std::max(x, press_x_));
                Q_EMIT spanSelected(a, b);
            }
        } else if (std::abs(x - press_x_) < 4) {
            Q_EMIT timeClicked(time_at(x));
        }
        press_x_ = -1;
        selecting_ = false;
    });
}

double TimePlot::time_at(int x) const { return plot_->xAxis->pixelToCoord(x); }
int TimePlot::x_of(double seconds) const { return int(std::lround(plot_->xAxis->coordToPixel(seconds))); }

void TimePlot::set_playhead(double seconds) {
    playhead_at_ = seconds;
    if (!playhead_) {
        playhead_ = new QCPItemStraightLine(plot_);
        playhead_->setPen(QPen(QColor(0xd6, 0x27, 0x28), 1.5));
        playhead_->setClipToAxisRect(true);
    }
    playhead_->setVisible(!std::isnan(seconds));
    if (!std::isnan(seconds)) {
        playhead_->point1->setCoords(seconds, 0);
        playhead_->point2->setCoords(seconds, 1);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TimePlot::set_loop_span(double from, double to) {
    if (!span_) {
        span_ = new QCPItemRect(plot_);
        span_->setPen(Qt::NoPen);
        span_->setBrush(QColor(0xff, 0xbf, 0x00, 60));
        span_->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
        span_->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
    }
    span_->setVisible(to > from);
    if (to > from) {
        span_->topLeft->setCoords(from, 0);
        span_->bottomRight->setCoords(to, 1);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TimePlot::set_title(const QString& title) {
    set_plot_title(plot_, title);
}

void TimePlot::show_message(const QString& text) {
    message_->setText(text);
    stack_->setCurrentWidget(message_);
}

QString TimePlot::message() const { return stack_->currentWidget() == message_ ? message_->text() : QString(); }

void TimePlot::show_plot() {
    stack_->setCurrentWidget(plot_);
    replot();
}

QPair<double, double> TimePlot::time_range() const { return {plot_->xAxis->range().lower, plot_->xAxis->range().upper}; }

void TimePlot::set_time_range(double lower, double upper) {
    applying_ = true;
    plot_->xAxis->setRange(lower, upper);
    applying_ = false;
    replot();
}

bool TimePlot::save_png(const QString& path) {
    const bool shown = plot_->isVisible() && plot_->width() > 50;
    return plot_->savePng(path, shown ? 0 : 800, shown ? 0 : 300);
}

void TimePlot::replot() { plot_->replot(QCustomPlot::rpQueuedReplot); }

} // namespace gafx::widgets
