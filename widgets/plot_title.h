#pragma once
// A bold title row above a QCustomPlot's axes, added on first use and replaced after.
class QCustomPlot;
class QString;

namespace gafx::widgets {

void set_plot_title(QCustomPlot* plot, const QString& title);

} // namespace gafx::widgets
