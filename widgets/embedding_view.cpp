#include "embedding_view.h"

#include "curve_plot.h"
#include "plot_title.h"
#include "qcustomplot_include.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>
#include <map>

namespace gafx::widgets {
namespace {

constexpr double kPickPixels = 7;

QString class_name(const train::Embeddings& e, int k) {
    return k >= 0 && size_t(k) < e.class_names.size() ? QString::fromStdString(e.class_names[size_t(k)]) : QStringLiteral("(none)");
}

} // namespace

EmbeddingView::EmbeddingView(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    runs_ = new QComboBox(this);
    runs_->setObjectName(QStringLiteral("embeddingRun"));
    runs_->setMinimumContentsLength(28);
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
    connect(colour_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    compute_ = new QPushButton(tr("Compute"), this);
    compute_->setObjectName(QStringLiteral("embeddingCompute"));
    compute_->setToolTip(tr("Run every track of the run's dataset through its model (its epoch selected on val) on a "
                            "worker thread, then project to 2-D"));
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

    table_ = new QTableWidget(0, 6, this);
    table_->setObjectName(QStringLiteral("embeddingSelection"));
    table_->setHorizontalHeaderLabels({tr("Row"), tr("Track"), tr("True"), tr("Predicted"), tr("Split"), tr("Track id")});
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setStretchLastSection(true);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int r) {
        if (r >= 0 && r < selected_.size()) {
            const int row = selected_[r];
            Q_EMIT trackActivated(emb_.run, emb_.track_ids[size_t(row)]);
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
    controls->addWidget(new QLabel(tr("Run"), this));
    controls->addWidget(runs_, 1);
    controls->addWidget(kind_);
    controls->addWidget(projection_);
    controls->addWidget(compute_);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("colour by"), this));
    controls->addWidget(colour_);
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
    clear(tr("Choose a trained run and Compute: each track of its dataset becomes a point."));
}

void EmbeddingView::set_runs(const QList<QPair<qint64, QString>>& runs) {
    const qint64 current = current_run();
    const QSignalBlocker block(runs_);
    runs_->clear();
    for (const auto& [id, label] : runs) runs_->addItem(label, id);
    set_current_run(current);
    compute_->setEnabled(busy_ || runs_->count() > 0);
}

qint64 EmbeddingView::current_run() const { return runs_->currentData().toLongLong(); }

void EmbeddingView::set_current_run(qint64 run) {
    const int i = runs_->findData(run);
    if (i >= 0) runs_->setCurrentIndex(i);
}

train::EmbeddingKind EmbeddingView::kind() const { return train::EmbeddingKind(kind_->currentData().toInt()); }
EmbeddingView::Projection EmbeddingView::projection() const { return Projection(projection_->currentData().toInt()); }
EmbeddingView::ColourBy EmbeddingView::colour_by() const { return ColourBy(colour_->currentData().toInt()); }
void EmbeddingView::set_colour_by(ColourBy c) { colour_->setCurrentIndex(colour_->findData(int(c))); }

void EmbeddingView::set_busy(const QString& text) {
    busy_ = !text.isEmpty();
    compute_->setText(busy_ ? tr("Cancel") : tr("Compute"));
    compute_->setEnabled(busy_ || runs_->count() > 0);
    if (busy_) set_status(text);
}

void EmbeddingView::set_status(const QString& text, bool error) {
    status_->setText(text);
    status_->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

QString EmbeddingView::status() const { return status_->text(); }

void EmbeddingView::clear(const QString& message) {
    emb_ = {};
    xy_.clear();
    selected_.clear();
    groups_ = 0;
    plot_->clearPlottables();
    set_plot_title(plot_, message);
    export_csv_->setEnabled(false);
    export_npy_->setEnabled(false);
    fill_table();
    plot_->replot();
}

void EmbeddingView::set_points(const train::Embeddings& e, const std::vector<float>& xy, const QString& caption) {
    emb_ = e;
    xy_ = xy;
    selected_.clear();
    set_plot_title(plot_, caption);
    export_csv_->setEnabled(true);
    export_npy_->setEnabled(true);
    fill_table();
    redraw();
    plot_->rescaleAxes();
    plot_->xAxis->scaleRange(1.08);
    plot_->yAxis->scaleRange(1.08);
    // Room on the right for the legend, so no point hides under it.
    const QCPRange x = plot_->xAxis->range();
    plot_->xAxis->setRange(x.lower, x.upper + 0.4 * x.size());
    plot_->replot();
}

int EmbeddingView::colour_groups() const { return groups_; }

void EmbeddingView::redraw() {
    plot_->clearPlottables();
    groups_ = 0;
    if (xy_.empty()) {
        plot_->legend->setVisible(false);
        plot_->replot();
        return;
    }
    std::map<QString, std::vector<int>> groups;
    for (int i = 0; i < point_count(); ++i) {
        const int t = emb_.true_class[size_t(i)], p = emb_.predicted_class[size_t(i)];
        QString key;
        switch (colour_by()) {
        case ByTrueClass: key = class_name(emb_, t); break;
        case ByPredicted: key = class_name(emb_, p); break;
        case BySubset: key = QString::fromLatin1(data::to_string(emb_.subsets[size_t(i)])); break;
        case ByCorrect: key = t < 0 ? tr("no label") : t == p ? tr("right") : tr("wrong"); break;
        }
        groups[key].push_back(i);
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
        // QCPGraph sorts by x; points keep their own index through the data, not needed here.
        for (int i : rows) g->addData(double(xy_[size_t(2 * i)]), double(xy_[size_t(2 * i + 1)]));
        ++k;
    }
    groups_ = k;
    plot_->legend->setVisible(k > 0);
    if (!selected_.isEmpty()) {
        auto* sel = plot_->addGraph();
        sel->setName(tr("selected (%1)").arg(selected_.size()));
        sel->setLineStyle(QCPGraph::lsNone);
        sel->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 1.5), Qt::NoBrush, 10));
        for (int i : selected_) sel->addData(double(xy_[size_t(2 * i)]), double(xy_[size_t(2 * i + 1)]));
    }
    plot_->replot();
}

