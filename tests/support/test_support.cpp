#include "test_support.h"

#include "core/error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>

#include <cmath>
#include <csignal>
#include <stdexcept>

#include <sys/resource.h>

namespace gafx::test {

audio::Waveform sine(double freq, double seconds, int rate, int channels, float amp) {
    audio::Waveform w;
    w.sample_rate = rate;
    w.channels = channels;
    w.frames = static_cast<int64_t>(std::llround(seconds * rate));
    w.samples.resize(size_t(w.frames) * channels);
    for (int c = 0; c < channels; ++c)
        for (int64_t i = 0; i < w.frames; ++i)
            w.channel(c)[i] = amp * static_cast<float>(std::sin(2.0 * M_PI * freq * double(i) / rate));
    return w;
}

void write_audio(const QString& path, const audio::Waveform& wave) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    audio::write(path.toStdString(), wave);
}

void write_bytes(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        throw std::runtime_error("cannot write " + path.toStdString());
}

QString error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

CliResult run_gafx(const QStringList& args, int timeout_ms, const QProcessEnvironment& env) {
    return run_program(QStringLiteral(GAFX_CLI_PATH), args, timeout_ms, env);
}

CliResult run_program(const QString& program, const QStringList& args, int timeout_ms, const QProcessEnvironment& env) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(program, args);
    CliResult r;
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
        r.err = program + QStringLiteral(" timed out");
        return r;
    }
    r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace gafx::test

#include "data/demo.h"
#include "data/gtzan.h"
#include "data/split.h"
#include "store/run_store.h"

namespace gafx::test {

std::string make_demo_workspace(const QString& dir, int tracks_per_genre, double seconds, const std::string& name) {
    const std::string db = (dir + "/ws.db").toStdString();
    add_demo_dataset(db, dir, tracks_per_genre, seconds, name);
    return db;
}

void add_demo_dataset(const std::string& db, const QString& dir, int tracks_per_genre, double seconds,
                      const std::string& name) {
    const std::string audio = (dir + "/audio").toStdString();
    data::DemoOptions demo;
    demo.tracks_per_genre = tracks_per_genre;
    demo.seconds = seconds;
    data::write_gtzan_demo(audio, demo);
    data::GtzanOptions go;
    go.name = name;
    data::Catalog catalog = data::import_gtzan(audio, go);
    store::RunStore s(db);
    const int64_t id = s.save_catalog(catalog);
    s.save_split(id, catalog, data::make_split(catalog, data::SplitOptions{}));
}

} // namespace gafx::test

#include "models/registry.h"
#include "models/safetensors.h"

namespace gafx::test {

void write_classifier_weights(const QString& path, const std::string& classifier) {
    models::Ast ast = models::make_classifier(classifier, 1024, 10, models::Preset::Paper);
    models::StateDict state;
    for (const auto& p : ast->named_parameters(true)) state.emplace_back(p.key(), p.value());
    for (const auto& b : ast->named_buffers(true)) state.emplace_back(b.key(), b.value());
    models::write_safetensors(path.toStdString(), state);
}

} // namespace gafx::test

namespace gafx::test {

FileSizeLimit::FileSizeLimit(int64_t bytes) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_FSIZE, &lim) != 0) throw std::runtime_error("getrlimit(RLIMIT_FSIZE) failed");
    original_cur_ = lim.rlim_cur;
    original_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    lim.rlim_cur = rlim_t(bytes);
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) throw std::runtime_error("setrlimit(RLIMIT_FSIZE) failed");
    on_ = true;
}

void FileSizeLimit::lift() {
    if (!on_) return;
    rlimit lim{};
    ::getrlimit(RLIMIT_FSIZE, &lim);
    lim.rlim_cur = rlim_t(original_cur_);
    ::setrlimit(RLIMIT_FSIZE, &lim);
    std::signal(SIGXFSZ, original_handler_);
    on_ = false;
}

} // namespace gafx::test
