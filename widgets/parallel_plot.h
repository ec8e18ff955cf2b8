#pragma once
// Parallel coordinates of a grid: one vertical axis per factor that varies among the counted
// runs and the statistic last, one line per run crossing each axis at its value, coloured from
// low (blue) to high (red) by the statistic, so the settings that lead to good runs show as
// bundles. Categorical axes list their levels, numeric ones their range (log where it spans
// orders of magnitude). Clicking near a line emits its run. Drawn from ParallelCoordinates.
#include "experiments/grid_compare.h"

#include <QList>
#include <QWidget>

#include <vector>

class QCustomPlot;
class QMouseEvent;

namespace gafx::widgets {

class ParallelPlot : public QWidget {
    Q_OBJECT
public:
    explicit ParallelPlot(QWidget* parent = nullptr);

    void set_data(const experiments::ParallelCoordinates& data);
    void clear(const QString& message);

    int axis_count() const { return int(axes_.size()); }
    QString axis_name(int i) const;
    int line_count() const { return int(lines_.size()); }
    QString message() const { return message_; }
    // Where run `run`'s line crosses axis `axis`, in canvas() pixels; (-1, -1) when absent.
    QPoint crossing(int64_t run, int axis) const;
    QWidget* canvas() const; // the plot that takes the clicks

Q_SIGNALS:
    void runsActivated(const QList<qint64>& runs);

private:
    void clicked(QMouseEvent* event);
    QCustomPlot* plot_ = nullptr;
    std::vector<std::string> axes_;
    std::vector<experiments::ParallelLine> lines_;
    QString message_;
};

} // namespace gafx::widgets
