#pragma once
// gafx is two programs. `gafx` holds the commands that read and write workspaces, datasets and
// reports; the ones that run models (train, resume, bench, models, features, embed, weights,
// --version) are in `gafx-torch`, which `gafx` becomes by exec. Loading libtorch costs ~2 s of
// CPU at every start (the dynamic loader binding libtorch_cpu's symbols now, its operators
// registering), which `gafx runs` or `gafx report` should not pay.
#include <string>

namespace gafx::cli {

// Where gafx-torch is: beside this program (a build folder), else in ../lib/gafx/ (installed).
// Throws gafx::Error naming both places when neither holds it.
std::string torch_part_path();

// Replaces this process by gafx-torch with the same arguments and environment: same pid,
// terminal and signals. Returns only by throwing gafx::Error when it cannot.
[[noreturn]] void exec_torch_part(char** argv);

} // namespace gafx::cli
