#pragma once
// A loop split among libtorch's intra-op threads. at::parallel_for itself is inline, and
// Debian's libtorch parallelises with OpenMP: in a file compiled without -fopenmp it runs on
// one thread. This one is compiled with OpenMP (engine/CMakeLists.txt) where the compiler has it.
#include <cstdint>
#include <functional>

namespace gafx {

// f(first, last) over [begin, end) in chunks of at least `grain`, on up to at::get_num_threads()
// threads (one when called from inside another parallel region). The first exception is rethrown.
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& f);

// parallel_for's grain for a loop over rows of `cols` values each: about 16 K values a chunk,
// enough work to pay for handing it to a thread.
inline int64_t grain_rows(int64_t cols) {
    const int64_t per_chunk = (int64_t(1) << 14) / (cols > 1 ? cols : 1);
    return per_chunk > 1 ? per_chunk : 1;
}

// Whether parallel_for can use more than one thread in this build.
bool parallel_for_threads();

} // namespace gafx
