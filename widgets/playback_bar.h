#pragma once
// Play / pause, where playback is and the loop being played, or why nothing can be heard here.
// It only draws and emits; the controllers drive app::AudioPlayer.
#include <QWidget>

class QLabel;
class QPushButton;

namespace gafx::widgets {

class PlaybackBar : public QWidget {
    Q_OBJECT
public:
    explicit PlaybackBar(QWidget* parent = nullptr);

    void set_playing(bool playing);
    void set_position(double seconds, double duration);
    void set_loop(double from, double to); // to <= from: none
    // Why playback cannot work here (empty: it can); the button stays off while it says so.
    void set_unavailable(const QString& why);
    void set_ready(bool ready); // a track is loaded
    QString text() const;       // position and loop, as shown
    QString unavailable() const;

Q_SIGNALS:
    void playToggled();
    void loopCleared();

private:
    QPushButton* play_ = nullptr;
    QPushButton* clear_loop_ = nullptr;
    QLabel* position_ = nullptr;
    QLabel* why_ = nullptr;
    bool ready_ = false;
    QString loop_text_;
};

} // namespace gafx::widgets
