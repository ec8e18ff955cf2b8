// gafx diff: two runs' settings side by side (experiments/config_diff.h).
#include "args.h"
#include "commands.h"

#include "core/error.h"
#include "experiments/config_diff.h"
#include "store/run_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace gafx::cli {

int cmd_diff(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::printf("usage: gafx diff RUN_A RUN_B [--all] [--json] [--db FILE]\n\n"
                    "the settings two runs differ in: every config key (defaults filled in), the split they\n"
                    "trained on, device, precision, and the gafx / libtorch / BLAS versions that trained them.\n"
                    "--all: every setting, the same ones too. --json: [{key, a, b, differs}].\n");
        return 0;
    }
    Args a(argv, {"--db"}, {"--all", "--json"});
    a.expect_positional(2, "RUN_A RUN_B");
    const int64_t ia = parse_run_id(a.positional()[0]), ib = parse_run_id(a.positional()[1]);
    store::RunStore db(workspace_db(a));
    const auto ra = db.run(ia), rb = db.run(ib);
    for (const auto& [id, r] : {std::pair{ia, ra.has_value()}, std::pair{ib, rb.has_value()}})
        if (!r) throw Error(db.path(), "no run " + std::to_string(id) + " in this workspace", "see gafx runs");
    const auto rows = experiments::compare_settings(*ra, *rb);
    const bool all = a.has("--all");
    if (a.has("--json")) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& r : rows)
            if (all || r.differs) out.push_back({{"key", r.key}, {"a", r.a}, {"b", r.b}, {"differs", r.differs}});
        std::printf("%s\n", out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
        return 0;
    }
    size_t width = 8;
    for (const auto& r : rows)
        if (all || r.differs) width = std::max(width, r.key.size());
    const std::string ha = "run " + std::to_string(ia), hb = "run " + std::to_string(ib);
    std::printf("  %-*s  %-24s %s\n", int(width), "setting", ha.c_str(), hb.c_str());
    size_t differing = 0;
    for (const auto& r : rows) {
        differing += r.differs;
        if (all || r.differs)
            std::printf("%c %-*s  %-24s %s\n", r.differs ? '*' : ' ', int(width), r.key.c_str(),
                        r.a.empty() ? "-" : r.a.c_str(), r.b.empty() ? "-" : r.b.c_str());
    }
    std::printf("%zu of %zu settings differ\n", differing, rows.size());
    return 0;
}

} // namespace gafx::cli
