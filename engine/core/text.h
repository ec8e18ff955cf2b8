#pragma once
// Lists as messages print them ("ast-tiny, ast-small").
#include <string>
#include <vector>

namespace gafx {

inline std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
    return out;
}

} // namespace gafx
