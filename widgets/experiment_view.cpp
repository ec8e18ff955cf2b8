#include "experiment_view.h"

#include "experiments/experiment.h"
#include "models/model_names.h"

#include <nlohmann/json.hpp>

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QVBoxLayout>

#include <cmath>

using Json = nlohmann::ordered_json;

namespace gafx::widgets {
namespace {

// Base keys in the parser's order, so saved files read like docs/experiments.md.
const char* const kKeys[] = {"dataset", "extractor", "classifier", "preset", "augmentation", "clips_per_track",
                             "clip_seconds", "track_seconds", "pretraining", "pretrained_weights", "pretrained_run",
                             "classifier_weights", "extractor_weights", "lr", "batch_size", "epochs", "warmup_steps", "lr_halving_epochs", "precision", "activation_checkpointing", "seed"};
// Factors typed as comma lists: one value is a base key, several a grid axis.
bool is_list_key(const QString& k) { return k == "lr" || k == "batch_size" || k == "seed"; }

QStringList tokens(const QString& text) {
    static const QRegularExpression sep(QStringLiteral("[,;\\s]+"));
    return text.split(sep, Qt::SkipEmptyParts);
}

// A number when the text is one, else the text itself, so the parser's error names the field.
Json scalar(const QString& text) {
    const QString t = text.trimmed();
    if (t.isEmpty()) return nullptr;
    bool ok = false;
    const qlonglong i = t.toLongLong(&ok);
    if (ok) return Json(int64_t(i));
    const double d = t.toDouble(&ok);
    if (ok && std::isfinite(d)) return Json(d);
    return Json(t.toStdString());
}

QString text_of(const Json& v) {
    if (v.is_string()) return QString::fromStdString(v.get<std::string>());
    if (v.is_array()) {
        QStringList parts;
        for (const Json& e : v) parts << text_of(e);
        return parts.join(QStringLiteral(", "));
    }
    return v.is_null() ? QString() : QString::fromStdString(v.dump());
}

void mark(QWidget* w, const QString& message) {
    // A type selector, so a checkbox group's frame gets the border and not its boxes.
    w->setStyleSheet(message.isEmpty() ? QString()
                                       : QStringLiteral("%1 { border: 1px solid #c0392b; }").arg(w->metaObject()->className()));
    w->setToolTip(message);
    w->setProperty("fieldError", message);
}

} // namespace

ExperimentView::ExperimentView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(build_file_row());
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(build_fields());
    layout->addWidget(scroll, 1);

    auto* bottom = new QHBoxLayout;
    count_ = new QLabel(this);
    count_->setObjectName(QStringLiteral("runCount"));
    count_->setStyleSheet(QStringLiteral("font-weight: bold;"));
    count_->setToolTip(tr("Runs this experiment expands to: one per combination of the values given"));
    message_ = new QLabel(this);
    message_->setObjectName(QStringLiteral("message"));
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    train_ = new QPushButton(tr("Train"), this);
    train_->setObjectName(QStringLiteral("trainButton"));
    train_->setToolTip(tr("Create the experiment and its runs in the workspace and queue them on the trainer"));
    bottom->addWidget(count_);
    bottom->addWidget(message_, 1);
    bottom->addWidget(train_);
    layout->addLayout(bottom);
    connect(train_, &QPushButton::clicked, this, &ExperimentView::trainRequested);

    set_defaults();
    connect(this, &ExperimentView::edited, this, &ExperimentView::update_count);
    update_count();
}

