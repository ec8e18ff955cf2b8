#pragma once
// `gafx train/resume --nproc N`: one run trained by N data-parallel ranks on this machine, each
// a `gafx resume RUN` process given torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR=127.0.0.1, MASTER_PORT: a free port), as torchrun itself would start them.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gafx::workflows {

struct RankPlan {
    std::string exe;                // the gafx binary
    int64_t run = 0;
    int nproc = 2;
    std::vector<std::string> flags; // every rank's flags (--db, --threads, --backend, ...)
    std::string log_dir;            // ranks 1.. write <log_dir>/run-<id>-rank<r>.log; rank 0 this terminal
};

struct RankExit {
    int rank = 0;
    int exit_code = 0; // 128 + signal when killed
    std::string log;   // empty: rank 0, on this terminal
};

// Starts the ranks and waits for all of them. Once `stop()` turns true each is sent SIGTERM once
// (the trainer's clean stop; the ranks agree on the step). A rank still running 60 s after
// another ended with an error is killed: the ranks notice a lost peer themselves, this is the
// backstop against a hang. Throws gafx::Error when a process cannot be started.
std::vector<RankExit> train_ranks(const RankPlan& plan, const std::function<bool()>& stop);

} // namespace gafx::workflows
