#include "embedding_view.h"

#include "curve_plot.h"
#include "plot_title.h"
#include "qcustomplot_include.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMouseEvent>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace gafx::widgets {
namespace {

constexpr double kPickPixels = 7;
constexpr double kTileGap = 0.25; // between panels, in panel widths

QString class_name(const train::Embeddings& e, int k) {
    return k >= 0 && size_t(k) < e.class_names.size() ? QString::fromStdString(e.class_names[size_t(k)]) : QStringLiteral("(none)");
}

} // namespace

EmbeddingView::EmbeddingView(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    runs_ = new QListWidget(this);
    runs_->setObjectName(QStringLiteral("embeddingRuns"));
    runs_->setToolTip(tr("Check one run, or several to see them side by side (each in its own projection)"));
    runs_->setMaximumHeight(96);
    runs_->setMinimumWidth(320);
    connect(runs_, &QListWidget::itemChanged, this, [this] {
        compute_->setEnabled(busy_ || !checked_runs().isEmpty());
        Q_EMIT checkedRunsChanged();
    });
    kind_ = new QComboBox(this);
    kind_->setObjectName(QStringLiteral("embeddingKind"));
    kind_->addItem(tr("pooled token (classifier)"), int(train::EmbeddingKind::Pooled));
    kind_->addItem(tr("feature map over time (baseline)"), int(train::EmbeddingKind::Features));
    projection_ = new QComboBox(this);
    projection_->setObjectName(QStringLiteral("embeddingProjection"));
    projection_->addItem(QStringLiteral("PCA"), int(Pca));
    projection_->addItem(QStringLiteral("t-SNE"), int(Tsne));
    colour_ = new QComboBox(this);
    colour_->setObjectName(QStringLiteral("embeddingColour"));
    colour_->addItem(tr("true class"), int(ByTrueClass));
    colour_->addItem(tr("predicted class"), int(ByPredicted));
    colour_->addItem(tr("split"), int(BySubset));
    colour_->addItem(tr("right / wrong"), int(ByCorrect));
    colour_->addItem(tr("run group"), int(ByRunGroup));
    connect(colour_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    compute_ = new QPushButton(tr("Compute"), this);
    compute_->setObjectName(QStringLiteral("embeddingCompute"));
    compute_->setToolTip(tr("Run every track of each checked run's dataset through its model (its epoch selected on "
                            "val) on a worker thread, then project each run to 2-D"));
    connect(compute_, &QPushButton::clicked, this, &EmbeddingView::computeRequested);
    status_ = new QLabel(this);
    status_->setObjectName(QStringLiteral("embeddingStatus"));
    status_->setWordWrap(true);

    plot_->setMinimumSize(300, 240);
    plot_->setInteractions(QCP::iRangeZoom);
    plot_->legend->setVisible(true);
    plot_->legend->setBrush(QColor(255, 255, 255, 190));
    plot_->setMouseTracking(true);
    plot_->installEventFilter(this);
    plot_->setToolTip(QString());

    table_ = new QTableWidget(0, 7, this);
    table_->setObjectName(QStringLiteral("embeddingSelection"));
    table_->setHorizontalHeaderLabels(
        {tr("Row"), tr("Run"), tr("Track"), tr("True"), tr("Predicted"), tr("Split"), tr("Track id")});
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setStretchLastSection(true);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int r) {
        if (r >= 0 && r < selected_.size()) {
            const auto [p, i] = locate(selected_[r]);
            const auto& e = panels_[size_t(p)].embeddings;
            Q_EMIT trackActivated(e.run, e.track_ids[size_t(i)]);
        }
    });
    export_csv_ = new QPushButton(tr("Export CSV..."), this);
    export_csv_->setObjectName(QStringLiteral("embeddingExportCsv"));
    export_npy_ = new QPushButton(tr("Export .npy..."), this);
    export_npy_->setObjectName(QStringLiteral("embeddingExportNpy"));
    for (auto [b, format] : {std::pair{export_csv_, QStringLiteral("csv")}, std::pair{export_npy_, QStringLiteral("npy")}}) {
        b->setToolTip(tr("The lassoed tracks (all when none): embeddings with track ids, their 2-D layout, classes and split"));
        b->setEnabled(false);
        connect(b, &QPushButton::clicked, this, [this, f = format] { Q_EMIT exportRequested(f, selected_); });
    }

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Runs"), this), 0, Qt::AlignTop);
    controls->addWidget(runs_, 1);
    auto* options = new QGridLayout;
    options->addWidget(kind_, 0, 0);
    options->addWidget(projection_, 0, 1);
    options->addWidget(compute_, 0, 2);
    options->addWidget(new QLabel(tr("colour by"), this), 1, 0, Qt::AlignRight);
    options->addWidget(colour_, 1, 1);
    controls->addLayout(options);
    auto* below = new QWidget(this);
    auto* below_layout = new QVBoxLayout(below);
    below_layout->setContentsMargins(0, 0, 0, 0);
    auto* export_row = new QHBoxLayout;
    export_row->addWidget(new QLabel(tr("Drag a lasso around points to list them; double-click a row, or click a "
                                         "point, to inspect the track."),
                                     below),
                          1);
    export_row->addWidget(export_csv_);
    export_row->addWidget(export_npy_);
    below_layout->addLayout(export_row);
    below_layout->addWidget(table_, 1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(plot_);
    split->addWidget(below);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(status_);
    layout->addWidget(split, 1);
    clear(tr("Check a trained run (or several) and Compute: each track of its dataset becomes a point."));
}