QWidget* ExperimentView::build_file_row() {
    auto* row = new QWidget(this);
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    presets_ = new QComboBox(row);
    presets_->setObjectName(QStringLiteral("presetCombo"));
    presets_->addItem(tr("Load a preset..."));
    auto* open = new QPushButton(tr("Open..."), row);
    open->setObjectName(QStringLiteral("openButton"));
    file_ = new QLineEdit(row);
    file_->setObjectName(QStringLiteral("filePath"));
    file_->setPlaceholderText(tr("experiment file to save to"));
    auto* save_button = new QPushButton(tr("Save"), row);
    save_button->setObjectName(QStringLiteral("saveButton"));
    auto* save_as = new QPushButton(tr("Save as..."), row);
    save_as->setObjectName(QStringLiteral("saveAsButton"));
    h->addWidget(presets_);
    h->addWidget(open);
    h->addWidget(new QLabel(tr("File:"), row));
    h->addWidget(file_, 1);
    h->addWidget(save_button);
    h->addWidget(save_as);
    connect(presets_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (i <= 0) return;
        const QString path = presets_->itemData(i).toString();
        {
            const QSignalBlocker block(presets_); // back to the prompt, so any preset can be picked again
            presets_->setCurrentIndex(0);
        }
        Q_EMIT presetChosen(path);
    });
    connect(open, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open an experiment"), file_->text(),
                                                          tr("Experiment (*.json);;All files (*)"));
        if (!path.isEmpty()) Q_EMIT openRequested(path);
    });
    connect(save_button, &QPushButton::clicked, this, [this] { save(false); });
    connect(save_as, &QPushButton::clicked, this, [this] { save(true); });
    return row;
}

void ExperimentView::save(bool ask) {
    QString path = file_->text().trimmed();
    if (ask || path.isEmpty()) {
        path = QFileDialog::getSaveFileName(this, tr("Save the experiment"), path, tr("Experiment (*.json)"));
        if (path.isEmpty()) return;
        file_->setText(path);
    }
    Q_EMIT saveRequested(path);
}

QWidget* ExperimentView::add_row(QFormLayout* form, const QString& label, const QString& key, QWidget* field) {
    auto* cell = new QWidget(form->parentWidget());
    auto* v = new QVBoxLayout(cell);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(1);
    auto* error = new QLabel(cell);
    error->setObjectName(QStringLiteral("error_") + key);
    error->setStyleSheet(QStringLiteral("color: #c0392b;"));
    error->setWordWrap(true);
    error->hide();
    v->addWidget(field);
    v->addWidget(error);
    form->addRow(label, cell);
    fields_[key] = field;
    errors_[key] = error;
    return field;
}

QWidget* ExperimentView::choice(const QString& key, const std::vector<std::string>& values, const QStringList& labels) {
    auto* frame = new QFrame(this);
    frame->setObjectName(key);
    auto* h = new QHBoxLayout(frame);
    h->setContentsMargins(2, 2, 2, 2);
    Choice c{key, {}};
    for (size_t i = 0; i < values.size(); ++i) {
        const QString text = i < size_t(labels.size()) ? labels[int(i)] : QString::fromStdString(values[i]);
        auto* box = new QCheckBox(text, frame);
        box->setObjectName(key + QLatin1Char('_') + QString::fromStdString(values[i]));
        h->addWidget(box);
        // Booleans are JSON literals; everything else here is a string value.
        const bool literal = values[i] == "true" || values[i] == "false";
        c.boxes.append({box, literal ? values[i] : Json(values[i]).dump()});
        connect(box, &QCheckBox::toggled, this, [this] {
            if (!loading_) Q_EMIT edited();
        });
    }
    h->addStretch(1);
    choices_[key] = c;
    return frame;
}

QLineEdit* ExperimentView::line(const QString& key, const QString& tip) {
    auto* e = new QLineEdit(this);
    e->setObjectName(key);
    if (!tip.isEmpty()) e->setPlaceholderText(tip);
    lines_[key] = e;
    connect(e, &QLineEdit::textChanged, this, [this] {
        if (!loading_) Q_EMIT edited();
    });
    return e;
}

