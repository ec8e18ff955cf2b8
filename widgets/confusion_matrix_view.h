#pragma once
// A confusion matrix as a coloured grid: one row per true class, one column per predicted
// class, each cell showing its count and shaded by the share of its row (so a small class's
// errors show as clearly as a big one's). Empty, it shows why there is nothing to draw.
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

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
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
};

} // namespace gafx::widgets
