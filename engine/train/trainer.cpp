#include "train/trainer.h"

#include "core/build_info.h"
#include "core/error.h"
#include "store/run_store.h"
#include "train/checkpoint.h"
#include "train/heartbeat.h"
#include "train/run_setup.h"
#include "train/schedule.h"
#include "train/step.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <deque>
#include <filesystem>
#include <thread>

#include <unistd.h>

namespace fs = std::filesystem;

namespace gafx::train {
namespace {

using Clock = std::chrono::steady_clock;
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

std::string host_name() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

// Rows are committed in batches: a kill loses at most the rows since the last flush.
class MetricLog {
public:
    MetricLog(store::RunStore& store, int64_t run) : store_(store), run_(run) {}
    void add(int64_t step, int epoch, const char* split, const std::string& name, double value) {
        rows_.push_back(store::MetricRow{step, epoch, split, name, value});
    }
    void flush_if_due() {
        if (since(last_) > 2.0) flush();
    }
    void flush() {
        if (!rows_.empty()) store_.append_metrics(run_, rows_);
        rows_.clear();
        last_ = Clock::now();
    }

private:
    store::RunStore& store_;
    int64_t run_;
    std::vector<store::MetricRow> rows_;
    Clock::time_point last_ = Clock::now();
};

struct EvalPass {
    Evaluation result;
    std::vector<store::Prediction> predictions;
};

EvalPass run_evaluation(RunSetup& s, data::BatchLoader& loader, TrainControl& control) {
    torch::NoGradGuard no_grad;
    s.model->eval();
    loader.start_epoch(0);
    std::vector<ClipScores> clips;
    EvalPass out;
    double total_loss = 0;
    while (auto b = loader.next()) {
        torch::Tensor logits;
        {
            AutocastScope autocast(s.device, s.precision);
            logits = s.model->forward(b->audio.to(s.device));
        }
        logits = logits.to(torch::kFloat32);
        const torch::Tensor targets = b->targets.to(s.device);
        total_loss += loss_sum(logits, targets, s.multi_label).item<double>();
        const torch::Tensor probs = (s.multi_label ? logits.sigmoid() : logits.softmax(1)).cpu().contiguous();
        const torch::Tensor t = b->targets;
        for (int64_t i = 0; i < probs.size(0); ++i) {
            ClipScores c;
            c.track_id = b->track_ids[size_t(i)];
            c.clip = b->clips[size_t(i)];
            const float* p = probs[i].data_ptr<float>();
            c.probabilities.assign(p, p + probs.size(1));
            if (s.multi_label) {
                for (int64_t k = 0; k < t.size(1); ++k)
                    if (t[i][k].item<float>() > 0.5f) c.labels.push_back(int(k));
            } else if (t[i].item<int64_t>() >= 0) {
                c.labels.push_back(int(t[i].item<int64_t>()));
            }
            out.predictions.push_back(store::Prediction{c.track_id, c.clip, c.probabilities});
            clips.push_back(std::move(c));
        }
        if (control.requested() >= TrainControl::Interrupt) break;
    }
    out.result = evaluate(clips, s.classes, s.multi_label, total_loss);
    return out;
}

} // namespace

std::string run_dir(const store::RunStore& store, const TrainOptions& options, int64_t run_id) {
    // Absolute, as it is stored with the run: the workbench and other shells open it from elsewhere.
    const fs::path base = options.checkpoint_dir.empty() ? fs::absolute(store.path()).parent_path() / "runs"
                                                         : fs::absolute(options.checkpoint_dir);
    return (base / std::to_string(run_id)).string();
}

RunResult train_run(store::RunStore& store, int64_t run_id, const TrainOptions& options, TrainControl& control,
                    const TrainCallbacks& cb) {
    RunResult result;
    auto status = [&](const std::string& st, const std::string& msg) {
        result.status = st;
        result.message = msg;
        if (cb.on_status) cb.on_status(st, msg);
    };
    const auto record = store.run(run_id);
    if (!record) {
        status("failed", "run " + std::to_string(run_id) + " does not exist");
        return result;
    }
    std::unique_ptr<Heartbeat> heartbeat;
    std::unique_ptr<MetricLog> log;
    try {
        // Debian's libtorch starts with one thread; training wants every core.
        at::set_num_threads(options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency())));
        RunSetup s = setup_run(store, *record, options);
        const auto& c = s.config;
        const std::string dir = run_dir(store, options, run_id);
        const std::string last_path = dir + "/last.safetensors", best_path = dir + "/best.safetensors";

