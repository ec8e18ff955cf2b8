#pragma once
// Factor versus metric: one column per level of a factor, one dot per run (its statistic), the
// level's mean with its 95 % t interval as an error bar, and faint lines joining the runs of one
// seed across levels, so a gain that holds on every seed looks different from one carried by a
// single lucky run. Clicking a dot emits its run. Drawn from experiments::FactorEffect.
#include "experiments/grid_compare.h"

#include <QList>
#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPAbstractPlottable;
class QMouseEvent;

namespace gafx::widgets {

class FactorPlot : public QWidget {
    Q_OBJECT
public:
    explicit FactorPlot(QWidget* parent = nullptr);

    void set_effect(const experiments::FactorEffect& effect);
    void clear(const QString& message);

    int level_count() const { return int(levels_.size()); }
    int point_count() const { return int(points_.size()); }
    int joined_count() const { return joined_; } // seed lines drawn
    QString message() const { return message_; }
    // Where run `run`'s dot is drawn, in canvas() pixels (for tests); (-1, -1) when absent.
    QPoint point_position(int64_t run) const;
    QWidget* canvas() const; // the plot that takes the clicks

Q_SIGNALS:
    void runsActivated(const QList<qint64>& runs);

private:
    struct Point {
        int64_t run = 0;
        double x = 0, y = 0;
    };
    void clicked(QMouseEvent* event);
    QCustomPlot* plot_ = nullptr;
    std::vector<std::string> levels_;
    std::vector<Point> points_;
    int joined_ = 0;
    QString message_;
};

} // namespace gafx::widgets
