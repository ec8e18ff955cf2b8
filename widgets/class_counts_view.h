#pragma once
// Tracks per class on each side of the current split (valid tracks only), with a last row
// counting tracks, so a multi-label dataset's class rows need not add up to it.
#include "data/catalog.h"
#include "data/split.h"

#include <QTableWidget>

namespace gafx::widgets {

class ClassCountsView : public QTableWidget {
    Q_OBJECT
public:
    explicit ClassCountsView(QWidget* parent = nullptr);
    void set_dataset(const data::Catalog& catalog, const data::Split& split);
    void clear_counts();
};

} // namespace gafx::widgets
