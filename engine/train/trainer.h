#pragma once
// The Trainer: one run of the workspace, from its checkpoint (or from scratch) to the end or to
// a stop request. It reads its config and dataset from the RunStore, writes metrics there in
// batches, checkpoints every epoch and every few minutes, and reports through callbacks. It
// knows nothing of threads or Qt: the CLI calls it directly, the workbench on a worker thread.
#include "store/run_status.h"
#include "train/evaluation.h"
#include "train/world_spec.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gafx::store {
class RunStore;
struct RunRecord;
}
namespace gafx::data {
class WaveformCache;
}

namespace gafx::train {

// Where a run trains when its user has not said: "cuda" (the first GPU) where this libtorch sees
// one, else "cpu". The workbench trains there; `gafx train` without --device too.
std::string default_device();

// A device runs can train on, as the front ends offer it.
struct DeviceChoice {
    std::string id;    // "cuda:0", ..., "cpu": a TrainOptions::device
    std::string label; // "GPU 0 (cuda:0)", "CPU (bf16)"
};
// Each GPU this libtorch sees, then the CPU: the first is where default_device() trains.
std::vector<DeviceChoice> device_choices();

struct TrainOptions {
    std::string device = "cpu";       // "cpu", "cuda" or "cuda:N"; front ends start from default_device()
    int threads = 0;                  // torch intra-op threads; 0: one per core
    int loader_threads = 2;           // decode/resample workers
    std::string checkpoint_dir;       // runs/<id>/ go here; empty: beside the database
    double checkpoint_seconds = 600;  // a mid-epoch checkpoint this often (and one per epoch)
    double heartbeat_seconds = 5;     // how often the run tells the database it is alive
    data::WaveformCache* cache = nullptr; // optional, must outlive the call
    // On a GPU, each full batch's forward and backward replayed as one CUDA graph after a few
    // eager steps (train/graph_step.h), where the build and the run allow it; off: every step eager.
    bool cuda_graphs = true;
    // More than one rank: this process is one of world.world_size data-parallel ranks of the run
    // (train::world_from_env, or gafx --nproc). Rank 0 alone claims the run and writes the
    // database, checkpoints and weights; every rank reads the same workspace and checkpoint.
    WorldSpec world;
};

struct StepProgress {
    int64_t step = 0, total_steps = 0; // optimiser steps done / planned
    int epoch = 0, epochs = 0;         // 1-based epoch running
    int64_t batch = 0, batches = 0;    // batches of this epoch done / planned
    double loss = 0, lr = 0;
    double clips_per_second = 0;
    double eta_seconds = 0;            // whole run, from the recent step rate
};

struct EpochReport {
    int epoch = 0; // 1-based
    int64_t step = 0;
    double train_loss = 0, train_accuracy = 0;
    Evaluation val, test;    // both every epoch; only val chooses
    double selection_score = 0; // val track accuracy, or val mAP when multi-label
    // Best so far on val (selection score, ties to the lower val loss): this epoch's weights and
    // test predictions are kept.
    bool best = false;
    bool multi_label = false;
    double seconds = 0, data_wait_seconds = 0;
};

struct TrainCallbacks {
    std::function<void(store::RunStatus status, const std::string& message)> on_status;
    std::function<void(const StepProgress&)> on_step;
    std::function<void(const EpochReport&)> on_epoch;
};

// Requests from other threads (a signal handler, the GUI): checked between steps. The
// strongest pending request wins: cancel > interrupt > pause.
class TrainControl {
public:
    enum Request : int { None = 0, Pause = 1, Interrupt = 2, Cancel = 3 };
    void request(Request r) {
        int cur = request_.load();
        while (r > cur && !request_.compare_exchange_weak(cur, r)) {}
    }
    void resume() {
        int expected = Pause;
        request_.compare_exchange_strong(expected, None);
    }
    Request requested() const { return Request(request_.load()); }

private:
    std::atomic<int> request_{None};
};

struct RunResult {
    store::RunStatus status = store::RunStatus::Failed; // finished, diverged, failed, interrupted or cancelled
    std::string message; // why, for anything but finished
    int epochs_done = 0;
    int64_t step = 0;
    bool refused = false; // another trainer holds the run (status running): nothing was touched
    // How the training steps ran at the end: replayed as a CUDA graph (after eager warm-up
    // steps), or eager, with why on a GPU (turned off, refused, the capture failed); the run's
    // notes say the same in words.
    bool cuda_graph_steps = false;
    std::string eager_why; // empty on a CPU and when replayed
};

// Trains `run_id` until it is finished or stopped. Problems with the run (a missing dataset,
// unreadable audio, NaN loss, a full disk) end it with status failed or diverged and a message
// naming the file and the fix; they are stored with the run and returned, not thrown.
RunResult train_run(store::RunStore& store, int64_t run_id, const TrainOptions& options, TrainControl& control,
                    const TrainCallbacks& callbacks = {});


// Runs marked running whose process is gone (same host: the pid no longer exists; elsewhere: no
// heartbeat for `stale_seconds`) become interrupted. Returns their ids. `runs` is the caller's
// fresh listing of the store, so a page that lists runs anyway does not list them twice.
std::vector<int64_t> mark_dead_runs_interrupted(store::RunStore& store, const std::vector<store::RunRecord>& runs,
                                                double stale_seconds = 120);
std::vector<int64_t> mark_dead_runs_interrupted(store::RunStore& store, double stale_seconds = 120);

// Cancelling a run from outside its trainer (gafx cancel, the workbench): a running one is asked
// through the database to stop after its current step; a queued, interrupted or paused one is
// marked cancelled at once with `why`; anything else has already ended and is left alone.
enum class CancelOutcome { Asked, Cancelled, AlreadyEnded };
CancelOutcome request_cancel(store::RunStore& store, int64_t run_id, store::RunStatus status,
                             const std::string& why);

} // namespace gafx::train
