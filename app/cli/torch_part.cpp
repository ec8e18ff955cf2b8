#include "torch_part.h"

#include "args.h"
#include "core/cpu_env.h"
#include "core/error.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>
#include <unistd.h>

namespace gafx::cli {
namespace fs = std::filesystem;

namespace {
constexpr const char* kName = "gafx-torch";
} // namespace

std::string torch_part_path() {
    const fs::path bin = fs::path(this_gafx()).parent_path();
    const fs::path beside = bin / kName;
    const fs::path installed = (bin / GAFX_TORCH_PART_FROM_BIN / kName).lexically_normal();
    for (const auto& p : {beside, installed})
        if (::access(p.c_str(), X_OK) == 0) return p.string();
    throw Error(installed.string(),
                "this command runs models and needs gafx's libtorch part, " + std::string(kName) +
                    ", which is neither there nor at " + beside.string(),
                "reinstall gafx, or build the gafx-torch target beside gafx");
}

void exec_torch_part(char** argv) {
    const std::string path = torch_part_path();
    std::vector<char*> args{const_cast<char*>(path.c_str())};
    for (char** a = argv + 1; *a; ++a) args.push_back(*a);
    args.push_back(nullptr);
    // What gafx-torch would otherwise restart itself to set (core/cpu_env.h).
    export_openmp_spin_count();
    ::execv(path.c_str(), args.data());
    throw Error(path, std::string("cannot start it: ") + std::strerror(errno), "check that it is executable");
}

} // namespace gafx::cli
