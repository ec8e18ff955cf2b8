#pragma once
// The part of core/cpu_tuning.h that is only environment variables, without libtorch: `gafx`
// exports them before it becomes gafx-torch (app/cli/torch_part.h), so that gafx-torch finds
// them set and need not restart itself to have libgomp read them (~1 s of CPU saved a command).
namespace gafx {

// A switch in the environment: `name` set to anything but empty or 0.
bool env_switch_on(const char* name);

// GAFX_NO_TUNING is on: leave the process settings alone.
bool cpu_tuning_off();

// Exports GOMP_SPINCOUNT (libgomp's idle spin before a thread sleeps; cpu_tuning.h says why)
// unless the user set it or OMP_WAIT_POLICY, or tuning is off. True when it set it. Read by
// libgomp when it loads; another OpenMP runtime ignores it.
bool export_openmp_spin_count();

} // namespace gafx
