#pragma once
// A small argv parser for `gafx noun verb ARGS --flags`: options are declared, anything else
// is a usage error (exit 2) that names the offending word.
#include "store/run_store.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace gafx::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// True when --help or -h appears anywhere in argv.
bool wants_help(const std::vector<std::string>& argv);

// A run id as typed ("12"); anything else is a UsageError naming the word.
int64_t parse_run_id(const std::string& word);

class Args {
public:
    // `valued` options take the next word (or --opt=value); `flags` take none.
    Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
         const std::set<std::string>& flags);

    const std::vector<std::string>& positional() const { return positional_; }
    bool has(const std::string& opt) const;
    std::optional<std::string> get(const std::string& opt) const;
    std::string get_or(const std::string& opt, const std::string& fallback) const;
    double get_double(const std::string& opt, double fallback) const;
    long long get_int(const std::string& opt, long long fallback) const;
    // Exactly `n` positionals, else a usage error naming `what`.
    void expect_positional(size_t n, const std::string& what) const;

private:
    std::vector<std::string> positional_;
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
};

// --db FILE, else the user's workspace (store::RunStore::default_path()).
std::string workspace_db(const Args& a);

// The one RUN positional of a command, as a run id.
int64_t run_id_arg(const Args& a);

// Run `id` of the workspace, or an Error naming the workspace.
store::RunRecord existing_run(store::RunStore& db, int64_t id);

// The absolute path of this gafx binary, for the processes and scripts that run it again
// (--parallel, gafx slurm). Throws gafx::Error when the system does not say.
std::string this_gafx();

} // namespace gafx::cli
