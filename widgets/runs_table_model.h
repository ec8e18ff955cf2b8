#pragma once
// Every run of the workspace as a table: id, experiment, status, the factors of its config,
// device/precision, epochs, best and final test accuracy, duration. Refreshing with the same
// runs (plus new ones at the end, as runs are created) updates rows in place, so sorting,
// filtering and the selection survive the once-a-second refresh while something trains.
#include "experiments/experiment.h"
#include "experiments/run_filter.h"
#include "store/run_store.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <memory>
#include <vector>

namespace gafx::widgets {

struct RunRow {
    store::RunRecord run;
    experiments::RunConfig config; // parsed from run.config
    bool config_ok = true;         // false: the stored config no longer parses (defaults shown)
    // The run as the filter language sees it; set_runs builds it when missing.
    std::shared_ptr<const experiments::FilterableRun> filterable;
};

class RunsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Id, Experiment, Status, Dataset, Extractor, Classifier, Augmentation, Pretraining, Lr, Batch, Seed,
        Device, Epochs, Selected, ValTrack, TestTrack, FinalTestTrack, Duration, Tags, Note, ColumnCount
    };
    static constexpr int SortRole = Qt::UserRole; // raw values, so numbers sort as numbers
    static constexpr int IdRole = Qt::UserRole + 1;

    explicit RunsTableModel(QObject* parent = nullptr);

    // `replaced`, when given, receives the rows it held, for the caller to free elsewhere (at
    // 10 000 runs freeing them is a good part of a refresh).
    void set_runs(std::vector<RunRow> rows, std::vector<RunRow>* replaced = nullptr);
    const std::vector<RunRow>& runs() const { return rows_; }
    const RunRow* find(qint64 id) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<RunRow> rows_;
};

// Sorting by raw values; filtering in the language of `gafx runs --where`
// (experiments/run_filter.h: "extractor:gafx-u seed:0..2 test>0.7", or plain words).
class RunsFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit RunsFilterProxy(QObject* parent = nullptr);
    // Returns what is wrong with `text`, empty when it parsed; a filter that does not parse
    // leaves the previous one in force, so typing never empties the table half way.
    QString set_filter_text(const QString& text);

protected:
    bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;

private:
    experiments::RunFilter filter_;
};

} // namespace gafx::widgets
