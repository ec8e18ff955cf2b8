#include "args.h"

#include "core/error.h"
#include "store/run_store.h"

#include <cstdlib>
#include <filesystem>

namespace gafx::cli {

bool wants_help(const std::vector<std::string>& argv) {
    for (const auto& a : argv)
        if (a == "--help" || a == "-h") return true;
    return false;
}

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
           const std::set<std::string>& flags) {
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
            std::string name = a, value;
            const auto eq = a.find('=');
            const bool inline_value = eq != std::string::npos;
            if (inline_value) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
            }
            if (valued.count(name)) {
                if (!inline_value) {
                    if (i + 1 >= argv.size()) throw UsageError(name + " needs a value");
                    value = argv[++i];
                }
                values_[name] = value;
            } else if (flags.count(name) && !inline_value) {
                flags_.insert(name);
            } else {
                throw UsageError("unknown option " + name);
            }
        } else {
            positional_.push_back(a);
        }
    }
}

bool Args::has(const std::string& opt) const { return flags_.count(opt) || values_.count(opt); }

std::optional<std::string> Args::get(const std::string& opt) const {
    auto it = values_.find(opt);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::string Args::get_or(const std::string& opt, const std::string& fallback) const {
    return get(opt).value_or(fallback);
}

double Args::get_double(const std::string& opt, double fallback) const {
    auto v = get(opt);
    if (!v) return fallback;
    char* end = nullptr;
    const double d = std::strtod(v->c_str(), &end);
    if (v->empty() || *end) throw UsageError(opt + " expects a number, got '" + *v + "'");
    return d;
}

long long Args::get_int(const std::string& opt, long long fallback) const {
    auto v = get(opt);
    if (!v) return fallback;
    char* end = nullptr;
    const long long n = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end) throw UsageError(opt + " expects an integer, got '" + *v + "'");
    return n;
}

void Args::expect_positional(size_t n, const std::string& what) const {
    if (positional_.size() < n) throw UsageError("missing " + what);
    if (positional_.size() > n) throw UsageError("unexpected argument '" + positional_[n] + "'");
}

std::string workspace_db(const Args& a) { return a.get_or("--db", store::RunStore::default_path()); }

int64_t run_id_arg(const Args& a) {
    a.expect_positional(1, "RUN");
    return parse_run_id(a.positional()[0]);
}

store::RunRecord existing_run(store::RunStore& db, int64_t id) {
    auto r = db.run(id);
    if (!r) throw Error(db.path(), "no run " + std::to_string(id) + " in this workspace", "see gafx runs");
    return *r;
}

std::string this_gafx() {
    std::error_code ec;
    const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (exe.empty())
        throw Error("/proc/self/exe", "cannot tell where this gafx is", "run without --parallel, or from a Linux /proc");
    return exe;
}

int64_t parse_run_id(const std::string& word) {
    try {
        size_t used = 0;
        const long long id = std::stoll(word, &used);
        if (used == word.size() && id > 0) return id;
    } catch (const std::exception&) {}
    throw UsageError("'" + word + "' is not a run id (see gafx runs)");
}

} // namespace gafx::cli
