#include "train/grad_reducer.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <algorithm>
#include <numeric>

namespace gafx::train {

GradReducer::GradReducer(World& world, Adam& adam, size_t bucket_bytes) : world_(world), bucket_bytes_(bucket_bytes) {
    const auto pairs = adam.params_and_copies();
    // Slot i is pairs' i-th from the end: the last parameter first, until a backward shows the order.
    for (size_t k = pairs.size(); k-- > 0;) {
        Slot s;
        s.param = pairs[k].first;
        slots_.push_back(s);
    }
    std::vector<size_t> order(slots_.size());
    std::iota(order.begin(), order.end(), size_t(0));
    lay_out(order);
    // One hook per tensor that backward may give a gradient: the parameter and its working copy.
    // Slot i is pairs' i-th from the end.
    for (size_t i = 0; i < slots_.size(); ++i) {
        const auto& [param, copy] = pairs[pairs.size() - 1 - i];
        for (const torch::Tensor* holder : {&param, &copy}) {
            if (!holder->defined()) continue;
            const size_t h = hooks_.size();
            const unsigned index = holder->register_hook([this, i, h](const torch::Tensor& g) { arrived(i, h, g); });
            hooks_.push_back({*holder, index, i});
        }
    }
    seen_.assign(hooks_.size(), 0);
    expected_.assign(hooks_.size(), 0);
    last_arrival_.assign(slots_.size(), -1);
}

void GradReducer::lay_out(const std::vector<size_t>& order) {
    // Slots in `order` fill buckets of about bucket_bytes_; a bucket holds one dtype on one device.
    buckets_.clear();
    std::vector<int64_t> sizes; // each bucket's length
    size_t bytes = 0;
    const Slot* last = nullptr;
    for (size_t i : order) {
        Slot& s = slots_[i];
        const size_t n = size_t(s.param.numel()) * s.param.element_size();
        const bool fits = last && s.param.scalar_type() == last->param.scalar_type() &&
                          s.param.device() == last->param.device() && bytes + n <= bucket_bytes_;
        if (!fits) {
            sizes.push_back(0);
            bytes = 0;
        }
        s.bucket = int(sizes.size()) - 1;
        sizes.back() += s.param.numel();
        bytes += n;
        last = &s;
    }
    buckets_.resize(sizes.size());
    std::vector<int64_t> offset(sizes.size(), 0);
    for (size_t i : order) {
        Slot& s = slots_[i];
        Bucket& b = buckets_[size_t(s.bucket)];
        if (!b.flat.defined()) b.flat = at::zeros({sizes[size_t(s.bucket)]}, s.param.options().requires_grad(false));
        s.slot = b.flat.narrow(0, offset[size_t(s.bucket)], s.param.numel()).view(s.param.sizes());
        offset[size_t(s.bucket)] += s.param.numel();
    }
}

void GradReducer::reorder() {
    // Rank 0's order, so that every rank lays out the same buckets: first the slots no gradient
    // reached (ready at once), then the others in the order their last gradient came.
    const int64_t n = int64_t(slots_.size());
    at::Tensor shared = at::zeros({n + 1}, at::kLong);
    if (learnt_) {
        std::vector<size_t> order(slots_.size());
        std::iota(order.begin(), order.end(), size_t(0));
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return last_arrival_[a] < last_arrival_[b]; });
        auto acc = shared.accessor<int64_t, 1>();
        acc[0] = 1;
        for (int64_t i = 0; i < n; ++i) acc[i + 1] = int64_t(order[size_t(i)]);
    }
    std::vector<at::Tensor> message{shared};
    world_.broadcast(message, 0);
    const auto acc = message[0].accessor<int64_t, 1>();
    if (acc[0] == 0) return; // rank 0 ran no backward yet: try again after the next one
    std::vector<size_t> order(slots_.size());
    for (int64_t i = 0; i < n; ++i) order[size_t(i)] = size_t(acc[i + 1]);
    lay_out(order);
    ordered_ = true;
}

GradReducer::~GradReducer() {
    for (Hook& h : hooks_) h.holder.remove_hook(h.index);
}

void GradReducer::before_backward() {
    torch::NoGradGuard no_grad;
    for (Bucket& b : buckets_) {
        b.flat.zero_();
        b.waiting = 0;
    }
    pending_ = 0;
    for (Slot& s : slots_) {
        s.waiting = learnt_ ? s.expected : 0;
        pending_ += s.waiting;
        if (s.waiting > 0) ++buckets_[size_t(s.bucket)].waiting;
    }
    std::fill(seen_.begin(), seen_.end(), 0);
    next_ = 0;
    sent_early_ = 0;
    listening_ = true;
    if (learnt_) send_ready(); // buckets of parameters that never receive a gradient
}

void GradReducer::arrived(size_t slot, size_t holder, const torch::Tensor& grad) {
    if (!listening_) return;
    Slot& s = slots_[slot];
    Bucket& b = buckets_[size_t(s.bucket)];
    // More gradients for a tensor than the learnt backward gave it, or one for a bucket already
    // sent, would mean the graph changed between steps: the sums would be wrong.
    if (size_t(s.bucket) < next_ || (learnt_ && seen_[holder] >= expected_[holder]))
        throw Error("data-parallel gradients",
                    "a gradient arrived after its bucket was sent to the other ranks (the model's backward differs "
                    "from its first one)",
                    "report it with the run's settings; training with one process avoids it");
    ++seen_[holder];
    last_arrival_[slot] = arrivals_++;
    {
        torch::NoGradGuard no_grad;
        s.slot.add_(grad); // a bf16 working copy's gradient is summed in fp32
    }
    if (!learnt_) return;
    --pending_;
    if (--s.waiting == 0 && --b.waiting == 0) send_ready();
}

void GradReducer::send_ready() {
    while (next_ < buckets_.size() && buckets_[next_].waiting == 0) {
        world_.start_sum(buckets_[next_].flat);
        if (listening_ && pending_ > 0) ++sent_early_;
        ++next_;
    }
}

void GradReducer::after_backward() {
    // What this backward gave a gradient becomes what later ones are waited for; a rank whose
    // slice was empty ran none and learns nothing.
    if (!learnt_ && std::any_of(seen_.begin(), seen_.end(), [](int n) { return n > 0; })) {
        expected_ = seen_;
        for (size_t h = 0; h < hooks_.size(); ++h) slots_[hooks_[h].slot].expected += expected_[h];
        learnt_ = true;
    }
    listening_ = false;
    for (Bucket& b : buckets_) b.waiting = 0;
    send_ready();
    world_.finish_sums();
    for (const Hook& h : hooks_) // working copies' gradients are in their parameter's slot
        if (h.holder.grad().defined()) h.holder.mutable_grad().reset();
    for (Slot& s : slots_) s.param.mutable_grad() = s.slot;
    // Every rank reaches here at the same step. The gradients just made keep the old buckets alive
    // until Adam has read them; the next backward fills the new ones.
    if (!ordered_) reorder();
}

} // namespace gafx::train
