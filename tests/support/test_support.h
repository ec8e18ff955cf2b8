#pragma once
// Shared by the Qt tests: generated audio files and running the `gafx` binary.
#include "audio/audio_file.h"

#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <functional>
#include <string>

namespace gafx::test {

// A sine of `freq` Hz at amplitude `amp`, `seconds` long, `channels` identical channels.
audio::Waveform sine(double freq, double seconds, int rate, int channels = 1, float amp = 0.5f);

// Writes `wave` to `path` (format from the extension), creating parent folders.
void write_audio(const QString& path, const audio::Waveform& wave);

// Writes raw bytes (for corrupt files, CSVs, JSON), creating parent folders.
void write_bytes(const QString& path, const QByteArray& bytes);

// The gafx::Error message `f` throws, or "" when it throws nothing.
QString error_of(const std::function<void()>& f);

struct CliResult {
    int exit_code = -1;
    QString out, err;
};
// Runs the built `gafx` with `args`; fails the calling test if it does not finish in time.
// `env` replaces the inherited environment.
CliResult run_gafx(const QStringList& args, int timeout_ms = 300000,
                   const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());
// The same for another program (a copy of gafx elsewhere, say).
CliResult run_program(const QString& program, const QStringList& args, int timeout_ms = 300000,
                      const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());

} // namespace gafx::test

namespace gafx::test {

// A workspace database at `dir`/ws.db holding dataset `name`: the demo genres, `tracks_per_genre`
// tracks of `seconds` each (written under `dir`/audio), imported and split 80/20 with seed 0.
// Returns the database path.
std::string make_demo_workspace(const QString& dir, int tracks_per_genre, double seconds,
                                const std::string& name = "tiny");
// The same dataset added to the workspace at `db` (audio under `dir`/audio).
void add_demo_dataset(const std::string& db, const QString& dir, int tracks_per_genre, double seconds,
                      const std::string& name = "tiny");

} // namespace gafx::test

namespace gafx::test {

// A paper-size classifier's own state dict (random initialisation) as safetensors at `path`:
// weights that load into `classifier` ("ast-tiny" or "ast-small") and nothing else.
void write_classifier_weights(const QString& path, const std::string& classifier);

} // namespace gafx::test

namespace gafx::test {

// A full disk for this process, no root needed: RLIMIT_FSIZE at `bytes` with SIGXFSZ ignored,
// so a write past it fails with EFBIG. lift() or the destructor restores both.
class FileSizeLimit {
public:
    explicit FileSizeLimit(int64_t bytes);
    ~FileSizeLimit() { lift(); }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;
    void lift();

private:
    unsigned long long original_cur_ = 0;
    void (*original_handler_)(int) = nullptr;
    bool on_ = false;
};

} // namespace gafx::test

namespace gafx::test {

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick), for a c10d store.
int free_loopback_port();

// Two data-parallel ranks as two processes: rank 1 in a forked child, rank 0 in this one, each
// running rank_main(rank, port) on one free loopback port. Each returns an empty string when its
// checks held; an exception counts as its message. Returns what failed, empty when both held
// (rank 1's words also go to stderr).
std::string run_two_ranks(const std::function<std::string(int rank, int port)>& rank_main);

// Two experiment files the CLI tests train in seconds on a make_demo_workspace dataset, written
// into `dir`: pre.json ("pre", one run, seed 0) and ft.json ("ft", which requires pre.json: two
// runs of seed 3, one from scratch and one fine-tuning from pre's seed 0), `epochs` each.
void write_pretrain_and_finetune(const QString& dir, int epochs);

} // namespace gafx::test
