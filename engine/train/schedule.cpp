#include "train/schedule.h"

#include <algorithm>

namespace gafx::train {

double Schedule::lr(int64_t step, int epoch) const {
    double lr = base_lr;
    for (int e : halving_epochs)
        if (e <= epoch) lr *= 0.5;
    if (warmup_steps > 0 && step < warmup_steps) lr *= double(step + 1) / double(warmup_steps);
    return lr;
}

} // namespace gafx::train
