#pragma once
// The Runs page's view: a sortable, filterable table of every run; the selected runs' curves
// overlaid; runs grouped by one factor (mean ± std band per group and a summary table); the
// paper's tables 3-7 beside ours; the confusion matrix of the selected runs with the tracks of
// a clicked cell; and Inspect,
// Resume, Cancel and export buttons. It only draws and emits; app/workbench/runs_controller.cpp
// reads the store, computes and acts.
#include "experiments/run_analysis.h"

#include <QList>
#include <QStringList>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTabWidget;

namespace gafx::widgets {

class ConfusionMatrixView;
class ConfusionPanel;
class CurvePlot;
class FactorPlot;
class ParallelPlot;
class ReportTable;
class RunsFilterProxy;
class RunsTableModel;

class RunsView : public QWidget {
    Q_OBJECT
public:
    enum Tab { CurvesTab = 0, GroupsTab, PaperTab, ConfusionTab, CompareTab };

    explicit RunsView(QWidget* parent = nullptr);

    RunsTableModel* model() const { return model_; }
    QTableView* table() const { return table_; }
    QTabWidget* tabs() const { return tabs_; }
    QList<qint64> selected_runs() const; // in table order
    QList<qint64> visible_runs() const;  // every run the filter lets through
    // The run the confusion matrix is about: the current row when it is selected, else the
    // first selected one; 0 when none.
    qint64 current_run() const;
    void select_runs(const QList<qint64>& ids);

    CurvePlot* accuracy_curves() const { return accuracy_; }
    CurvePlot* loss_curves() const { return loss_; }
    // The selected runs' curves: what the x-axis is, and the EMA weight (0: raw only).
    experiments::CurveAxis curve_axis() const;
    double curve_smoothing() const;
    void set_curve_options(experiments::CurveAxis axis, double smoothing);

    // The factors of the group and compare choosers; `current` chosen in both.
    void set_factors(const QStringList& factors, const QString& current);
    QString group_factor() const;
    CurvePlot* group_curves() const { return group_curves_; }
    ReportTable* group_table() const { return group_table_; }

    int paper_table_number() const; // 3..7
    ReportTable* paper_table() const { return paper_table_; }
    bool include_unfinished() const;
    // What each run contributes to groups, paper tables and the comparison plots.
    experiments::RunStatistic statistic() const;
    void set_statistic(experiments::RunStatistic s);

    // The grid compared: a factor against the statistic, and parallel coordinates, over the
    // runs the filter shows.
    QString compare_factor() const;
    FactorPlot* factor_plot() const { return factor_plot_; }
    ParallelPlot* parallel_plot() const { return parallel_plot_; }
    void set_compare_caption(const QString& text);

    ConfusionMatrixView* confusion() const { return confusion_; }
    ConfusionPanel* confusion_panel() const { return confusion_panel_; }
    void set_confusion_caption(const QString& text);

    // A line under the table: what an action did, or why it could not (error: shown in red).
    // `details`: the message's tooltip (every line of an import, say).
    void show_message(const QString& text, bool error = false, const QString& details = {});
    // A yes/no question over the view (modal); true for yes.
    bool confirm(const QString& title, const QString& text);
    QString message() const;

Q_SIGNALS:
    void selectionChanged();
    void groupingChanged();    // factor, statistic or "count unfinished runs"
    void curveOptionsChanged(); // x-axis or smoothing of the selected runs' curves
    void paperTableChanged();  // table number, statistic or "count unfinished runs"
    void compareChanged();     // the compared factor, the statistic, the filter or "count unfinished runs"
    void inspectRequested(const QList<qint64>& runs);
    void resumeRequested(const QList<qint64>& runs);
    void cancelRequested(const QList<qint64>& runs);
    void exportRequested(const QString& format, const QList<qint64>& runs); // "csv" | "json"
    void tagsRequested(const QList<qint64>& runs); // edit the tags they share
    void noteRequested(qint64 run);
    void compareRequested(qint64 a, qint64 b); // their settings side by side
    void importRequested();                     // "Import runs...": other workspaces' runs into this one

private:
    void update_buttons();
    RunsTableModel* model_ = nullptr;
    RunsFilterProxy* proxy_ = nullptr;
    QLineEdit* filter_ = nullptr;
    QLabel* filter_error_ = nullptr; // what is wrong with the filter typed, hidden when nothing
    QTableView* table_ = nullptr;
    QPushButton* inspect_ = nullptr;
    QPushButton* resume_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QPushButton* tags_ = nullptr;
    QPushButton* note_ = nullptr;
    QPushButton* compare_ = nullptr;
    QPushButton* import_ = nullptr;
    QPushButton* export_csv_ = nullptr;
    QPushButton* export_json_ = nullptr;
    QLabel* message_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    CurvePlot* accuracy_ = nullptr;
    CurvePlot* loss_ = nullptr;
    QComboBox* curve_axis_ = nullptr;
    QDoubleSpinBox* curve_smoothing_ = nullptr;
    QComboBox* factor_ = nullptr;
    QCheckBox* unfinished_ = nullptr;
    QComboBox* statistic_ = nullptr;
    CurvePlot* group_curves_ = nullptr;
    ReportTable* group_table_ = nullptr;
    QComboBox* paper_number_ = nullptr;
    ReportTable* paper_table_ = nullptr;
    ConfusionPanel* confusion_panel_ = nullptr;
    QComboBox* compare_factor_ = nullptr;
    QLabel* compare_caption_ = nullptr;
    FactorPlot* factor_plot_ = nullptr;
    ParallelPlot* parallel_plot_ = nullptr;
    ConfusionMatrixView* confusion_ = nullptr;
    bool columns_sized_ = false;
};

} // namespace gafx::widgets