void EmbeddingView::set_runs(const QList<QPair<qint64, QString>>& runs) {
    QList<qint64> checked = checked_runs();
    {
        const QSignalBlocker block(runs_);
        runs_->clear();
        for (const auto& [id, label] : runs) {
            auto* item = new QListWidgetItem(label, runs_);
            item->setData(Qt::UserRole, id);
            item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
            item->setCheckState(Qt::Unchecked);
        }
    }
    checked.removeIf([&](qint64 id) {
        return std::none_of(runs.begin(), runs.end(), [id](const auto& r) { return r.first == id; });
    });
    if (checked.isEmpty() && !runs.isEmpty()) checked << runs.front().first;
    set_checked_runs(checked);
    compute_->setEnabled(busy_ || !checked_runs().isEmpty());
}

QList<qint64> EmbeddingView::checked_runs() const {
    QList<qint64> out;
    for (int i = 0; i < runs_->count(); ++i)
        if (runs_->item(i)->checkState() == Qt::Checked) out << runs_->item(i)->data(Qt::UserRole).toLongLong();
    return out;
}

QString EmbeddingView::run_label(qint64 run) const {
    for (int i = 0; i < runs_->count(); ++i)
        if (runs_->item(i)->data(Qt::UserRole).toLongLong() == run) return runs_->item(i)->text();
    return tr("Run %1").arg(run);
}

void EmbeddingView::set_checked_runs(const QList<qint64>& runs) {
    {
        const QSignalBlocker block(runs_);
        for (int i = 0; i < runs_->count(); ++i) {
            const bool on = runs.contains(runs_->item(i)->data(Qt::UserRole).toLongLong());
            runs_->item(i)->setCheckState(on ? Qt::Checked : Qt::Unchecked);
            if (on && runs.front() == runs_->item(i)->data(Qt::UserRole).toLongLong()) runs_->scrollToItem(runs_->item(i));
        }
    }
    compute_->setEnabled(busy_ || !checked_runs().isEmpty());
    Q_EMIT checkedRunsChanged();
}

train::EmbeddingKind EmbeddingView::kind() const { return train::EmbeddingKind(kind_->currentData().toInt()); }
EmbeddingView::Projection EmbeddingView::projection() const { return Projection(projection_->currentData().toInt()); }
EmbeddingView::ColourBy EmbeddingView::colour_by() const { return ColourBy(colour_->currentData().toInt()); }
void EmbeddingView::set_colour_by(ColourBy c) { colour_->setCurrentIndex(colour_->findData(int(c))); }

