#include "confusion_matrix_view.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

namespace gafx::widgets {
namespace {

constexpr int kMargin = 6;

QColor mix(const QColor& a, const QColor& b, double t) {
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * t), float(a.greenF() + (b.greenF() - a.greenF()) * t),
                            float(a.blueF() + (b.blueF() - a.blueF()) * t));
}

} // namespace

ConfusionMatrixView::ConfusionMatrixView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    clear(tr("Select a run to see its confusion matrix."));
}

void ConfusionMatrixView::set_matrix(const QStringList& classes, const std::vector<std::vector<int64_t>>& counts) {
    if (classes.size() != classes_.size()) selected_ = {-1, -1};
    classes_ = classes;
    counts_ = counts;
    counts_.resize(size_t(classes.size()));
    for (auto& row : counts_) row.resize(size_t(classes.size()), 0);
    message_.clear();
    updateGeometry();
    update();
}

void ConfusionMatrixView::clear(const QString& message) {
    classes_.clear();
    counts_.clear();
    selected_ = {-1, -1};
    message_ = message;
    update();
}

int64_t ConfusionMatrixView::count(int t, int p) const { return counts_.at(size_t(t)).at(size_t(p)); }

int64_t ConfusionMatrixView::total() const {
    int64_t n = 0;
    for (const auto& row : counts_)
        for (int64_t c : row) n += c;
    return n;
}

QSize ConfusionMatrixView::sizeHint() const {
    const int label = fontMetrics().horizontalAdvance(QStringLiteral("MMMMMMMMMM"));
    const int side = label + 28 * std::max(4, int(classes_.size())) + 2 * kMargin;
    return {side, side};
}

QSize ConfusionMatrixView::minimumSizeHint() const { return {160, 160}; }

ConfusionMatrixView::Geometry ConfusionMatrixView::geometry() const {
    int label = 0;
    for (const auto& c : classes_) label = std::max(label, fontMetrics().horizontalAdvance(c));
    label = std::min(label, width() / 3) + 8;
    const int title = fontMetrics().height() + 4; // "predicted" above, "true" on the left
    const int left = kMargin + title + label, top = kMargin + title + label;
    const int n = std::max(1, int(classes_.size()));
    const int cell = std::max(8, std::min((width() - left - kMargin) / n, (height() - top - kMargin) / n));
    return {left, top, cell};
}

void ConfusionMatrixView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    if (classes_.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(kMargin, kMargin, -kMargin, -kMargin), Qt::AlignCenter | Qt::TextWordWrap, message_);
        return;
    }
    const Geometry g = geometry();
    const int n = int(classes_.size());
    const QColor low = palette().color(QPalette::Base), high = QColor(0x1f, 0x77, 0xb4);
    const QColor wrong = QColor(0xd6, 0x27, 0x28);
    QFont cell_font = font();
    cell_font.setPointSizeF(std::max(6.0, std::min(cell_font.pointSizeF(), g.cell * 0.35)));
    for (int t = 0; t < n; ++t) {
        int64_t row_total = 0;
        for (int64_t c : counts_[size_t(t)]) row_total += c;
        for (int q = 0; q < n; ++q) {
            const int64_t c = counts_[size_t(t)][size_t(q)];
            const double share = row_total ? double(c) / double(row_total) : 0.0;
            const QRect r = cell_rect(t, q);
            // Right answers in blue, confusions in red: the eye finds the off-diagonal mass.
            p.fillRect(r, mix(low, t == q ? high : wrong, share));
            p.setPen(palette().color(QPalette::Mid));
            p.drawRect(r.adjusted(0, 0, -1, -1));
            if (c > 0 && g.cell >= 14) {
                p.setFont(cell_font);
                p.setPen(share > 0.55 ? Qt::white : palette().color(QPalette::Text));
                p.drawText(r, Qt::AlignCenter, QString::number(c));
            }
        }
    }
    if (selected_.x() >= 0 && selected_.x() < n && selected_.y() < n) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 3));
        p.setBrush(Qt::NoBrush);
        p.drawRect(cell_rect(selected_.x(), selected_.y()).adjusted(1, 1, -2, -2));
    }
    p.setFont(font());
    p.setPen(palette().color(QPalette::Text));
    const int label_w = g.left - kMargin - fontMetrics().height() - 4 - 4;
    for (int i = 0; i < n; ++i) {
        const QString name = fontMetrics().elidedText(classes_[i], Qt::ElideRight, label_w);
        p.drawText(QRect(g.left - label_w - 4, g.top + i * g.cell, label_w, g.cell), Qt::AlignRight | Qt::AlignVCenter, name);
        p.save();
        p.translate(g.left + i * g.cell, g.top - 4);
        p.rotate(-90);
        p.drawText(QRect(0, 0, label_w, g.cell), Qt::AlignLeft | Qt::AlignVCenter, name);
        p.restore();
    }
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.drawText(QRect(g.left, kMargin, g.cell * n, fontMetrics().height()), Qt::AlignCenter, tr("predicted"));
    p.save();
    p.translate(kMargin, g.top + g.cell * n);
    p.rotate(-90);
    p.drawText(QRect(0, 0, g.cell * n, fontMetrics().height()), Qt::AlignCenter, tr("true"));
    p.restore();
}

QPoint ConfusionMatrixView::cell_at(const QPoint& pos) const {
    if (classes_.isEmpty()) return {-1, -1};
    const Geometry g = geometry();
    if (pos.x() < g.left || pos.y() < g.top) return {-1, -1};
    const int q = (pos.x() - g.left) / g.cell, t = (pos.y() - g.top) / g.cell;
    if (t >= classes_.size() || q >= classes_.size()) return {-1, -1};
    return {t, q};
}

QRect ConfusionMatrixView::cell_rect(int t, int q) const {
    const Geometry g = geometry();
    return {g.left + q * g.cell, g.top + t * g.cell, g.cell, g.cell};
}

void ConfusionMatrixView::select_cell(int t, int q) {
    selected_ = {t, q};
    update();
}

void ConfusionMatrixView::mousePressEvent(QMouseEvent* e) {
    const QPoint cell = cell_at(e->position().toPoint());
    if (e->button() != Qt::LeftButton || cell.x() < 0) return QWidget::mousePressEvent(e);
    select_cell(cell.x(), cell.y());
    Q_EMIT cellActivated(cell.x(), cell.y());
}

bool ConfusionMatrixView::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip && !classes_.isEmpty()) {
        auto* help = static_cast<QHelpEvent*>(e);
        const QPoint cell = cell_at(help->pos());
        const int t = cell.x(), q = cell.y();
        if (t >= 0)
            QToolTip::showText(help->globalPos(),
                               tr("true %1, predicted %2: %3 tracks (click to list them)")
                                   .arg(classes_[t], classes_[q])
                                   .arg(count(t, q)),
                               this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(e);
}

} // namespace gafx::widgets
