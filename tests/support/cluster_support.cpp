// test_support.h: what the tests of runs across processes and machines share.
#include "test_support.h"

#include "workflows/spawn.h"

#include <cstdio>
#include <exception>

#include <sys/wait.h>
#include <unistd.h>

namespace gafx::test {

int free_loopback_port() { return workflows::free_loopback_port(); }

std::string run_two_ranks(const std::function<std::string(int rank, int port)>& rank_main) {
    const auto checked = [&](int rank, int port) {
        try {
            return rank_main(rank, port);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    };
    const int port = free_loopback_port();
    const pid_t child = fork();
    if (child < 0) return "fork failed";
    if (child == 0) {
        const std::string bad = checked(1, port);
        if (!bad.empty()) std::fprintf(stderr, "rank 1: %s\n", bad.c_str());
        _exit(bad.empty() ? 0 : 1);
    }
    const std::string bad = checked(0, port);
    int status = 0;
    waitpid(child, &status, 0);
    if (!bad.empty()) return "rank 0: " + bad;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "rank 1 failed (its words are above)";
    return {};
}

void write_pretrain_and_finetune(const QString& dir, int epochs) {
    const QByteArray common = R"("dataset": "tiny", "extractor": "mel", "classifier": "ast-tiny", "preset": "small",
      "track_seconds": 4, "clips_per_track": 2, "clip_seconds": 1.5, "batch_size": 8, "lr": 0.0005,
      "warmup_steps": 5, "lr_halving_epochs": [2], "precision": "fp32", "epochs": )" + QByteArray::number(epochs);
    write_bytes(dir + "/pre.json", R"({"name": "pre", "base": {)" + common + R"(, "seed": 0}})");
    write_bytes(dir + "/ft.json", R"({"name": "ft", "requires": ["pre.json"], "base": {)" + common +
                                      R"(, "seed": 3, "pretrained_run": {"experiment": "pre", "seed": 0}},
      "grid": {"pretraining": ["none", "run"]}})");
}

} // namespace gafx::test
