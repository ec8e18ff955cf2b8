#pragma once
// The Experiment page's view: one form for a whole experiment file. Factors that can form a
// grid (extractor, classifier, augmentation, pretraining) are check boxes and lr, batch size
// and seeds are comma lists: one value goes to "base", several become a "grid" axis, so the
// form always states exactly one experiment JSON (docs/experiments.md) and its run count.
// It only draws, holds that JSON and emits; validation comes from app::ExperimentController,
// which marks the field an error's field().key names with set_field_error().
#include <QPair>
#include <QWidget>

#include <map>
#include <string>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;

namespace gafx::widgets {

class ExperimentView : public QWidget {
    Q_OBJECT
public:
    explicit ExperimentView(QWidget* parent = nullptr);

    // The experiment as the fields state it; not necessarily valid. A field whose text is not a
    // number goes in as a string and an empty one as null, so the parser names its own path.
    std::string to_json() const;
    // Fills every field from an experiment the parser accepted. Grid axes the form has no
    // control for (e.g. epochs) are kept as they are, shown, and saved again.
    void load_json(const std::string& text);
    // The product of the factors' value counts: what the grid expands to.
    int run_count() const;

    void set_datasets(const QStringList& names);
    void set_runs(const QList<QPair<qint64, QString>>& finished_runs); // for pretraining "run"
    void set_presets(const QList<QPair<QString, QString>>& label_and_path);
    QString file_path() const;
    void set_file_path(const QString& path);

    void clear_errors();
    // `key`: a run-config key or "name"/"description" (gafx::ErrorField::key); an unknown or
    // empty key shows the message beside the Train button only.
    void set_field_error(const QString& key, const QString& message);
    void set_message(const QString& text, bool error);
    void set_train_enabled(bool enabled);

Q_SIGNALS:
    void edited();
    void presetChosen(const QString& path);
    void openRequested(const QString& path);
    void saveRequested(const QString& path);
    void trainRequested();
    void shown();

protected:
    void showEvent(QShowEvent* e) override;

private:
    struct Choice { // a factor ticked from a closed set
        QString key;
        QList<QPair<QCheckBox*, std::string>> boxes; // box, JSON value text ("mel", "true")
    };
    QWidget* build_file_row();
    QWidget* build_fields();
    QWidget* add_row(QFormLayout* form, const QString& label, const QString& key, QWidget* field);
    QWidget* choice(const QString& key, const std::vector<std::string>& values, const QStringList& labels = {});
    QLineEdit* line(const QString& key, const QString& tip = {});
    void set_defaults();
    void update_count();
    void save(bool ask);

    std::map<QString, QWidget*> fields_;  // key -> the widget an error marks
    std::map<QString, QLabel*> errors_;   // key -> the message under it
    std::map<QString, Choice> choices_;
    std::map<QString, QLineEdit*> lines_;
    QComboBox* presets_ = nullptr;
    QLineEdit* file_ = nullptr;
    QComboBox* dataset_ = nullptr;
    QComboBox* preset_ = nullptr;
    QComboBox* precision_ = nullptr;
    QComboBox* run_ = nullptr;
    QLabel* extra_axes_label_ = nullptr;
    std::string extra_axes_; // JSON object of grid axes without a control here
    std::string extra_base_; // JSON object of base keys without a control here (frames, mixup, ...)
    QLabel* count_ = nullptr;
    QLabel* message_ = nullptr;
    QPushButton* train_ = nullptr;
    bool loading_ = false; // load_json sets many fields and announces one edit at the end
};

} // namespace gafx::widgets
