#pragma once
// The embedding explorer: every track of a run's dataset as a point, its embedding (the
// classifier's pooled token, or the feature map averaged over time as a baseline) projected to
// 2-D (PCA or t-SNE), coloured by true class, predicted class, split or right/wrong. Hover names
// the track, a click asks to inspect it, a lasso (drag with the left button) selects a set that
// is listed below and can be exported. It only draws and emits; the controller computes.
#include "experiments/projection.h"
#include "train/embeddings.h"

#include <QList>
#include <QPoint>
#include <QPolygonF>
#include <QWidget>

#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QMouseEvent;
class QPushButton;
class QTableWidget;

namespace gafx::widgets {

class EmbeddingView : public QWidget {
    Q_OBJECT
public:
    enum ColourBy { ByTrueClass = 0, ByPredicted, BySubset, ByCorrect };
    enum Projection { Pca = 0, Tsne };

    explicit EmbeddingView(QWidget* parent = nullptr);

    // The runs that can be embedded (id and a label), keeping the current one when still there.
    void set_runs(const QList<QPair<qint64, QString>>& runs);
    qint64 current_run() const;
    void set_current_run(qint64 run);
    train::EmbeddingKind kind() const;
    Projection projection() const;
    ColourBy colour_by() const;
    void set_colour_by(ColourBy c);

    // What is being computed (empty: idle); the Compute button becomes Cancel meanwhile.
    void set_busy(const QString& text);
    bool busy() const { return busy_; }
    void set_status(const QString& text, bool error = false);
    QString status() const;

    // The points: e's tracks at xy ([rows, 2]); clears the selection.
    void set_points(const train::Embeddings& e, const std::vector<float>& xy, const QString& caption);
    void clear(const QString& message);
    int point_count() const { return int(xy_.size() / 2); }
    const train::Embeddings& embeddings() const { return emb_; }
    const std::vector<float>& layout() const { return xy_; } // [rows, 2]
    int colour_groups() const; // legend entries drawn
    // Where row `i` is drawn, in canvas() pixels.
    QPoint point_position(int i) const;
    QWidget* canvas() const;

    // The lasso in canvas() pixels (tests use it as a user drags): rows inside are selected.
    void select_in(const QPolygonF& lasso);
    QList<int> selected_rows() const { return selected_; }
    QTableWidget* selection_table() const { return table_; }

Q_SIGNALS:
    void computeRequested(); // or cancel, while busy
    void trackActivated(qint64 run, qint64 track);
    void exportRequested(const QString& format, const QList<int>& rows); // "csv" | "npy"; empty: all

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void redraw();
    void fill_table();
    int nearest(const QPointF& at, double max_pixels) const;
    QCustomPlot* plot_ = nullptr;
    QComboBox* runs_ = nullptr;
    QComboBox* kind_ = nullptr;
    QComboBox* projection_ = nullptr;
    QComboBox* colour_ = nullptr;
    QPushButton* compute_ = nullptr;
    QPushButton* export_csv_ = nullptr;
    QPushButton* export_npy_ = nullptr;
    QLabel* status_ = nullptr;
    QTableWidget* table_ = nullptr;
    bool busy_ = false;
    train::Embeddings emb_;
    std::vector<float> xy_;
    QList<int> selected_;
    QPolygonF lasso_; // canvas pixels while dragging
    bool dragging_ = false;
    QPoint press_;
    int groups_ = 0;
};

} // namespace gafx::widgets
