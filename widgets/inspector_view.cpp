#include "inspector_view.h"

#include "playback_bar.h"

#include <QCheckBox>
#include <QDir>
#include <QFileDialog>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QShortcut>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>

#include <algorithm>

namespace gafx::widgets {
namespace {

constexpr int kIdRole = Qt::UserRole;
constexpr int kSearchRole = Qt::UserRole + 1;
constexpr int kProbabilityRole = Qt::UserRole;

QLabel* heading(const QString& text, QWidget* parent) {
    auto* l = new QLabel(text, parent);
    QFont f = l->font();
    f.setBold(true);
    l->setFont(f);
    return l;
}

} // namespace

InspectorView::InspectorView(QWidget* parent) : QWidget(parent) {
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    auto* outer = new QHBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(splitter);

    auto* side = new QWidget(splitter);
    auto* sl = new QVBoxLayout(side);
    sl->addWidget(heading(tr("Track"), side));
    search_ = new QLineEdit(side);
    search_->setObjectName(QStringLiteral("trackSearch"));
    search_->setPlaceholderText(tr("Search by name, genre or dataset"));
    search_->setClearButtonEnabled(true);
    sl->addWidget(search_);
    tracks_ = new QStandardItemModel(this);
    filter_ = new QSortFilterProxyModel(this);
    filter_->setSourceModel(tracks_);
    filter_->setFilterRole(kSearchRole);
    track_list_ = new QListView(side);
    track_list_->setObjectName(QStringLiteral("trackList"));
    track_list_->setModel(filter_);
    track_list_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    track_list_->setUniformItemSizes(true); // tens of thousands of AudioSet segments
    sl->addWidget(track_list_, 3);
    sl->addWidget(heading(tr("Runs"), side));
    run_list_ = new QListWidget(side);
    run_list_->setObjectName(QStringLiteral("runList"));
    run_list_->setToolTip(tr("Tick the runs whose learned features to show"));
    sl->addWidget(run_list_, 2);
    shared_ = new QCheckBox(tr("Shared colour scale across runs"), side);
    shared_->setObjectName(QStringLiteral("sharedScale"));
    shared_->setToolTip(tr("One colour range for every run's (normalised) feature map; the log-mel keeps its own"));
    sl->addWidget(shared_);
    auto* exports = new QHBoxLayout;
    export_npy_ = new QPushButton(tr("Export .npy…"), side);
    export_npy_->setObjectName(QStringLiteral("exportNpy"));
    export_png_ = new QPushButton(tr("Export PNG…"), side);
    export_png_->setObjectName(QStringLiteral("exportPng"));
    exports->addWidget(export_npy_);
    exports->addWidget(export_png_);
    sl->addLayout(exports);
    auto* busy_row = new QHBoxLayout;
    busy_ = new QProgressBar(side);
    busy_->setRange(0, 0);
    busy_->setMaximumHeight(14);
    busy_label_ = new QLabel(side);
    busy_label_->setObjectName(QStringLiteral("busyLabel"));
    cancel_ = new QPushButton(tr("Cancel"), side);
    cancel_->setObjectName(QStringLiteral("cancelMaps"));
    busy_row->addWidget(busy_label_);
    busy_row->addWidget(busy_, 1);
    busy_row->addWidget(cancel_);
    sl->addLayout(busy_row);
    note_ = new QLabel(side);
    note_->setObjectName(QStringLiteral("inspectorNote"));
    note_->setWordWrap(true);
    note_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    sl->addWidget(note_);
    set_pending(0);

    auto* scroll = new QScrollArea(splitter);
    scroll->setWidgetResizable(true);
    auto* content = new QWidget(scroll);
    panel_layout_ = new QVBoxLayout(content);
    header_ = new QLabel(tr("Pick a track and tick one or more runs."), content);
    header_->setObjectName(QStringLiteral("trackHeader"));
    header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    header_->setWordWrap(true);
    panel_layout_->addWidget(header_);
    playback_ = new PlaybackBar(content);
    playback_->setObjectName(QStringLiteral("playback"));
    panel_layout_->addWidget(playback_);
    connect(playback_, &PlaybackBar::playToggled, this, &InspectorView::playToggled);
    connect(playback_, &PlaybackBar::loopCleared, this, [this] { Q_EMIT loopRequested(0, 0); });
    auto* space = new QShortcut(QKeySequence(Qt::Key_Space), this);
    space->setContext(Qt::WidgetWithChildrenShortcut);
    connect(space, &QShortcut::activated, this, &InspectorView::playToggled);
    waveform_ = new WaveformView(content);
    waveform_->setObjectName(QStringLiteral("waveform"));
    waveform_->set_title(tr("Waveform"));
    mel_ = new FeatureMapView(content);
    mel_->setObjectName(QStringLiteral("mel"));
    mel_->set_title(tr("Log-mel (Kaldi fbank, 128 bins)"));
    mel_->set_labels(tr("mel bin"), tr("log energy"));
    panel_layout_->addWidget(waveform_);
    panel_layout_->addWidget(mel_);
    panel_layout_->addStretch(1);
    scroll->setWidget(content);
    link(waveform_);
    link(mel_);
    splitter->addWidget(side);
    splitter->addWidget(scroll);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({300, 900});
    clear();

    connect(search_, &QLineEdit::textChanged, this, [this](const QString& text) {
        // Every word must appear, in any order: "blues 0003" finds blues/blues.00003.wav.
        QString pattern;
        for (const QString& w : text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts))
            pattern += QStringLiteral("(?=.*%1)").arg(QRegularExpression::escape(w));
        filter_->setFilterRegularExpression(QRegularExpression(pattern, QRegularExpression::CaseInsensitiveOption));
    });
    connect(track_list_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this] {
        if (!quiet_) Q_EMIT selectionChanged();
    });
    connect(run_list_, &QListWidget::itemChanged, this, [this] {
        if (!quiet_) Q_EMIT selectionChanged();
    });
    connect(shared_, &QCheckBox::toggled, this, [this] { apply_colour_scale(); });
    connect(cancel_, &QPushButton::clicked, this, &InspectorView::cancelRequested);
    connect(export_npy_, &QPushButton::clicked, this, [this] { ask_export(false); });
    connect(export_png_, &QPushButton::clicked, this, [this] { ask_export(true); });
}