        std::vector<std::pair<std::string, torch::Tensor>> params;
        for (const auto& p : s.model->named_parameters(true)) params.emplace_back(p.key(), p.value());
        Adam adam(params);
        CheckpointState st;
        st.config = record->config;
        if (fs::exists(last_path)) {
            st = load_checkpoint(last_path, *s.model, adam);
            if (st.config != record->config)
                throw Error(last_path, "the checkpoint was trained with another config",
                            "delete it to start the run again from scratch");
            store.delete_metrics_after(run_id, st.position.step);
        } else {
            store.delete_metrics_after(run_id, -1);
            fit_normalisation(s, options);
        }
        store.start_run(run_id, s.device.str(), to_string(s.precision), versions_json(), ::getpid(), host_name());
        heartbeat = std::make_unique<Heartbeat>(store.path(), run_id, options.heartbeat_seconds, control);
        log = std::make_unique<MetricLog>(store, run_id);
        status("running", s.notes);

        data::BatchLoader train_loader(s.train_items, loader_options(s, options, true), options.cache);
        data::BatchLoader test_loader(s.test_items, loader_options(s, options, false), options.cache);
        const Schedule schedule{c.lr, c.warmup_steps, c.lr_halving_epochs};
        const int64_t batches = train_loader.batches_per_epoch();
        const int64_t total_steps = batches * c.epochs;
        Position& pos = st.position;

        auto checkpoint = [&] {
            log->flush();
            save_checkpoint(last_path, *s.model, adam, st);
            store.set_run_progress(run_id, pos.epoch, pos.step, last_path);
        };
        auto stop = [&](TrainControl::Request req) {
            checkpoint();
            const bool cancel = req == TrainControl::Cancel;
            const std::string why = cancel ? "cancelled at step " + std::to_string(pos.step)
                                           : "stopped at step " + std::to_string(pos.step) + "; gafx resume " +
                                                 std::to_string(run_id) + " continues it";
            heartbeat.reset();
            store.set_run_status(run_id, cancel ? "cancelled" : "interrupted", why);
            result.epochs_done = pos.epoch;
            result.step = pos.step;
            status(cancel ? "cancelled" : "interrupted", why);
            return result;
        };
        std::deque<std::pair<Clock::time_point, int64_t>> recent; // (time, clips) of recent steps
        auto last_checkpoint = Clock::now();

