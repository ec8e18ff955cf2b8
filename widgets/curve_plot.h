#pragma once
// Training curves on a QCustomPlot: lines that grow point by point while a run trains, whole
// series for stored runs, and mean ± std bands for groups of runs. Appending is cheap (the
// point goes into the graph's data); the plot redraws at most ~10 times a second, queued, so a
// trainer sending hundreds of steps a second never floods the event loop.
#include <QColor>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPGraph;

namespace gafx::widgets {

class CurvePlot : public QWidget {
    Q_OBJECT
public:
    explicit CurvePlot(QWidget* parent = nullptr);

    void set_title(const QString& title);
    void set_axis_labels(const QString& x, const QString& y);
    void set_log_y(bool log);
    void set_integer_x(bool integer); // epochs: ticks on whole numbers only
    void set_legend_corner(Qt::Alignment corner); // default top right; rising curves want bottom right

    // A line; returns its index for append / set_points.
    int add_curve(const QString& name, const QColor& color, bool dots = false);
    // The raw series behind a smoothed one: thin, translucent, not in the legend.
    int add_faint_curve(const QColor& color);
    // A mean line with a translucent band from mean - std to mean + std (no band where std is NaN).
    int add_band(const QString& name, const QColor& color, const QVector<double>& x, const QVector<double>& mean,
                 const QVector<double>& std);
    void set_points(int curve, const QVector<double>& x, const QVector<double>& y);
    // Adds one point; points whose x is not past the curve's last one are dropped, so a
    // stored history followed by live updates never doubles back.
    void append(int curve, double x, double y);
    void clear(); // removes every curve

    int curve_count() const { return int(curves_.size()); }
    int point_count(int curve) const;
    QString curve_name(int curve) const;
    bool has_band(int curve) const;
    bool is_faint(int curve) const;
    QVector<double> xs(int curve) const; // the curve's x values, in order
    QVector<double> ys(int curve) const;
    int replots() const { return replots_; } // redraws done so far (the benchmark counts them)

    // A distinct colour for the k-th overlaid run or group.
    static QColor palette(int k);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    struct Curve {
        QCPGraph* line = nullptr;
        QCPGraph* upper = nullptr; // bands only
        QCPGraph* lower = nullptr;
        bool faint = false;
    };
    QVector<double> values(int curve, bool keys) const;
    void schedule_replot();
    void replot_now();
    QCustomPlot* plot_ = nullptr;
    std::vector<Curve> curves_;
    QTimer replot_timer_;
    bool auto_range_ = true; // off once the user drags or zooms; a double click turns it back on
    bool stale_ = false;     // data changed while hidden: redraw when shown
    int replots_ = 0;
};

} // namespace gafx::widgets