void InspectorView::set_tracks(const QList<TrackEntry>& tracks) {
    const qint64 current = current_track();
    quiet_ = true;
    tracks_->clear();
    for (const TrackEntry& t : tracks) {
        auto* item = new QStandardItem(t.title);
        item->setData(t.id, kIdRole);
        item->setData(t.search, kSearchRole);
        item->setToolTip(t.title);
        tracks_->appendRow(item);
    }
    quiet_ = false;
    if (current) select_track(current);
}

void InspectorView::set_runs(const QList<RunEntry>& runs) {
    const QList<qint64> checked = checked_runs();
    quiet_ = true;
    run_list_->clear();
    for (const RunEntry& r : runs) {
        auto* item = new QListWidgetItem(r.title, run_list_);
        item->setData(kIdRole, r.id);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
        item->setCheckState(checked.contains(r.id) ? Qt::Checked : Qt::Unchecked);
    }
    quiet_ = false;
}

void InspectorView::select_track(qint64 id) {
    const auto hits = tracks_->match(tracks_->index(0, 0), kIdRole, id, 1, Qt::MatchExactly);
    if (hits.isEmpty()) return;
    QModelIndex proxy = filter_->mapFromSource(hits.first());
    if (!proxy.isValid()) {
        search_->clear();
        proxy = filter_->mapFromSource(hits.first());
    }
    quiet_ = true;
    track_list_->setCurrentIndex(proxy);
    track_list_->scrollTo(proxy);
    quiet_ = false;
}

void InspectorView::set_checked_runs(const QList<qint64>& runs) {
    quiet_ = true;
    for (int i = 0; i < run_list_->count(); ++i) {
        auto* item = run_list_->item(i);
        item->setCheckState(runs.contains(item->data(kIdRole).toLongLong()) ? Qt::Checked : Qt::Unchecked);
    }
    quiet_ = false;
}

qint64 InspectorView::current_track() const {
    const QModelIndex i = track_list_->currentIndex();
    return i.isValid() ? i.data(kIdRole).toLongLong() : 0;
}

QList<qint64> InspectorView::checked_runs() const {
    QList<qint64> out;
    for (int i = 0; i < run_list_->count(); ++i)
        if (run_list_->item(i)->checkState() == Qt::Checked) out << run_list_->item(i)->data(kIdRole).toLongLong();
    return out;
}

