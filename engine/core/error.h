#pragma once
// The exception types the engine reports to a user. Error carries the file it is about, what
// went wrong, what to do, and (for structured input such as an experiment) the field: front ends
// branch on these fields and on the type, never on the message text.
#include <stdexcept>
#include <string>

namespace gafx {

// What part of a structured input an error is about: `json_path` as written in the file
// ("$.grid.seed[1]", "$ (run 2 of 4)"), `key` the config field a form shows ("seed"; empty when
// the error is about the whole object).
struct ErrorField {
    std::string json_path;
    std::string key;
};

class Error : public std::runtime_error {
public:
    Error(std::string path, std::string reason, std::string fix = {}, ErrorField field = {});

    const std::string& path() const noexcept { return path_; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& fix() const noexcept { return fix_; }
    const ErrorField& field() const noexcept { return field_; }
    // The message without the path, for places that already show the file.
    std::string detail() const { return fix_.empty() ? reason_ : reason_ + " (" + fix_ + ")"; }

private:
    std::string path_, reason_, fix_;
    ErrorField field_;
};

// Work stopped because its caller asked (Feedback::cancel): an outcome, not a failure. `path`
// is what was being worked on.
class Cancelled : public Error {
public:
    explicit Cancelled(std::string path = {}, std::string what = "cancelled")
        : Error(std::move(path), std::move(what)) {}
};

} // namespace gafx
