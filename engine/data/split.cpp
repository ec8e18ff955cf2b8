#include "data/split.h"

#include "core/error.h"
#include "core/rng.h"
#include "data/gtzan_filtered.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace gafx::data {

const char* to_string(Subset s) {
    switch (s) {
    case Subset::None: return "none";
    case Subset::Train: return "train";
    case Subset::Val: return "val";
    case Subset::Test: return "test";
    case Subset::Excluded: return "excluded";
    }
    return "none";
}

Subset subset_from_string(const std::string& s) {
    if (s == "train") return Subset::Train;
    if (s == "val") return Subset::Val;
    if (s == "test") return Subset::Test;
    if (s == "excluded") return Subset::Excluded;
    return Subset::None;
}

const char* to_string(SplitKind k) {
    switch (k) {
    case SplitKind::Random: return "random";
    case SplitKind::FaultFiltered: return "fault-filtered";
    case SplitKind::KFold: return "kfold";
    }
    return "random";
}

std::optional<SplitKind> parse_split_kind(const std::string& s) {
    if (s == "random") return SplitKind::Random;
    if (s == "fault-filtered") return SplitKind::FaultFiltered;
    if (s == "kfold") return SplitKind::KFold;
    return std::nullopt;
}

std::string SplitOptions::describe_kind() const {
    return kind == SplitKind::KFold ? "kfold:" + std::to_string(folds) : to_string(kind);
}

void parse_split_arg(const std::string& value, SplitOptions& o) {
    const std::string fix = "use --split random (with --test 0.2 --val 0.1), --split fault-filtered or --split kfold:10";
    if (value.rfind("kfold:", 0) == 0) {
        const std::string k = value.substr(6);
        const bool digits = !k.empty() && k.size() < 4 && std::all_of(k.begin(), k.end(), ::isdigit);
        if (!digits || std::stoi(k) < 3)
            throw Error({}, "--split kfold:K needs K of at least 3, got '" + k + "'", fix, ErrorField{{}, "split"});
        o.kind = SplitKind::KFold;
        o.folds = std::stoi(k);
        return;
    }
    const auto kind = parse_split_kind(value);
    if (!kind || *kind == SplitKind::KFold) {
        const bool number = !value.empty() && value.find_first_not_of("0123456789.") == std::string::npos;
        throw Error({}, "unknown split '" + value + "'" +
                            (number ? " (--split no longer takes the train fraction: --test takes the test one)" : ""),
                    fix, ErrorField{{}, "split"});
    }
    o.kind = *kind;
    o.folds = 0;
}

void check_split_options(const SplitOptions& o) {
    if (o.kind != SplitKind::Random) return;
    if (!(o.test_fraction > 0 && o.test_fraction < 1))
        throw Error({}, "the test fraction must be between 0 and 1, got " + std::to_string(o.test_fraction),
                    "use e.g. --test 0.2", ErrorField{{}, "test_fraction"});
    if (!(o.val_fraction > 0 && o.test_fraction + o.val_fraction < 1))
        throw Error({}, "the val fraction must be above 0 and leave room for training beside test " +
                            std::to_string(o.test_fraction) + ", got " + std::to_string(o.val_fraction),
                    "use e.g. --val 0.1: the best epoch is chosen on val, never on test", ErrorField{{}, "val_fraction"});
}

int64_t Split::count(Subset s) const { return std::count(subset.begin(), subset.end(), s); }

Split Split::for_fold(int f) const {
    if (!is_kfold()) return *this;
    const int k = options.folds;
    if (f < 0 || f >= k)
        throw Error({}, "fold " + std::to_string(f) + " is outside this " + std::to_string(k) + "-fold split",
                    "use a fold from 0 to " + std::to_string(k - 1), ErrorField{{}, "fold"});
    Split out = *this;
    out.options.kind = SplitKind::Random; // a plain three-way split from here on
    for (size_t i = 0; i < subset.size(); ++i) {
        if (subset[i] != Subset::Train || i >= fold.size() || fold[i] < 0) continue;
        out.subset[i] = fold[i] == f ? Subset::Test : fold[i] == (f + 1) % k ? Subset::Val : Subset::Train;
    }
    out.fold.clear();
    out.method = method + ", fold " + std::to_string(f);
    return out;
}

SplitCounts Split::counts(int f) const {
    const Split s = for_fold(is_kfold() ? f : 0);
    return SplitCounts{s.count(Subset::Train), s.count(Subset::Val), s.count(Subset::Test), s.count(Subset::Excluded)};
}

std::vector<int64_t> Split::fold_sizes() const {
    std::vector<int64_t> out(size_t(std::max(0, options.folds)), 0);
    for (int f : fold)
        if (f >= 0 && f < int(out.size())) ++out[size_t(f)];
    return out;
}

