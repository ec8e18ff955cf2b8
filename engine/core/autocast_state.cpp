#include "core/autocast_state.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace gafx::autocast {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void set_enabled(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
c10::ScalarType dtype(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_dtype(bool cuda, c10::ScalarType d) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, d); }
#else
bool enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_enabled(bool cuda, bool on) { cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on); }
c10::ScalarType dtype(bool cuda) {
    return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_dtype(bool cuda, c10::ScalarType d) {
    cuda ? at::autocast::set_autocast_gpu_dtype(d) : at::autocast::set_autocast_cpu_dtype(d);
}
#endif

State State::current() { return State{enabled(false), enabled(true), dtype(false), dtype(true)}; }

void State::apply() const {
    set_enabled(false, cpu);
    set_dtype(false, cpu_dtype);
    set_enabled(true, cuda);
    set_dtype(true, cuda_dtype);
}

Restore::Restore(const State& state) : before_(State::current()) {
    state.apply();
    at::autocast::increment_nesting();
}

Restore::~Restore() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    before_.apply();
}

} // namespace gafx::autocast
