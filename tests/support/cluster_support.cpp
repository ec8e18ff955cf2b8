// test_support.h: what the tests of runs across processes and machines share.
#include "test_support.h"

#include "workflows/spawn.h"

namespace gafx::test {

int free_loopback_port() { return workflows::free_loopback_port(); }

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