        while (pos.epoch < c.epochs) {
            const auto epoch_start = Clock::now();
            s.model->train();
            train_loader.start_epoch(pos.epoch, pos.batch);
            while (pos.batch < batches) {
                const auto req = control.requested();
                if (req == TrainControl::Pause) {
                    checkpoint();
                    store.set_run_status(run_id, "paused");
                    status("paused", "");
                    while (control.requested() == TrainControl::Pause)
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    if (control.requested() == TrainControl::None) {
                        store.start_run(run_id, s.device.str(), to_string(s.precision), versions_json(), ::getpid(),
                                        host_name());
                        status("running", "resumed");
                    }
                    continue;
                }
                if (req != TrainControl::None) return stop(req);
                if (pos.batch > 0 && since(last_checkpoint) > options.checkpoint_seconds) {
                    checkpoint();
                    last_checkpoint = Clock::now();
                }
                auto batch = train_loader.next();
                if (!batch) break;
                const double lr = schedule.lr(pos.step, pos.epoch);
                const int64_t n = batch->audio.size(0);
                StepSettings ss{s.device, s.precision, s.multi_label, lr, pos.step, &st.loss_scale};
                const StepOutput out = train_step([&](const torch::Tensor& x) { return s.model->forward(x); }, adam,
                                                  batch->audio.to(s.device), batch->targets.to(s.device), ss);
                const double loss_value = out.loss;
                if (!std::isfinite(loss_value)) {
                    log->flush();
                    const std::string why = "the loss became " + std::string(std::isnan(loss_value) ? "NaN" : "infinite") +
                                            " at step " + std::to_string(pos.step + 1) + " (epoch " +
                                            std::to_string(pos.epoch + 1) + ", lr " + format_lr(lr) +
                                            "); the last good checkpoint and every metric up to it are kept "
                                            "(try a lower lr or precision fp32)";
                    heartbeat.reset();
                    store.set_run_status(run_id, "diverged", why);
                    result.epochs_done = pos.epoch;
                    result.step = pos.step;
                    status("diverged", why);
                    return result;
                }
                st.epoch_loss_sum += loss_value * double(n);
                st.epoch_correct += out.correct;
                st.epoch_clips += n;
                ++pos.step;
                ++pos.batch;
                log->add(pos.step, pos.epoch + 1, "train", "loss", loss_value);
                log->add(pos.step, pos.epoch + 1, "train", "lr", lr);
                log->flush_if_due();

                recent.emplace_back(Clock::now(), n);
                while (recent.size() > 20) recent.pop_front();
                if (cb.on_step) {
                    StepProgress p{pos.step, total_steps, pos.epoch + 1, c.epochs, pos.batch, batches, loss_value, lr};
                    if (recent.size() > 1) {
                        const double dt = std::chrono::duration<double>(recent.back().first - recent.front().first).count();
                        int64_t clips = 0;
                        for (size_t i = 1; i < recent.size(); ++i) clips += recent[i].second;
                        p.clips_per_second = dt > 0 ? double(clips) / dt : 0;
                        p.eta_seconds = dt / double(recent.size() - 1) * double(total_steps - pos.step);
                    }
                    cb.on_step(p);
                }
            }
            // End of the epoch: evaluate, keep the best, checkpoint.
            EpochReport rep;
            rep.epoch = pos.epoch + 1;
            rep.step = pos.step;
            rep.train_loss = st.epoch_clips ? st.epoch_loss_sum / double(st.epoch_clips) : 0;
            rep.train_accuracy = st.epoch_clips ? double(st.epoch_correct) / double(st.epoch_clips) : 0;
            rep.data_wait_seconds = train_loader.wait_seconds();
            EvalPass ev = run_evaluation(s, test_loader, control);
            // Cut short: the checkpoint sits at the epoch's end, so resuming evaluates it again.
            if (control.requested() >= TrainControl::Interrupt) return stop(control.requested());
            rep.test = ev.result;
            rep.seconds = since(epoch_start);
            const double score = s.multi_label ? rep.test.map : rep.test.track_accuracy;
            rep.best = score > st.best_score;
            rep.multi_label = s.multi_label;
            const int e = rep.epoch;
            log->add(pos.step, e, "train", "epoch_loss", rep.train_loss);
            log->add(pos.step, e, "train", "epoch_accuracy", rep.train_accuracy);
            log->add(pos.step, e, "test", "loss", rep.test.loss);
            log->add(pos.step, e, "test", "accuracy", rep.test.accuracy);
            log->add(pos.step, e, "test", "track_accuracy", rep.test.track_accuracy);
            if (s.multi_label) log->add(pos.step, e, "test", "map", rep.test.map);
            for (size_t k = 0; k < rep.test.class_accuracy.size(); ++k)
                if (!std::isnan(rep.test.class_accuracy[k]))
                    log->add(pos.step, e, "test", "class_accuracy/" + std::to_string(k), rep.test.class_accuracy[k]);
            // Timings differ between identical runs; they live in their own split.
            log->add(pos.step, e, "time", "epoch_seconds", rep.seconds);
            log->add(pos.step, e, "time", "data_wait_seconds", rep.data_wait_seconds);
            if (rep.best) {
                st.best_score = score;
                st.best_epoch = e;
                save_weights(best_path, *s.model);
                store.save_predictions(run_id, ev.predictions);
            }
            st.epoch_loss_sum = 0;
            st.epoch_correct = st.epoch_clips = 0;
            pos.batch = 0;
            ++pos.epoch;
            checkpoint();
            last_checkpoint = Clock::now();
            if (cb.on_epoch) cb.on_epoch(rep);
        }
        log->flush();
        heartbeat.reset();
        store.set_run_status(run_id, "finished");
        result.epochs_done = c.epochs;
        result.step = pos.step;
        status("finished", "");
        return result;
    } catch (const Error& e) {
        heartbeat.reset();
        if (log) try { log->flush(); } catch (...) {}
        const std::string msg = e.what();
        try { store.set_run_status(run_id, "failed", msg); } catch (...) {}
        status("failed", msg);
    } catch (const std::exception& e) {
        heartbeat.reset();
        if (log) try { log->flush(); } catch (...) {}
        const std::string msg = std::string("training stopped by an error: ") + e.what();
        try { store.set_run_status(run_id, "failed", msg); } catch (...) {}
        status("failed", msg);
    }
    return result;
}

} // namespace gafx::train
