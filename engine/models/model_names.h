#pragma once
// The names users pick models by, torch-free so configs and experiments can validate them.
#include <string>
#include <vector>

namespace gafx::models {

inline const std::vector<std::string>& extractor_names() {
    static const std::vector<std::string> n = {"mel", "gafx-u", "gafx-r", "gafx-a"};
    return n;
}

inline const std::vector<std::string>& classifier_names() {
    static const std::vector<std::string> n = {"ast-tiny", "ast-small"};
    return n;
}

} // namespace gafx::models
