#include "store/run_status.h"

#include <cstdint>

namespace gafx::store {
namespace {
struct Name {
    RunStatus status;
    const char* word;
};
constexpr Name kNames[] = {
    {RunStatus::Queued, "queued"},     {RunStatus::Running, "running"},         {RunStatus::Paused, "paused"},
    {RunStatus::Finished, "finished"}, {RunStatus::Failed, "failed"},           {RunStatus::Diverged, "diverged"},
    {RunStatus::Interrupted, "interrupted"}, {RunStatus::Cancelled, "cancelled"},
};
} // namespace

const char* to_string(RunStatus s) {
    for (const Name& n : kNames)
        if (n.status == s) return n.word;
    return "unknown";
}

std::optional<RunStatus> parse_run_status(std::string_view word) {
    for (const Name& n : kNames)
        if (word == n.word) return n.status;
    return std::nullopt;
}

bool can_resume(RunStatus s) {
    return s == RunStatus::Queued || s == RunStatus::Interrupted || s == RunStatus::Paused ||
           s == RunStatus::Cancelled;
}

bool needs_retry_request(RunStatus s) { return s == RunStatus::Failed || s == RunStatus::Diverged; }

bool can_cancel(RunStatus s) {
    return s == RunStatus::Queued || s == RunStatus::Running || s == RunStatus::Paused || s == RunStatus::Interrupted;
}

bool is_terminal(RunStatus s) {
    return s == RunStatus::Finished || s == RunStatus::Failed || s == RunStatus::Diverged || s == RunStatus::Cancelled;
}

bool is_failure(RunStatus s) { return s == RunStatus::Failed || s == RunStatus::Diverged; }

ResumeDecision decide_resume(RunStatus s, bool retry_requested) {
    if (s == RunStatus::Running) return ResumeDecision::AlreadyRunning;
    if (s == RunStatus::Finished) return ResumeDecision::AlreadyFinished;
    if (needs_retry_request(s)) return retry_requested ? ResumeDecision::Retry : ResumeDecision::NeedsRetryFlag;
    return ResumeDecision::Resume;
}

std::string resume_refusal(int64_t run_id, RunStatus s, const std::string& error, const std::string& retry_hint) {
    const std::string run = "run " + std::to_string(run_id);
    switch (s) {
    case RunStatus::Running:
        return run + " is running; wait for it, or stop it first";
    case RunStatus::Finished:
        return run + " has already finished";
    case RunStatus::Failed:
    case RunStatus::Diverged:
        return run + " " + to_string(s) + (error.empty() ? "" : ": " + error) +
               ". Resuming repeats the same config from its last good checkpoint and may end the same way; " +
               retry_hint + " to try again (after fixing the cause: the file, the lr or the precision)";
    default:
        return run + " is " + to_string(s);
    }
}

} // namespace gafx::store