void EmbeddingView::set_busy(const QString& text) {
    busy_ = !text.isEmpty();
    compute_->setText(busy_ ? tr("Cancel") : tr("Compute"));
    compute_->setEnabled(busy_ || !checked_runs().isEmpty());
    runs_->setEnabled(!busy_);
    if (busy_) set_status(text);
}

void EmbeddingView::set_status(const QString& text, bool error) {
    status_->setText(text);
    status_->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

QString EmbeddingView::status() const { return status_->text(); }

void EmbeddingView::clear(const QString& message) {
    panels_.clear();
    first_.clear();
    tiles_.clear();
    total_ = 0;
    selected_.clear();
    groups_ = 0;
    plot_->clearPlottables();
    plot_->clearItems();
    set_plot_title(plot_, message);
    export_csv_->setEnabled(false);
    export_npy_->setEnabled(false);
    fill_table();
    plot_->replot();
}

void EmbeddingView::set_panels(std::vector<EmbeddingPanel> panels, const QString& caption) {
    panels_ = std::move(panels);
    first_.clear();
    tiles_.clear();
    total_ = 0;
    for (const auto& p : panels_) {
        first_.push_back(total_);
        total_ += int(p.embeddings.rows());
        // Several panels: each fitted into a unit square (its aspect kept), side by side.
        Tile t;
        if (panels_.size() > 1 && !p.xy.empty()) {
            float x0 = p.xy[0], x1 = p.xy[0], y0 = p.xy[1], y1 = p.xy[1];
            for (size_t i = 0; i + 1 < p.xy.size(); i += 2) {
                x0 = std::min(x0, p.xy[i]), x1 = std::max(x1, p.xy[i]);
                y0 = std::min(y0, p.xy[i + 1]), y1 = std::max(y1, p.xy[i + 1]);
            }
            const double extent = std::max({double(x1 - x0), double(y1 - y0), 1e-12});
            t.scale = 1.0 / extent;
            t.cx = 0.5 * (double(x0) + double(x1));
            t.cy = 0.5 * (double(y0) + double(y1));
            t.x0 = double(tiles_.size()) * (1.0 + kTileGap) + 0.5;
            t.y0 = 0.5;
        }
        tiles_.push_back(t);
    }
    selected_.clear();
    set_plot_title(plot_, caption);
    export_csv_->setEnabled(total_ > 0);
    export_npy_->setEnabled(total_ > 0);
    fill_table();
    redraw();
    plot_->rescaleAxes();
    if (panels_.size() > 1) {
        plot_->xAxis->setRange(-0.05, double(panels_.size()) * (1.0 + kTileGap) - kTileGap + 0.05);
        plot_->yAxis->setRange(-0.05, 1.18); // room above for the panels' names
    } else {
        plot_->xAxis->scaleRange(1.08);
        plot_->yAxis->scaleRange(1.08);
    }
    // Room on the right for the legend, so no point hides under it.
    const QCPRange x = plot_->xAxis->range();
    plot_->xAxis->setRange(x.lower, x.upper + 0.4 * x.size() / double(std::max<size_t>(1, panels_.size())));
    // Tiled panels' coordinates are each run's own, rescaled: the axes' numbers would mislead.
    for (QCPAxis* a : {plot_->xAxis, plot_->yAxis}) a->setTickLabels(panels_.size() <= 1);
    plot_->replot();
}

QPair<int, int> EmbeddingView::locate(int row) const {
    const auto it = std::upper_bound(first_.begin(), first_.end(), row);
    const int p = int(it - first_.begin()) - 1;
    return {p, row - first_[size_t(p)]};
}

QPointF EmbeddingView::drawn(int row) const {
    const auto [p, i] = locate(row);
    const auto& xy = panels_[size_t(p)].xy;
    const Tile& t = tiles_[size_t(p)];
    return {t.x0 + t.scale * (double(xy[size_t(2 * i)]) - t.cx), t.y0 + t.scale * (double(xy[size_t(2 * i + 1)]) - t.cy)};
}

int EmbeddingView::colour_groups() const { return groups_; }

void EmbeddingView::redraw() {
    plot_->clearPlottables();
    plot_->clearItems();
    groups_ = 0;
    linked_ = 0;
    if (total_ == 0) {
        plot_->legend->setVisible(false);
        plot_->replot();
        return;
    }
    std::map<QString, std::vector<int>> groups;
    for (int g = 0; g < total_; ++g) {
        const auto [p, i] = locate(g);
        const EmbeddingPanel& panel = panels_[size_t(p)];
        const train::Embeddings& e = panel.embeddings;
        const int t = e.true_class[size_t(i)], pr = e.predicted_class[size_t(i)];
        QString key;
        switch (colour_by()) {
        case ByTrueClass: key = class_name(e, t); break;
        case ByPredicted: key = class_name(e, pr); break;
        case BySubset: key = QString::fromLatin1(data::to_string(e.subsets[size_t(i)])); break;
        case ByCorrect: key = t < 0 ? tr("no label") : t == pr ? tr("right") : tr("wrong"); break;
        case ByRunGroup: key = panel.group.isEmpty() ? panel.label : panel.group; break;
        }
        groups[key].push_back(g);
    }
    int k = 0;
    for (const auto& [key, rows] : groups) {
        auto* g = plot_->addGraph();
        g->setName(QStringLiteral("%1 (%2)").arg(key).arg(rows.size()));
        g->setLineStyle(QCPGraph::lsNone);
        QColor c = colour_by() == ByCorrect ? (key == tr("wrong") ? QColor(0xd6, 0x27, 0x28) : QColor(0x2c, 0xa0, 0x2c))
                                             : CurvePlot::palette(k);
        c.setAlpha(200);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, 6));
        for (int r : rows) {
            const QPointF at = drawn(r);
            g->addData(at.x(), at.y());
        }
        ++k;
    }
    groups_ = k;
    plot_->legend->setVisible(k > 0);
    if (panels_.size() > 1)
        for (size_t p = 0; p < panels_.size(); ++p) { // each panel's run above it
            auto* name = new QCPItemText(plot_);
            name->position->setCoords(tiles_[p].x0, 1.09);
            name->setText(panels_[p].label);
            name->setFont(QFont(font().family(), font().pointSize() - 1));
            name->setClipToAxisRect(false);
        }
    if (!selected_.isEmpty()) {
        auto* sel = plot_->addGraph();
        sel->setName(tr("selected (%1)").arg(selected_.size()));
        sel->setLineStyle(QCPGraph::lsNone);
        sel->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 1.5), Qt::NoBrush, 10));
        std::set<std::pair<int, qint64>> chosen; // (panel, track)
        for (int g : selected_) {
            const QPointF at = drawn(g);
            sel->addData(at.x(), at.y());
            const auto [p, i] = locate(g);
            chosen.insert({p, panels_[size_t(p)].embeddings.track_ids[size_t(i)]});
        }
        if (panels_.size() > 1) { // the same tracks where the other runs put them
            std::set<qint64> tracks;
            for (const auto& c : chosen) tracks.insert(c.second);
            auto* linked = plot_->addGraph();
            linked->setLineStyle(QCPGraph::lsNone);
            linked->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, QPen(QColor(0x55, 0x55, 0x55), 1.2),
                                                    Qt::NoBrush, 9));
            for (int g = 0; g < total_; ++g) {
                const auto [p, i] = locate(g);
                const qint64 track = panels_[size_t(p)].embeddings.track_ids[size_t(i)];
                if (!tracks.count(track) || chosen.count({p, track})) continue;
                const QPointF at = drawn(g);
                linked->addData(at.x(), at.y());
                ++linked_;
            }
            linked->setName(tr("the same tracks in the other runs (%1)").arg(linked_));
        }
    }
    plot_->replot();
}

