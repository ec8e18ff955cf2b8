#pragma once
// The Datasets page's view: import a GTZAN / AudioSet folder or write the demo set, a progress
// bar with cancel while that runs, a chooser of stored datasets, the track table with a status
// and text filter, per-class counts of the current split, and re-split controls. It only draws
// and emits; app/workbench/datasets_controller.cpp does the work.
#include "data/catalog.h"
#include "data/split.h"

#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;

namespace gafx::widgets {

class ClassCountsView;
class TrackFilterProxy;
class TrackTableModel;
class PlaybackBar;

class DatasetsView : public QWidget {
    Q_OBJECT
public:
    explicit DatasetsView(QWidget* parent = nullptr);

    // Import and demo inputs.
    QString import_kind() const; // "gtzan" | "audioset"
    QString import_path() const;
    void set_import_path(const QString& path);
    QString import_name() const; // empty: the engine names it after the folder
    int demo_tracks_per_genre() const;
    double demo_seconds() const;

    // Split inputs for imports and re-splits (the demo set is split without groups).
    // Kind, fractions or folds, and seed; the groups file is groups_path().
    data::SplitOptions split_options() const;
    QString groups_path() const;

    // The chooser keeps `select` current when listed, else the current name when still listed.
    void set_datasets(const QStringList& names, const QString& select = {});
    QString current_dataset() const;
    void show_dataset(const data::Catalog& catalog, const data::Split& split);
    void clear_dataset();

    // While an import or re-split runs: inputs disabled, progress and cancel shown.
    void set_busy(bool busy, const QString& what = {});
    void set_progress(int permille, const QString& text);
    void show_message(const QString& text, bool error);

    TrackTableModel* track_model() const { return model_; }
    QTableView* track_table() const { return table_; }
    int current_track_row() const; // of track_model(); -1 when none
    PlaybackBar* playback() const { return playback_; }
    TrackFilterProxy* track_filter() const { return filter_; }

Q_SIGNALS:
    void importRequested();
    void demoRequested();
    void cancelRequested();
    void resplitRequested();
    void datasetSelected(const QString& name);
    void shown(); // the page became visible: a chance to catch up on changes made meanwhile
    void playToggled(); // play or pause the current track

protected:
    void showEvent(QShowEvent* e) override;

private:
    QWidget* build_import_row();
    QWidget* build_split_box();
    void browse_import();
    void browse_groups();

    QComboBox* kind_ = nullptr;
    QLineEdit* path_ = nullptr;
    QLineEdit* name_ = nullptr;
    QSpinBox* demo_tracks_ = nullptr;
    QDoubleSpinBox* demo_seconds_ = nullptr;
    QList<QWidget*> inputs_; // disabled while busy
    QProgressBar* progress_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QLabel* message_ = nullptr;
    QComboBox* datasets_ = nullptr;
    QLabel* summary_ = nullptr;
    QComboBox* status_filter_ = nullptr;
    QLineEdit* text_filter_ = nullptr;
    QLabel* shown_count_ = nullptr;
    QTableView* table_ = nullptr;
    TrackTableModel* model_ = nullptr;
    PlaybackBar* playback_ = nullptr;
    TrackFilterProxy* filter_ = nullptr;
    ClassCountsView* counts_ = nullptr;
    QSpinBox* seed_ = nullptr;
    QComboBox* split_kind_ = nullptr;
    QDoubleSpinBox* test_fraction_ = nullptr;
    QDoubleSpinBox* val_fraction_ = nullptr;
    QSpinBox* folds_ = nullptr;
    QLineEdit* groups_ = nullptr;
};

} // namespace gafx::widgets