namespace {

struct Group {
    std::string name;
    std::vector<size_t> tracks;
};

// Groups of `members` in first-appearance (catalogue) order; ungrouped tracks stand alone.
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

// Moves whole groups, in the given order, to `side` until it is as close as possible to
// `target` tracks; returns the groups left.
std::vector<Group> draw(std::vector<Group> gs, size_t target, Subset side, std::vector<Subset>& subset) {
    std::vector<Group> rest;
    size_t taken = 0;
    const auto distance = [target](size_t n) { return n > target ? n - target : target - n; };
    for (Group& g : gs) {
        if (taken < target && distance(taken + g.tracks.size()) < distance(taken)) {
            taken += g.tracks.size();
            for (size_t i : g.tracks) subset[i] = side;
        } else {
            rest.push_back(std::move(g));
        }
    }
    return rest;
}

// A class of three or more tracks gives val and test at least one each: a fraction rounding to
// zero would leave a class nobody selects or tests on.
size_t share(size_t n, double fraction) {
    const auto k = static_cast<size_t>(std::llround(double(n) * fraction));
    return n >= 3 ? std::max<size_t>(1, k) : k;
}

void assign(const std::vector<Group>& gs, Subset side, std::vector<Subset>& subset) {
    for (const Group& g : gs)
        for (size_t i : g.tracks) subset[i] = side;
}

uint64_t label_hash(const std::string& label) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : label) h = (h ^ ch) * 1099511628211ull;
    return h;
}

// Single-label: a group joins the class most of its tracks belong to.
std::map<std::string, std::vector<size_t>> by_majority_class(const Catalog& c, const std::vector<size_t>& valid,
                                                             const Groups& groups) {
    std::map<std::string, std::vector<size_t>> out;
    for (const Group& g : collect_groups(c, valid, groups)) {
        std::map<std::string, size_t> votes;
        for (size_t i : g.tracks) votes[c.tracks[i].labels.empty() ? std::string() : c.tracks[i].labels.front()]++;
        const auto top = std::max_element(votes.begin(), votes.end(),
                                          [](const auto& a, const auto& b) { return a.second < b.second; });
        for (size_t i : g.tracks) out[top->first].push_back(i);
    }
    return out;
}

void split_multi_label(const Catalog& c, const std::vector<size_t>& valid, const SplitOptions& o, const Groups& groups,
                       Split& split) {
    const auto from = [&](size_t i, const char* list) { return c.tracks[i].origin.find(list) != std::string::npos; };
    const bool has_eval = std::any_of(valid.begin(), valid.end(), [&](size_t i) { return from(i, "eval"); });
    Rng rng(mix_seed(o.seed, 0));
    if (has_eval) {
        std::vector<size_t> balanced;
        for (size_t i : valid) {
            split.subset[i] = from(i, "eval") ? Subset::Test : Subset::Train;
            if (!from(i, "eval") && from(i, "balanced")) balanced.push_back(i);
        }
        const bool any_balanced = !balanced.empty();
        if (!any_balanced)
            for (size_t i : valid)
                if (split.subset[i] == Subset::Train) balanced.push_back(i);
        std::vector<Group> gs = collect_groups(c, balanced, groups);
        rng.shuffle(gs);
        draw(std::move(gs), share(balanced.size(), o.val_fraction), Subset::Val, split.subset);
        split.method = std::string("release eval segments are test; val a seeded slice of the ") +
                       (any_balanced ? "balanced" : "") + " training segments";
        return;
    }
    std::vector<Group> gs = collect_groups(c, valid, groups);
    rng.shuffle(gs);
    std::vector<Group> rest = draw(std::move(gs), share(valid.size(), o.test_fraction), Subset::Test, split.subset);
    rest = draw(std::move(rest), share(valid.size(), o.val_fraction), Subset::Val, split.subset);
    assign(rest, Subset::Train, split.subset);
    split.method = "seeded random by group (multi-label, no eval segments)";
}

void split_random(const Catalog& c, const std::vector<size_t>& valid, const SplitOptions& o, const Groups& groups,
                  Split& split) {
    for (const auto& [label, members] : by_majority_class(c, valid, groups)) {
        // Each class draws from its own stream, so adding a class leaves the others' split alone.
        std::vector<Group> gs = collect_groups(c, members, groups);
        Rng(mix_seed(o.seed, label_hash(label))).shuffle(gs);
        std::vector<Group> rest = draw(std::move(gs), share(members.size(), o.test_fraction), Subset::Test, split.subset);
        rest = draw(std::move(rest), share(members.size(), o.val_fraction), Subset::Val, split.subset);
        assign(rest, Subset::Train, split.subset);
    }
    split.method = groups.by_key.empty() ? "seeded, stratified by class" : "seeded, stratified by class, by group";
}

