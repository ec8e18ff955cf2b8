#include "workflows/rank_launch.h"

#include "workflows/spawn.h"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <algorithm>
#include <map>
#include <optional>
#include <sys/wait.h>
#include <thread>

namespace fs = std::filesystem;

namespace gafx::workflows {

std::vector<RankExit> train_ranks(const RankPlan& plan, const std::function<bool()>& stop) {
    using Clock = std::chrono::steady_clock;
    std::error_code ec;
    fs::create_directories(plan.log_dir, ec);
    const std::string port = std::to_string(free_loopback_port());
    std::map<pid_t, RankExit> running;
    std::vector<RankExit> ended;
    const auto terminate_all = [&](int sig) {
        for (const auto& [pid, r] : running) kill(pid, sig);
    };
    try {
        for (int r = 0; r < plan.nproc; ++r) {
            std::vector<std::string> argv{plan.exe, "resume", std::to_string(plan.run)};
            argv.insert(argv.end(), plan.flags.begin(), plan.flags.end());
            RankExit e;
            e.rank = r;
            if (r > 0)
                e.log = (fs::path(plan.log_dir) / ("run-" + std::to_string(plan.run) + "-rank" + std::to_string(r) + ".log"))
                            .string();
            const std::vector<std::pair<std::string, std::string>> env{{"RANK", std::to_string(r)},
                                   {"WORLD_SIZE", std::to_string(plan.nproc)},
                                   {"LOCAL_RANK", std::to_string(r)},
                                   {"LOCAL_WORLD_SIZE", std::to_string(plan.nproc)},
                                   {"MASTER_ADDR", "127.0.0.1"},
                                   {"MASTER_PORT", port}};
            const pid_t pid = spawn_process(argv, e.log, env);
            running[pid] = e;
        }
    } catch (...) {
        terminate_all(SIGKILL);
        for (const auto& [pid, r] : running) waitpid(pid, nullptr, 0);
        throw;
    }
    bool stopping = false;
    std::optional<Clock::time_point> failed_at;
    while (!running.empty()) {
        if (!stopping && stop()) {
            stopping = true;
            terminate_all(SIGTERM);
        }
        if (failed_at && Clock::now() - *failed_at > std::chrono::seconds(60)) {
            terminate_all(SIGKILL);
            failed_at.reset();
        }
        int status = 0;
        const pid_t done = waitpid(-1, &status, WNOHANG);
        if (done <= 0 || !running.count(done)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        RankExit e = running[done];
        running.erase(done);
        e.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (e.exit_code != 0 && !failed_at) failed_at = Clock::now();
        ended.push_back(e);
    }
    std::sort(ended.begin(), ended.end(), [](const RankExit& a, const RankExit& b) { return a.rank < b.rank; });
    return ended;
}

} // namespace gafx::workflows
