#pragma once
// A confusion matrix as a coloured grid: one row per true class, one column per predicted
// class, each cell showing its count and shaded by the share of its row (so a small class's
// errors show as clearly as a big one's). Empty, it shows why there is nothing to draw. A click
// on a cell selects it (outlined) and emits cellActivated, so its tracks can be listed.
#include <QPoint>
#include <QRect>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <vector>

namespace gafx::widgets {

class ConfusionMatrixView : public QWidget {
    Q_OBJECT
public:
    explicit ConfusionMatrixView(QWidget* parent = nullptr);

    // `counts[true][predicted]`, square, one row per class name.
    void set_matrix(const QStringList& classes, const std::vector<std::vector<int64_t>>& counts);
    void clear(const QString& message);

    int classes() const { return int(classes_.size()); }
    int64_t count(int true_class, int predicted) const;
    int64_t total() const;
    QString message() const { return message_; }
    // The cell under `pos` as {true, predicted}; {-1, -1} outside the grid.
    QPoint cell_at(const QPoint& pos) const;
    // Where cell [true][predicted] is drawn (for tests and tooltips).
    QRect cell_rect(int true_class, int predicted) const;
    // {-1, -1}: none. set_matrix keeps it while the class count is unchanged.
    QPoint selected_cell() const { return selected_; }
    void select_cell(int true_class, int predicted);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void cellActivated(int true_class, int predicted);

protected:
    void mousePressEvent(QMouseEvent* event) override;
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override; // tooltips name the cell

private:
    struct Geometry {
        int left, top, cell;
    };
    Geometry geometry() const;
    QStringList classes_;
    std::vector<std::vector<int64_t>> counts_;
    QString message_;
    QPoint selected_{-1, -1};
};

} // namespace gafx::widgets
