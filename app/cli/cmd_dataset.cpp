#include "args.h"
#include "commands.h"

namespace gafx::cli {

int cmd_dataset(const std::vector<std::string>&) { throw UsageError("not yet"); }

} // namespace gafx::cli
