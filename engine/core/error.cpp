#include "core/error.h"

namespace gafx {
namespace {
std::string compose(const std::string& path, const ErrorField& field, const std::string& reason,
                    const std::string& fix) {
    std::string where = path;
    if (!field.json_path.empty()) where += (where.empty() ? "" : ": ") + field.json_path;
    std::string msg = where.empty() ? reason : where + ": " + reason;
    if (!fix.empty()) msg += " (" + fix + ")";
    return msg;
}
} // namespace

Error::Error(std::string path, std::string reason, std::string fix, ErrorField field)
    : std::runtime_error(compose(path, field, reason, fix)), path_(std::move(path)), reason_(std::move(reason)),
      fix_(std::move(fix)), field_(std::move(field)) {}

} // namespace gafx