QWidget* ExperimentView::build_fields() {
    auto* page = new QWidget(this);
    auto* grid = new QGridLayout(page);
    auto* hint = new QLabel(tr("Tick several boxes, or type several values separated by commas, to train every "
                               "combination (a grid); the run count is at the bottom."),
                            page);
    hint->setWordWrap(true);
    grid->addWidget(hint, 0, 0, 1, 2);
    const auto box = [page](const QString& title) {
        auto* g = new QGroupBox(title, page);
        auto* f = new QFormLayout(g);
        f->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        return f;
    };
    const auto combo = [this](const QString& key, const QStringList& items) {
        auto* c = new QComboBox(this);
        c->setObjectName(key);
        c->addItems(items);
        connect(c, &QComboBox::currentIndexChanged, this, [this] {
            if (!loading_) Q_EMIT edited();
        });
        return c;
    };

    QFormLayout* general = box(tr("Experiment"));
    add_row(general, tr("Name"), "name", line("name"));
    add_row(general, tr("Description"), "description", line("description", tr("optional")));
    dataset_ = new QComboBox(this);
    dataset_->setObjectName(QStringLiteral("dataset"));
    dataset_->setEditable(true); // a file may name a dataset imported elsewhere; Train checks it exists
    connect(dataset_, &QComboBox::currentTextChanged, this, [this] {
        if (!loading_) Q_EMIT edited();
    });
    add_row(general, tr("Dataset"), "dataset", dataset_);
    add_row(general, tr("Seeds"), "seed", line("seed", tr("one or more: 0, 1, 2")));

    QFormLayout* model = box(tr("Model"));
    add_row(model, tr("Extractor"), "extractor", choice("extractor", models::extractor_names()));
    add_row(model, tr("Classifier"), "classifier", choice("classifier", models::classifier_names()));
    preset_ = combo("preset", {"paper", "small"});
    preset_->setToolTip(tr("paper: the paper's sizes; small: the same code at CPU size"));
    add_row(model, tr("Preset"), "preset", preset_);
    precision_ = combo("precision", {"auto", "fp32", "bf16", "fp16"});
    add_row(model, tr("Precision"), "precision", precision_);
    add_row(model, tr("Activation checkpointing"), "activation_checkpointing",
            choice("activation_checkpointing", {"false", "true"}, {tr("off"), tr("on (less memory, more time)")}));

    QFormLayout* data = box(tr("Data"));
    add_row(data, tr("Augmentation"), "augmentation", choice("augmentation", {"true", "false"}, {tr("on (clips)"), tr("off (whole track)")}));
    add_row(data, tr("Clips per track"), "clips_per_track", line("clips_per_track"));
    add_row(data, tr("Clip seconds"), "clip_seconds", line("clip_seconds"));
    add_row(data, tr("Track seconds"), "track_seconds", line("track_seconds"));

    QFormLayout* pre = box(tr("Pretraining"));
    add_row(pre, tr("Kind"), "pretraining", choice("pretraining", {"none", "weights", "run"}));
    auto* weights_row = new QWidget(this);
    auto* wh = new QHBoxLayout(weights_row);
    wh->setContentsMargins(0, 0, 0, 0);
    QLineEdit* weights = line("pretrained_weights", tr("DeiT / AST / HDemucs / gafx weights file"));
    auto* browse = new QPushButton(tr("..."), weights_row);
    browse->setObjectName(QStringLiteral("weightsBrowse"));
    wh->addWidget(weights, 1);
    wh->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, [this, weights] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Pretrained weights"), weights->text(),
                                                       tr("Weights (*.safetensors *.pth *.pt);;All files (*)"));
        if (!f.isEmpty()) weights->setText(f);
    });
    pre->addRow(tr("Weights file"), weights_row);
    {   // the error goes under the whole row, and marks the line edit
        auto* err = new QLabel(this);
        err->setObjectName(QStringLiteral("error_pretrained_weights"));
        err->setStyleSheet(QStringLiteral("color: #c0392b;"));
        err->setWordWrap(true);
        err->hide();
        pre->addRow(QString(), err);
        fields_["pretrained_weights"] = weights;
        errors_["pretrained_weights"] = err;
    }
    add_row(pre, tr("Classifier weights"), "classifier_weights",
            line("classifier_weights", tr("none; a name from gafx weights list (deit: the classifier's DeiT), or a file")));
    add_row(pre, tr("Extractor weights"), "extractor_weights",
            line("extractor_weights", tr("none; a name from gafx weights list (hdemucs-high for GAFX-U), or a file")));
    run_ = combo("pretrained_run", {});
    run_->setToolTip(tr("A finished run (e.g. on AudioSet) to fine-tune from"));
    add_row(pre, tr("From run"), "pretrained_run", run_);

    QFormLayout* opt = box(tr("Optimisation"));
    add_row(opt, tr("Learning rate"), "lr", line("lr", tr("one or more: 5e-5, 1e-4")));
    add_row(opt, tr("Batch size"), "batch_size", line("batch_size", tr("one or more: 4, 8")));
    add_row(opt, tr("Epochs"), "epochs", line("epochs"));
    add_row(opt, tr("Warm-up steps"), "warmup_steps", line("warmup_steps"));
    add_row(opt, tr("Halve lr at epochs"), "lr_halving_epochs", line("lr_halving_epochs", tr("none")));

    extra_axes_label_ = new QLabel(page);
    extra_axes_label_->setObjectName(QStringLiteral("extraAxes"));
    extra_axes_label_->setWordWrap(true);
    extra_axes_label_->hide();

    grid->addWidget(general->parentWidget(), 1, 0);
    grid->addWidget(model->parentWidget(), 1, 1);
    grid->addWidget(data->parentWidget(), 2, 0);
    grid->addWidget(pre->parentWidget(), 2, 1);
    grid->addWidget(opt->parentWidget(), 3, 0);
    grid->addWidget(extra_axes_label_, 3, 1, Qt::AlignTop);
    grid->setRowStretch(4, 1);
    return page;
}

