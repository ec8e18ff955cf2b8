#include "settings_diff_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace gafx::widgets {

SettingsDiffDialog::SettingsDiffDialog(const QString& run_a, const QString& run_b, const QVector<SettingRow>& rows,
                                       QWidget* parent)
    : QDialog(parent), rows_(rows) {
    setObjectName(QStringLiteral("settingsDiffDialog"));
    setWindowTitle(tr("Settings of %1 and %2").arg(run_a, run_b));
    int differing = 0;
    for (const auto& r : rows_) differing += r.differs;
    auto* summary = new QLabel(tr("%1 of %2 settings differ (config with defaults filled in, split, device, "
                                  "precision, versions)")
                                   .arg(differing)
                                   .arg(rows_.size()),
                               this);
    summary->setObjectName(QStringLiteral("settingsDiffSummary"));
    only_differences_ = new QCheckBox(tr("Only differences"), this);
    only_differences_->setObjectName(QStringLiteral("onlyDifferences"));
    only_differences_->setChecked(differing > 0);
    table_ = new QTableWidget(this);
    table_->setObjectName(QStringLiteral("settingsDiffTable"));
    table_->setColumnCount(3);
    table_->setHorizontalHeaderLabels({tr("Setting"), run_a, run_b});
    table_->verticalHeader()->setVisible(false);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->horizontalHeader()->setStretchLastSection(true);
    connect(only_differences_, &QCheckBox::toggled, this, &SettingsDiffDialog::fill);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(summary);
    layout->addWidget(only_differences_);
    layout->addWidget(table_, 1);
    layout->addWidget(buttons);
    resize(640, 480);
    fill();
}

void SettingsDiffDialog::fill() {
    const bool only = only_differences_->isChecked();
    table_->setRowCount(0);
    for (const auto& r : rows_) {
        if (only && !r.differs) continue;
        const int row = table_->rowCount();
        table_->insertRow(row);
        const QString cells[3] = {r.key, r.a.isEmpty() ? QStringLiteral("—") : r.a, r.b.isEmpty() ? QStringLiteral("—") : r.b};
        for (int c = 0; c < 3; ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (r.differs) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            table_->setItem(row, c, item);
        }
    }
    table_->resizeColumnToContents(0);
}

} // namespace gafx::widgets
