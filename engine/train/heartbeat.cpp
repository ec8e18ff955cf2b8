#include "train/heartbeat.h"

#include "store/run_store.h"

#include <cerrno>
#include <chrono>

#include <signal.h>
#include <unistd.h>

namespace gafx::train {

Heartbeat::Heartbeat(std::string db_path, int64_t run_id, double seconds, TrainControl& control)
    : db_path_(std::move(db_path)), run_id_(run_id), seconds_(seconds), control_(control), thread_([this] { loop(); }) {}

Heartbeat::~Heartbeat() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void Heartbeat::loop() {
    std::unique_ptr<store::RunStore> db;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
        lock.unlock();
        try {
            if (!db) db = std::make_unique<store::RunStore>(db_path_);
            if (db->heartbeat(run_id_) == store::RunControl::Cancel) control_.request(TrainControl::Cancel);
        } catch (const std::exception&) {
            db.reset(); // a busy or vanished database: try again next beat; the trainer reports real failures
        }
        lock.lock();
        wake_.wait_for(lock, std::chrono::duration<double>(seconds_), [this] { return stop_; });
    }
}

} // namespace gafx::train

namespace gafx::train {

std::vector<int64_t> mark_dead_runs_interrupted(store::RunStore& store, double stale_seconds) {
    return mark_dead_runs_interrupted(store, store.list_runs(), stale_seconds);
}

std::vector<int64_t> mark_dead_runs_interrupted(store::RunStore& store, const std::vector<store::RunRecord>& runs,
                                                double stale_seconds) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::vector<int64_t> ids;
    for (const auto& r : runs) {
        if (r.status != store::RunStatus::Running || r.host != host || r.pid <= 0 || r.pid == ::getpid()) continue;
        // Same machine: no such process means it died. (A reused pid falls through to the
        // heartbeat test below.)
        if (::kill(pid_t(r.pid), 0) != 0 && errno == ESRCH) {
            store.set_run_status(r.id, store::RunStatus::Interrupted,
                                 "its process (pid " + std::to_string(r.pid) + ") ended without a word (killed or crashed); "
                                 "gafx resume " + std::to_string(r.id) + " continues from the last checkpoint");
            ids.push_back(r.id);
        }
    }
    for (int64_t id : store.mark_stale_runs_interrupted(stale_seconds)) ids.push_back(id);
    return ids;
}

CancelOutcome request_cancel(store::RunStore& store, int64_t run_id, store::RunStatus status,
                             const std::string& why) {
    if (!store::can_cancel(status)) return CancelOutcome::AlreadyEnded;
    if (status == store::RunStatus::Running) {
        store.set_run_control(run_id, store::RunControl::Cancel);
        return CancelOutcome::Asked;
    }
    store.set_run_status(run_id, store::RunStatus::Cancelled, why);
    return CancelOutcome::Cancelled;
}

} // namespace gafx::train
