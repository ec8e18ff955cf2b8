#include "train/trainer.h"

#include "core/build_info.h"
#include "core/cpu_block_cache.h"
#include "core/cpu_tuning.h"
#include "core/error.h"
#include "store/run_paths.h"
#include "store/run_store.h"
#include "train/checkpoint.h"
#include "train/data_parallel.h"
#include "train/graph_step.h"
#include "train/heartbeat.h"
#include "train/run_setup.h"
#include "train/schedule.h"
#include "train/step.h"

#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <thread>

#include <unistd.h>

namespace fs = std::filesystem;

namespace gafx::train {
namespace {

using Clock = std::chrono::steady_clock;
using store::RunStatus;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string versions_json() {
    const BuildInfo b = build_info();
    return nlohmann::json{{"gafx", b.gafx}, {"libtorch", b.libtorch}, {"blas", b.blas}}.dump();
}

std::string format_lr(double lr) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", lr);
    return buf;
}


// Rows are committed in batches: a kill loses at most the rows since the last flush. Without a
// store (a data-parallel rank other than 0) rows are dropped.
class MetricLog {
public:
    MetricLog(store::RunStore* store, int64_t run) : store_(store), run_(run) {}
    void add(int64_t step, int epoch, const char* split, const std::string& name, double value) {
        if (store_) rows_.push_back(store::MetricRow{step, epoch, split, name, value});
    }
    void flush_if_due() {
        if (since(last_) > 2.0) flush();
    }
    void flush() {
        if (!rows_.empty()) store_->append_metrics(run_, rows_);
        rows_.clear();
        last_ = Clock::now();
    }

private:
    store::RunStore* store_;
    int64_t run_;
    std::vector<store::MetricRow> rows_;
    Clock::time_point last_ = Clock::now();
};

struct EvalPass {
    Evaluation result;
    std::vector<store::Prediction> predictions;
};

// This process's clips of one pass (with their places in the loader's order) and their summed loss.
struct EvalClips {
    std::vector<ClipScores> clips;
    std::vector<int64_t> positions;
    double loss_sum = 0;
};

// The labels of row `i` of a batch's targets: multi-hot float [B, K] or a class index [B] (-1: none).
std::vector<int> labels_of(const torch::Tensor& targets, int64_t i, bool multi_label) {
    std::vector<int> labels;
    if (multi_label) {
        const auto t = targets.accessor<float, 2>();
        for (int64_t k = 0; k < t.size(1); ++k)
            if (t[i][k] > 0.5f) labels.push_back(int(k));
    } else if (const int64_t label = targets.accessor<int64_t, 1>()[i]; label >= 0) {
        labels.push_back(int(label));
    }
    return labels;
}

EvalClips run_evaluation(RunSetup& s, data::BatchLoader& loader, const std::function<bool()>& stop) {
    // The loader's items are one subset's; never empty (setup_run refuses a run without val or test).
    torch::NoGradGuard no_grad;
    s.model->eval();
    loader.start_epoch(0);
    EvalClips out;
    while (auto b = loader.next()) {
        if (b->audio.size(0) == 0) { // a data-parallel rank's empty slice of a short last batch
            if (stop()) break;
            continue;
        }
        torch::Tensor logits;
        {
            AutocastScope autocast(s.device, s.precision);
            logits = s.model->forward(to_device(b->audio, s.device));
        }
        logits = logits.to(torch::kFloat32);
        out.loss_sum += loss_sum(logits, to_device(b->targets, s.device), s.multi_label).item<double>();
        const torch::Tensor probs = (s.multi_label ? logits.sigmoid() : logits.softmax(1)).cpu().contiguous();
        const torch::Tensor targets = b->targets.cpu().contiguous();
        const int64_t classes = probs.size(1);
        for (int64_t i = 0; i < probs.size(0); ++i) {
            ClipScores c;
            c.track_id = b->track_ids[size_t(i)];
            c.clip = b->clips[size_t(i)];
            const float* p = probs.data_ptr<float>() + i * classes;
            c.probabilities.assign(p, p + classes);
            c.labels = labels_of(targets, i, s.multi_label);
            out.clips.push_back(std::move(c));
            out.positions.push_back(b->positions[size_t(i)]);
        }
        if (stop()) break;
    }
    return out;
}

// How a run stopped; train_run records it in one place.
struct Ending {
    RunStatus status = RunStatus::Failed;
    std::string message;
};

// One run from its checkpoint (or from scratch) until it ends. The constructor sets the run up
// and marks it running; run() trains and says how it ended; close() stops the heartbeat and
// writes the metrics still buffered. Throws gafx::Error for problems with the run.
class RunLoop {
public:
    RunLoop(store::RunStore& store, const store::RunRecord& record, const TrainOptions& options, TrainControl& control,
            const TrainCallbacks& cb, World* world)
        : store_(store), run_id_(record.id), options_(options), control_(control), cb_(cb), world_(world),
          lead_(!world || world->rank() == 0),
          s_(setup_run(store, record, options)), paths_(store::run_paths(store.path(), record, options.checkpoint_dir)),
          adam_(named_parameters(*s_.model)),
          train_loader_(s_.train_items, loader_options(s_, options, true), options.cache),
          val_loader_(s_.val_items, loader_options(s_, options, false), options.cache),
          test_loader_(s_.test_items, loader_options(s_, options, false), options.cache),
          schedule_{s_.config.lr, s_.config.warmup_steps, s_.config.lr_halving_epochs} {
        st_.config = record.config;
        st_.run_uid = record.uid;
        keep_working_copies(adam_, *s_.model, s_.precision);
        const std::string previous = previous_checkpoint(paths_.last);
        if (fs::exists(paths_.last) || fs::exists(previous)) {
            std::string used = paths_.last, why;
            try {
                if (!fs::exists(paths_.last)) throw Error(paths_.last, "missing (a stop between two writes)");
                st_ = load_checkpoint(paths_.last, *s_.model, adam_);
            } catch (const Error& e) {
                if (!fs::exists(previous)) throw;
                // The newest generation is damaged: the one before it is whole.
                why = e.reason();
                used = previous;
                st_ = load_checkpoint(previous, *s_.model, adam_);
            }
            s_.notes += std::string(s_.notes.empty() ? "" : "; ") + "resumed from " + used + " (epoch " +
                        std::to_string(st_.position.epoch) + ", step " + std::to_string(st_.position.step) + ")" +
                        (why.empty() ? "" : " because " + paths_.last + " is unusable: " + why);
            // Another workspace's run in a folder this run was pointed at: never adopt it.
            if (!st_.run_uid.empty() && !record.uid.empty() && st_.run_uid != record.uid)
                throw Error(paths_.last,
                            "this checkpoint belongs to another run (uid " + st_.run_uid + "), not to run " +
                                std::to_string(record.id) + " of this workspace (uid " + record.uid + ")",
                            "a workspace sharing this folder wrote it: give each workspace its own folder or "
                            "--checkpoint-dir, or move the file away to train this run from scratch");
            if (st_.config != record.config)
                throw Error(paths_.last, "the checkpoint was trained with another config",
                            "delete it to start the run again from scratch");
            st_.run_uid = record.uid;
            if (lead_) store.delete_metrics_after(run_id_, st_.position.step);
        } else if (lead_) {
            store.delete_metrics_after(run_id_, -1);
            fit_normalisation(s_, options);
        }
        if (world_) {
            check_same_start(*world_, pos().epoch, pos().batch, pos().step, paths_.last);
            broadcast_model(*world_, *s_.model);
            const WorldSpec& w = world_->spec();
            s_.notes += std::string(s_.notes.empty() ? "" : "; ") + "rank " + std::to_string(w.rank) + " of " +
                        std::to_string(w.world_size) + " (" + w.backend + ", from " + w.source + ")";
            reducer_ = std::make_unique<GradReducer>(*world_, adam_); // after the working copies, which get hooks too
            s_.notes += "; gradients summed during backward in buckets of at most " +
                        std::to_string(GradReducer::kDefaultBucketBytes >> 20) +
                        " MiB, in the order the first backward makes them ready";
        }
        if (lead_) {
            mark_running();
            heartbeat_ = std::make_unique<Heartbeat>(store.path(), run_id_, options.heartbeat_seconds, control);
        }
        log_ = std::make_unique<MetricLog>(lead_ ? &store : nullptr, run_id_);
        start_graphed_steps();
        announce(RunStatus::Running, s_.notes);
    }