void EmbeddingView::fill_table() {
    table_->setRowCount(selected_.size());
    for (int r = 0; r < selected_.size(); ++r) {
        const auto [p, i] = locate(selected_[r]);
        const train::Embeddings& e = panels_[size_t(p)].embeddings;
        const size_t k = size_t(i);
        const QStringList cells = {QString::number(selected_[r]), QString::number(e.run),
                                   QString::fromStdString(e.track_keys[k]), class_name(e, e.true_class[k]),
                                   class_name(e, e.predicted_class[k]), QString::fromLatin1(data::to_string(e.subsets[k])),
                                   QString::number(e.track_ids[k])};
        for (int c = 0; c < cells.size(); ++c) table_->setItem(r, c, new QTableWidgetItem(cells[c]));
    }
    table_->resizeColumnsToContents();
}

QPoint EmbeddingView::point_position(int i) const {
    const QPointF at = drawn(i);
    return QPoint(int(plot_->xAxis->coordToPixel(at.x())), int(plot_->yAxis->coordToPixel(at.y())));
}

QWidget* EmbeddingView::canvas() const { return plot_; }

int EmbeddingView::nearest(const QPointF& at, double max_pixels) const {
    int best = -1;
    double best_d = max_pixels * max_pixels;
    for (int i = 0; i < point_count(); ++i) {
        const QPointF p = drawn(i);
        const double dx = plot_->xAxis->coordToPixel(p.x()) - at.x();
        const double dy = plot_->yAxis->coordToPixel(p.y()) - at.y();
        if (dx * dx + dy * dy <= best_d) {
            best_d = dx * dx + dy * dy;
            best = i;
        }
    }
    return best;
}

