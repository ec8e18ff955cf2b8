// gafx-torch: the commands that run models (torch_part.h). `gafx` starts it by exec with the
// user's arguments; every other command is gafx's own.
#include "commands.h"
#include "dispatch.h"

#include "core/cpu_tuning.h"

#include <csignal>
#include <string>
#include <vector>

namespace {

const char* kUsage = "gafx-torch runs gafx's commands that need libtorch: version, models, features, train, resume,\n"
                     "bench, weights, embed. It is started by gafx; see gafx --help.\n";

} // namespace

int main(int argc, char** argv) {
    using namespace gafx::cli;
    gafx::tune_cpu_runtime(argv);
    std::signal(SIGXFSZ, SIG_IGN);
    return dispatch({{"--version", cmd_version},
                     {"version", cmd_version},
                     {"models", cmd_models},
                     {"features", cmd_features},
                     {"train", cmd_train},
                     {"resume", cmd_resume},
                     {"bench", cmd_bench},
                     {"weights", cmd_weights},
                     {"embed", cmd_embed}},
                    std::vector<std::string>(argv + 1, argv + argc), kUsage);
}
