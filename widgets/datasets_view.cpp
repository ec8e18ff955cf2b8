#include "datasets_view.h"

#include "playback_bar.h"

#include "class_counts_view.h"
#include "track_table_model.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QShortcut>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <limits>

namespace gafx::widgets {
namespace {

QPushButton* button(const QString& text, const char* name, QWidget* parent) {
    auto* b = new QPushButton(text, parent);
    b->setObjectName(QString::fromLatin1(name));
    return b;
}

} // namespace

DatasetsView::DatasetsView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(build_import_row());

    auto* progress_row = new QHBoxLayout;
    progress_ = new QProgressBar(this);
    progress_->setObjectName(QStringLiteral("progress"));
    progress_->setRange(0, 1000);
    progress_->setTextVisible(false);
    progress_->hide();
    cancel_ = button(tr("Cancel"), "cancelButton", this);
    cancel_->hide();
    message_ = new QLabel(this);
    message_->setObjectName(QStringLiteral("message"));
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    progress_row->addWidget(progress_, 1);
    progress_row->addWidget(cancel_);
    progress_row->addWidget(message_, 2);
    layout->addLayout(progress_row);
    connect(cancel_, &QPushButton::clicked, this, &DatasetsView::cancelRequested);

    auto* chooser_row = new QHBoxLayout;
    datasets_ = new QComboBox(this);
    datasets_->setObjectName(QStringLiteral("datasetCombo"));
    datasets_->setMinimumContentsLength(16);
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("summary"));
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    chooser_row->addWidget(new QLabel(tr("Dataset:"), this));
    chooser_row->addWidget(datasets_);
    chooser_row->addWidget(summary_, 1);
    layout->addLayout(chooser_row);
    connect(datasets_, &QComboBox::currentTextChanged, this, [this](const QString& name) {
        if (!name.isEmpty()) Q_EMIT datasetSelected(name);
    });

    auto* filter_row = new QHBoxLayout;
    status_filter_ = new QComboBox(this);
    status_filter_->setObjectName(QStringLiteral("statusFilter"));
    // Item order follows TrackFilterProxy::StatusFilter.
    status_filter_->addItems({tr("All tracks"), tr("Valid"), tr("Invalid"), tr("Missing"), tr("Invalid or missing")});
    text_filter_ = new QLineEdit(this);
    text_filter_->setObjectName(QStringLiteral("textFilter"));
    text_filter_->setPlaceholderText(tr("Filter by track, label or error"));
    text_filter_->setClearButtonEnabled(true);
    shown_count_ = new QLabel(this);
    shown_count_->setObjectName(QStringLiteral("shownCount"));
    filter_row->addWidget(new QLabel(tr("Show:"), this));
    filter_row->addWidget(status_filter_);
    filter_row->addWidget(text_filter_, 1);
    filter_row->addWidget(shown_count_);
    layout->addLayout(filter_row);

    model_ = new TrackTableModel(this);
    filter_ = new TrackFilterProxy(this);
    filter_->setSourceModel(model_);
    table_ = new QTableView(this);
    table_->setObjectName(QStringLiteral("trackTable"));
    table_->setModel(filter_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(TrackTableModel::Key, Qt::AscendingOrder);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->hide();
    // Fixed row heights and no content-sized columns: both would measure every row.
    table_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setColumnWidth(TrackTableModel::Key, 260);
    table_->setColumnWidth(TrackTableModel::Labels, 140);
    connect(status_filter_, &QComboBox::currentIndexChanged, this,
            [this](int i) { filter_->set_status_filter(TrackFilterProxy::StatusFilter(i)); });
    connect(text_filter_, &QLineEdit::textChanged, filter_, &TrackFilterProxy::set_text_filter);
    const auto update_count = [this] {
        shown_count_->setText(tr("%1 of %2 tracks").arg(filter_->rowCount()).arg(model_->rowCount()));
    };
    connect(filter_, &QAbstractItemModel::modelReset, this, update_count);
    connect(filter_, &QAbstractItemModel::rowsInserted, this, update_count);
    connect(filter_, &QAbstractItemModel::rowsRemoved, this, update_count);
    connect(filter_, &QAbstractItemModel::layoutChanged, this, update_count);

    auto* side = new QWidget(this);
    auto* side_layout = new QVBoxLayout(side);
    side_layout->setContentsMargins(0, 0, 0, 0);
    counts_ = new ClassCountsView(side);
    counts_->setObjectName(QStringLiteral("classCounts"));
    side_layout->addWidget(new QLabel(tr("Tracks per class in the current split (valid tracks)"), side));
    side_layout->addWidget(counts_, 1);
    side_layout->addWidget(build_split_box());

    // Listening: the selected track, from the bar, a double click or the space bar.
    playback_ = new PlaybackBar(this);
    playback_->setObjectName(QStringLiteral("datasetPlayback"));
    connect(playback_, &PlaybackBar::playToggled, this, &DatasetsView::playToggled);
    connect(table_, &QTableView::doubleClicked, this, &DatasetsView::playToggled);
    auto* space = new QShortcut(QKeySequence(Qt::Key_Space), table_);
    space->setContext(Qt::WidgetShortcut);
    connect(space, &QShortcut::activated, this, &DatasetsView::playToggled);
    auto* tracks = new QWidget(this);
    auto* tracks_layout = new QVBoxLayout(tracks);
    tracks_layout->setContentsMargins(0, 0, 0, 0);
    tracks_layout->addWidget(table_, 1);
    tracks_layout->addWidget(playback_);
    auto* splitter = new QSplitter(this);
    splitter->addWidget(tracks);
    splitter->addWidget(side);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    layout->addWidget(splitter, 1);
}

