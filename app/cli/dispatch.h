#pragma once
// What both halves of gafx do with a command: run it and turn what it throws into the exit code
// and message every command shares (2 and a pointer to --help for a usage error, 1 for an error).
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gafx::cli {

using Command = std::function<int(const std::vector<std::string>&)>;

// Runs `nouns[args[0]]` on the rest of args; an unknown noun prints `usage` and returns 2.
int dispatch(const std::map<std::string, Command>& nouns, const std::vector<std::string>& args, const char* usage);

} // namespace gafx::cli
