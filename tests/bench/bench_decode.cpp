// What an epoch's audio costs: decode + soxr per track without the waveform cache, with a cold
// cache (decode, resample, write entry) and a warm one (hash file, read entry), the hash alone,
// and the loader's batch rate on top. Usage: bench_decode [--tracks N] [--dir DIR]
#include "data/batch_loader.h"
#include "core/rng.h" // after a header that brings size_t: rng.h lacks <cstddef>
#include "data/waveform_cache.h"
#include "test_support.h"

#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace gafx;
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <typename F> double timed(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return seconds_since(t0);
}

} // namespace

int main(int argc, char** argv) {
    int tracks = 50;
    std::string dir;
    bool tracks_given = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--tracks") && i + 1 < argc) {
            tracks = std::max(1, std::atoi(argv[++i]));
            tracks_given = true;
        } else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--tracks N] [--dir DIR]\n", argv[0]);
            return 2;
        }
    }

    QTemporaryDir tmp;
    std::vector<std::string> files;
    if (!dir.empty()) {
        for (const auto& e : fs::recursive_directory_iterator(dir))
            if (e.is_regular_file() && audio::has_audio_extension(e.path().string()))
                files.push_back(e.path().string());
        std::sort(files.begin(), files.end());
        if (tracks_given && int(files.size()) > tracks) files.resize(size_t(tracks));
    } else {
        // GTZAN-like: 30 s, 22050 Hz, mono, 16-bit; a tone plus noise so nothing compresses away.
        Rng rng(1);
        for (int i = 0; i < tracks; ++i) {
            auto w = test::sine(110.0 * (1 + i % 12), 30.0, 22050);
            for (auto& s : w.samples) s += 0.05f * float(rng.normal());
            const QString p = tmp.filePath(QString("gen/%1.wav").arg(i, 3, 10, QChar('0')));
            test::write_audio(p, w);
            files.push_back(p.toStdString());
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "no audio files\n");
        return 1;
    }
    const auto info = audio::probe(files[0]);
    const double n = double(files.size());
    int64_t bytes = 0;
    double audio_seconds = 0;
    for (const auto& f : files) {
        bytes += int64_t(fs::file_size(f));
        audio_seconds += audio::probe(f).duration_seconds();
    }
    const std::string native = std::to_string(info.sample_rate);
    std::printf("%zu tracks, %.1f s of audio, %.1f MB; first: %s\n", files.size(), audio_seconds,
                bytes / 1e6, info.format.c_str());

    auto report = [&](const std::string& what, double secs) {
        std::printf("%-46s %8.1f tracks/s  (%6.0fx realtime, %.3f s)\n", (what + ":").c_str(),
                    n / secs, audio_seconds / secs, secs);
    };

    uint64_t sink = 0;
    const double hash_s = timed([&] {
        for (const auto& f : files) sink ^= data::WaveformCache::hash_file(f);
    });
    std::printf("%-46s %8.1f tracks/s  (%6.0f MB/s, page-cached)\n", "xxh64 file hash:", n / hash_s,
                bytes / 1e6 / hash_s);

    report("decode " + native + " native, no cache", timed([&] {
               for (const auto& f : files) sink += audio::decode(f, 0, audio::ChannelMode::Mono).frames;
           }));
    report("decode+resample " + native + "->16000, no cache", timed([&] {
               for (const auto& f : files) sink += audio::decode(f, 16000, audio::ChannelMode::Mono).frames;
           }));

    data::WaveformCache cache(tmp.filePath("cache").toStdString());
    for (int rate : {16000, 22050}) {
        const std::string what = "decode+resample " + native + "->" + std::to_string(rate);
        report(what + " cold", timed([&] {
                   for (const auto& f : files) sink += cache.load(f, rate, audio::ChannelMode::Mono).frames;
               }));
        report(what + " warm", timed([&] {
                   for (const auto& f : files) sink += cache.load(f, rate, audio::ChannelMode::Mono).frames;
               }));
    }
    const auto st = cache.stats();
    std::printf("cache: %lld hits, %lld misses\n", (long long)st.hits, (long long)st.misses);

    // The paper's augmentation: 3 x 10 s clips per track, so each track is read three times.
    std::vector<data::LoadItem> items;
    for (size_t i = 0; i < files.size(); ++i)
        for (int c = 0; c < 3; ++c) items.push_back({files[i], int64_t(i), c, 10.0 * c, 10.0, {int(i % 10)}});
    for (data::WaveformCache* c : {&cache, static_cast<data::WaveformCache*>(nullptr)}) {
        data::LoaderOptions o;
        o.batch_size = 16;
        o.threads = 2;
        o.num_classes = 10;
        data::BatchLoader loader(items, o, c);
        int64_t batches = 0;
        const double secs = timed([&] {
            loader.start_epoch(0);
            while (auto b = loader.next()) batches++;
        });
        std::printf("%-46s %8.1f batches/s (%6.1f clips/s, batch 16, %.0f%% of the epoch waiting)\n",
                    c ? "loader 2 threads, warm cache:" : "loader 2 threads, no cache:", batches / secs,
                    items.size() / secs, 100.0 * loader.wait_seconds() / secs);
    }
    return sink == 42 ? 1 : 0; // keeps the work observable
}