int DatasetsView::current_track_row() const {
    const QModelIndex i = table_->currentIndex();
    return i.isValid() ? filter_->mapToSource(i).row() : -1;
}

QWidget* DatasetsView::build_import_row() {
    auto* box = new QGroupBox(tr("Import"), this);
    auto* grid = new QGridLayout(box);
    kind_ = new QComboBox(box);
    kind_->setObjectName(QStringLiteral("importKind"));
    kind_->addItem(tr("GTZAN folder"), QStringLiteral("gtzan"));
    kind_->addItem(tr("AudioSet folder or JSON list"), QStringLiteral("audioset"));
    path_ = new QLineEdit(box);
    path_->setObjectName(QStringLiteral("importPath"));
    path_->setPlaceholderText(tr("<folder>/<genre>/<track>.wav, or an AudioSet release folder"));
    auto* browse = button(tr("Browse..."), "importBrowse", box);
    name_ = new QLineEdit(box);
    name_->setObjectName(QStringLiteral("importName"));
    name_->setPlaceholderText(tr("the folder's name"));
    name_->setMaximumWidth(180);
    auto* import = button(tr("Import"), "importButton", box);
    import->setToolTip(tr("Catalogue and probe every file, then split with the seed, train fraction and groups CSV "
                          "below. Importing the same folder again updates the dataset."));
    grid->addWidget(kind_, 0, 0);
    grid->addWidget(path_, 0, 1);
    grid->addWidget(browse, 0, 2);
    grid->addWidget(new QLabel(tr("Name:"), box), 0, 3);
    grid->addWidget(name_, 0, 4);
    grid->addWidget(import, 0, 5);

    demo_tracks_ = new QSpinBox(box);
    demo_tracks_->setObjectName(QStringLiteral("demoTracks"));
    demo_tracks_->setRange(1, 1000);
    demo_tracks_->setValue(10);
    demo_seconds_ = new QDoubleSpinBox(box);
    demo_seconds_->setObjectName(QStringLiteral("demoSeconds"));
    demo_seconds_->setRange(0.5, 60);
    demo_seconds_->setDecimals(1);
    demo_seconds_->setValue(30);
    demo_seconds_->setSuffix(tr(" s"));
    auto* demo = button(tr("Create demo set"), "demoButton", box);
    demo->setToolTip(tr("Write the synthetic demo set of the chosen kind into the folder above, which must be "
                        "new or empty (left empty: demo/ beside the workspace), and import it"));
    auto* demo_row = new QHBoxLayout;
    demo_row->addWidget(new QLabel(tr("Demo set: tracks per genre (AudioSet: clips)"), box));
    demo_row->addWidget(demo_tracks_);
    demo_row->addWidget(new QLabel(tr("length"), box));
    demo_row->addWidget(demo_seconds_);
    demo_row->addWidget(demo);
    demo_row->addStretch(1);
    grid->addLayout(demo_row, 1, 0, 1, 6);
    grid->setColumnStretch(1, 1);

    inputs_ << kind_ << path_ << browse << name_ << import << demo_tracks_ << demo_seconds_ << demo;
    connect(browse, &QPushButton::clicked, this, &DatasetsView::browse_import);
    connect(import, &QPushButton::clicked, this, &DatasetsView::importRequested);
    connect(path_, &QLineEdit::returnPressed, this, &DatasetsView::importRequested);
    connect(demo, &QPushButton::clicked, this, &DatasetsView::demoRequested);
    return box;
}

