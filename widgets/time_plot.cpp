#include "time_plot.h"

#include "plot_title.h"
#include "qcustomplot_include.h"

#include <QLabel>
#include <QStackedLayout>

namespace gafx::widgets {

TimePlot::TimePlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)), message_(new QLabel(this)) {
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
    plot_->setToolTip(tr("Drag to pan, wheel to zoom in time; every plot of the track follows"));
    connect(plot_->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this](const QCPRange& r) {
        if (!applying_) Q_EMIT timeRangeChanged(r.lower, r.upper);
    });
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
