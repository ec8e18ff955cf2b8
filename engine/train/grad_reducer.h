#pragma once
// Data-parallel gradients summed over ranks while backward still runs, as DDP's Reducer does, on
// World's collectives. Adam's parameters are laid out in flat buckets of about `bucket_bytes`, at
// first in the reverse of their order (about the order backward produces their gradients), and
// after the first backward in the order that backward made them ready on rank 0 (DDP rebuilds its
// buckets so too): a U-Net's skip connections, or modules registered in another order than they
// run, hold back the gradients a reversed order expects first. A hook on each
// tensor that receives a gradient (the parameter, and its bf16 working copy where it has one) adds
// that gradient into the parameter's slot; a bucket is sent as soon as all of its gradients are in
// and every bucket before it has been sent, so every rank sends the same buckets in the same order.
//
// Which tensors receive a gradient, and how many, is learnt from the first backward this rank
// runs: until then (and at a step whose slice was empty) every bucket is sent after backward. The
// sums are those of World::sum after backward: each rank's gradient added once into a zeroed slot.
#include "train/adam.h"
#include "train/distributed.h"

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gafx::train {

class GradReducer {
public:
    // Smaller than DDP's 25 MB: AST-Tiny's 22 MB of gradients would otherwise be one bucket, sent
    // only at the end of backward (tests/bench/README.md, bench_dp_step).
    static constexpr size_t kDefaultBucketBytes = size_t(4) << 20;

    GradReducer(World& world, Adam& adam, size_t bucket_bytes = kDefaultBucketBytes);
    ~GradReducer();
    GradReducer(const GradReducer&) = delete;
    GradReducer& operator=(const GradReducer&) = delete;

    // Between Adam::zero_grad and backward: the slots are zeroed and the hooks listen. Outside
    // these two calls (evaluation, feature maps) a backward adds nothing and sends nothing.
    void before_backward();
    // Sends the buckets not sent yet, waits for all of them, and makes each parameter's .grad its
    // sum over ranks in fp32 (a view of its slot); working copies' gradients are cleared. Throws
    // RankLost when another rank is gone.
    void after_backward();

    int buckets() const { return int(buckets_.size()); }
    // Buckets the last step sent while backward still had gradients to give: the ones whose sum
    // could overlap the rest of backward (the bucket the last gradient completes cannot).
    int sent_during_backward() const { return sent_early_; }

private:
    struct Slot {
        torch::Tensor param, slot; // slot: the parameter's place in its bucket, its shape
        int bucket = 0;
        int expected = 0, waiting = 0; // gradients it receives in a backward; still to come
    };
    struct Bucket {
        torch::Tensor flat;
        int waiting = 0; // slots still waiting for a gradient
    };
    struct Hook {
        torch::Tensor holder;
        unsigned index; // register_hook's, for remove_hook
        size_t slot;
    };
    void arrived(size_t slot, size_t holder, const torch::Tensor& grad);
    void send_ready();
    void lay_out(const std::vector<size_t>& order); // slot indices, first bucket first
    void reorder();                                 // rank 0's ready order, on every rank

    World& world_;
    std::vector<Slot> slots_;
    std::vector<Bucket> buckets_;
    std::vector<Hook> hooks_;
    std::vector<int> seen_, expected_; // per hook: gradients received this step; in the learnt one
    std::vector<int64_t> last_arrival_; // per slot: when its last gradient came (-1: none), in arrivals
    int64_t arrivals_ = 0;
    int64_t pending_ = 0; // gradients the learnt backward still has to give in this one
    size_t bucket_bytes_;
    bool listening_ = false, learnt_ = false, ordered_ = false;
    size_t next_ = 0; // the first bucket not sent yet: those before it have been
    int sent_early_ = 0;
};

} // namespace gafx::train
