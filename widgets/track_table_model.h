#pragma once
// The tracks of one stored dataset as a table (key, labels, duration, rate, split side, status,
// error), and the filter the Datasets page puts over it. Rows are read straight from the
// catalogue on demand, so a dataset of many thousands of tracks costs no per-row strings.
#include "data/catalog.h"
#include "data/split.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <unordered_map>

namespace gafx::widgets {

class TrackTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Key, Labels, Duration, SampleRate, Side, Status, Error, ColumnCount };

    explicit TrackTableModel(QObject* parent = nullptr);

    // `split.subset` is aligned with `catalog.tracks` (RunStore::load_dataset's StoredDataset).
    void set_dataset(const data::Catalog& catalog, const data::Split& split);
    void clear();

    const data::Track& track(int row) const { return tracks_[size_t(row)]; }
    data::Subset side(int row) const { return subset_[size_t(row)]; }
    QString labels_text(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<data::Track> tracks_;
    std::vector<data::Subset> subset_;
    std::unordered_map<std::string, std::string> class_names_; // class id -> display name
};

// Status and free-text filter over TrackTableModel (the text matches the key, labels or error),
// sorting on the tracks' own fields.
class TrackFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    enum StatusFilter { AllTracks, ValidOnly, InvalidOnly, MissingOnly, NotUsable };

    explicit TrackFilterProxy(QObject* parent = nullptr);
    void set_status_filter(StatusFilter f);
    void set_text_filter(const QString& text);

protected:
    bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    StatusFilter status_ = AllTracks;
    QString text_;
};

} // namespace gafx::widgets
