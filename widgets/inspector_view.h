#pragma once
// The Inspector page's view: a searchable track list and a checkable run list on the left;
// on the right the chosen track's waveform, its log-mel and one panel per checked run (its
// feature map and predicted class probabilities), all on one time axis: zooming or panning any
// plot moves the others. It only draws and emits; InspectorController computes the maps and fills it.
#include "feature_map_view.h"
#include "waveform_view.h"

#include <QList>
#include <QMap>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QListView;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QStandardItemModel;
class QVBoxLayout;

namespace gafx::widgets {

class PlaybackBar;

struct TrackEntry {
    qint64 id = 0;
    QString title;  // what the list shows
    QString search; // what the search box matches (every word must appear)
};

struct RunEntry {
    qint64 id = 0;
    QString title;
};

struct ClassProbability {
    QString name;
    double probability = 0;
};

class InspectorView : public QWidget {
    Q_OBJECT
public:
    explicit InspectorView(QWidget* parent = nullptr);

    // The lists keep their selection and checks (by id) across refreshes; nothing is emitted.
    void set_tracks(const QList<TrackEntry>& tracks);
    void set_runs(const QList<RunEntry>& runs);
    void select_track(qint64 id);              // also clears the search when it hides the track
    void set_checked_runs(const QList<qint64>& runs);
    qint64 current_track() const;
    QList<qint64> checked_runs() const;        // in list order

    // A new track (or new runs) to show: the header, and a panel per run, each "computing…"
    // until its data arrives. Panels of runs no longer listed go; kept ones keep their map.
    void show_track(const QString& title, const QString& true_label, double seconds);
    void set_run_panels(const QList<RunEntry>& runs);
    void clear();                              // nothing chosen

    void set_waveform(const std::vector<float>& mins, const std::vector<float>& maxs, double seconds);
    void set_mel(const std::vector<float>& values, int bins, const MapSegment& segment, double seconds);
    void set_track_error(const QString& message);
    void set_run_map(qint64 run, const std::vector<float>& values, int bins, const std::vector<MapSegment>& clips,
                     double seconds);
    // `probabilities` in any order (shown sorted), the track's true labels marked.
    void set_run_prediction(qint64 run, const QList<ClassProbability>& probabilities, const QStringList& true_labels);
    void set_run_message(qint64 run, const QString& message); // "computing…" or an error, in place of the map
    void set_pending(int maps);                                // > 0 shows "computing…" and Cancel
    void set_note(const QString& text);                        // export results, errors
    QString note() const;

    bool shared_scale() const;
    WaveformView* waveform() const { return waveform_; }
    FeatureMapView* mel() const { return mel_; }
    FeatureMapView* run_view(qint64 run) const;
    QListWidget* run_probabilities(qint64 run) const;
    QList<qint64> run_panels() const { return panels_.keys(); }

    // Listening: the bar over the plots, and where playback is drawn on every plot.
    PlaybackBar* playback() const { return playback_; }
    void set_playhead(double seconds); // NaN: none
    void set_loop_span(double from, double to);

Q_SIGNALS:
    void playToggled();                               // the play button or the space bar
    void seekRequested(double seconds);               // a click on a plot
    void loopRequested(double from, double to);       // a shift + drag on a plot
    void selectionChanged();                          // the user picked a track or (un)checked a run
    void cancelRequested();
    void exportRequested(const QString& dir, bool png); // .npy files, or PNG images when png

private:
    struct Panel {
        QWidget* box = nullptr;
        FeatureMapView* view = nullptr;
        QListWidget* probabilities = nullptr;
        QLabel* summary = nullptr;
    };
    void link(TimePlot* plot);
    PlaybackBar* playback_ = nullptr;
    double playhead_ = 0;
    QPair<double, double> loop_{0, 0};
    void follow(TimePlot* source, double lower, double upper);
    void apply_colour_scale();
    void ask_export(bool png);

    QLineEdit* search_ = nullptr;
    QStandardItemModel* tracks_ = nullptr;
    QSortFilterProxyModel* filter_ = nullptr;
    QListView* track_list_ = nullptr;
    QListWidget* run_list_ = nullptr;
    QCheckBox* shared_ = nullptr;
    QPushButton* export_npy_ = nullptr;
    QPushButton* export_png_ = nullptr;
    QProgressBar* busy_ = nullptr;
    QLabel* busy_label_ = nullptr;
    QLabel* note_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QLabel* header_ = nullptr;
    WaveformView* waveform_ = nullptr;
    FeatureMapView* mel_ = nullptr;
    QVBoxLayout* panel_layout_ = nullptr;
    QMap<qint64, Panel> panels_;
    QList<TimePlot*> plots_;
    QPair<double, double> time_range_{0, 0}; // shared by every plot; empty until a track shows
    bool quiet_ = false;                     // programmatic changes emit nothing
};

} // namespace gafx::widgets