// Per class, groups in seeded order (largest first) go to the fold holding the fewest of that
// class's tracks, ties to the fold with fewest tracks overall: folds balanced by class and size.
void split_kfold(const Catalog& c, const std::vector<size_t>& valid, const SplitOptions& o, const Groups& groups,
                 Split& split) {
    const int k = o.folds;
    split.fold.assign(c.tracks.size(), -1);
    std::vector<size_t> total(size_t(k), 0);
    for (const auto& [label, members] : by_majority_class(c, valid, groups)) {
        std::vector<Group> gs = collect_groups(c, members, groups);
        if (gs.size() < size_t(k))
            throw Error(c.root, "class '" + label + "' has " + std::to_string(gs.size()) + " track group(s), fewer than " +
                                    std::to_string(k) + " folds",
                        "use fewer folds (--split kfold:" + std::to_string(std::max<size_t>(3, gs.size())) +
                            ") or the random split",
                        ErrorField{{}, "split"});
        Rng(mix_seed(o.seed, label_hash(label))).shuffle(gs);
        std::stable_sort(gs.begin(), gs.end(), [](const Group& a, const Group& b) { return a.tracks.size() > b.tracks.size(); });
        std::vector<size_t> mine(size_t(k), 0);
        for (const Group& g : gs) {
            size_t best = 0;
            for (size_t f = 1; f < size_t(k); ++f)
                if (mine[f] < mine[best] || (mine[f] == mine[best] && total[f] < total[best])) best = f;
            for (size_t i : g.tracks) {
                split.subset[i] = Subset::Train;
                split.fold[i] = int(best);
            }
            mine[best] += g.tracks.size();
            total[best] += g.tracks.size();
        }
    }
    split.method = std::to_string(k) + " folds, seeded, stratified by class" + (groups.by_key.empty() ? "" : ", by group") +
                   "; fold f tests on f and validates on f+1";
}

void split_fault_filtered(const Catalog& c, const std::vector<size_t>& valid, Split& split) {
    std::map<std::string, size_t> by_stem;
    for (size_t i : valid) by_stem.emplace(std::filesystem::path(c.tracks[i].key).stem().string(), i);
    const FaultFilteredLists& lists = gtzan_fault_filtered();
    for (size_t i : valid) split.subset[i] = Subset::Excluded;
    const auto apply = [&](const char* const* names, int n, Subset side) {
        for (int j = 0; j < n; ++j) {
            auto it = by_stem.find(names[j]);
            if (it == by_stem.end()) split.missing.push_back(names[j]);
            else split.subset[it->second] = side;
        }
    };
    apply(lists.train, lists.n_train, Subset::Train);
    apply(lists.val, lists.n_val, Subset::Val);
    apply(lists.test, lists.n_test, Subset::Test);
    split.method = "GTZAN fault-filtered (Kereliuk, Sturm & Larsen 2015)";
    if (!split.missing.empty())
        split.method += "; " + std::to_string(split.missing.size()) + " listed track(s) missing here";
}

} // namespace

Split make_split(const Catalog& c, const SplitOptions& o, const Groups& groups) {
    check_split_options(o);
    Split split;
    split.options = o;
    split.subset.assign(c.tracks.size(), Subset::None);

    std::vector<size_t> valid;
    for (size_t i = 0; i < c.tracks.size(); ++i)
        if (c.tracks[i].status == TrackStatus::Valid) valid.push_back(i);

    switch (o.kind) {
    case SplitKind::FaultFiltered:
        if (c.kind != "gtzan" || c.multi_label)
            throw Error(c.root, "the fault-filtered split is GTZAN's, and this is a " + c.kind + " dataset",
                        "use --split random or --split kfold:10", ErrorField{{}, "split"});
        split_fault_filtered(c, valid, split);
        break;
    case SplitKind::KFold:
        if (c.multi_label)
            throw Error(c.root, "k-fold splits are for single-label data; AudioSet has its own eval set",
                        "use --split random", ErrorField{{}, "split"});
        if (o.folds < 3)
            throw Error(c.root, "k-fold needs at least 3 folds, got " + std::to_string(o.folds), "use --split kfold:10",
                        ErrorField{{}, "split"});
        split_kfold(c, valid, o, groups, split);
        break;
    case SplitKind::Random:
        if (c.multi_label) split_multi_label(c, valid, o, groups, split);
        else split_random(c, valid, o, groups, split);
        break;
    }
    return split;
}

} // namespace gafx::data
