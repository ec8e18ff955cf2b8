#include "experiments/shard.h"

#include "core/error.h"
#include "experiments/run_cost.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>

namespace gafx::experiments {
namespace {

size_t find_root(std::vector<size_t>& parent, size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

const ErrorField kShardField{"--shard", "shard"};

} // namespace

std::vector<std::vector<RunRef>> training_units(const std::vector<Experiment>& files) {
    std::vector<RunRef> all;
    for (size_t f = 0; f < files.size(); ++f)
        for (size_t r = 0; r < files[f].runs.size(); ++r) all.push_back({f, r});
    std::vector<size_t> parent(all.size());
    std::iota(parent.begin(), parent.end(), size_t(0));
    // (experiment, seed) -> its last run in the files before the one being read: what queueing
    // resolves a pretrained_run named by experiment and seed to (the newest such run).
    std::map<std::pair<std::string, uint64_t>, size_t> newest;
    size_t first_of_file = 0;
    for (size_t f = 0; f < files.size(); ++f) {
        for (size_t r = 0; r < files[f].runs.size(); ++r) {
            const RunConfig& c = files[f].runs[r];
            if (c.pretraining != "run" || c.pretrained_experiment.empty()) continue;
            const auto it = newest.find({c.pretrained_experiment, c.pretrained_seed});
            if (it != newest.end()) parent[find_root(parent, first_of_file + r)] = find_root(parent, it->second);
        }
        for (size_t r = 0; r < files[f].runs.size(); ++r) newest[{files[f].name, files[f].runs[r].seed}] = first_of_file + r;
        first_of_file += files[f].runs.size();
    }
    std::vector<std::vector<RunRef>> units;
    std::vector<size_t> unit_of_root(all.size(), size_t(-1));
    for (size_t i = 0; i < all.size(); ++i) {
        size_t& u = unit_of_root[find_root(parent, i)];
        if (u == size_t(-1)) {
            u = units.size();
            units.emplace_back();
        }
        units[u].push_back(all[i]);
    }
    return units;
}

ShardPlan plan_shards(const std::vector<Experiment>& files, int count) {
    if (count < 1)
        throw Error({}, "a grid cannot be split into " + std::to_string(count) + " parts", "give --shard I/N with N >= 1",
                    kShardField);
    const auto units = training_units(files);
    std::vector<int64_t> unit_cost(units.size(), 0);
    for (size_t u = 0; u < units.size(); ++u)
        for (const auto& r : units[u]) unit_cost[u] += run_cost(files[r.file].runs[r.run]);
    std::vector<size_t> order(units.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return unit_cost[a] > unit_cost[b]; });
    ShardPlan plan;
    plan.parts.resize(size_t(count));
    plan.cost.assign(size_t(count), 0);
    // (cost so far, part): the least first, then the lowest index; a heap, as N may be 999999.
    using Slot = std::pair<int64_t, size_t>;
    std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> least;
    for (size_t i = 0; i < size_t(count); ++i) least.push({0, i});
    for (const size_t u : order) {
        const size_t to = least.top().second;
        least.pop();
        plan.cost[to] += unit_cost[u];
        least.push({plan.cost[to], to});
        plan.total += unit_cost[u];
        plan.parts[to].insert(plan.parts[to].end(), units[u].begin(), units[u].end());
    }
    for (auto& part : plan.parts) std::sort(part.begin(), part.end());
    return plan;
}

std::vector<RunRef> shard_runs(const std::vector<Experiment>& files, int index, int count) {
    if (count < 1 || index < 0 || index >= count)
        throw Error({}, "shard " + std::to_string(index + 1) + " of " + std::to_string(count) + " does not exist",
                    "give --shard I/N with 1 <= I <= N", kShardField);
    return plan_shards(files, count).parts[size_t(index)];
}

std::pair<int, int> parse_shard(const std::string& text) {
    const size_t slash = text.find('/');
    const auto number = [&](const std::string& s) {
        if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
            throw Error({}, "--shard '" + text + "' is not I/N", "give the part and the number of parts, e.g. --shard 2/8",
                        kShardField);
        return std::stoi(s);
    };
    if (slash == std::string::npos) number(""); // throws
    const int i = number(text.substr(0, slash)), n = number(text.substr(slash + 1));
    if (n < 1 || i < 1 || i > n)
        throw Error({}, "'" + text + "': parts are numbered from 1 to N", "give --shard I/N with 1 <= I <= N",
                    kShardField);
    return {i - 1, n};
}

} // namespace gafx::experiments
