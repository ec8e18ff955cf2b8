// test_support.h: what the tests of runs across processes and machines share.
#include "test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gafx::test {

int free_loopback_port() {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    const bool ok = s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    getsockname(s, reinterpret_cast<sockaddr*>(&a), &n) == 0;
    if (s >= 0) close(s);
    if (!ok) qFatal("no free port on 127.0.0.1");
    return ntohs(a.sin_port);
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
