#include "train/data_parallel.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gafx::train {

TrainControl::Request agreed_request(World* world, const TrainControl& control) {
    const auto own = control.requested();
    if (!world) return own;
    int64_t strongest = 0;
    for (const auto& r : world->all_gather(at::full({1}, int64_t(own), at::kLong)))
        strongest = std::max(strongest, r.item<int64_t>());
    return TrainControl::Request(strongest);
}

void share_step(StepSettings& settings, World& world, Adam& adam, int64_t global_batch, GradReducer* reducer) {
    settings.global_batch = global_batch;
    settings.combine = [&world](double& loss, int64_t& correct) {
        at::Tensor t = at::tensor({loss, double(correct)}, at::kDouble);
        world.sum(t);
        loss = t[0].item<double>();
        correct = std::llround(t[1].item<double>());
    };
    if (reducer) {
        settings.before_backward = [reducer] { reducer->before_backward(); };
        settings.after_backward = [reducer] { reducer->after_backward(); };
        return;
    }
    settings.after_backward = [&world, &adam] {
        auto grads = adam.gradients();
        world.sum(grads);
    };
}

void broadcast_model(World& world, torch::nn::Module& model) {
    std::vector<at::Tensor> tensors;
    for (const auto& p : model.parameters(true)) tensors.push_back(p.detach());
    for (const auto& b : model.buffers(true)) tensors.push_back(b);
    at::NoGradGuard no_grad;
    world.broadcast(tensors, 0);
}

void check_same_start(World& world, int64_t epoch, int64_t batch, int64_t step, const std::string& checkpoint) {
    const auto all = world.all_gather(at::tensor({epoch, batch, step}, at::kLong));
    const auto lead = all[0];
    for (size_t r = 1; r < all.size(); ++r)
        if (!at::equal(all[r], lead))
            throw Error(checkpoint,
                        "rank " + std::to_string(r) + " starts at step " + std::to_string(all[r][2].item<int64_t>()) +
                            " where rank 0 starts at step " + std::to_string(lead[2].item<int64_t>()),
                        "every rank reads this checkpoint: give every node the workspace's folder on a shared file "
                        "system, or train with one node");
}

void gather_clips(World& world, std::vector<ClipScores>& clips, std::vector<int64_t>& positions, double& loss_sum,
                  int classes) {
    // One row per clip: position, track id, clip index, the K probabilities, the K-wide multi-hot
    // labels. Doubles hold each of them exactly (ids below 2^53, float probabilities).
    const int64_t width = 3 + 2 * int64_t(classes);
    at::Tensor loss = at::full({1}, loss_sum, at::kDouble);
    world.sum(loss);
    loss_sum = loss.item<double>();
    int64_t most = 0;
    for (const auto& c : world.all_gather(at::full({1}, int64_t(clips.size()), at::kLong)))
        most = std::max(most, c.item<int64_t>());
    at::Tensor rows = at::full({most, width}, -1.0, at::kDouble); // position -1: padding
    double* out = rows.data_ptr<double>();
    for (size_t i = 0; i < clips.size(); ++i) {
        double* row = out + int64_t(i) * width;
        row[0] = double(positions[i]);
        row[1] = double(clips[i].track_id);
        row[2] = double(clips[i].clip);
        std::copy(clips[i].probabilities.begin(), clips[i].probabilities.end(), row + 3);
        std::fill(row + 3 + classes, row + width, 0.0);
        for (int l : clips[i].labels) row[3 + classes + l] = 1.0;
    }
    std::vector<ClipScores> all;
    std::vector<int64_t> all_positions;
    for (const auto& part : world.all_gather(rows)) {
        const double* in = part.data_ptr<double>();
        for (int64_t i = 0; i < most; ++i) {
            const double* row = in + i * width;
            if (row[0] < 0) continue;
            ClipScores c;
            c.track_id = int64_t(row[1]);
            c.clip = int(row[2]);
            c.probabilities.assign(row + 3, row + 3 + classes);
            for (int k = 0; k < classes; ++k)
                if (row[3 + classes + k] > 0.5) c.labels.push_back(k);
            all_positions.push_back(int64_t(row[0]));
            all.push_back(std::move(c));
        }
    }
    std::vector<size_t> order(all.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return all_positions[a] < all_positions[b]; });
    clips.clear();
    positions.clear();
    for (size_t i : order) {
        clips.push_back(std::move(all[i]));
        positions.push_back(all_positions[i]);
    }
}

} // namespace gafx::train
