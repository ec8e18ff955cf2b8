#pragma once
// Listening to a track: the workbench's one player, shared by every page. The track is decoded
// with the engine's own reader (libsndfile + soxr: every format an import accepts, no system
// codecs) on a worker thread, then played as 16-bit PCM through Qt Multimedia's QAudioSink, with
// seek, a loop range and a position the views draw as a playhead. Where it cannot play (built
// without Qt Multimedia, or no audio output device, as on a server or in CI) unavailable() says
// why; loading, seeking and looping still work, so everything else on the page does too.
#include <QFutureWatcher>
#include <QObject>
#include <QPair>
#include <QString>
#include <QTimer>

#include <memory>
#include <vector>

class QAudioSink;

namespace gafx::app {

class PcmSource;

class AudioPlayer : public QObject {
    Q_OBJECT
public:
    explicit AudioPlayer(QObject* parent = nullptr);
    ~AudioPlayer() override;

    // Why nothing can be heard here; empty when an output device is there.
    QString unavailable() const { return unavailable_; }

    // Decodes `path` (the file of track `track`) off the GUI thread; `play_when_loaded` starts it
    // then. Loading the track already loaded only plays it (when asked).
    void load(qint64 track, const QString& path, bool play_when_loaded = false);
    qint64 track() const { return track_; }
    bool loaded() const; // decoded and ready
    QString error() const { return error_; } // why the last load failed
    double duration() const;

    void play();
    void pause();
    void toggle(); // the space bar
    bool playing() const { return playing_; }
    void seek(double seconds);
    // Plays [from, to) over and over; to <= from clears it. The position moves into it.
    void set_loop(double from, double to);
    QPair<double, double> loop() const;
    double position() const; // seconds

Q_SIGNALS:
    void loadedChanged(qint64 track);  // a load finished (error() says if it failed)
    void stateChanged(bool playing);
    void positionChanged(double seconds); // while playing, ~25 times a second; and on seek
    void loopChanged(double from, double to);

private:
    struct Decoded {
        qint64 track = 0;
        std::vector<int16_t> pcm;
        int rate = 0;
        QString error;
    };
    void loaded_now();
    void tick();

    QString unavailable_;
    qint64 track_ = 0, loading_ = 0;
    QString pending_path_; // of the track being loaded
    bool play_when_loaded_ = false;
    QString error_;
    bool playing_ = false;
    std::unique_ptr<PcmSource> source_;
    QAudioSink* sink_ = nullptr;
    QFutureWatcher<Decoded> decode_;
    QTimer ticker_;
};

} // namespace gafx::app