void EmbeddingView::fill_table() {
    table_->setRowCount(selected_.size());
    for (int r = 0; r < selected_.size(); ++r) {
        const size_t i = size_t(selected_[r]);
        const QStringList cells = {QString::number(i), QString::fromStdString(emb_.track_keys[i]),
                                   class_name(emb_, emb_.true_class[i]), class_name(emb_, emb_.predicted_class[i]),
                                   QString::fromLatin1(data::to_string(emb_.subsets[i])), QString::number(emb_.track_ids[i])};
        for (int c = 0; c < cells.size(); ++c) table_->setItem(r, c, new QTableWidgetItem(cells[c]));
    }
    table_->resizeColumnsToContents();
}

QPoint EmbeddingView::point_position(int i) const {
    return QPoint(int(plot_->xAxis->coordToPixel(xy_[size_t(2 * i)])), int(plot_->yAxis->coordToPixel(xy_[size_t(2 * i + 1)])));
}

QWidget* EmbeddingView::canvas() const { return plot_; }

int EmbeddingView::nearest(const QPointF& at, double max_pixels) const {
    int best = -1;
    double best_d = max_pixels * max_pixels;
    for (int i = 0; i < point_count(); ++i) {
        const double dx = plot_->xAxis->coordToPixel(xy_[size_t(2 * i)]) - at.x();
        const double dy = plot_->yAxis->coordToPixel(xy_[size_t(2 * i + 1)]) - at.y();
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
    if (watched != plot_ || xy_.empty()) return QWidget::eventFilter(watched, event);
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
        if (const int i = nearest(m->position(), kPickPixels); i >= 0)
            QToolTip::showText(m->globalPosition().toPoint(),
                               tr("%1\ntrue %2, predicted %3 (%4)")
                                   .arg(QString::fromStdString(emb_.track_keys[size_t(i)]),
                                        class_name(emb_, emb_.true_class[size_t(i)]),
                                        class_name(emb_, emb_.predicted_class[size_t(i)]),
                                        QString::fromLatin1(data::to_string(emb_.subsets[size_t(i)]))),
                               plot_);
        else QToolTip::hideText();
        break;
    case QEvent::MouseButtonRelease: {
        if (!dragging_ || m->button() != Qt::LeftButton) break;
        dragging_ = false;
        const QRectF extent = lasso_.boundingRect();
        if (lasso_.size() < 3 || (extent.width() < 4 && extent.height() < 4)) { // a click
            if (const int i = nearest(m->position(), kPickPixels); i >= 0)
                Q_EMIT trackActivated(emb_.run, emb_.track_ids[size_t(i)]);
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