void ExperimentView::set_defaults() {
    const experiments::RunConfig c; // the paper's values
    const bool was = loading_;
    loading_ = true;
    lines_["name"]->setText(QStringLiteral("experiment"));
    lines_["description"]->clear();
    const auto tick = [this](const QString& key, const std::string& json) {
        for (auto& [box, value] : choices_[key].boxes) box->setChecked(value == json);
    };
    tick("extractor", Json(c.extractor).dump());
    tick("classifier", Json(c.classifier).dump());
    tick("augmentation", Json(c.augmentation).dump());
    tick("activation_checkpointing", Json(c.activation_checkpointing).dump());
    tick("pretraining", Json(c.pretraining).dump());
    preset_->setCurrentText(QString::fromStdString(c.preset));
    precision_->setCurrentText(QString::fromStdString(c.precision));
    lines_["clips_per_track"]->setText(text_of(Json(c.clips_per_track)));
    lines_["clip_seconds"]->setText(text_of(Json(c.clip_seconds)));
    lines_["track_seconds"]->setText(text_of(Json(c.track_seconds)));
    lines_["pretrained_weights"]->setText(QString::fromStdString(c.pretrained_weights));
    lines_["classifier_weights"]->setText(QString::fromStdString(c.classifier_weights));
    lines_["extractor_weights"]->setText(QString::fromStdString(c.extractor_weights));
    lines_["lr"]->setText(text_of(Json(c.lr)));
    lines_["batch_size"]->setText(text_of(Json(c.batch_size)));
    lines_["epochs"]->setText(text_of(Json(c.epochs)));
    lines_["warmup_steps"]->setText(text_of(Json(c.warmup_steps)));
    lines_["lr_halving_epochs"]->setText(text_of(Json(c.lr_halving_epochs)));
    lines_["seed"]->setText(text_of(Json(c.seed)));
    extra_axes_.clear();
    extra_base_.clear();
    extra_axes_label_->hide();
    loading_ = was;
}

