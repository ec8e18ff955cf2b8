#pragma once
// A running trainer's pulse: a thread with its own database connection that stamps the run's
// heartbeat every few seconds (even during a step that takes minutes) and turns a cancel
// requested by another process (gafx cancel, another workbench) into a TrainControl request.
#include "train/trainer.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace gafx::train {

// This machine's name, as runs record where they are trained.
std::string host_name();

// The token a trainer claims a run with (store::RunStore::claim_run): host, pid, the process's
// start time (so a reused pid is not taken for it) and 64 random bits.
std::string owner_token();

// Whether the trainer holding `run` is alive: on this host by its pid and that process's start
// time; elsewhere unknown here (true: the heartbeat decides).
bool trainer_alive(const store::RunRecord& run);

class Heartbeat {
public:
    Heartbeat(std::string db_path, int64_t run_id, double seconds, TrainControl& control);
    ~Heartbeat(); // stops and joins

private:
    void loop();
    std::string db_path_;
    int64_t run_id_;
    double seconds_;
    TrainControl& control_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace gafx::train
