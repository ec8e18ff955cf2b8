#include "core/cpu_env.h"

#include <cstdlib>
#include <string>

namespace gafx {
namespace {

constexpr const char* kSpinCount = "30000"; // ~20 us: enough to bridge back-to-back parallel regions

} // namespace

bool env_switch_on(const char* name) {
    const char* v = std::getenv(name);
    return v && *v && std::string(v) != "0";
}

bool cpu_tuning_off() { return env_switch_on("GAFX_NO_TUNING"); }

bool export_openmp_spin_count() {
    if (cpu_tuning_off() || std::getenv("GOMP_SPINCOUNT") || std::getenv("OMP_WAIT_POLICY")) return false;
    return ::setenv("GOMP_SPINCOUNT", kSpinCount, 1) == 0;
}

} // namespace gafx
