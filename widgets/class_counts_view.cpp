#include "class_counts_view.h"

#include <QHeaderView>

#include <algorithm>
#include <array>
#include <unordered_map>

namespace gafx::widgets {
namespace {

QTableWidgetItem* cell(const QString& text, bool number) {
    auto* item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

} // namespace

ClassCountsView::ClassCountsView(QWidget* parent) : QTableWidget(0, 5, parent) {
    setHorizontalHeaderLabels({tr("Class"), tr("Train"), tr("Val"), tr("Test"), tr("Excluded")});
    horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    verticalHeader()->hide();
    setEditTriggers(QAbstractItemView::NoEditTriggers);
}

void ClassCountsView::clear_counts() { setRowCount(0); }

void ClassCountsView::set_dataset(const data::Catalog& catalog, const data::Split& split_in) {
    const data::Split split = split_in.for_fold(0); // k-fold: fold 0's subsets
    constexpr data::Subset kColumns[] = {data::Subset::Train, data::Subset::Val, data::Subset::Test,
                                         data::Subset::Excluded};
    const auto column = [&](data::Subset s) { return int(std::find(std::begin(kColumns), std::end(kColumns), s) - std::begin(kColumns)); };
    std::vector<std::array<int64_t, 4>> counts(catalog.classes.size(), std::array<int64_t, 4>{});
    std::array<int64_t, 4> all{};
    std::unordered_map<std::string, size_t> index; // Catalog::class_index is a linear search
    for (size_t k = 0; k < catalog.classes.size(); ++k) index[catalog.classes[k].id] = k;
    for (size_t i = 0; i < catalog.tracks.size() && i < split.subset.size(); ++i) {
        const int c = column(split.subset[i]);
        if (c >= 4 || catalog.tracks[i].status != data::TrackStatus::Valid) continue;
        all[size_t(c)] += 1;
        for (const auto& label : catalog.tracks[i].labels) {
            auto it = index.find(label);
            if (it != index.end()) counts[it->second][size_t(c)] += 1;
        }
    }
    setRowCount(int(catalog.classes.size()) + 1);
    for (size_t k = 0; k < catalog.classes.size(); ++k) {
        setItem(int(k), 0, cell(QString::fromStdString(catalog.classes[k].display_name), false));
        for (int c = 0; c < 4; ++c) setItem(int(k), c + 1, cell(QString::number(counts[k][size_t(c)]), true));
    }
    const int last = int(catalog.classes.size());
    QFont bold = font();
    bold.setBold(true);
    setItem(last, 0, cell(tr("all tracks"), false));
    for (int c = 0; c < 4; ++c) setItem(last, c + 1, cell(QString::number(all[size_t(c)]), true));
    for (int c = 0; c < 5; ++c) item(last, c)->setFont(bold);
}

} // namespace gafx::widgets
