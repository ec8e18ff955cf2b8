#include "core/error.h"

namespace gafx {
namespace {
std::string compose(const std::string& path, const std::string& reason, const std::string& fix) {
    std::string msg = path.empty() ? reason : path + ": " + reason;
    if (!fix.empty()) msg += " (" + fix + ")";
    return msg;
}
} // namespace

Error::Error(std::string path, std::string reason, std::string fix)
    : std::runtime_error(compose(path, reason, fix)), path_(std::move(path)),
      reason_(std::move(reason)), fix_(std::move(fix)) {}

} // namespace gafx
