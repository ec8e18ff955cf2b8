#include "confusion_panel.h"

#include "confusion_matrix_view.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

namespace gafx::widgets {
namespace {

QString percent(double p) { return QString::number(100.0 * p, 'f', 1); }

// The three likeliest classes of one clip, for the tooltip.
QString top_classes(const std::vector<float>& p, const QStringList& classes) {
    std::vector<size_t> order(p.size());
    std::iota(order.begin(), order.end(), size_t(0));
    const size_t k = std::min<size_t>(3, order.size());
    std::partial_sort(order.begin(), order.begin() + long(k), order.end(),
                      [&](size_t a, size_t b) { return p[a] > p[b]; });
    QStringList out;
    for (size_t i = 0; i < k; ++i)
        out << QStringLiteral("%1 %2 %").arg(int(order[i]) < classes.size() ? classes[int(order[i])] : QString::number(order[i]),
                                             percent(p[order[i]]));
    return out.join(QStringLiteral(", "));
}

} // namespace

ConfusionPanel::ConfusionPanel(QWidget* parent) : QWidget(parent) {
    caption_ = new QLabel(this);
    caption_->setWordWrap(true);
    matrix_ = new ConfusionMatrixView(this);
    matrix_->setObjectName(QStringLiteral("confusionMatrix"));
    cell_caption_ = new QLabel(this);
    cell_caption_->setObjectName(QStringLiteral("confusionCellCaption"));
    cell_caption_->setWordWrap(true);
    tracks_ = new QTableWidget(0, ColumnCount, this);
    tracks_->setObjectName(QStringLiteral("confusionTracks"));
    tracks_->setHorizontalHeaderLabels({tr("Run"), tr("Track"), tr("True"), tr("Predicted"), tr("Confidence %"),
                                        tr("Clips: p(predicted) / p(true) %")});
    tracks_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    tracks_->setSelectionBehavior(QAbstractItemView::SelectRows);
    tracks_->setSelectionMode(QAbstractItemView::SingleSelection);
    tracks_->verticalHeader()->setVisible(false);
    tracks_->horizontalHeader()->setStretchLastSection(true);
    inspect_ = new QPushButton(tr("Inspect track"), this);
    inspect_->setObjectName(QStringLiteral("inspectCellTrack"));
    inspect_->setToolTip(tr("Open the track in the Inspector with its run: its feature map beside its mel spectrogram"));
    inspect_->setEnabled(false);
    connect(tracks_, &QTableWidget::itemSelectionChanged, this,
            [this] { inspect_->setEnabled(!tracks_->selectedItems().isEmpty()); });
    connect(tracks_, &QTableWidget::cellDoubleClicked, this, [this] { inspect_current(); });
    connect(inspect_, &QPushButton::clicked, this, &ConfusionPanel::inspect_current);

    auto* list = new QWidget(this);
    auto* list_layout = new QVBoxLayout(list);
    list_layout->setContentsMargins(0, 0, 0, 0);
    auto* row = new QHBoxLayout;
    row->addWidget(cell_caption_, 1);
    row->addWidget(inspect_);
    list_layout->addLayout(row);
    list_layout->addWidget(tracks_, 1);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(matrix_);
    split->addWidget(list);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(caption_);
    layout->addWidget(split, 1);
    clear_cell_tracks(tr("Click a cell to list its tracks."));
}

void ConfusionPanel::set_caption(const QString& text) { caption_->setText(text); }
QString ConfusionPanel::caption() const { return caption_->text(); }
QString ConfusionPanel::cell_caption() const { return cell_caption_->text(); }

void ConfusionPanel::set_cell_tracks(const QString& caption, const QStringList& classes,
                                     const std::vector<const experiments::TrackOutcome*>& rows) {
    cell_caption_->setText(caption);
    tracks_->setSortingEnabled(false);
    tracks_->setRowCount(int(rows.size()));
    const auto name = [&](int k) { return k >= 0 && k < classes.size() ? classes[k] : QString::number(k); };
    for (int r = 0; r < int(rows.size()); ++r) {
        const experiments::TrackOutcome& o = *rows[size_t(r)];
        QStringList clips, tips;
        for (size_t c = 0; c < o.clip_probabilities.size(); ++c) {
            const auto& p = o.clip_probabilities[c];
            clips << percent(p[size_t(o.predicted)]) + QStringLiteral(" / ") + percent(p[size_t(o.true_class)]);
            tips << tr("clip %1: %2").arg(c + 1).arg(top_classes(p, classes));
        }
        const QStringList cells = {QString::number(o.run), QString::fromStdString(o.key), name(o.true_class),
                                   name(o.predicted), percent(o.confidence), clips.join(QStringLiteral(",  "))};
        for (int col = 0; col < ColumnCount; ++col) {
            auto* item = new QTableWidgetItem(cells[col]);
            item->setData(RunRole, qint64(o.run));
            item->setData(TrackRole, qint64(o.track));
            if (col == ClipsColumn) item->setToolTip(tips.join(QLatin1Char('\n')));
            if (col == RunColumn || col == ConfidenceColumn) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            tracks_->setItem(r, col, item);
        }
    }
    tracks_->resizeColumnsToContents();
    inspect_->setEnabled(false);
}

void ConfusionPanel::clear_cell_tracks(const QString& caption) {
    cell_caption_->setText(caption);
    tracks_->setRowCount(0);
    inspect_->setEnabled(false);
}

void ConfusionPanel::inspect_current() {
    const auto items = tracks_->selectedItems();
    if (items.isEmpty()) return;
    Q_EMIT trackInspectRequested(items.front()->data(RunRole).toLongLong(), items.front()->data(TrackRole).toLongLong());
}

} // namespace gafx::widgets
