#include "audio_player.h"

#include "audio/audio_file.h"

#include <QIODevice>
#include <QtConcurrent/QtConcurrentRun>
#ifdef GAFX_HAVE_PLAYBACK
#include <QAudioDevice>
#include <QAudioFormat>
#include <QAudioSink>
#include <QMediaDevices>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

namespace gafx::app {

// 16-bit mono PCM from memory, pulled by the sink; the read position can jump (seek) and wraps
// inside the loop range. The sink may read from its own thread: the position is atomic.
class PcmSource : public QIODevice {
public:
    std::vector<int16_t> pcm;
    int rate = 0;
    std::atomic<int64_t> pos{0}, loop_from{0}, loop_to{0}; // samples

    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override {
        return QIODevice::bytesAvailable() + (looping() ? 1 << 20 : 2 * std::max<int64_t>(0, size_samples() - pos));
    }
    bool looping() const { return loop_to > loop_from; }
    int64_t size_samples() const { return int64_t(pcm.size()); }

protected:
    qint64 readData(char* data, qint64 max_bytes) override {
        const int64_t want = max_bytes / 2;
        int64_t done = 0;
        while (done < want) {
            const int64_t from = loop_from, to = loop_to;
            const bool loop = to > from;
            const int64_t end = loop ? std::min(to, size_samples()) : size_samples();
            int64_t p = pos;
            if (p >= end) {
                if (!loop) break;
                p = from;
            }
            const int64_t take = std::min(want - done, end - p);
            if (take <= 0) break;
            std::memcpy(data + 2 * done, pcm.data() + p, size_t(2 * take));
            pos = p + take;
            done += take;
        }
        return 2 * done; // 0 at the end: the sink goes idle
    }
    qint64 writeData(const char*, qint64) override { return -1; }
};

AudioPlayer::AudioPlayer(QObject* parent) : QObject(parent), source_(std::make_unique<PcmSource>()) {
#ifdef GAFX_HAVE_PLAYBACK
    if (QMediaDevices::defaultAudioOutput().isNull())
        unavailable_ = tr("No audio output device here (none is connected, or no sound server runs): tracks cannot "
                          "be heard; everything else works.");
#else
    unavailable_ = tr("This build has no audio playback (built without Qt Multimedia: apt-get install "
                      "qt6-multimedia-dev and rebuild).");
#endif
    ticker_.setInterval(40);
    connect(&ticker_, &QTimer::timeout, this, &AudioPlayer::tick);
    connect(&decode_, &QFutureWatcher<Decoded>::finished, this, &AudioPlayer::loaded_now);
}

AudioPlayer::~AudioPlayer() {
    decode_.waitForFinished();
#ifdef GAFX_HAVE_PLAYBACK
    if (sink_) sink_->stop();
#endif
}

void AudioPlayer::load(qint64 track, const QString& path, bool play_when_loaded) {
    if (track == track_ && loaded() && loading_ == 0) {
        if (play_when_loaded) play();
        return;
    }
    pause();
    play_when_loaded_ = play_when_loaded;
    loading_ = track;
    pending_path_ = path;
    if (decode_.isRunning()) return; // loaded_now() starts the one asked for last
    const std::string file = path.toStdString();
    decode_.setFuture(QtConcurrent::run([track, file] {
        Decoded d;
        d.track = track;
        try {
            // The file's own rate, mono: what the ear gets is the file, not the model's 16 kHz.
            const audio::Waveform w = audio::decode(file, 0, audio::ChannelMode::Mono);
            d.rate = w.sample_rate;
            d.pcm.resize(size_t(w.frames));
            for (int64_t i = 0; i < w.frames; ++i)
                d.pcm[size_t(i)] = int16_t(std::lround(std::clamp(w.samples[size_t(i)], -1.0f, 1.0f) * 32767.0f));
        } catch (const std::exception& e) {
            d.error = QString::fromUtf8(e.what());
        }
        return d;
    }));
}

void AudioPlayer::loaded_now() {
    Decoded d = decode_.result();
    if (loading_ != d.track) { // another track was asked for meanwhile
        const qint64 want = loading_;
        loading_ = 0;
        load(want, pending_path_, play_when_loaded_);
        return;
    }
    loading_ = 0;
#ifdef GAFX_HAVE_PLAYBACK
    if (sink_) {
        sink_->stop();
        sink_->deleteLater();
        sink_ = nullptr;
    }
#endif
    source_->close();
    source_ = std::make_unique<PcmSource>();
    track_ = d.track;
    error_ = d.error;
    if (error_.isEmpty()) {
        source_->pcm = std::move(d.pcm);
        source_->rate = d.rate;
    }
    source_->open(QIODevice::ReadOnly);
    Q_EMIT loadedChanged(track_);
    Q_EMIT loopChanged(0, 0);
    Q_EMIT positionChanged(0);
    if (play_when_loaded_ && error_.isEmpty()) play();
}

bool AudioPlayer::loaded() const { return track_ != 0 && source_->rate > 0; }

double AudioPlayer::duration() const { return loaded() ? double(source_->size_samples()) / source_->rate : 0.0; }

void AudioPlayer::play() {
    if (!loaded() || playing_ || !unavailable_.isEmpty()) return;
#ifdef GAFX_HAVE_PLAYBACK
    if (source_->pos >= source_->size_samples() && !source_->looping()) source_->pos = 0; // from the start again
    if (!sink_) {
        QAudioFormat format;
        format.setSampleRate(source_->rate);
        format.setChannelCount(1);
        format.setSampleFormat(QAudioFormat::Int16);
        sink_ = new QAudioSink(QMediaDevices::defaultAudioOutput(), format, this);
        connect(sink_, &QAudioSink::stateChanged, this, [this](QAudio::State s) {
            if (s == QAudio::IdleState && playing_) { // ran out of track
                playing_ = false;
                ticker_.stop();
                Q_EMIT stateChanged(false);
                Q_EMIT positionChanged(position());
            }
        });
        sink_->start(source_.get());
    } else {
        sink_->resume();
        if (sink_->state() == QAudio::IdleState || sink_->state() == QAudio::StoppedState) sink_->start(source_.get());
    }
    playing_ = true;
    ticker_.start();
    Q_EMIT stateChanged(true);
#endif
}

void AudioPlayer::pause() {
    if (!playing_) return;
#ifdef GAFX_HAVE_PLAYBACK
    if (sink_) sink_->suspend();
#endif
    playing_ = false;
    ticker_.stop();
    Q_EMIT stateChanged(false);
    Q_EMIT positionChanged(position());
}

void AudioPlayer::toggle() { playing_ ? pause() : play(); }

void AudioPlayer::seek(double seconds) {
    if (!loaded()) return;
    int64_t p = std::clamp<int64_t>(int64_t(std::llround(seconds * source_->rate)), 0, source_->size_samples());
    if (source_->looping() && (p < source_->loop_from || p >= source_->loop_to)) p = source_->loop_from;
    source_->pos = p;
#ifdef GAFX_HAVE_PLAYBACK
    if (sink_ && playing_) { // drop what is queued from the old place
        sink_->stop();
        sink_->start(source_.get());
    }
#endif
    Q_EMIT positionChanged(position());
}

void AudioPlayer::set_loop(double from, double to) {
    if (!loaded()) return;
    const int64_t n = source_->size_samples();
    int64_t a = std::clamp<int64_t>(int64_t(std::llround(from * source_->rate)), 0, n);
    int64_t b = std::clamp<int64_t>(int64_t(std::llround(to * source_->rate)), 0, n);
    if (b <= a) a = b = 0;
    source_->loop_from = a;
    source_->loop_to = b;
    Q_EMIT loopChanged(double(a) / source_->rate, double(b) / source_->rate);
    if (b > a) seek(double(a) / source_->rate);
}

QPair<double, double> AudioPlayer::loop() const {
    if (!loaded()) return {0, 0};
    return {double(source_->loop_from) / source_->rate, double(source_->loop_to) / source_->rate};
}

double AudioPlayer::position() const {
    if (!loaded()) return 0;
    int64_t p = source_->pos;
#ifdef GAFX_HAVE_PLAYBACK
    if (sink_ && playing_) { // what is heard lags what was read by the sink's buffer
        p -= (sink_->bufferSize() - sink_->bytesFree()) / 2;
        if (source_->looping() && p < source_->loop_from) p += source_->loop_to - source_->loop_from;
    }
#endif
    return double(std::clamp<int64_t>(p, 0, source_->size_samples())) / source_->rate;
}

void AudioPlayer::tick() { Q_EMIT positionChanged(position()); }

} // namespace gafx::app
