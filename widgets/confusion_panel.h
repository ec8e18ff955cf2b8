#pragma once
// The Runs page's confusion tab: the matrix of one run or of the selected runs summed, and under
// it the tracks of the clicked cell (true class, prediction, confidence, each clip's
// probabilities). A double click or "Inspect track" asks for the track in the Inspector with
// its run. It only draws and emits; the controller loads the matrix and fills the list.
#include "experiments/confusion.h"

#include <QStringList>
#include <QWidget>

#include <vector>

class QLabel;
class QPushButton;
class QTableWidget;

namespace gafx::widgets {

class ConfusionMatrixView;

class ConfusionPanel : public QWidget {
    Q_OBJECT
public:
    enum Column { RunColumn = 0, TrackColumn, TrueColumn, PredictedColumn, ConfidenceColumn, ClipsColumn, ColumnCount };
    enum Role { RunRole = Qt::UserRole + 1, TrackRole };

    explicit ConfusionPanel(QWidget* parent = nullptr);

    ConfusionMatrixView* matrix() const { return matrix_; }
    QTableWidget* tracks() const { return tracks_; }
    void set_caption(const QString& text);
    QString caption() const;
    QString cell_caption() const;

    // The cell's tracks, in the order given; `classes` names class indices.
    void set_cell_tracks(const QString& caption, const QStringList& classes,
                         const std::vector<const experiments::TrackOutcome*>& rows);
    // No cell chosen (or the matrix changed): the list is empty and says why.
    void clear_cell_tracks(const QString& caption);

Q_SIGNALS:
    void trackInspectRequested(qint64 run, qint64 track);

private:
    void inspect_current();
    QLabel* caption_ = nullptr;
    ConfusionMatrixView* matrix_ = nullptr;
    QLabel* cell_caption_ = nullptr;
    QTableWidget* tracks_ = nullptr;
    QPushButton* inspect_ = nullptr;
};

} // namespace gafx::widgets