    bool graph_replayed() const { return graphed_ && graphed_->replayed(); }
    std::string eager_why() const {
        if (!graphed_) return eager_why_;
        if (graphed_->replayed()) return {};
        return graphed_->why_not().empty() ? "not captured yet" : graphed_->why_not();
    }

    Ending run() {
        while (pos().epoch < s_.config.epochs) {
            const auto epoch_start = Clock::now();
            if (auto end = train_epoch()) return *end;
            if (auto end = close_epoch(epoch_start)) return *end;
        }
        return Ending{RunStatus::Finished, {}};
    }

    // Best effort: the run is ending, possibly because the database or the disk failed.
    void close() noexcept {
        heartbeat_.reset();
        if (log_) try { log_->flush(); } catch (...) {}
    }

    const Position& pos() const { return st_.position; }

private:
    static std::vector<std::pair<std::string, torch::Tensor>> named_parameters(torch::nn::Module& m) {
        std::vector<std::pair<std::string, torch::Tensor>> out;
        for (const auto& p : m.named_parameters(true)) out.emplace_back(p.key(), p.value());
        return out;
    }

    Position& position() { return st_.position; }

    void announce(RunStatus status, const std::string& message) {
        if (cb_.on_status) cb_.on_status(status, message);
    }

    void mark_running() {
        store_.start_run(run_id_, s_.device.str(), to_string(s_.precision), versions_json(), ::getpid(), host_name(),
                         world_ ? world_->size() : 1, world_ ? world_->spec().backend : std::string());
    }

