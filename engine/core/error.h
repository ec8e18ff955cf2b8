#pragma once
// One exception type for everything the engine reports to a user: it carries the file
// it is about, what went wrong, and what to do about it, so the CLI and the GUI can show
// the same readable message without parsing strings.
#include <stdexcept>
#include <string>

namespace gafx {

class Error : public std::runtime_error {
public:
    Error(std::string path, std::string reason, std::string fix = {});

    const std::string& path() const noexcept { return path_; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& fix() const noexcept { return fix_; }
    // The message without the path, for places that already show the file.
    std::string detail() const { return fix_.empty() ? reason_ : reason_ + " (" + fix_ + ")"; }

private:
    std::string path_, reason_, fix_;
};

} // namespace gafx
