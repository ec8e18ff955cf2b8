#pragma once
// Two runs' settings side by side (experiments/config_diff.h): the ones that differ marked, and
// "Only differences" to hide the rest. Draws what it is given; RunsController fills it.
#include <QDialog>
#include <QString>
#include <QVector>

class QCheckBox;
class QTableWidget;

namespace gafx::widgets {

struct SettingRow {
    QString key, a, b;
    bool differs = false;
};

class SettingsDiffDialog : public QDialog {
    Q_OBJECT
public:
    SettingsDiffDialog(const QString& run_a, const QString& run_b, const QVector<SettingRow>& rows,
                       QWidget* parent = nullptr);
    QTableWidget* table() const { return table_; }

private:
    void fill();
    QVector<SettingRow> rows_;
    QCheckBox* only_differences_ = nullptr;
    QTableWidget* table_ = nullptr;
};

} // namespace gafx::widgets