    // Every rank agrees on it (data parallelism): all pause or stop at the same step.
    TrainControl::Request requested() { return agreed_request(world_, control_); }

    // Rank 0's: the other ranks hold the same weights and state.
    void checkpoint() {
        last_checkpoint_ = Clock::now();
        if (!lead_) return;
        log_->flush();
        save_checkpoint(paths_.last, *s_.model, adam_, st_);
        store_.set_run_progress(run_id_, pos().epoch, pos().step, paths_.last);
    }

    Ending stop(TrainControl::Request req) {
        checkpoint();
        const std::string step = std::to_string(pos().step);
        if (req == TrainControl::Cancel) return Ending{RunStatus::Cancelled, "cancelled at step " + step};
        return Ending{RunStatus::Interrupted,
                      "stopped at step " + step + "; gafx resume " + std::to_string(run_id_) + " continues it"};
    }

    // Checkpointed and marked paused until resumed or a stronger request comes.
    void pause() {
        checkpoint();
        if (lead_) store_.set_run_status(run_id_, RunStatus::Paused);
        announce(RunStatus::Paused, {});
        TrainControl::Request req;
        while ((req = requested()) == TrainControl::Pause) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (req == TrainControl::None) {
            if (lead_) mark_running();
            announce(RunStatus::Running, "resumed");
        }
    }

    std::optional<Ending> train_epoch() {
        s_.model->train();
        const int64_t batches = train_loader_.batches_per_epoch();
        train_loader_.start_epoch(pos().epoch, pos().batch);
        while (pos().batch < batches) {
            const auto req = requested();
            if (req == TrainControl::Pause) {
                pause();
                continue;
            }
            if (req != TrainControl::None) return stop(req);
            if (pos().batch > 0 && since(last_checkpoint_) > options_.checkpoint_seconds) checkpoint();
            auto batch = train_loader_.next();
            if (!batch) break;
            if (auto end = train_batch(*batch, batches)) return end;
        }
        return std::nullopt;
    }

    StepSettings step_settings(double lr) {
        StepSettings ss;
        ss.device = s_.device;
        ss.precision = s_.precision;
        ss.multi_label = s_.multi_label;
        ss.lr = lr;
        ss.step = pos().step;
        ss.loss_scale = &st_.loss_scale;
        return ss;
    }

    // A GPU run's steps as CUDA graphs where they can be; the notes say which and, when not, why.
    void start_graphed_steps() {
        if (!s_.device.is_cuda()) return;
        const StepSettings settings = step_settings(0); // lr and step are given at each step
        const std::string why = world_ ? "data-parallel steps talk to other ranks"
                                : !options_.cuda_graphs ? "turned off"
                                                        : GraphedStep::refusal(settings);
        if (why.empty()) graphed_ = std::make_unique<GraphedStep>(forward_, adam_, settings);
        eager_why_ = why;
        s_.notes += std::string(s_.notes.empty() ? "" : "; ") + "training steps: " +
                    (why.empty() ? "CUDA graph after " + std::to_string(GraphedStep::kDefaultWarmup) + " eager steps"
                                 : "eager (" + why + ")");
    }