std::string ExperimentView::to_json() const {
    Json root = Json::object();
    root["name"] = lines_.at("name")->text().trimmed().toStdString();
    const QString description = lines_.at("description")->text().trimmed();
    if (!description.isEmpty()) root["description"] = description.toStdString();
    Json base = Json::object(), grid = Json::object();
    const Json extra = extra_axes_.empty() ? Json::object() : Json::parse(extra_axes_);
    const auto ticked = [this](const QString& key) {
        Json values = Json::array();
        for (const auto& [box, value] : choices_.at(key).boxes)
            if (box->isChecked()) values.push_back(Json::parse(value));
        return values;
    };
    const Json pretraining = ticked("pretraining");
    const auto uses = [&](const char* kind) {
        for (const Json& v : pretraining)
            if (v == kind) return true;
        return false;
    };
    for (const char* key : kKeys) {
        const QString k = QString::fromLatin1(key);
        if (extra.contains(key)) continue; // a grid axis of the loaded file wins
        Json values;
        if (choices_.count(k)) values = ticked(k);
        else if (is_list_key(k)) {
            values = Json::array();
            for (const QString& t : tokens(lines_.at(k)->text())) values.push_back(scalar(t));
        }
        if (values.is_array()) {
            // One value is a base key; none or several make an axis (the parser rejects none).
            if (values.size() == 1) base[key] = values[0];
            else grid[key] = values;
            continue;
        }
        if (k == "dataset") {
            const QString d = dataset_->currentText().trimmed();
            if (!d.isEmpty()) base[key] = d.toStdString();
        } else if (k == "preset") base[key] = preset_->currentText().toStdString();
        else if (k == "precision") base[key] = precision_->currentText().toStdString();
        else if (k == "pretrained_weights") {
            if (uses("weights")) base[key] = lines_.at(k)->text().trimmed().toStdString();
        } else if (k == "pretrained_run") {
            if (uses("run")) base[key] = run_->currentData().toLongLong();
        } else if (k == "classifier_weights" || k == "extractor_weights") {
            const QString v = lines_.at(k)->text().trimmed();
            if (!v.isEmpty()) base[key] = v.toStdString();
        } else if (k == "lr_halving_epochs") {
            Json epochs = Json::array();
            for (const QString& t : tokens(lines_.at(k)->text())) epochs.push_back(scalar(t));
            base[key] = epochs;
        } else {
            base[key] = scalar(lines_.at(k)->text());
        }
    }
    // Base keys with no control here are written back as the file had them.
    if (!extra_base_.empty()) {
        const Json kept = Json::parse(extra_base_);
        for (auto it = kept.begin(); it != kept.end(); ++it)
            if (!extra.contains(it.key())) base[it.key()] = it.value();
    }
    // Extra axes go before the seeds, so the seeds of one setting stay together (last varies fastest).
    Json ordered = Json::object();
    for (auto it = grid.begin(); it != grid.end(); ++it)
        if (it.key() != "seed") ordered[it.key()] = it.value();
    for (auto it = extra.begin(); it != extra.end(); ++it) ordered[it.key()] = it.value();
    if (grid.contains("seed")) ordered["seed"] = grid["seed"];
    root["base"] = base;
    if (!ordered.empty()) root["grid"] = ordered;
    return root.dump(2);
}

void ExperimentView::load_json(const std::string& text) {
    const Json root = Json::parse(text);
    loading_ = true;
    set_defaults();
    loading_ = true;
    lines_["name"]->setText(QString::fromStdString(root.value("name", std::string())));
    lines_["description"]->setText(QString::fromStdString(root.value("description", std::string())));
    const auto apply = [this](const std::string& key, const Json& v) { // v: one value, or an axis's list
        const QString k = QString::fromStdString(key);
        const Json list = v.is_array() && k != "lr_halving_epochs" ? v : Json::array({v});
        if (choices_.count(k)) {
            for (auto& [box, value] : choices_[k].boxes) {
                bool on = false;
                for (const Json& e : list) on = on || e.dump() == value;
                box->setChecked(on);
            }
        } else if (k == "dataset") dataset_->setCurrentText(text_of(v));
        else if (k == "preset") preset_->setCurrentText(text_of(v));
        else if (k == "precision") precision_->setCurrentText(text_of(v));
        else if (k == "pretrained_run") {
            const qint64 id = v.is_number_integer() ? v.get<int64_t>() : 0;
            int i = run_->findData(id);
            if (i < 0 && id > 0) {
                run_->addItem(tr("run %1 (not a finished run here)").arg(id), id);
                i = run_->count() - 1;
            }
            run_->setCurrentIndex(i);
        } else if (lines_.count(k)) lines_[k]->setText(text_of(k == "lr_halving_epochs" ? v : list));
    };
    const Json base = root.value("base", Json::object());
    Json extra_base = Json::object();
    for (auto it = base.begin(); it != base.end(); ++it) {
        const QString k = QString::fromStdString(it.key());
        if (choices_.count(k) || lines_.count(k) || k == "dataset" || k == "preset" || k == "precision" ||
            k == "pretrained_run")
            apply(it.key(), it.value());
        else extra_base[it.key()] = it.value(); // kept as it is: frames, compression, mixup, ...
    }
    extra_base_ = extra_base.empty() ? std::string() : extra_base.dump();
    Json extra = Json::object();
    const Json grid = root.value("grid", Json::object());
    for (auto it = grid.begin(); it != grid.end(); ++it) {
        const QString k = QString::fromStdString(it.key());
        if (choices_.count(k) || is_list_key(k)) apply(it.key(), it.value());
        else extra[it.key()] = it.value();
    }
    extra_axes_ = extra.empty() ? std::string() : extra.dump();
    const auto listed = [](const Json& o) {
        QStringList shown;
        for (auto it = o.begin(); it != o.end(); ++it)
            shown << QStringLiteral("%1 = %2").arg(QString::fromStdString(it.key()), QString::fromStdString(it.value().dump()));
        return shown.join(QStringLiteral("; "));
    };
    QStringList notes;
    if (!extra.empty()) notes << tr("Also varied, as in the file (no control here): %1").arg(listed(extra));
    if (!extra_base.empty()) notes << tr("Also set, as in the file (no control here): %1").arg(listed(extra_base));
    extra_axes_label_->setText(notes.join(QStringLiteral("\n")));
    extra_axes_label_->setVisible(!notes.isEmpty());
    loading_ = false;
    Q_EMIT edited();
}

