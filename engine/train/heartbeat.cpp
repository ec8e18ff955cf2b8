#include "train/heartbeat.h"

#include "store/run_store.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <signal.h>
#include <unistd.h>

namespace gafx::train {
std::string host_name() {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return host;
}

namespace {

// Field 22 of /proc/PID/stat (clock ticks after boot); "" where there is no /proc.
std::string process_start(int64_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!in || !std::getline(in, stat)) return {};
    const size_t close = stat.rfind(')'); // the command name may hold spaces and parentheses
    if (close == std::string::npos) return {};
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    for (int i = 3; i <= 22 && fields >> f; ++i)
        if (i == 22) return f;
    return {};
}

} // namespace

std::string owner_token() {
    std::random_device rd;
    char bits[17];
    std::snprintf(bits, sizeof bits, "%08x%08x", rd(), rd());
    return host_name() + ":" + std::to_string(::getpid()) + ":" + process_start(::getpid()) + ":" + bits;
}

bool trainer_alive(const store::RunRecord& run) {
    if (run.host != host_name()) return true;
    if (run.pid <= 0) return false;
    if (::kill(pid_t(run.pid), 0) != 0 && errno == ESRCH) return false;
    // host:pid:start:bits, read from the right (a host name could hold a colon).
    const std::string& o = run.owner;
    const size_t b = o.rfind(':');
    const size_t st = b == std::string::npos || b == 0 ? std::string::npos : o.rfind(':', b - 1);
    if (st == std::string::npos) return true; // claimed before tokens: the pid is all there is
    const std::string start = o.substr(st + 1, b - st - 1);
    const std::string now = process_start(run.pid);
    return start.empty() || now.empty() || start == now;
}

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
    std::vector<int64_t> ids;
    std::set<int64_t> alive; // on this host: the process decides, not a heartbeat a suspend made late
    for (const auto& r : runs) {
        if (r.status != store::RunStatus::Running || r.host != host_name()) continue;
        if (trainer_alive(r)) {
            alive.insert(r.id);
            continue;
        }
        store.set_run_status(r.id, store::RunStatus::Interrupted,
                             "its process (pid " + std::to_string(r.pid) + ") ended without a word (killed or crashed); "
                             "gafx resume " + std::to_string(r.id) + " continues from the last checkpoint");
        ids.push_back(r.id);
    }
    for (int64_t id : store.mark_stale_runs_interrupted(stale_seconds, alive)) ids.push_back(id);
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
