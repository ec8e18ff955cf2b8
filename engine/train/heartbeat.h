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
