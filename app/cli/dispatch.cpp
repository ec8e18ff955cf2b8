#include "dispatch.h"

#include "args.h"
#include "core/error.h"

#include <cstdio>

namespace gafx::cli {

int dispatch(const std::map<std::string, Command>& nouns, const std::vector<std::string>& args, const char* usage) {
    const auto it = args.empty() ? nouns.end() : nouns.find(args[0]);
    if (it == nouns.end()) {
        std::fprintf(stderr, "gafx: unknown command '%s'\n\n%s", args.empty() ? "" : args[0].c_str(), usage);
        return 2;
    }
    try {
        return it->second(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "gafx %s: %s (see gafx %s --help)\n", args[0].c_str(), e.what(), args[0].c_str());
        return 2;
    } catch (const gafx::Error& e) {
        std::fprintf(stderr, "gafx: error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gafx: error: %s\n", e.what());
        return 1;
    }
}

} // namespace gafx::cli
