#include "workflows/parallel_train.h"

#include "core/error.h"
#include "experiments/experiment.h"
#include "experiments/run_cost.h"
#include "workflows/spawn.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace gafx::workflows {
namespace {

enum class Ready { Yes, Wait, Never };

} // namespace

std::vector<int64_t> start_order(const std::vector<int64_t>& runs, const std::map<int64_t, int64_t>& starts_from,
                                 const std::map<int64_t, int64_t>& cost) {
    std::map<int64_t, std::vector<int64_t>> next; // run -> the runs that start from it
    for (const auto& [run, from] : starts_from) next[from].push_back(run);
    std::map<int64_t, int64_t> chain;
    std::set<int64_t> open; // on the path being summed: a cycle (never made by queueing) adds nothing
    const std::function<int64_t(int64_t)> sum = [&](int64_t run) -> int64_t {
        if (const auto it = chain.find(run); it != chain.end()) return it->second;
        if (!open.insert(run).second) return 0;
        int64_t longest = 0;
        if (const auto it = next.find(run); it != next.end())
            for (const int64_t after : it->second) longest = std::max(longest, sum(after));
        open.erase(run);
        const auto c = cost.find(run);
        return chain[run] = (c == cost.end() ? 0 : c->second) + longest;
    };
    std::vector<int64_t> order = runs;
    for (const int64_t run : order) sum(run);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return chain.at(a) > chain.at(b); });
    return order;
}

std::vector<std::vector<std::string>> cpu_slots(int n, int cores) {
    const int threads = std::max(1, cores / std::max(1, n));
    return std::vector<std::vector<std::string>>(size_t(std::max(1, n)), {"--threads", std::to_string(threads)});
}

std::vector<std::vector<std::string>> device_slots(const std::vector<std::string>& devices, int threads) {
    std::vector<std::vector<std::string>> out;
    for (const auto& d : devices) out.push_back({"--device", d, "--threads", std::to_string(std::max(1, threads))});
    return out;
}

void train_in_processes(store::RunStore& db, const ParallelPlan& plan,
                        const std::function<void(const ParallelEvent&)>& on_event, const std::function<bool()>& stop) {
    std::error_code ec;
    fs::create_directories(plan.log_dir, ec);
    std::map<pid_t, ParallelEvent> active;
    std::vector<bool> busy(plan.slots.size(), false);
    bool stopping = false;

    // The run each one starts from (pretrained_run), read once: the loop below asks every 100 ms.
    std::map<int64_t, int64_t> dep_of;
    std::set<int64_t> gone; // not in the workspace (any more): never started
    std::map<int64_t, int64_t> cost;
    for (int64_t run : plan.runs) {
        const auto r = db.run(run);
        if (!r) {
            gone.insert(run);
            continue;
        }
        try {
            const auto c = experiments::parse_run_config(r->config);
            if (c.pretraining == "run" && c.pretrained_run != 0) dep_of[run] = c.pretrained_run;
            cost[run] = experiments::run_cost(c);
        } catch (const std::exception&) {
            // the trainer says what is wrong with it
        }
    }
    const auto order = start_order(plan.runs, dep_of, cost);
    std::deque<int64_t> pending(order.begin(), order.end());

    const auto readiness = [&](int64_t run, std::string& why) {
        if (gone.count(run)) return Ready::Never;
        const auto found = dep_of.find(run);
        if (found == dep_of.end()) return Ready::Yes;
        const int64_t dep = found->second;
        if (std::find(pending.begin(), pending.end(), dep) != pending.end()) return Ready::Wait;
        for (const auto& [pid, e] : active)
            if (e.run == dep) return Ready::Wait;
        const auto d = db.run(dep);
        if (!d) {
            why = "its pretraining run " + std::to_string(dep) + " does not exist";
            return Ready::Never;
        }
        if (d->status == store::RunStatus::Finished) return Ready::Yes;
        if (d->status == store::RunStatus::Running) return Ready::Wait; // another process trains it
        why = "its pretraining run " + std::to_string(dep) + " is " + store::to_string(d->status) +
              ", not finished; train it (gafx resume " + std::to_string(dep) + "), then gafx resume " + std::to_string(run);
        return Ready::Never;
    };

    while (!pending.empty() || !active.empty()) {
        if (!stopping && stop()) {
            stopping = true;
            for (const auto& [pid, e] : active) kill(pid, SIGTERM);
        }
        for (size_t slot = 0; !stopping && slot < plan.slots.size(); ++slot) {
            if (busy[slot]) continue;
            for (auto it = pending.begin(); it != pending.end();) {
                std::string why;
                const Ready ready = readiness(*it, why);
                if (ready == Ready::Wait) {
                    ++it;
                    continue;
                }
                ParallelEvent e;
                e.run = *it;
                it = pending.erase(it);
                if (ready == Ready::Never) {
                    e.kind = ParallelEvent::Kind::NotStarted;
                    e.reason = why;
                    on_event(e);
                    continue;
                }
                std::vector<std::string> argv{plan.exe, "resume", std::to_string(e.run)};
                argv.insert(argv.end(), plan.common.begin(), plan.common.end());
                argv.insert(argv.end(), plan.slots[slot].begin(), plan.slots[slot].end());
                e.slot = int(slot);
                e.log = (fs::path(plan.log_dir) / ("run-" + std::to_string(e.run) + ".log")).string();
                e.pid = spawn_process(argv, e.log);
                busy[slot] = true;
                active[e.pid] = e;
                on_event(e);
                break;
            }
        }
        if (stopping && active.empty()) break;
        if (active.empty()) {
            // Nothing runs, and what is left waits on runs no process here trains.
            if (pending.empty()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            continue;
        }
        int status = 0;
        const pid_t done = waitpid(-1, &status, WNOHANG);
        if (done <= 0 || !active.count(done)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        ParallelEvent e = active[done];
        active.erase(done);
        busy[size_t(e.slot)] = false;
        e.kind = ParallelEvent::Kind::Ended;
        e.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        on_event(e);
    }
    for (int64_t run : pending) { // stopped before they started: they stay queued
        ParallelEvent e;
        e.kind = ParallelEvent::Kind::NotStarted;
        e.run = run;
        e.reason = "stopped before it started; it stays queued";
        on_event(e);
    }
}

} // namespace gafx::workflows
