#include "report_table.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace gafx::widgets {
namespace {

QString s(const std::string& v) { return QString::fromStdString(v); }

} // namespace

ReportTable::ReportTable(QWidget* parent) : QWidget(parent) {
    title_ = new QLabel(this);
    title_->setWordWrap(true);
    table_ = new QTableWidget(this);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->verticalHeader()->setVisible(false);
    notes_ = new QLabel(this);
    notes_->setObjectName(QStringLiteral("reportNotes"));
    notes_->setWordWrap(true);
    notes_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(title_);
    layout->addWidget(table_, 1);
    layout->addWidget(notes_);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (row < 0 || size_t(row) >= row_runs_.size()) return;
        QList<qint64> ids;
        for (int64_t id : row_runs_[size_t(row)]) ids << id;
        if (!ids.isEmpty()) Q_EMIT runsActivated(ids);
    });
}

void ReportTable::set_report(const experiments::Report& report) {
    QString title = QStringLiteral("<b>%1</b>").arg(s(report.title).toHtmlEscaped());
    if (!report.fixed.empty()) title += tr("<br>Held fixed: %1").arg(s(report.fixed).toHtmlEscaped());
    title += QStringLiteral("<br>") + s(experiments::statistic_note(report.statistic)).toHtmlEscaped();
    title_->setText(title);
    const auto header = experiments::table_header(report);
    table_->clear();
    table_->setColumnCount(int(header.size()));
    QStringList labels;
    for (const auto& h : header) labels << s(h);
    table_->setHorizontalHeaderLabels(labels);
    table_->setRowCount(int(report.rows.size()));
    row_runs_.clear();
    for (int r = 0; r < int(report.rows.size()); ++r) {
        const auto& row = report.rows[size_t(r)];
        const auto cells = experiments::table_cells(report, row);
        for (int c = 0; c < int(cells.size()); ++c) {
            auto* item = new QTableWidgetItem(s(cells[size_t(c)]));
            if (c > 0) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (!row.run_ids.empty()) {
                QStringList ids;
                for (int64_t id : row.run_ids) ids << QString::number(id);
                item->setToolTip(tr("runs %1 (double-click to select them)").arg(ids.join(QLatin1Char(' '))));
            }
            table_->setItem(r, c, item);
        }
        row_runs_.push_back(row.run_ids);
    }
    table_->resizeColumnsToContents();
    QString notes;
    for (const auto& n : experiments::report_notes(report)) notes += QStringLiteral("• ") + s(n) + QLatin1Char('\n');
    if (report.rows.empty()) notes.prepend(tr("No finished run matches yet.\n"));
    notes_->setText(notes.trimmed());
}

void ReportTable::clear(const QString& message) {
    table_->clear();
    table_->setRowCount(0);
    table_->setColumnCount(0);
    row_runs_.clear();
    title_->clear();
    notes_->setText(message);
}

} // namespace gafx::widgets
