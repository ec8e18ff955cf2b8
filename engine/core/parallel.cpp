#include "core/parallel.h"

#include <ATen/Parallel.h>

namespace gafx {

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
    at::parallel_for(begin, end, grain, f);
}

bool parallel_for_threads() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

} // namespace gafx