    std::optional<Ending> train_batch(const data::Batch& batch, int64_t batches) {
        Position& p = position();
        const double lr = schedule_.lr(p.step, p.epoch);
        // One process: its batch. Data parallelism: the global batch this rank has a slice of.
        const int64_t n = world_ ? batch.global_size : batch.audio.size(0);
        StepSettings ss = step_settings(lr);
        if (world_) share_step(ss, *world_, adam_, n, reducer_.get());
        const Mixed mixed = mixup(to_device(batch.audio, s_.device), to_device(batch.targets, s_.device),
                                  s_.multi_label, s_.classes, s_.config.mixup);
        const bool settled = !graphed_ || graphed_->settled();
        const StepOutput out =
            graphed_ ? graphed_->run(mixed.input, mixed.targets, lr, p.step)
                     : train_step(forward_, adam_, mixed.input, mixed.targets, ss);
        // Said once, when the capture has been made or has failed (then the run goes on eagerly).
        if (!settled && graphed_->settled()) announce(RunStatus::Running, "training steps: " + graphed_->describe());
        if (!std::isfinite(out.loss))
            return Ending{RunStatus::Diverged,
                          "the loss became " + std::string(std::isnan(out.loss) ? "NaN" : "infinite") + " at step " +
                              std::to_string(p.step + 1) + " (epoch " + std::to_string(p.epoch + 1) + ", lr " +
                              format_lr(lr) +
                              "); the last good checkpoint and every metric up to it are kept "
                              "(try a lower lr or precision fp32)"};
        st_.epoch_loss_sum += out.loss * double(n);
        st_.epoch_correct += out.correct;
        st_.epoch_clips += n;
        ++p.step;
        ++p.batch;
        log_->add(p.step, p.epoch + 1, "train", "loss", out.loss);
        log_->add(p.step, p.epoch + 1, "train", "lr", lr);
        log_->flush_if_due();
        report_step(n, batches, out.loss, lr);
        return std::nullopt;
    }

    void report_step(int64_t clips_in_step, int64_t batches, double loss, double lr) {
        recent_.emplace_back(Clock::now(), clips_in_step);
        while (recent_.size() > 20) recent_.pop_front();
        if (!cb_.on_step) return;
        const int64_t total_steps = batches * s_.config.epochs;
        StepProgress p{pos().step, total_steps, pos().epoch + 1, s_.config.epochs, pos().batch, batches, loss, lr};
        if (recent_.size() > 1) {
            const double dt = std::chrono::duration<double>(recent_.back().first - recent_.front().first).count();
            int64_t clips = 0;
            for (size_t i = 1; i < recent_.size(); ++i) clips += recent_[i].second;
            p.clips_per_second = dt > 0 ? double(clips) / dt : 0;
            p.eta_seconds = dt / double(recent_.size() - 1) * double(total_steps - pos().step);
        }
        cb_.on_step(p);
    }

    // End of an epoch: evaluate val and test, keep the epoch that is best on val, checkpoint.
    std::optional<Ending> close_epoch(Clock::time_point epoch_start) {
        EpochReport rep;
        rep.epoch = pos().epoch + 1;
        rep.step = pos().step;
        rep.train_loss = st_.epoch_clips ? st_.epoch_loss_sum / double(st_.epoch_clips) : 0;
        rep.train_accuracy = st_.epoch_clips ? double(st_.epoch_correct) / double(st_.epoch_clips) : 0;
        rep.data_wait_seconds = train_loader_.wait_seconds();
        const EvalPass val = evaluation_pass(val_loader_);
        // Cut short: the checkpoint sits at the epoch's end, so resuming evaluates it again.
        if (const auto req = requested(); req >= TrainControl::Interrupt) return stop(req);
        EvalPass test = evaluation_pass(test_loader_);
        if (const auto req = requested(); req >= TrainControl::Interrupt) return stop(req);
        rep.val = val.result;
        rep.test = test.result;
        rep.seconds = since(epoch_start);
        rep.multi_label = s_.multi_label;
        // Chosen on val alone: test is reported at the chosen epoch, never searched. A tie in the
        // score (frequent on a small val set) goes to the lower val loss, then to the earlier epoch.
        rep.selection_score = s_.multi_label ? rep.val.map : rep.val.track_accuracy;
        rep.best = rep.selection_score > st_.best_score ||
                   (rep.selection_score == st_.best_score && rep.val.loss < st_.best_loss);
        log_epoch(rep);
        if (rep.best) {
            st_.best_score = rep.selection_score;
            st_.best_loss = rep.val.loss;
            st_.best_epoch = rep.epoch;
            if (lead_) {
                save_weights(paths_.best, *s_.model);
                store_.save_predictions(run_id_, test.predictions);
            }
        }
        st_.epoch_loss_sum = 0;
        st_.epoch_correct = st_.epoch_clips = 0;
        position().batch = 0;
        ++position().epoch;
        checkpoint();
        if (cb_.on_epoch) cb_.on_epoch(rep);
        return std::nullopt;
    }

