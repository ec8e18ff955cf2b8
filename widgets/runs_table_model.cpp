#include "runs_table_model.h"

#include "core/error.h"
#include "core/text.h"

#include <QBrush>
#include <QColor>

#include <cmath>

namespace gafx::widgets {
namespace {

QVariant percent(double v) { return std::isnan(v) ? QVariant(QStringLiteral("—")) : QVariant(QString::number(100.0 * v, 'f', 1)); }
QVariant fraction(double v) { return std::isnan(v) ? QVariant(-1.0) : QVariant(v); } // unevaluated sorts first

QString duration(double s) {
    const qint64 t = qint64(s + 0.5);
    return QStringLiteral("%1:%2:%3").arg(t / 3600).arg(t / 60 % 60, 2, 10, QLatin1Char('0')).arg(t % 60, 2, 10, QLatin1Char('0'));
}

QString s(const std::string& v) { return QString::fromStdString(v); }

QString augmentation(const experiments::RunConfig& c) {
    return c.augmentation ? QStringLiteral("%1 x %2 s").arg(c.clips_per_track).arg(c.clip_seconds) : QStringLiteral("off");
}

QColor status_colour(store::RunStatus status) {
    using store::RunStatus;
    switch (status) {
    case RunStatus::Finished: return QColor(0x2e, 0x7d, 0x32);
    case RunStatus::Running: return QColor(0x15, 0x65, 0xc0);
    case RunStatus::Failed: case RunStatus::Diverged: return QColor(0xc6, 0x28, 0x28);
    case RunStatus::Interrupted: case RunStatus::Paused: case RunStatus::Cancelled: return QColor(0xef, 0x6c, 0x00);
    case RunStatus::Queued: break;
    }
    return {};
}

} // namespace

RunsTableModel::RunsTableModel(QObject* parent) : QAbstractTableModel(parent) {}

namespace {

// Whether the filter sees the two records alike: then a row keeps the FilterableRun it has
// (building one parses the config twice; at 10 000 runs, once a second, that would stall).
bool same_for_filter(const store::RunRecord& a, const store::RunRecord& b) {
    const auto same = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
    return a.id == b.id && a.status == b.status && a.config == b.config && a.seed == b.seed &&
           a.epochs_done == b.epochs_done && a.selected_epoch == b.selected_epoch && same(a.seconds, b.seconds) &&
           same(a.val_track_accuracy, b.val_track_accuracy) && same(a.test_track_accuracy, b.test_track_accuracy) &&
           same(a.test_macro_f1, b.test_macro_f1) && same(a.final_test_track_accuracy, b.final_test_track_accuracy) &&
           a.experiment == b.experiment && a.device == b.device && a.precision == b.precision && a.host == b.host &&
           a.world_size == b.world_size && a.backend == b.backend &&
           a.error == b.error && a.tags == b.tags && a.note == b.note;
}

// Whether the table shows the two records alike (the filter's fields and the status tooltip's).
bool same_for_display(const store::RunRecord& a, const store::RunRecord& b) {
    return same_for_filter(a, b) && a.pid == b.pid && a.heartbeat_at == b.heartbeat_at;
}

} // namespace

void RunsTableModel::set_runs(std::vector<RunRow> rows, std::vector<RunRow>* replaced) {
    for (size_t i = 0; i < rows.size(); ++i) {
        RunRow& r = rows[i];
        if (r.filterable) continue;
        if (i < rows_.size() && rows_[i].filterable && same_for_filter(rows_[i].run, r.run))
            r.filterable = rows_[i].filterable;
        else
            r.filterable = std::make_shared<const experiments::FilterableRun>(r.run);
    }
    bool same_prefix = rows.size() >= rows_.size();
    for (size_t i = 0; same_prefix && i < rows_.size(); ++i) same_prefix = rows[i].run.id == rows_[i].run.id;
    if (!same_prefix) { // runs vanished or moved: start over (rare; runs are never deleted)
        beginResetModel();
        std::swap(rows_, rows);
        endResetModel();
        if (replaced) *replaced = std::move(rows);
        return;
    }
    // Only the rows that show differently are announced: at 10 000 runs, announcing them all
    // made the sort proxy re-sort and re-filter every row at every commit (20 ms).
    const size_t old = rows_.size();
    for (size_t i = 0; i < old;) {
        if (same_for_display(rows_[i].run, rows[i].run)) {
            std::swap(rows_[i], rows[i]);
            ++i;
            continue;
        }
        size_t end = i;
        for (; end < old && !same_for_display(rows_[end].run, rows[end].run); ++end) std::swap(rows_[end], rows[end]);
        Q_EMIT dataChanged(index(int(i), 0), index(int(end) - 1, ColumnCount - 1));
        i = end;
    }
    if (rows.size() > old) {
        beginInsertRows({}, int(old), int(rows.size()) - 1);
        for (size_t i = old; i < rows.size(); ++i) rows_.push_back(std::move(rows[i]));
        endInsertRows();
    }
    rows.resize(old); // what was replaced; the inserted rows were moved from
    if (replaced) *replaced = std::move(rows);
}

const RunRow* RunsTableModel::find(qint64 id) const {
    for (const auto& r : rows_)
        if (r.run.id == id) return &r;
    return nullptr;
}

int RunsTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }

int RunsTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunsTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(rows_.size())) return {};
    const RunRow& row = rows_[size_t(index.row())];
    const store::RunRecord& r = row.run;
    const experiments::RunConfig& c = row.config;
    if (role == IdRole) return qint64(r.id);
    if (role == Qt::ToolTipRole) {
        // Who holds a running run: a second trainer (a terminal, another workbench) is refused by it.
        if (index.column() == Status && r.status == store::RunStatus::Running)
            return tr("Trained by pid %1 on %2, last heartbeat %3").arg(r.pid).arg(s(r.host), s(r.heartbeat_at));
        if (index.column() == Note && !r.note.empty()) return s(r.note);
        if (!row.config_ok) return tr("The stored config no longer parses: %1").arg(s(r.config));
        if (!r.error.empty()) return s(r.error);
        return s(r.config);
    }
    if (role == Qt::ForegroundRole && index.column() == Status) {
        const QColor colour = status_colour(r.status);
        return colour.isValid() ? QVariant(QBrush(colour)) : QVariant();
    }
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case Id: case Lr: case Batch: case Seed: case Epochs: case Selected: case ValTrack: case TestTrack:
        case FinalTestTrack: case Duration:
            return int(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole && role != SortRole) return {};
    const bool sort = role == SortRole;
    switch (index.column()) {
    case Id: return qint64(r.id);
    case Experiment: return r.experiment.empty() ? QStringLiteral("—") : s(r.experiment);
    case Status: return QString::fromLatin1(store::to_string(r.status));
    case Dataset: return s(c.dataset);
    case Extractor: return s(c.extractor);
    case Classifier: return s(c.classifier) + (c.preset == "small" && !sort ? QStringLiteral(" (small)") : QString());
    case Augmentation: return augmentation(c);
    case Pretraining:
        if (c.pretraining == "run") return QStringLiteral("run %1").arg(c.pretrained_run);
        return s(c.pretraining);
    case Lr: return sort ? QVariant(c.lr) : QVariant(QString::number(c.lr, 'g', 4));
    case Batch: return qint64(c.batch_size);
    case Seed: return qint64(r.seed);
    case Device:
        if (r.device.empty()) return QStringLiteral("—");
        // A data-parallel run: its ranks and their c10d backend ("cpu/fp32 ×2 gloo").
        return s(r.device) + QLatin1Char('/') + s(r.precision) +
               (r.world_size > 1 ? QStringLiteral(" ×%1 %2").arg(r.world_size).arg(s(r.backend)) : QString());
    case Epochs: return sort ? QVariant(qint64(r.epochs_done)) : QVariant(QStringLiteral("%1/%2").arg(r.epochs_done).arg(c.epochs));
    case Selected:
        if (r.selected_epoch == 0) return sort ? QVariant(qint64(0)) : QVariant(QStringLiteral("—"));
        return qint64(r.selected_epoch);
    case ValTrack: return sort ? fraction(r.val_track_accuracy) : percent(r.val_track_accuracy);
    case TestTrack: return sort ? fraction(r.test_track_accuracy) : percent(r.test_track_accuracy);
    case FinalTestTrack: return sort ? fraction(r.final_test_track_accuracy) : percent(r.final_test_track_accuracy);
    case Duration: return sort ? QVariant(r.seconds) : QVariant(duration(r.seconds));
    case Tags: return s(join(r.tags, " "));
    case Note: { // the first line; the whole note is the tooltip
        const std::string first = r.note.substr(0, r.note.find('\n'));
        return s(first.size() < r.note.size() ? first + " …" : first);
    }
    default: return {};
    }
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::ToolTipRole && section >= Selected && section <= FinalTestTrack)
        return tr("Track accuracy in %. The selected epoch is the one best on val; test is reported at that "
                  "epoch (and at the last one), never chosen on test");
    if (role != Qt::DisplayRole) return {};
    static const char* names[ColumnCount] = {"Id",      "Experiment", "Status",      "Dataset",      "Extractor",
                                             "Classifier", "Augmentation", "Pretraining", "lr",          "Batch",
                                             "Seed",    "Device",     "Epochs",      "Selected",     "Val track %",
                                             "Test track %", "Final test track %", "Duration", "Tags", "Note"};
    return tr(names[section]);
}

RunsFilterProxy::RunsFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(RunsTableModel::SortRole);
    setDynamicSortFilter(true);
}

QString RunsFilterProxy::set_filter_text(const QString& text) {
    try {
        filter_ = experiments::parse_run_filter(text.toStdString());
    } catch (const Error& e) {
        return QString::fromStdString(e.detail());
    }
    invalidateFilter();
    return {};
}

bool RunsFilterProxy::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
    if (filter_.empty() || source_parent.isValid()) return true;
    const auto* m = qobject_cast<const RunsTableModel*>(sourceModel());
    if (!m || source_row < 0 || size_t(source_row) >= m->runs().size()) return true;
    const RunRow& row = m->runs()[size_t(source_row)];
    return !row.filterable || row.filterable->matches(filter_);
}

} // namespace gafx::widgets
