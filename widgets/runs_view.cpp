#include "runs_view.h"

#include "confusion_matrix_view.h"
#include "confusion_panel.h"
#include "curve_plot.h"
#include "factor_plot.h"
#include "parallel_plot.h"
#include "report_table.h"
#include "runs_table_model.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QMessageBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace gafx::widgets {
namespace {

// Failed and diverged runs too: the controller asks before it retries them.
bool resumable(store::RunStatus s) { return store::can_resume(s) || store::needs_retry_request(s); }

QPushButton* button(const QString& text, const QString& name, const QString& tip, QWidget* parent) {
    auto* b = new QPushButton(text, parent);
    b->setObjectName(name);
    b->setToolTip(tip);
    return b;
}

} // namespace

RunsView::RunsView(QWidget* parent) : QWidget(parent) {
    model_ = new RunsTableModel(this);
    proxy_ = new RunsFilterProxy(this);
    proxy_->setSourceModel(model_);
    filter_ = new QLineEdit(this);
    filter_->setObjectName(QStringLiteral("runFilter"));
    filter_->setPlaceholderText(tr("Filter: extractor:gafx-u seed:0..2 test>0.7 -status:failed, or words that must appear"));
    filter_->setToolTip(tr("Terms that must all hold: field:value (a,b for either, lo..hi a range), field>x, >=, <, <=, !=;\n"
                           "-term negates; a bare word must appear in the run. Accuracies (val, test, final, f1) are at\n"
                           "the epoch selected on val. The same language as gafx runs --where."));
    filter_->setClearButtonEnabled(true);
    filter_error_ = new QLabel(this);
    filter_error_->setObjectName(QStringLiteral("runFilterError"));
    filter_error_->setWordWrap(true);
    filter_error_->setStyleSheet(QStringLiteral("color: #b00020;"));
    filter_error_->setVisible(false);
    connect(filter_, &QLineEdit::textChanged, this, [this](const QString& text) {
        const QString error = proxy_->set_filter_text(text);
        filter_error_->setText(error);
        filter_error_->setVisible(!error.isEmpty());
        Q_EMIT compareChanged();
    });

    table_ = new QTableView(this);
    table_->setObjectName(QStringLiteral("runsTable"));
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(RunsTableModel::Id, Qt::DescendingOrder); // newest first
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setSectionsMovable(true);
    table_->setAlternatingRowColors(true);
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        update_buttons();
        Q_EMIT selectionChanged();
    });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] { Q_EMIT selectionChanged(); });
    connect(model_, &QAbstractItemModel::dataChanged, this, &RunsView::update_buttons);
    // Columns fit the first runs shown; after that they keep what the user made of them.
    connect(model_, &QAbstractItemModel::rowsInserted, this, [this] {
        if (!columns_sized_) table_->resizeColumnsToContents();
        columns_sized_ = true;
    });
    connect(model_, &QAbstractItemModel::modelReset, this, &RunsView::update_buttons);

    inspect_ = button(tr("&Inspect"), QStringLiteral("inspectButton"),
                      tr("Open the selected runs' learned features in the Inspector"), this);
    resume_ = button(tr("&Resume"), QStringLiteral("resumeRunsButton"),
                     tr("Queue the selected interrupted, paused or cancelled runs; each continues from its checkpoint"), this);
    cancel_ = button(tr("&Cancel"), QStringLiteral("cancelRunsButton"),
                     tr("Stop the selected runs (a running one after its current step); they can be resumed later"), this);
    tags_ = button(tr("&Tags..."), QStringLiteral("tagsButton"),
                   tr("Tag the selected runs (good, baseline, ...): found with tag:NAME in the filter"), this);
    note_ = button(tr("&Note..."), QStringLiteral("noteButton"), tr("A free-text note on the selected run"), this);
    compare_ = button(tr("Co&mpare..."), QStringLiteral("compareRunsButton"),
                      tr("The settings two selected runs differ in: config, split, device, precision, versions"), this);
    connect(compare_, &QPushButton::clicked, this, [this] {
        const QList<qint64> ids = selected_runs();
        if (ids.size() == 2) Q_EMIT compareRequested(ids[0], ids[1]);
    });
    connect(tags_, &QPushButton::clicked, this, [this] { Q_EMIT tagsRequested(selected_runs()); });
    connect(note_, &QPushButton::clicked, this, [this] {
        const QList<qint64> ids = selected_runs();
        if (ids.size() == 1) Q_EMIT noteRequested(ids.front());
    });
    import_ = button(tr("I&mport runs..."), QStringLiteral("importRunsButton"),
                     tr("Merge the runs of other workspaces (the parts of a grid trained with --shard, Slurm tasks, "
                        "another machine) into this one, with their files; a run already here is left alone"),
                     this);
    connect(import_, &QPushButton::clicked, this, &RunsView::importRequested);
    export_csv_ = button(tr("Export &CSV..."), QStringLiteral("exportCsvButton"), tr("Write the selected runs to a CSV file"), this);
    export_json_ = button(tr("Export &JSON..."), QStringLiteral("exportJsonButton"),
                          tr("Write the selected runs to a JSON file (the fields of gafx runs --json)"), this);
    connect(inspect_, &QPushButton::clicked, this, [this] { Q_EMIT inspectRequested(selected_runs()); });
    connect(resume_, &QPushButton::clicked, this, [this] { Q_EMIT resumeRequested(selected_runs()); });
    connect(cancel_, &QPushButton::clicked, this, [this] { Q_EMIT cancelRequested(selected_runs()); });
    connect(export_csv_, &QPushButton::clicked, this, [this] { Q_EMIT exportRequested(QStringLiteral("csv"), selected_runs()); });
    connect(export_json_, &QPushButton::clicked, this,
            [this] { Q_EMIT exportRequested(QStringLiteral("json"), selected_runs()); });
    message_ = new QLabel(this);
    message_->setObjectName(QStringLiteral("runsMessage"));
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // Curves of the selected runs.
    accuracy_ = new CurvePlot(this);
    accuracy_->setObjectName(QStringLiteral("selectedAccuracyPlot"));
    accuracy_->set_axis_labels(tr("epoch"), tr("test track accuracy"));
    accuracy_->set_integer_x(true);
    accuracy_->set_legend_corner(Qt::AlignBottom | Qt::AlignRight);
    loss_ = new CurvePlot(this);
    loss_->setObjectName(QStringLiteral("selectedLossPlot"));
    loss_->set_axis_labels(tr("epoch"), tr("train loss"));
    loss_->set_integer_x(true);
    auto* curve_plots = new QSplitter(Qt::Horizontal, this);
    curve_plots->addWidget(accuracy_);
    curve_plots->addWidget(loss_);
    curve_axis_ = new QComboBox(this);
    curve_axis_->setObjectName(QStringLiteral("curveAxis"));
    curve_axis_->addItem(tr("epoch"), int(experiments::CurveAxis::Epoch));
    curve_axis_->addItem(tr("step"), int(experiments::CurveAxis::Step));
    curve_axis_->addItem(tr("training time (s)"), int(experiments::CurveAxis::Seconds));
    curve_smoothing_ = new QDoubleSpinBox(this);
    curve_smoothing_->setObjectName(QStringLiteral("curveSmoothing"));
    curve_smoothing_->setRange(0.0, 0.99);
    curve_smoothing_->setSingleStep(0.1);
    curve_smoothing_->setDecimals(2);
    curve_smoothing_->setToolTip(tr("Exponential moving average weight, as TensorBoard's (debiased); the raw "
                                    "curve stays, faint. 0: raw only"));
    connect(curve_axis_, &QComboBox::currentIndexChanged, this, [this] {
        const auto axis = curve_axis();
        const QString x = curve_axis_->currentText();
        accuracy_->set_axis_labels(x, tr("test track accuracy"));
        loss_->set_axis_labels(x, tr("train loss"));
        accuracy_->set_integer_x(axis != experiments::CurveAxis::Seconds);
        loss_->set_integer_x(axis != experiments::CurveAxis::Seconds);
        Q_EMIT curveOptionsChanged();
    });
    connect(curve_smoothing_, &QDoubleSpinBox::valueChanged, this, &RunsView::curveOptionsChanged);
    auto* curve_options = new QHBoxLayout;
    curve_options->addWidget(new QLabel(tr("x-axis:"), this));
    curve_options->addWidget(curve_axis_);
    curve_options->addSpacing(12);
    curve_options->addWidget(new QLabel(tr("smoothing:"), this));
    curve_options->addWidget(curve_smoothing_);
    curve_options->addStretch(1);
    curve_options->insertWidget(0, new QLabel(tr("Curves (x-axis for groups too):"), this));
    auto* curves = new QWidget(this);
    auto* curves_layout = new QVBoxLayout(curves);
    curves_layout->setContentsMargins(0, 0, 0, 0);
    curves_layout->addWidget(curve_plots, 1);

    // Groups.
    factor_ = new QComboBox(this);
    factor_->setObjectName(QStringLiteral("groupFactor"));
    connect(factor_, &QComboBox::currentIndexChanged, this, &RunsView::groupingChanged);
    group_curves_ = new CurvePlot(this);
    group_curves_->setObjectName(QStringLiteral("groupPlot"));
    group_curves_->set_axis_labels(tr("epoch"), tr("test track accuracy (mean ± std)"));
    group_curves_->set_integer_x(true);
    group_curves_->set_legend_corner(Qt::AlignBottom | Qt::AlignRight);
    group_table_ = new ReportTable(this);
    group_table_->setObjectName(QStringLiteral("groupTable"));
    auto* groups = new QWidget(this);
    auto* factor_row = new QHBoxLayout;
    factor_row->addWidget(new QLabel(tr("Group by"), groups));
    factor_row->addWidget(factor_);
    factor_row->addStretch(1);
    auto* group_split = new QSplitter(Qt::Horizontal, groups);
    group_split->addWidget(group_curves_);
    group_split->addWidget(group_table_);
    auto* groups_layout = new QVBoxLayout(groups);
    groups_layout->addLayout(factor_row);
    groups_layout->addWidget(group_split, 1);

    // The paper's tables.
    paper_number_ = new QComboBox(this);
    paper_number_->setObjectName(QStringLiteral("paperTableNumber"));
    for (int t = 3; t <= 7; ++t) paper_number_->addItem(tr("Table %1").arg(t), t);
    connect(paper_number_, &QComboBox::currentIndexChanged, this, &RunsView::paperTableChanged);
    paper_table_ = new ReportTable(this);
    paper_table_->setObjectName(QStringLiteral("paperTable"));
    auto* paper = new QWidget(this);
    auto* paper_row = new QHBoxLayout;
    paper_row->addWidget(paper_number_);
    paper_row->addWidget(new QLabel(tr("of the paper (section 4.2): its published values beside ours, mean ± sample "
                                       "std over runs of the statistic chosen above the tabs"),
                                    paper));
    paper_row->addStretch(1);
    auto* paper_layout = new QVBoxLayout(paper);
    paper_layout->addLayout(paper_row);
    paper_layout->addWidget(paper_table_, 1);

    // Confusion matrix.
    confusion_panel_ = new ConfusionPanel(this);
    confusion_panel_->setObjectName(QStringLiteral("confusionPanel"));
    confusion_ = confusion_panel_->matrix();

    // Comparing a grid.
    compare_factor_ = new QComboBox(this);
    compare_factor_->setObjectName(QStringLiteral("compareFactor"));
    connect(compare_factor_, &QComboBox::currentIndexChanged, this, &RunsView::compareChanged);
    compare_caption_ = new QLabel(this);
    compare_caption_->setObjectName(QStringLiteral("compareCaption"));
    compare_caption_->setWordWrap(true);
    factor_plot_ = new FactorPlot(this);
    factor_plot_->setObjectName(QStringLiteral("factorPlot"));
    parallel_plot_ = new ParallelPlot(this);
    parallel_plot_->setObjectName(QStringLiteral("parallelPlot"));
    connect(factor_plot_, &FactorPlot::runsActivated, this, &RunsView::select_runs);
    connect(parallel_plot_, &ParallelPlot::runsActivated, this, &RunsView::select_runs);
    auto* compare = new QWidget(this);
    auto* compare_row = new QHBoxLayout;
    compare_row->addWidget(new QLabel(tr("Factor"), compare));
    compare_row->addWidget(compare_factor_);
    compare_row->addWidget(compare_caption_, 1);
    auto* compare_split = new QSplitter(Qt::Horizontal, compare);
    compare_split->addWidget(factor_plot_);
    compare_split->addWidget(parallel_plot_);
    auto* compare_layout = new QVBoxLayout(compare);
    compare_layout->addLayout(compare_row);
    compare_layout->addWidget(compare_split, 1);

    tabs_ = new QTabWidget(this);
    tabs_->setObjectName(QStringLiteral("runsTabs"));
    tabs_->addTab(curves, tr("Curves of the selected runs"));
    tabs_->addTab(groups, tr("Groups"));
    tabs_->addTab(paper, tr("Paper tables"));
    tabs_->addTab(confusion_panel_, tr("Confusion matrix"));
    tabs_->addTab(compare, tr("Compare a grid"));
    unfinished_ = new QCheckBox(tr("Count unfinished runs"), this);
    unfinished_->setObjectName(QStringLiteral("countUnfinished"));
    unfinished_->setToolTip(tr("Groups and paper tables also count runs that are not finished but evaluated at "
                               "least once, with their best epoch so far (gafx report --all)"));
    connect(unfinished_, &QCheckBox::toggled, this, [this] {
        Q_EMIT groupingChanged();
        Q_EMIT paperTableChanged();
        Q_EMIT compareChanged();
    });
    statistic_ = new QComboBox(this);
    statistic_->setObjectName(QStringLiteral("runStatistic"));
    for (auto st : {experiments::RunStatistic::ValSelected, experiments::RunStatistic::Final,
                    experiments::RunStatistic::BestVal})
        statistic_->addItem(QString::fromStdString(experiments::to_string(st)), int(st));
    statistic_->setToolTip(tr("What each run contributes to groups, tables and plots:\n"
                              "val-selected: test track accuracy at the epoch chosen on val (the honest headline)\n"
                              "final: test track accuracy at the last evaluated epoch\n"
                              "best-val: val track accuracy at the chosen epoch (optimistic; not a test figure)"));
    connect(statistic_, &QComboBox::currentIndexChanged, this, [this] {
        Q_EMIT groupingChanged();
        Q_EMIT paperTableChanged();
        Q_EMIT compareChanged();
    });
    auto* corner = new QWidget(this);
    auto* corner_layout = new QHBoxLayout(corner);
    corner_layout->setContentsMargins(0, 0, 0, 0);
    corner_layout->addWidget(new QLabel(tr("statistic:"), corner));
    corner_layout->addWidget(statistic_);
    corner_layout->addSpacing(8);
    corner_layout->addWidget(unfinished_);
    tabs_->setCornerWidget(corner);

    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {inspect_, resume_, cancel_, compare_, tags_, note_}) buttons->addWidget(b);
    buttons->addStretch(1);
    buttons->addWidget(import_);
    buttons->addWidget(export_csv_);
    buttons->addWidget(export_json_);
    auto* top = new QWidget(this);
    auto* top_layout = new QVBoxLayout(top);
    top_layout->setContentsMargins(0, 0, 0, 0);
    top_layout->addWidget(filter_);
    top_layout->addWidget(filter_error_);
    top_layout->addWidget(table_, 1);
    top_layout->addLayout(buttons);
    top_layout->addWidget(message_);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    // The x-axis and smoothing hold for the selected runs' curves and the groups' bands alike.
    auto* lower = new QWidget(this);
    auto* lower_layout = new QVBoxLayout(lower);
    lower_layout->setContentsMargins(0, 0, 0, 0);
    lower_layout->addLayout(curve_options);
    lower_layout->addWidget(tabs_, 1);
    split->addWidget(lower);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);
    update_buttons();
}