    // One pass over val or test; with data parallelism each rank evaluates its slices and every
    // rank gets the whole pass, in the order one process evaluates it.
    EvalPass evaluation_pass(data::BatchLoader& loader) {
        EvalClips part = run_evaluation(s_, loader, [&] { return requested() >= TrainControl::Interrupt; });
        if (world_) gather_clips(*world_, part.clips, part.positions, part.loss_sum, s_.classes);
        EvalPass out;
        for (const auto& c : part.clips) out.predictions.push_back(store::Prediction{c.track_id, c.clip, c.probabilities});
        out.result = evaluate(part.clips, s_.classes, s_.multi_label, part.loss_sum);
        return out;
    }

    void log_epoch(const EpochReport& rep) {
        const int64_t step = pos().step;
        const int e = rep.epoch;
        log_->add(step, e, "train", "epoch_loss", rep.train_loss);
        log_->add(step, e, "train", "epoch_accuracy", rep.train_accuracy);
        for (const auto& [split, ev] : {std::pair<const char*, const Evaluation*>{"val", &rep.val}, {"test", &rep.test}}) {
            log_->add(step, e, split, "loss", ev->loss);
            log_->add(step, e, split, "accuracy", ev->accuracy);
            log_->add(step, e, split, "track_accuracy", ev->track_accuracy);
            if (rep.multi_label) log_->add(step, e, split, "map", ev->map);
            else log_->add(step, e, split, "macro_f1", ev->macro_f1);
            for (size_t k = 0; k < ev->class_accuracy.size(); ++k)
                if (!std::isnan(ev->class_accuracy[k]))
                    log_->add(step, e, split, "class_accuracy/" + std::to_string(k), ev->class_accuracy[k]);
        }
        // What the store selects the epoch by (RunRecord::selected_epoch).
        log_->add(step, e, "val", "selection", rep.selection_score);
        // Timings differ between identical runs; they live in their own split.
        log_->add(step, e, "time", "epoch_seconds", rep.seconds);
        log_->add(step, e, "time", "data_wait_seconds", rep.data_wait_seconds);
    }

    store::RunStore& store_;
    const int64_t run_id_;
    const TrainOptions& options_;
    TrainControl& control_;
    const TrainCallbacks& cb_;
    World* const world_; // null: one process
    const bool lead_;    // writes the database, checkpoints and weights: rank 0, or the one process
    RunSetup s_;
    const store::RunPaths paths_;
    Adam adam_;
    CheckpointState st_;
    data::BatchLoader train_loader_, val_loader_, test_loader_;
    const Schedule schedule_;
    const Forward forward_ = [this](const torch::Tensor& x) { return s_.model->forward(x); };
    std::unique_ptr<Heartbeat> heartbeat_;
    std::unique_ptr<MetricLog> log_;
    std::unique_ptr<GraphedStep> graphed_; // GPU runs: steps replayed as a CUDA graph
    std::unique_ptr<GradReducer> reducer_; // data-parallel runs: gradients summed during backward
    std::string eager_why_;                // GPU runs without graphed_: why
    std::deque<std::pair<Clock::time_point, int64_t>> recent_; // (time, clips) of recent steps
    Clock::time_point last_checkpoint_ = Clock::now();
};

// Data parallelism: every rank joins before rank 0 claims the run, so that a refusal reaches
// them all. Null for one process. Throws gafx::Error when the ranks cannot meet.
std::unique_ptr<World> join_world(const WorldSpec& spec) {
    if (spec.world_size <= 1) return nullptr;
    return World::join(spec);
}

// Whether rank 0 got the run, told to every rank.
bool agree(World* world, bool claimed) {
    if (!world) return claimed;
    std::vector<at::Tensor> flag{at::full({1}, int64_t(claimed), at::kLong)};
    world->broadcast(flag, 0);
    return flag[0].item<int64_t>() != 0;
}

} // namespace

std::string default_device() { return torch::cuda::is_available() ? "cuda" : "cpu"; }

