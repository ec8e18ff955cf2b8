#include "class_counts_view.h"

#include <QHeaderView>

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

ClassCountsView::ClassCountsView(QWidget* parent) : QTableWidget(0, 3, parent) {
    setHorizontalHeaderLabels({tr("Class"), tr("Train"), tr("Test")});
    horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    verticalHeader()->hide();
    setEditTriggers(QAbstractItemView::NoEditTriggers);
}

void ClassCountsView::clear_counts() { setRowCount(0); }

void ClassCountsView::set_dataset(const data::Catalog& catalog, const data::Split& split) {
    std::vector<int64_t> train(catalog.classes.size()), test(catalog.classes.size());
    int64_t all_train = 0, all_test = 0;
    std::unordered_map<std::string, size_t> index; // Catalog::class_index is a linear search
    for (size_t k = 0; k < catalog.classes.size(); ++k) index[catalog.classes[k].id] = k;
    for (size_t i = 0; i < catalog.tracks.size() && i < split.subset.size(); ++i) {
        const data::Subset s = split.subset[i];
        if (s == data::Subset::None || catalog.tracks[i].status != data::TrackStatus::Valid) continue;
        (s == data::Subset::Train ? all_train : all_test) += 1;
        for (const auto& label : catalog.tracks[i].labels) {
            auto it = index.find(label);
            if (it != index.end()) (s == data::Subset::Train ? train : test)[it->second] += 1;
        }
    }
    setRowCount(int(catalog.classes.size()) + 1);
    for (size_t k = 0; k < catalog.classes.size(); ++k) {
        setItem(int(k), 0, cell(QString::fromStdString(catalog.classes[k].display_name), false));
        setItem(int(k), 1, cell(QString::number(train[k]), true));
        setItem(int(k), 2, cell(QString::number(test[k]), true));
    }
    const int last = int(catalog.classes.size());
    QFont bold = font();
    bold.setBold(true);
    setItem(last, 0, cell(tr("all tracks"), false));
    setItem(last, 1, cell(QString::number(all_train), true));
    setItem(last, 2, cell(QString::number(all_test), true));
    for (int c = 0; c < 3; ++c) item(last, c)->setFont(bold);
}

} // namespace gafx::widgets