int ExperimentView::run_count() const {
    int n = 1;
    for (const auto& [key, c] : choices_) {
        int ticked = 0;
        for (const auto& b : c.boxes) ticked += b.first->isChecked();
        n *= ticked;
    }
    for (const char* key : {"lr", "batch_size", "seed"}) n *= int(tokens(lines_.at(key)->text()).size());
    if (!extra_axes_.empty())
        for (const auto& axis : Json::parse(extra_axes_)) n *= int(axis.size());
    return n;
}

void ExperimentView::update_count() {
    const int n = run_count();
    count_->setText(n == 1 ? tr("1 run") : tr("%1 runs").arg(n));
}

void ExperimentView::set_datasets(const QStringList& names) {
    const QString keep = dataset_->currentText();
    const bool was = loading_;
    loading_ = true; // the text stays; nothing was edited
    dataset_->clear();
    dataset_->addItems(names);
    dataset_->setCurrentText(keep.isEmpty() && !names.isEmpty() ? names.front() : keep);
    loading_ = was;
    if (keep.isEmpty() && !names.isEmpty()) Q_EMIT edited();
}

void ExperimentView::set_runs(const QList<QPair<qint64, QString>>& finished_runs) {
    const QVariant keep = run_->currentData();
    const bool was = loading_;
    loading_ = true;
    run_->clear();
    for (const auto& [id, label] : finished_runs) run_->addItem(label, id);
    const int i = run_->findData(keep);
    if (i >= 0) run_->setCurrentIndex(i);
    else if (keep.toLongLong() > 0) {
        run_->addItem(tr("run %1 (not a finished run here)").arg(keep.toLongLong()), keep);
        run_->setCurrentIndex(run_->count() - 1);
    }
    loading_ = was;
}

void ExperimentView::set_presets(const QList<QPair<QString, QString>>& label_and_path) {
    const QSignalBlocker block(presets_);
    while (presets_->count() > 1) presets_->removeItem(1);
    for (const auto& [label, path] : label_and_path) presets_->addItem(label, path);
}

QString ExperimentView::file_path() const { return file_->text().trimmed(); }
void ExperimentView::set_file_path(const QString& path) { file_->setText(path); }

void ExperimentView::clear_errors() {
    for (auto& [key, w] : fields_) mark(w, {});
    for (auto& [key, label] : errors_) label->hide();
    set_message({}, false);
}

void ExperimentView::set_field_error(const QString& key, const QString& message) {
    auto it = fields_.find(key);
    if (it == fields_.end()) {
        set_message(message, true);
        return;
    }
    mark(it->second, message);
    errors_[key]->setText(message);
    errors_[key]->show();
    set_message(tr("%1: %2").arg(key, message), true);
}

void ExperimentView::set_message(const QString& text, bool error) {
    message_->setStyleSheet(error ? QStringLiteral("color: #c0392b;") : QString());
    message_->setText(text);
}

void ExperimentView::set_train_enabled(bool enabled) { train_->setEnabled(enabled); }

void ExperimentView::showEvent(QShowEvent* e) {
    QWidget::showEvent(e);
    Q_EMIT shown();
}

} // namespace gafx::widgets
