#pragma once
// The thread's autocast settings (on/off and dtype, per device type) behind one interface for
// libtorch 1.13 and 2.x: PyTorch 2.4 replaced the per-device setters with ones taking the device
// type. The trainer's AutocastScope sets them; recomputed segments (models/recompute) put back
// in backward the ones their forward ran under.
#include <c10/core/ScalarType.h>

namespace gafx::autocast {

bool enabled(bool cuda);
void set_enabled(bool cuda, bool on);
c10::ScalarType dtype(bool cuda);
void set_dtype(bool cuda, c10::ScalarType d);

// Both device types' settings, captured and restored as one value.
struct State {
    bool cpu = false, cuda = false;
    c10::ScalarType cpu_dtype = c10::kBFloat16, cuda_dtype = c10::kHalf;
    static State current();
    void apply() const;
};

// Applies `state` for its lifetime, as one more autocast nesting level: when the outermost level
// ends, the cached low-precision copies of weights are dropped (an optimiser step changes the
// weights in place, so a cache outliving the step would hand out stale copies).
class Restore {
public:
    explicit Restore(const State& state);
    ~Restore();
    Restore(const Restore&) = delete;
    Restore& operator=(const Restore&) = delete;

private:
    State before_;
};

} // namespace gafx::autocast