void InspectorView::show_track(const QString& title, const QString& true_label, double seconds) {
    header_->setText(tr("<b>%1</b> · %2 s · true label: <b>%3</b>")
                         .arg(title.toHtmlEscaped(), QString::number(seconds, 'f', 1),
                              true_label.isEmpty() ? tr("none") : true_label.toHtmlEscaped()));
    time_range_ = {0, seconds};
    waveform_->show_message(tr("computing…"));
    mel_->show_message(tr("computing…"));
    for (auto& p : panels_) {
        p.view->show_message(tr("computing…"));
        p.probabilities->clear();
        p.summary->clear();
    }
    export_npy_->setEnabled(true);
    export_png_->setEnabled(true);
}

void InspectorView::set_run_panels(const QList<RunEntry>& runs) {
    QList<qint64> keep;
    for (const RunEntry& r : runs) keep << r.id;
    for (auto it = panels_.begin(); it != panels_.end();) {
        if (keep.contains(it.key())) {
            ++it;
            continue;
        }
        plots_.removeAll(it->view);
        delete it->box;
        it = panels_.erase(it);
    }
    // In the order given, after the log-mel (the layout ends with a stretch).
    int row = panel_layout_->indexOf(mel_) + 1;
    for (const RunEntry& r : runs) {
        if (!panels_.contains(r.id)) {
            Panel p;
            auto* box = new QGroupBox(r.title);
            box->setObjectName(QStringLiteral("run%1").arg(r.id));
            auto* l = new QHBoxLayout(box);
            p.view = new FeatureMapView(box);
            p.view->setObjectName(QStringLiteral("runMap%1").arg(r.id));
            p.view->set_labels(tr("feature bin"), tr("normalised feature"));
            p.view->show_message(tr("computing…"));
            auto* right = new QVBoxLayout;
            p.summary = new QLabel(box);
            p.summary->setObjectName(QStringLiteral("prediction%1").arg(r.id));
            p.summary->setWordWrap(true);
            p.probabilities = new QListWidget(box);
            p.probabilities->setObjectName(QStringLiteral("probabilities%1").arg(r.id));
            p.probabilities->setMaximumWidth(240);
            right->addWidget(p.summary);
            right->addWidget(p.probabilities, 1);
            l->addWidget(p.view, 1);
            l->addLayout(right);
            p.box = box;
            panels_.insert(r.id, p);
            link(p.view);
        }
        panel_layout_->removeWidget(panels_[r.id].box);
        panel_layout_->insertWidget(row++, panels_[r.id].box);
    }
}

void InspectorView::clear() {
    header_->setText(tr("Pick a track and tick one or more runs."));
    waveform_->show_message(tr("No track chosen"));
    mel_->show_message(tr("No track chosen"));
    set_run_panels({});
    time_range_ = {0, 0};
    export_npy_->setEnabled(false);
    export_png_->setEnabled(false);
}

void InspectorView::set_waveform(const std::vector<float>& mins, const std::vector<float>& maxs, double seconds) {
    waveform_->set_envelope(mins, maxs, seconds);
    if (time_range_.second > time_range_.first) waveform_->set_time_range(time_range_.first, time_range_.second);
}

void InspectorView::set_mel(const std::vector<float>& values, int bins, const MapSegment& segment, double seconds) {
    mel_->set_map(values, bins, {segment}, seconds);
    if (time_range_.second > time_range_.first) mel_->set_time_range(time_range_.first, time_range_.second);
}

void InspectorView::set_track_error(const QString& message) {
    waveform_->show_message(message);
    mel_->show_message(message);
}

void InspectorView::set_run_map(qint64 run, const std::vector<float>& values, int bins,
                                   const std::vector<MapSegment>& clips, double seconds) {
    auto it = panels_.find(run);
    if (it == panels_.end()) return;
    it->view->set_map(values, bins, clips, seconds);
    if (time_range_.second > time_range_.first) it->view->set_time_range(time_range_.first, time_range_.second);
    apply_colour_scale();
}

