#include "playback_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace gafx::widgets {
namespace {

QString clock(double s) {
    const int whole = int(s);
    return QStringLiteral("%1:%2.%3")
        .arg(whole / 60)
        .arg(whole % 60, 2, 10, QLatin1Char('0'))
        .arg(int((s - whole) * 10));
}

} // namespace

PlaybackBar::PlaybackBar(QWidget* parent) : QWidget(parent) {
    play_ = new QPushButton(tr("Play"), this);
    play_->setObjectName(QStringLiteral("playButton"));
    play_->setToolTip(tr("Play or pause the track (space bar); click a plot to play from there, shift + drag to loop "
                         "a span"));
    connect(play_, &QPushButton::clicked, this, &PlaybackBar::playToggled);
    clear_loop_ = new QPushButton(tr("No loop"), this);
    clear_loop_->setObjectName(QStringLiteral("clearLoopButton"));
    clear_loop_->setVisible(false);
    connect(clear_loop_, &QPushButton::clicked, this, &PlaybackBar::loopCleared);
    position_ = new QLabel(this);
    position_->setObjectName(QStringLiteral("playbackPosition"));
    why_ = new QLabel(this);
    why_->setObjectName(QStringLiteral("playbackUnavailable"));
    why_->setWordWrap(true);
    why_->setStyleSheet(QStringLiteral("color: #8a6d00;"));
    why_->setVisible(false);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(play_);
    layout->addWidget(position_);
    layout->addWidget(clear_loop_);
    layout->addWidget(why_, 1);
    layout->addStretch(0);
    set_ready(false);
}

void PlaybackBar::set_playing(bool playing) { play_->setText(playing ? tr("Pause") : tr("Play")); }

void PlaybackBar::set_position(double seconds, double duration) {
    position_->setText(clock(seconds) + QStringLiteral(" / ") + clock(duration) + loop_text_);
}

void PlaybackBar::set_loop(double from, double to) {
    loop_text_ = to > from ? tr("  (looping %1 to %2)").arg(clock(from), clock(to)) : QString();
    clear_loop_->setVisible(to > from);
}

void PlaybackBar::set_unavailable(const QString& why) {
    why_->setText(why);
    why_->setVisible(!why.isEmpty());
    play_->setEnabled(ready_ && why.isEmpty());
}

void PlaybackBar::set_ready(bool ready) {
    ready_ = ready;
    play_->setEnabled(ready_ && why_->text().isEmpty());
}

QString PlaybackBar::text() const { return position_->text(); }
QString PlaybackBar::unavailable() const { return why_->text(); }

} // namespace gafx::widgets