QWidget* DatasetsView::build_split_box() {
    auto* box = new QGroupBox(tr("Split"), this);
    auto* form = new QFormLayout(box);
    seed_ = new QSpinBox(box);
    seed_->setObjectName(QStringLiteral("splitSeed"));
    seed_->setRange(0, std::numeric_limits<int>::max());
    split_kind_ = new QComboBox(box);
    split_kind_->setObjectName(QStringLiteral("splitKind"));
    split_kind_->addItem(tr("Random (stratified)"), QStringLiteral("random"));
    split_kind_->addItem(tr("GTZAN fault-filtered"), QStringLiteral("fault-filtered"));
    split_kind_->addItem(tr("K-fold"), QStringLiteral("kfold"));
    split_kind_->setToolTip(tr("Fault-filtered: the published GTZAN lists (443 / 197 / 290, 70 tracks left out). "
                               "K-fold: fold f tests on fold f and validates on fold f+1."));
    const auto fraction = [box](const char* name, double value, const QString& tip) {
        auto* f = new QDoubleSpinBox(box);
        f->setObjectName(QLatin1String(name));
        f->setRange(0.05, 0.5);
        f->setSingleStep(0.05);
        f->setDecimals(2);
        f->setValue(value);
        f->setToolTip(tip);
        return f;
    };
    test_fraction_ = fraction("testFraction", 0.2, tr("Share of each class held out for the reported result"));
    val_fraction_ = fraction("valFraction", 0.1, tr("Share of each class the best epoch is chosen on (never test)"));
    folds_ = new QSpinBox(box);
    folds_->setObjectName(QStringLiteral("splitFolds"));
    folds_->setRange(3, 20);
    folds_->setValue(10);
    const auto sync = [this] {
        const QString k = split_kind_->currentData().toString();
        test_fraction_->setEnabled(k == QLatin1String("random"));
        val_fraction_->setEnabled(k == QLatin1String("random"));
        folds_->setEnabled(k == QLatin1String("kfold"));
    };
    connect(split_kind_, &QComboBox::currentIndexChanged, this, sync);
    sync();
    groups_ = new QLineEdit(box);
    groups_->setObjectName(QStringLiteral("groupsPath"));
    groups_->setPlaceholderText(tr("optional CSV: track,group"));
    groups_->setToolTip(tr("Keeps each group (a song, an artist, a known duplicate) on one side of the split"));
    auto* browse = button(tr("..."), "groupsBrowse", box);
    auto* groups_row = new QHBoxLayout;
    groups_row->addWidget(groups_, 1);
    groups_row->addWidget(browse);
    auto* resplit = button(tr("Re-split"), "resplitButton", box);
    resplit->setToolTip(tr("Store a new train/val/test split of the chosen dataset; runs already queued keep theirs"));
    form->addRow(tr("Method"), split_kind_);
    form->addRow(tr("Seed"), seed_);
    form->addRow(tr("Test fraction"), test_fraction_);
    form->addRow(tr("Val fraction"), val_fraction_);
    form->addRow(tr("Folds"), folds_);
    form->addRow(tr("Groups"), groups_row);
    form->addRow(resplit);
    inputs_ << split_kind_ << seed_ << test_fraction_ << val_fraction_ << folds_ << groups_ << browse << resplit;
    connect(browse, &QPushButton::clicked, this, &DatasetsView::browse_groups);
    connect(resplit, &QPushButton::clicked, this, &DatasetsView::resplitRequested);
    return box;
}

void DatasetsView::browse_import() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Dataset folder"), path_->text());
    if (!dir.isEmpty()) path_->setText(dir);
}

void DatasetsView::browse_groups() {
    const QString file = QFileDialog::getOpenFileName(this, tr("Groups CSV"), groups_->text(), tr("CSV (*.csv);;All files (*)"));
    if (!file.isEmpty()) groups_->setText(file);
}