void EmbeddingView::select_in(const QPolygonF& lasso) {
    selected_.clear();
    for (int i = 0; i < point_count(); ++i)
        if (lasso.containsPoint(QPointF(point_position(i)), Qt::OddEvenFill)) selected_ << i;
    fill_table();
    redraw();
}

bool EmbeddingView::eventFilter(QObject* watched, QEvent* event) {
    if (watched != plot_ || total_ == 0) return QWidget::eventFilter(watched, event);
    auto* m = static_cast<QMouseEvent*>(event);
    switch (event->type()) {
    case QEvent::MouseButtonPress:
        if (m->button() != Qt::LeftButton) break;
        dragging_ = true;
        press_ = m->position().toPoint();
        lasso_ = QPolygonF({m->position()});
        return true;
    case QEvent::MouseMove:
        if (dragging_) {
            lasso_ << m->position();
            return true;
        }
        if (const int g = nearest(m->position(), kPickPixels); g >= 0) {
            const auto [p, i] = locate(g);
            const train::Embeddings& e = panels_[size_t(p)].embeddings;
            QToolTip::showText(m->globalPosition().toPoint(),
                               tr("%1\ntrue %2, predicted %3 (%4)\nrun %5")
                                   .arg(QString::fromStdString(e.track_keys[size_t(i)]),
                                        class_name(e, e.true_class[size_t(i)]), class_name(e, e.predicted_class[size_t(i)]),
                                        QString::fromLatin1(data::to_string(e.subsets[size_t(i)])))
                                   .arg(e.run),
                               plot_);
        } else {
            QToolTip::hideText();
        }
        break;
    case QEvent::MouseButtonRelease: {
        if (!dragging_ || m->button() != Qt::LeftButton) break;
        dragging_ = false;
        const QRectF extent = lasso_.boundingRect();
        if (lasso_.size() < 3 || (extent.width() < 4 && extent.height() < 4)) { // a click
            if (const int g = nearest(m->position(), kPickPixels); g >= 0) {
                const auto [p, i] = locate(g);
                const train::Embeddings& e = panels_[size_t(p)].embeddings;
                Q_EMIT trackActivated(e.run, e.track_ids[size_t(i)]);
            }
        } else {
            select_in(lasso_);
        }
        lasso_.clear();
        return true;
    }
    default: break;
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace gafx::widgets