void InspectorView::set_run_prediction(qint64 run, const QList<ClassProbability>& probabilities,
                                          const QStringList& true_labels) {
    auto it = panels_.find(run);
    if (it == panels_.end()) return;
    QList<ClassProbability> sorted = probabilities;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const ClassProbability& a, const ClassProbability& b) { return a.probability > b.probability; });
    it->probabilities->clear();
    for (const ClassProbability& c : sorted) {
        const bool truth = true_labels.contains(c.name);
        const QString percent = QString::number(100.0 * c.probability, 'f', 1) + QStringLiteral(" %");
        auto* item = new QListWidgetItem(c.name + QStringLiteral("  ") + percent + (truth ? tr("  ← true") : QString()),
                                         it->probabilities);
        item->setData(kProbabilityRole, c.probability);
        if (truth) {
            QFont f = item->font();
            f.setBold(true);
            item->setFont(f);
        }
    }
    const QString predicted = sorted.isEmpty() ? QString() : sorted.first().name;
    const QString mark = true_labels.isEmpty() ? QString()
                         : true_labels.contains(predicted) ? QStringLiteral("✓")
                                                           : QStringLiteral("✗");
    const QString truth = true_labels.isEmpty() ? tr("none") : true_labels.join(QStringLiteral(", "));
    it->summary->setText(tr("Predicted: <b>%1</b> %2<br>True: <b>%3</b>")
                             .arg(predicted.toHtmlEscaped(), mark, truth.toHtmlEscaped()));
}

void InspectorView::set_run_message(qint64 run, const QString& message) {
    auto it = panels_.find(run);
    if (it == panels_.end()) return;
    it->view->show_message(message);
    it->probabilities->clear();
    it->summary->clear();
}

void InspectorView::set_pending(int maps) {
    busy_->setVisible(maps > 0);
    cancel_->setVisible(maps > 0);
    busy_label_->setVisible(maps > 0);
    busy_label_->setText(tr("computing… (%1)").arg(maps));
}

void InspectorView::set_note(const QString& text) { note_->setText(text); }

QString InspectorView::note() const { return note_->text(); }

bool InspectorView::shared_scale() const { return shared_->isChecked(); }

FeatureMapView* InspectorView::run_view(qint64 run) const {
    auto it = panels_.find(run);
    return it == panels_.end() ? nullptr : it->view;
}

QListWidget* InspectorView::run_probabilities(qint64 run) const {
    auto it = panels_.find(run);
    return it == panels_.end() ? nullptr : it->probabilities;
}

void InspectorView::link(TimePlot* plot) {
    plots_ << plot;
    connect(plot, &TimePlot::timeRangeChanged, this,
            [this, plot](double lower, double upper) { follow(plot, lower, upper); });
    connect(plot, &TimePlot::timeClicked, this, &InspectorView::seekRequested);
    connect(plot, &TimePlot::spanSelected, this, &InspectorView::loopRequested);
    plot->set_playhead(playhead_);
    plot->set_loop_span(loop_.first, loop_.second);
}

void InspectorView::set_playhead(double seconds) {
    playhead_ = seconds;
    for (TimePlot* p : plots_) p->set_playhead(seconds);
}

void InspectorView::set_loop_span(double from, double to) {
    loop_ = {from, to};
    for (TimePlot* p : plots_) p->set_loop_span(from, to);
}

void InspectorView::follow(TimePlot* source, double lower, double upper) {
    time_range_ = {lower, upper};
    for (TimePlot* p : plots_)
        if (p != source) p->set_time_range(lower, upper);
}

void InspectorView::apply_colour_scale() {
    double lo = 0, hi = 0;
    bool any = false;
    for (const auto& p : panels_) {
        if (!p.view->has_map()) continue;
        const auto r = p.view->data_range();
        lo = any ? std::min(lo, r.first) : r.first;
        hi = any ? std::max(hi, r.second) : r.second;
        any = true;
    }
    for (const auto& p : panels_) {
        if (!p.view->has_map()) continue;
        if (shared_->isChecked() && any) p.view->set_colour_range(lo, hi);
        else p.view->reset_colour_range();
    }
}

void InspectorView::ask_export(bool png) {
    QSettings settings;
    QString last = settings.value(QStringLiteral("inspector/export_dir")).toString();
    if (!last.isEmpty() && !QDir(last).exists()) last.clear(); // removed since
    const QString dir = QFileDialog::getExistingDirectory(
        this, png ? tr("Export the plots as PNG into") : tr("Export the maps as .npy into"), last);
    if (dir.isEmpty()) return;
    settings.setValue(QStringLiteral("inspector/export_dir"), dir);
    Q_EMIT exportRequested(dir, png);
}

} // namespace gafx::widgets
