#pragma once
// The paper's learning-rate schedule (section 4.1.3): linear warm-up over the first steps, then
// halved at given epochs. A pure function of (step, epoch), so a resumed run needs no
// scheduler state beyond its position.
#include <cstdint>
#include <vector>

namespace gafx::train {

struct Schedule {
    double base_lr = 5e-5;
    int64_t warmup_steps = 800;
    std::vector<int> halving_epochs = {12, 24, 50, 65};

    // The lr for the optimiser step taken as global step `step` (0-based) in epoch `epoch`
    // (0-based). Warm-up: base * (step + 1) / warmup_steps until it reaches base. Halving as
    // torch's MultiStepLR stepped once per epoch (AST's recipe): epoch e runs at
    // base * 0.5^(number of halving epochs <= e), so with {12, ...} the 13th epoch is the
    // first at half the rate.
    double lr(int64_t step, int epoch) const;
};

} // namespace gafx::train
