#pragma once
// Starting a trainer process (gafx resume) for --parallel and --nproc: in its own process group,
// so a terminal's Ctrl-C reaches only the parent, which passes it on.
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace gafx::workflows {

// `argv[0]` is the program's path. Output appends to `log`, or goes to this process's own
// stdout and stderr when `log` is empty; `env` is added to (or replaces in) this environment.
// Throws gafx::Error naming the log or the program when it cannot start.
pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log,
                    const std::vector<std::pair<std::string, std::string>>& env = {});

// A free TCP port on 127.0.0.1 now (the system's choice), for a local rendezvous.
int free_loopback_port();

} // namespace gafx::workflows
