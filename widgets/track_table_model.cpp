#include "track_table_model.h"

#include <QBrush>
#include <QColor>

namespace gafx::widgets {

TrackTableModel::TrackTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void TrackTableModel::set_dataset(const data::Catalog& catalog, const data::Split& split) {
    beginResetModel();
    tracks_ = catalog.tracks;
    subset_ = split.subset;
    subset_.resize(tracks_.size(), data::Subset::None);
    class_names_.clear();
    for (const auto& c : catalog.classes) class_names_[c.id] = c.display_name;
    endResetModel();
}

void TrackTableModel::clear() {
    beginResetModel();
    tracks_.clear();
    subset_.clear();
    class_names_.clear();
    endResetModel();
}

QString TrackTableModel::labels_text(int row) const {
    QStringList out;
    for (const auto& l : tracks_[size_t(row)].labels) {
        auto it = class_names_.find(l);
        out << QString::fromStdString(it == class_names_.end() ? l : it->second);
    }
    return out.join(QStringLiteral(", "));
}

int TrackTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(tracks_.size()); }

int TrackTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant TrackTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    const data::Track& t = tracks_[size_t(index.row())];
    const bool usable = t.status == data::TrackStatus::Valid;
    if (role == Qt::ForegroundRole)
        return usable || (index.column() != Status && index.column() != Error) ? QVariant() : QBrush(QColor(190, 30, 30));
    if (role == Qt::TextAlignmentRole)
        return index.column() == Duration || index.column() == SampleRate ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                                                          : QVariant();
    if (role == Qt::ToolTipRole) {
        if (index.column() == Key) return QString::fromStdString(t.path.empty() ? t.key : t.path);
        if (index.column() == Error) return QString::fromStdString(t.error);
        return {};
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
    case Key: return QString::fromStdString(t.key);
    case Labels: return labels_text(index.row());
    case Duration:
        return usable || t.duration > 0 ? QString::number(t.duration, 'f', 2) : QString();
    case SampleRate:
        return t.sample_rate > 0 ? QString::number(t.sample_rate) : QString();
    case Side: {
        const data::Subset s = subset_[size_t(index.row())];
        return s == data::Subset::None ? QString() : QString::fromLatin1(data::to_string(s));
    }
    case Status: return QString::fromLatin1(data::to_string(t.status));
    case Error: return QString::fromStdString(t.error);
    default: return {};
    }
}

QVariant TrackTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    static const char* names[ColumnCount] = {"Track", "Labels", "Seconds", "Rate (Hz)", "Split", "Status", "Error"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

TrackFilterProxy::TrackFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {}

void TrackFilterProxy::set_status_filter(StatusFilter f) {
    if (f == status_) return;
    status_ = f;
    invalidateFilter();
}

void TrackFilterProxy::set_text_filter(const QString& text) {
    const QString t = text.trimmed();
    if (t == text_) return;
    text_ = t;
    invalidateFilter();
}

bool TrackFilterProxy::filterAcceptsRow(int source_row, const QModelIndex&) const {
    // Reads the tracks directly: going through data() would build a QVariant per cell per row.
    const auto* model = static_cast<const TrackTableModel*>(sourceModel());
    const data::Track& t = model->track(source_row);
    switch (status_) {
    case AllTracks: break;
    case ValidOnly: if (t.status != data::TrackStatus::Valid) return false; break;
    case InvalidOnly: if (t.status != data::TrackStatus::Invalid) return false; break;
    case MissingOnly: if (t.status != data::TrackStatus::Missing) return false; break;
    case NotUsable: if (t.status == data::TrackStatus::Valid) return false; break;
    }
    if (text_.isEmpty()) return true;
    return QString::fromStdString(t.key).contains(text_, Qt::CaseInsensitive) ||
           QString::fromStdString(t.error).contains(text_, Qt::CaseInsensitive) ||
           model->labels_text(source_row).contains(text_, Qt::CaseInsensitive);
}

bool TrackFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    // Compares the fields themselves: sorting many thousands of rows through QVariants is slow.
    const auto* model = static_cast<const TrackTableModel*>(sourceModel());
    const data::Track& a = model->track(left.row());
    const data::Track& b = model->track(right.row());
    switch (left.column()) {
    case TrackTableModel::Key: return a.key < b.key;
    case TrackTableModel::Labels: return model->labels_text(left.row()) < model->labels_text(right.row());
    case TrackTableModel::Duration: return a.duration < b.duration;
    case TrackTableModel::SampleRate: return a.sample_rate < b.sample_rate;
    case TrackTableModel::Side: return int(model->side(left.row())) < int(model->side(right.row()));
    case TrackTableModel::Status: return int(a.status) < int(b.status);
    case TrackTableModel::Error: return a.error < b.error;
    default: return QSortFilterProxyModel::lessThan(left, right);
    }
}

} // namespace gafx::widgets