QString DatasetsView::import_kind() const { return kind_->currentData().toString(); }
QString DatasetsView::import_path() const { return path_->text().trimmed(); }
void DatasetsView::set_import_path(const QString& path) { path_->setText(path); }
QString DatasetsView::import_name() const { return name_->text().trimmed(); }
int DatasetsView::demo_tracks_per_genre() const { return demo_tracks_->value(); }
double DatasetsView::demo_seconds() const { return demo_seconds_->value(); }
data::SplitOptions DatasetsView::split_options() const {
    data::SplitOptions o;
    o.kind = data::parse_split_kind(split_kind_->currentData().toString().toStdString()).value_or(data::SplitKind::Random);
    o.seed = uint64_t(seed_->value());
    o.test_fraction = test_fraction_->value();
    o.val_fraction = val_fraction_->value();
    o.folds = o.kind == data::SplitKind::KFold ? folds_->value() : 0;
    return o;
}
QString DatasetsView::groups_path() const { return groups_->text().trimmed(); }

void DatasetsView::set_datasets(const QStringList& names, const QString& select) {
    const QString keep = names.contains(select) ? select : datasets_->currentText();
    {
        const QSignalBlocker block(datasets_);
        datasets_->clear();
        datasets_->addItems(names);
        datasets_->setCurrentIndex(std::max(0, int(names.indexOf(keep))));
    }
    if (names.isEmpty()) {
        clear_dataset();
        summary_->setText(tr("No dataset yet: import a folder or create the demo set."));
    } else if (datasets_->currentText() != keep) {
        Q_EMIT datasetSelected(datasets_->currentText()); // the one shown before is gone
    }
}

QString DatasetsView::current_dataset() const { return datasets_->currentText(); }

void DatasetsView::show_dataset(const data::Catalog& catalog, const data::Split& split) {
    model_->set_dataset(catalog, split);
    counts_->set_dataset(catalog, split);
    const data::SplitCounts n = split.counts();
    const QString groups = split.options.groups_file.empty()
                               ? QString()
                               : tr(", groups %1").arg(QString::fromStdString(split.options.groups_file));
    QString split_text = split.method.empty()
                             ? tr("not split")
                             : tr("%1 split %2 train / %3 val / %4 test (seed %5%6)")
                                   .arg(QString::fromStdString(split.options.describe_kind()))
                                   .arg(n.train)
                                   .arg(n.val)
                                   .arg(n.test)
                                   .arg(split.options.seed)
                                   .arg(groups);
    if (n.excluded) split_text += tr(", %1 excluded").arg(n.excluded);
    if (split.is_kfold()) split_text += tr(" (fold 0 of %1)").arg(split.options.folds);
    if (!split.missing.empty()) split_text += tr("; %1 listed track(s) not found").arg(split.missing.size());
    summary_->setText(tr("%1, %2 tracks: %3 valid, %4 invalid, %5 missing; %6 classes; %7")
                          .arg(QString::fromStdString(catalog.kind))
                          .arg(catalog.tracks.size())
                          .arg(catalog.count(data::TrackStatus::Valid))
                          .arg(catalog.count(data::TrackStatus::Invalid))
                          .arg(catalog.count(data::TrackStatus::Missing))
                          .arg(catalog.classes.size())
                          .arg(split_text));
    summary_->setToolTip(QString::fromStdString(catalog.root));
    if (!split.method.empty()) {
        seed_->setValue(int(std::min<uint64_t>(split.options.seed, uint64_t(seed_->maximum()))));
        split_kind_->setCurrentIndex(std::max(0, split_kind_->findData(QString::fromLatin1(data::to_string(split.options.kind)))));
        if (split.options.kind == data::SplitKind::Random) {
            test_fraction_->setValue(split.options.test_fraction);
            if (split.options.val_fraction > 0) val_fraction_->setValue(split.options.val_fraction);
        }
        if (split.is_kfold()) folds_->setValue(split.options.folds);
        groups_->setText(QString::fromStdString(split.options.groups_file));
    }
}

void DatasetsView::clear_dataset() {
    model_->clear();
    counts_->clear_counts();
    summary_->clear();
}

void DatasetsView::set_busy(bool busy, const QString& what) {
    for (QWidget* w : inputs_) w->setEnabled(!busy);
    progress_->setVisible(busy);
    cancel_->setVisible(busy);
    cancel_->setEnabled(busy);
    if (busy) {
        progress_->setValue(0);
        show_message(what, false);
    }
}

void DatasetsView::set_progress(int permille, const QString& text) {
    progress_->setValue(permille);
    if (!text.isEmpty()) message_->setText(text);
}

void DatasetsView::show_message(const QString& text, bool error) {
    message_->setStyleSheet(error ? QStringLiteral("color: #b01e1e;") : QString());
    message_->setText(text);
}

void DatasetsView::showEvent(QShowEvent* e) {
    QWidget::showEvent(e);
    Q_EMIT shown();
}

} // namespace gafx::widgets
