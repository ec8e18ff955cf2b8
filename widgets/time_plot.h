#pragma once
// A plot over the seconds of one track (waveform, log-mel, a run's feature map), so several can
// share a time axis: the user drags and wheels along time only, and every change of the visible
// time range is announced so the others can follow. In place of the plot it can show a message
// ("computing…", an error) instead. Playback draws on it: a playhead line and the loop's span;
// a click (no drag) asks to seek there, a shift + drag asks to loop the span it covers.
#include <QPair>
#include <QString>
#include <QWidget>

class QCustomPlot;
class QCPItemRect;
class QCPItemStraightLine;
class QLabel;
class QStackedLayout;

namespace gafx::widgets {

class TimePlot : public QWidget {
    Q_OBJECT
public:
    explicit TimePlot(QWidget* parent = nullptr);

    QCustomPlot* plot() const { return plot_; }
    void set_title(const QString& title);
    // Replaces the plot with `text` until the next show_plot().
    void show_message(const QString& text);
    QString message() const; // "" while the plot shows
    void show_plot();

    QPair<double, double> time_range() const;
    // Moves the time axis without announcing it (the caller is the one keeping plots in step).
    void set_time_range(double lower, double upper);
    // The title and the plot as they look, at the widget's size (or 800 x 300 when hidden).
    bool save_png(const QString& path);

    // A vertical line at `seconds` (NaN: none): where playback is.
    void set_playhead(double seconds);
    double playhead() const { return playhead_at_; }
    // A shaded span [from, to) (to <= from: none): the loop being played.
    void set_loop_span(double from, double to);
    // The time under an x pixel of plot() (for tests and the clicks).
    double time_at(int x) const;
    int x_of(double seconds) const;

Q_SIGNALS:
    void timeRangeChanged(double lower, double upper); // moved by the user (drag, wheel), not by set_time_range
    void timeClicked(double seconds);                  // a click without a drag: seek there
    void spanSelected(double from, double to);         // shift + drag along time: loop it

protected:
    void replot();

private:
    QCustomPlot* plot_ = nullptr;
    QLabel* message_ = nullptr;
    QStackedLayout* stack_ = nullptr;
    bool applying_ = false;
    double playhead_at_;
    QCPItemStraightLine* playhead_ = nullptr;
    QCPItemRect* span_ = nullptr;
    int press_x_ = -1;      // where the left button went down, for click vs drag
    bool selecting_ = false; // shift held at the press: a span, not a pan
};

} // namespace gafx::widgets
