#pragma once
// The embedding explorer: every track of a run's dataset as a point, its embedding (the
// classifier's pooled token, or the feature map averaged over time as a baseline) projected to
// 2-D (PCA or t-SNE), coloured by true class, predicted class, split, right/wrong or the run's
// group. Several runs are drawn side by side, one panel each, every run in its own projection:
// two models' spaces share no axes, so a joint projection would part the runs for reasons that
// mean nothing. Hover names the track, a click asks to inspect it, a lasso (drag with the left
// button) selects a set that is listed below and can be exported, and the same tracks are
// marked in the other panels. It only draws and emits; the controller computes.
#include "experiments/projection.h"
#include "train/embeddings.h"

#include <QList>
#include <QPoint>
#include <QPolygonF>
#include <QWidget>

#include <vector>

class QComboBox;
class QListWidget;
class QCustomPlot;
class QLabel;
class QMouseEvent;
class QPushButton;
class QTableWidget;

namespace gafx::widgets {

// One run's tracks as the explorer draws them.
struct EmbeddingPanel {
    train::Embeddings embeddings;
    std::vector<float> xy; // [rows, 2], in its own projection's coordinates
    QString label;         // the run, as the run list names it
    QString group;         // what sets it apart from the other panels' runs ("extractor=gafx-a"); may be empty
    QString caption;       // what its projection says (variance explained, KL divergence)
};

class EmbeddingView : public QWidget {
    Q_OBJECT
public:
    enum ColourBy { ByTrueClass = 0, ByPredicted, BySubset, ByCorrect, ByRunGroup };
    enum Projection { Pca = 0, Tsne };

    explicit EmbeddingView(QWidget* parent = nullptr);

    // The runs that can be embedded (id and a label), keeping those checked that are still there;
    // the first is checked when none is.
    void set_runs(const QList<QPair<qint64, QString>>& runs);
    QList<qint64> checked_runs() const; // in the list's order
    void set_checked_runs(const QList<qint64>& runs);
    QString run_label(qint64 run) const; // as listed; "Run N" when not
    train::EmbeddingKind kind() const;
    Projection projection() const;
    ColourBy colour_by() const;
    void set_colour_by(ColourBy c);

    // What is being computed (empty: idle); the Compute button becomes Cancel meanwhile.
    void set_busy(const QString& text);
    bool busy() const { return busy_; }
    void set_status(const QString& text, bool error = false);
    QString status() const;

    // The points, one panel per run; clears the selection. A point's row counts over the panels
    // in order.
    void set_panels(std::vector<EmbeddingPanel> panels, const QString& caption);
    void clear(const QString& message);
    int point_count() const { return total_; }
    const std::vector<EmbeddingPanel>& panels() const { return panels_; }
    // Row `row` as (panel, row in its panel).
    QPair<int, int> locate(int row) const;
    int colour_groups() const; // legend entries drawn
    int linked_count() const { return linked_; } // the selected tracks' points in the other panels
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
    void checkedRunsChanged();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void redraw();
    void fill_table();
    int nearest(const QPointF& at, double max_pixels) const;
    QPointF drawn(int row) const; // plot coordinates: a panel's own for one run, tiled for several
    QCustomPlot* plot_ = nullptr;
    QListWidget* runs_ = nullptr;
    QComboBox* kind_ = nullptr;
    QComboBox* projection_ = nullptr;
    QComboBox* colour_ = nullptr;
    QPushButton* compute_ = nullptr;
    QPushButton* export_csv_ = nullptr;
    QPushButton* export_npy_ = nullptr;
    QLabel* status_ = nullptr;
    QTableWidget* table_ = nullptr;
    bool busy_ = false;
    std::vector<EmbeddingPanel> panels_;
    std::vector<int> first_; // per panel: its first row
    struct Tile {
        double x0 = 0, y0 = 0, scale = 1, cx = 0, cy = 0; // drawn = (x0, y0) + scale * (p - (cx, cy))
    };
    std::vector<Tile> tiles_;
    int total_ = 0;
    int linked_ = 0;
    QList<int> selected_;
    QPolygonF lasso_; // canvas pixels while dragging
    bool dragging_ = false;
    QPoint press_;
    int groups_ = 0;
};

} // namespace gafx::widgets