experiments::CurveAxis RunsView::curve_axis() const {
    return experiments::CurveAxis(curve_axis_->currentData().toInt());
}

double RunsView::curve_smoothing() const { return curve_smoothing_->value(); }

void RunsView::set_curve_options(experiments::CurveAxis axis, double smoothing) {
    const int i = curve_axis_->findData(int(axis));
    if (i >= 0) curve_axis_->setCurrentIndex(i);
    curve_smoothing_->setValue(smoothing);
}

QList<qint64> RunsView::selected_runs() const {
    QList<qint64> ids;
    QModelIndexList rows = table_->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    for (const auto& i : rows) ids << i.data(RunsTableModel::IdRole).toLongLong();
    return ids;
}

qint64 RunsView::current_run() const {
    const QModelIndex cur = table_->selectionModel()->currentIndex();
    if (cur.isValid() && table_->selectionModel()->isRowSelected(cur.row(), cur.parent()))
        return cur.data(RunsTableModel::IdRole).toLongLong();
    const QList<qint64> ids = selected_runs();
    return ids.isEmpty() ? 0 : ids.first();
}

void RunsView::select_runs(const QList<qint64>& ids) {
    QItemSelection sel;
    QModelIndex first;
    for (int r = 0; r < proxy_->rowCount(); ++r) {
        const QModelIndex i = proxy_->index(r, 0);
        if (!ids.contains(i.data(RunsTableModel::IdRole).toLongLong())) continue;
        sel.select(i, proxy_->index(r, RunsTableModel::ColumnCount - 1));
        if (!first.isValid()) first = i;
    }
    auto* sm = table_->selectionModel();
    sm->select(sel, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    if (first.isValid()) {
        sm->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
        table_->scrollTo(first);
    }
}

void RunsView::set_factors(const QStringList& factors, const QString& current) {
    for (QComboBox* box : {factor_, compare_factor_}) {
        const QSignalBlocker block(box);
        box->clear();
        box->addItems(factors);
        box->setCurrentText(current);
    }
}

QString RunsView::compare_factor() const { return compare_factor_->currentText(); }

void RunsView::set_compare_caption(const QString& text) { compare_caption_->setText(text); }

QList<qint64> RunsView::visible_runs() const {
    QList<qint64> ids;
    for (int r = 0; r < proxy_->rowCount(); ++r) ids << proxy_->index(r, 0).data(RunsTableModel::IdRole).toLongLong();
    return ids;
}

QString RunsView::group_factor() const { return factor_->currentText(); }

int RunsView::paper_table_number() const { return paper_number_->currentData().toInt(); }

bool RunsView::include_unfinished() const { return unfinished_->isChecked(); }

experiments::RunStatistic RunsView::statistic() const {
    return experiments::RunStatistic(statistic_->currentData().toInt());
}

void RunsView::set_statistic(experiments::RunStatistic s) {
    const int i = statistic_->findData(int(s));
    if (i >= 0) statistic_->setCurrentIndex(i);
}

void RunsView::set_confusion_caption(const QString& text) { confusion_panel_->set_caption(text); }

void RunsView::show_message(const QString& text, bool error, const QString& details) {
    message_->setText(text);
    message_->setToolTip(details);
    message_->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

QString RunsView::message() const { return message_->text(); }

bool RunsView::confirm(const QString& title, const QString& text) {
    return QMessageBox::question(this, title, text) == QMessageBox::Yes;
}

void RunsView::update_buttons() {
    const QList<qint64> ids = selected_runs();
    bool any_resumable = false, any_cancellable = false;
    for (qint64 id : ids)
        if (const RunRow* r = model_->find(id)) {
            any_resumable = any_resumable || resumable(r->run.status);
            any_cancellable = any_cancellable || store::can_cancel(r->run.status);
        }
    inspect_->setEnabled(!ids.isEmpty());
    resume_->setEnabled(any_resumable);
    cancel_->setEnabled(any_cancellable);
    tags_->setEnabled(!ids.isEmpty());
    note_->setEnabled(ids.size() == 1);
    compare_->setEnabled(ids.size() == 2);
    export_csv_->setEnabled(!ids.isEmpty());
    export_json_->setEnabled(!ids.isEmpty());
}

} // namespace gafx::widgets
