#pragma once
// A report of stored runs (engine/experiments/report.h: a paper table or a group-by) as the
// markdown of `gafx report` shows it: title and what the table holds fixed, one row per table
// row (label, n, our track and clip accuracy as mean ± std %, the paper's value), the notes.
#include "experiments/report.h"

#include <QWidget>

class QLabel;
class QTableWidget;

namespace gafx::widgets {

class ReportTable : public QWidget {
    Q_OBJECT
public:
    explicit ReportTable(QWidget* parent = nullptr);
    void set_report(const experiments::Report& report);
    void clear(const QString& message);
    QTableWidget* table() const { return table_; }

Q_SIGNALS:
    // A row was double-clicked: the runs it counts (e.g. to select them in the runs table).
    void runsActivated(const QList<qint64>& runs);

private:
    QLabel* title_ = nullptr;
    QTableWidget* table_ = nullptr;
    QLabel* notes_ = nullptr;
    std::vector<std::vector<int64_t>> row_runs_;
};

} // namespace gafx::widgets
