#include "data/split.h"

#include "core/error.h"
#include "core/rng.h"

#include <algorithm>
#include <cmath>

namespace gafx::data {

const char* to_string(Subset s) {
    switch (s) {
    case Subset::None: return "none";
    case Subset::Train: return "train";
    case Subset::Test: return "test";
    }
    return "none";
}

Subset subset_from_string(const std::string& s) {
    if (s == "train") return Subset::Train;
    if (s == "test") return Subset::Test;
    return Subset::None;
}

int64_t Split::count(Subset s) const { return std::count(subset.begin(), subset.end(), s); }

namespace {

struct Group {
    std::string name;
    std::vector<size_t> tracks;
};

// Groups of valid tracks in first-appearance (catalogue) order; ungrouped tracks stand alone.
std::vector<Group> collect_groups(const Catalog& c, const std::vector<size_t>& members, const Groups& groups) {
    std::vector<Group> out;
    std::map<std::string, size_t> index;
    for (size_t i : members) {
        const Track& t = c.tracks[i];
        auto g = groups.by_key.find(t.key);
        const std::string name = g == groups.by_key.end() ? "\x01track:" + t.key : g->second;
        auto [it, fresh] = index.emplace(name, out.size());
        if (fresh) out.push_back(Group{name, {}});
        out[it->second].tracks.push_back(i);
    }
    return out;
}

// Moves whole groups, in seeded order, into the test side until it is as close as possible
// to `target` tracks.
void draw_test_groups(std::vector<Group> gs, size_t target, Rng rng, std::vector<Subset>& subset) {
    rng.shuffle(gs);
    size_t taken = 0;
    for (const Group& g : gs) {
        const auto distance = [target](size_t n) { return n > target ? n - target : target - n; };
        const bool closer = taken < target && distance(taken + g.tracks.size()) < distance(taken);
        const Subset side = closer ? Subset::Test : Subset::Train;
        if (closer) taken += g.tracks.size();
        for (size_t i : g.tracks) subset[i] = side;
    }
}

size_t test_target(size_t n, double train_fraction) {
    return static_cast<size_t>(std::llround(double(n) * (1.0 - train_fraction)));
}

} // namespace

Split make_split(const Catalog& c, const SplitOptions& o, const Groups& groups) {
    if (!(o.train_fraction > 0.0 && o.train_fraction < 1.0))
        throw Error({}, "split fraction must be between 0 and 1 (exclusive), got " + std::to_string(o.train_fraction),
                    "use e.g. --split 0.8");
    Split split;
    split.options = o;
    split.subset.assign(c.tracks.size(), Subset::None);

    std::vector<size_t> valid;
    for (size_t i = 0; i < c.tracks.size(); ++i)
        if (c.tracks[i].status == TrackStatus::Valid) valid.push_back(i);

    if (c.multi_label) {
        const bool has_eval = std::any_of(valid.begin(), valid.end(), [&](size_t i) {
            return c.tracks[i].origin.find("eval") != std::string::npos;
        });
        if (has_eval) {
            for (size_t i : valid)
                split.subset[i] = c.tracks[i].origin.find("eval") != std::string::npos ? Subset::Test : Subset::Train;
            split.method = "release eval segments are the test set";
            return split;
        }
        draw_test_groups(collect_groups(c, valid, groups), test_target(valid.size(), o.train_fraction),
                         Rng(mix_seed(o.seed, 0)), split.subset);
        split.method = "seeded random by group (multi-label, no eval segments)";
        return split;
    }

    // Stratify: a group joins the class most of its tracks belong to.
    std::map<std::string, std::vector<size_t>> by_class;
    for (const Group& g : collect_groups(c, valid, groups)) {
        std::map<std::string, size_t> votes;
        for (size_t i : g.tracks)
            votes[c.tracks[i].labels.empty() ? std::string() : c.tracks[i].labels.front()]++;
        const auto top = std::max_element(votes.begin(), votes.end(),
                                          [](const auto& a, const auto& b) { return a.second < b.second; });
        for (size_t i : g.tracks) by_class[top->first].push_back(i);
    }
    for (const auto& [label, members] : by_class) {
        // Each class draws from its own stream, so adding a class leaves the others' split alone.
        uint64_t h = 1469598103934665603ull;
        for (unsigned char ch : label) h = (h ^ ch) * 1099511628211ull;
        draw_test_groups(collect_groups(c, members, groups), test_target(members.size(), o.train_fraction),
                         Rng(mix_seed(o.seed, h)), split.subset);
    }
    split.method = groups.by_key.empty() ? "seeded, stratified by class" : "seeded, stratified by class, by group";
    return split;
}

} // namespace gafx::data