std::vector<DeviceChoice> device_choices() {
    std::vector<DeviceChoice> out;
    const int gpus = torch::cuda::is_available() ? int(torch::cuda::device_count()) : 0;
    for (int i = 0; i < gpus; ++i)
        out.push_back({"cuda:" + std::to_string(i), "GPU " + std::to_string(i) + " (cuda:" + std::to_string(i) + ")"});
    out.push_back({"cpu", std::string("CPU (") + (cpu_has_bf16() ? "bf16" : "fp32") + ")"});
    return out;
}

RunResult train_run(store::RunStore& store, int64_t run_id, const TrainOptions& given, TrainControl& control,
                    const TrainCallbacks& cb) {
    RunResult result;
    // Before the claim nothing of the run is touched: it stays as it was, to be started again.
    const auto not_started = [&](const std::string& why) {
        result.message = why;
        if (cb.on_status) cb.on_status(result.status, result.message);
        return result;
    };
    TrainOptions options = given;
    const auto record = store.run(run_id);
    if (!record) return not_started("run " + std::to_string(run_id) + " does not exist");
    // One GPU per rank on a node: "cuda" means this rank's. NCCL's ranks talk on it.
    if (options.world.world_size > 1 && options.device == "cuda")
        options.device = "cuda:" + std::to_string(rank_cuda_device(options.device, options.world.local_rank,
                                                                   int(torch::cuda::device_count())));
    options.world.device = options.device;
    std::unique_ptr<World> world;
    try {
        world = join_world(options.world);
        // The same run trains with a number of ranks that divides its global batch.
        const int64_t batch = world ? experiments::parse_run_config(record->config).batch_size : 0;
        if (world && batch % world->size() != 0)
            throw Error("batch_size",
                        "batch_size " + std::to_string(batch) + " does not split into " +
                            std::to_string(world->size()) + " equal slices, one per rank",
                        "train it with a number of ranks that divides it; the run is left as it was");
    } catch (const Error& e) {
        return not_started(e.what());
    }
    const bool lead = !world || world->rank() == 0;
    // One trainer per run: claimed before any of its files or metrics are touched. A second
    // trainer (a second `gafx resume`, the workbench and a terminal) is refused and changes nothing.
    bool claimed = false;
    try {
        claimed = agree(world.get(), lead && store.claim_run(run_id, owner_token(), ::getpid(), host_name()));
    } catch (const Error& e) {
        return not_started(e.what());
    }
    if (!claimed) {
        const auto now = store.run(run_id);
        result.status = store::RunStatus::Running;
        result.refused = true;
        result.message = "run " + std::to_string(run_id) + " is already being trained" +
                         (now ? " by pid " + std::to_string(now->pid) + " on " + now->host + " (last heartbeat " +
                                    now->heartbeat_at + ")"
                              : std::string()) +
                         "; not started a second time";
        return result;
    }
    std::unique_ptr<RunLoop> loop;
    Ending end;
    try {
        // Debian's libtorch starts with one thread; training wants every core.
        set_compute_threads(options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency())));
        loop = std::make_unique<RunLoop>(store, *record, options, control, cb, world.get());
        end = loop->run();
    } catch (const RankLost& e) {
        // Mid-step, the weights of this rank may hold a half-applied step: the last checkpoint
        // is where the run continues, at any number of ranks.
        end = Ending{RunStatus::Interrupted, e.path() + ": " + e.reason() + "; gafx resume " + std::to_string(run_id) +
                                                 " continues it from its last checkpoint, with any number of ranks "
                                                 "(the other ranks' output says why they stopped)"};
    } catch (const Error& e) {
        end = Ending{RunStatus::Failed, e.what()};
    } catch (const std::exception& e) {
        end = Ending{RunStatus::Failed, std::string("training stopped by an error: ") + e.what()};
    }
    // The one place a run ends: heartbeat stopped, metrics flushed, status and reason stored.
    if (loop) {
        loop->close();
        result.epochs_done = loop->pos().epoch;
        result.step = loop->pos().step;
        result.cuda_graph_steps = loop->graph_replayed();
        result.eager_why = loop->eager_why();
        loop.reset(); // the model, optimiser and batches: their kept blocks are free now
    }
    release_cpu_block_cache(); // an idle workbench holds no step's peak
    if (lead) {
        try {
            store.set_run_status(run_id, end.status, end.message);
        } catch (const std::exception& e) {
            if (end.status != RunStatus::Failed)
                end = Ending{RunStatus::Failed, "could not record that the run " + std::string(to_string(end.status)) +
                                                    ": " + e.what()};
        }
    }
    result.status = end.status;
    result.message = end.message;
    if (cb.on_status) cb.on_status(end.status, end.message);
    return result;
}

} // namespace gafx::train
