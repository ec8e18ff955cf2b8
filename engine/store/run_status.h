#pragma once
// The one vocabulary of run states, and the rules every front end follows: what resumes, what
// can be cancelled, what has ended. The store's schema holds the same words (to_string); no other
// code spells them.
#include <optional>
#include <string>
#include <string_view>

namespace gafx::store {

enum class RunStatus { Queued, Running, Paused, Finished, Failed, Diverged, Interrupted, Cancelled };

const char* to_string(RunStatus s);
// nullopt for a word that is no status (a newer schema, a hand-edited database).
std::optional<RunStatus> parse_run_status(std::string_view word);

// Continues from its last checkpoint (or starts, when it never ran) without being asked twice:
// queued, interrupted, paused, cancelled.
bool can_resume(RunStatus s);
// Failed and diverged runs start again from their last good checkpoint only on request (gafx
// resume --retry, a confirmation in the workbench): the same config tends to end the same way.
bool needs_retry_request(RunStatus s);
// Asked to stop (running) or marked cancelled at once (queued, paused, interrupted).
bool can_cancel(RunStatus s);
// The trainer is done with it: finished, failed, diverged, cancelled (finished_at is set).
bool is_terminal(RunStatus s);
// Failed and diverged: the run ended badly, and its reason is worth showing in red.
bool is_failure(RunStatus s);

// A request to a run's trainer from another process, stored with the run and read at each
// heartbeat (gafx cancel, another workbench).
enum class RunControl { None, Cancel };

// What resuming a run in status `s` does, decided once for the CLI and the workbench.
enum class ResumeDecision {
    Resume,          // can_resume
    Retry,           // needs_retry_request, and the caller asked for it
    NeedsRetryFlag,  // needs_retry_request, not asked: say why (resume_refusal)
    AlreadyRunning,  // running in some process
    AlreadyFinished, // nothing left to do
};
ResumeDecision decide_resume(RunStatus s, bool retry_requested);
// Why a run is not resumed as it stands, for decisions other than Resume and Retry: names the
// run, its status and error, and what to do (`retry_hint` is how this front end asks for a retry).
std::string resume_refusal(int64_t run_id, RunStatus s, const std::string& error, const std::string& retry_hint);

} // namespace gafx::store
