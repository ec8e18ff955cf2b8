#include "experiments/grid_compare.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace gafx::experiments {
namespace {

bool as_number(const std::string& text, double& out) {
    try {
        const auto j = nlohmann::json::parse(text);
        if (!j.is_number()) return false;
        out = j.get<double>();
        return std::isfinite(out);
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

std::string unquoted(const std::string& text) {
    return text.size() >= 2 && text.front() == '"' && text.back() == '"' ? text.substr(1, text.size() - 2) : text;
}

std::string percent_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

} // namespace

FactorEffect factor_effect(const std::string& factor, const std::vector<store::RunRecord>& runs,
                           const ReportOptions& options) {
    const Grouping grouping = group_runs({factor}, runs, options);
    FactorEffect out;
    out.factor = factor;
    out.statistic = options.statistic;
    out.left_out = grouping.left_out;
    std::vector<LeftOut> unused;
    const auto analysable = analysable_runs(runs, options, unused);
    std::map<int64_t, const AnalysedRun*> by_id;
    for (const auto& a : analysable) by_id[a.run->id] = &a;
    std::map<std::string, std::vector<double>> paired;
    for (const auto& g : grouping.groups) {
        out.left_out.insert(out.left_out.end(), g.stats.left_out.begin(), g.stats.left_out.end());
        if (g.stats.n == 0) continue;
        FactorLevel level;
        level.value = g.values.front();
        level.stat = g.stats.track;
        for (int64_t id : g.stats.run_ids) {
            const AnalysedRun& a = *by_id.at(id);
            level.runs.push_back(id);
            level.values.push_back(100.0 * track_statistic(*a.run, options.statistic));
            level.pairing.push_back("seed=" + a.value("seed") + " fold=" + a.value("fold"));
        }
        out.levels.push_back(std::move(level));
    }
    // Two runs of one level on one seed (another factor mixed in) join by their mean.
    std::map<std::string, std::vector<int>> counts;
    for (size_t l = 0; l < out.levels.size(); ++l)
        for (size_t i = 0; i < out.levels[l].runs.size(); ++i) {
            auto& row = paired[out.levels[l].pairing[i]];
            auto& n = counts[out.levels[l].pairing[i]];
            if (row.empty()) {
                row.assign(out.levels.size(), 0.0);
                n.assign(out.levels.size(), 0);
            }
            row[l] += out.levels[l].values[i];
            ++n[l];
        }
    for (auto& [p, row] : paired) {
        int present = 0;
        for (size_t l = 0; l < row.size(); ++l) {
            const int n = counts[p][l];
            row[l] = n ? row[l] / n : std::nan("");
            present += n > 0;
        }
        if (present >= 2) out.paired[p] = row;
    }
    return out;
}

std::vector<std::string> varying_keys(const std::vector<const ConfigValues*>& configs) {
    std::vector<std::string> out;
    if (configs.empty()) return out;
    for (size_t k = 0; k < configs.front()->size(); ++k) {
        const std::string& key = (*configs.front())[k].first;
        if (key == "seed" || key == "fold") continue; // repetitions, not factors
        const auto differs = [&](const ConfigValues* c) {
            return k >= c->size() || (*c)[k].second != (*configs.front())[k].second;
        };
        if (std::any_of(configs.begin() + 1, configs.end(), differs)) out.push_back(key);
    }
    return out;
}

std::vector<std::string> varying_levels(const std::vector<std::string>& config_jsons) {
    std::vector<std::shared_ptr<const ConfigValues>> parsed;
    std::vector<const ConfigValues*> configs;
    for (const auto& text : config_jsons) {
        try {
            parsed.push_back(config_values(text));
            configs.push_back(parsed.back().get());
        } catch (const std::exception&) {
            parsed.push_back(nullptr);
        }
    }
    const auto keys = varying_keys(configs);
    std::vector<std::string> out;
    for (const auto& c : parsed) {
        std::string label;
        for (size_t k = 0; c && k < c->size(); ++k)
            if (std::find(keys.begin(), keys.end(), (*c)[k].first) != keys.end())
                label += (label.empty() ? "" : " ") + (*c)[k].first + "=" + unquoted((*c)[k].second);
        out.push_back(c ? label : std::string("(config unreadable)"));
    }
    return out;
}

ParallelCoordinates parallel_coordinates(const std::vector<store::RunRecord>& runs, const ReportOptions& options) {
    ParallelCoordinates out;
    out.statistic = options.statistic;
    const auto analysable = analysable_runs(runs, options, out.left_out);
    std::vector<const AnalysedRun*> all;
    for (const auto& a : analysable) all.push_back(&a);
    const GroupStats counted = count_runs(all, options);
    out.left_out.insert(out.left_out.end(), counted.left_out.begin(), counted.left_out.end());
    const std::set<int64_t> ids(counted.run_ids.begin(), counted.run_ids.end());
    std::vector<const AnalysedRun*> used;
    for (const AnalysedRun* a : all)
        if (ids.count(a->run->id)) used.push_back(a);
    if (used.empty()) return out;

    std::vector<const ConfigValues*> configs;
    for (const AnalysedRun* a : used) configs.push_back(&a->config());
    for (const auto& key : varying_keys(configs)) {
        std::set<std::string> seen;
        for (const AnalysedRun* a : used) seen.insert(a->value(key));
        ParallelAxis axis;
        axis.name = key;
        axis.numeric = true;
        std::vector<double> numbers;
        for (const auto& v : seen) {
            double x = 0;
            if (!as_number(v, x)) axis.numeric = false;
            numbers.push_back(x);
        }
        if (axis.numeric) {
            axis.min = *std::min_element(numbers.begin(), numbers.end());
            axis.max = *std::max_element(numbers.begin(), numbers.end());
            axis.log = axis.min > 0 && axis.max / axis.min > 20;
        } else {
            for (const auto& v : seen) axis.levels.push_back(unquoted(v));
            std::sort(axis.levels.begin(), axis.levels.end());
        }
        out.axes.push_back(std::move(axis));
    }
    ParallelAxis metric;
    metric.name = to_string(options.statistic);
    metric.numeric = true;
    std::vector<double> stats;
    for (const AnalysedRun* a : used) stats.push_back(100.0 * track_statistic(*a->run, options.statistic));
    metric.min = *std::min_element(stats.begin(), stats.end());
    metric.max = *std::max_element(stats.begin(), stats.end());
    out.axes.push_back(metric);

    const auto place = [](const ParallelAxis& axis, double x) {
        if (axis.max == axis.min) return 0.5;
        if (axis.log) return (std::log(x) - std::log(axis.min)) / (std::log(axis.max) - std::log(axis.min));
        return (x - axis.min) / (axis.max - axis.min);
    };
    for (size_t r = 0; r < used.size(); ++r) {
        ParallelLine line;
        line.run = used[r]->run->id;
        line.statistic = stats[r];
        for (size_t k = 0; k + 1 < out.axes.size(); ++k) {
            const ParallelAxis& axis = out.axes[k];
            const std::string& v = used[r]->value(axis.name);
            line.values.push_back(unquoted(v));
            if (axis.numeric) {
                double x = 0;
                as_number(v, x);
                line.position.push_back(place(axis, x));
            } else {
                const auto it = std::find(axis.levels.begin(), axis.levels.end(), unquoted(v));
                const double i = double(it - axis.levels.begin());
                line.position.push_back(axis.levels.size() < 2 ? 0.5 : i / double(axis.levels.size() - 1));
            }
        }
        line.values.push_back(percent_text(line.statistic));
        line.position.push_back(place(metric, line.statistic));
        out.lines.push_back(std::move(line));
    }
    return out;
}

} // namespace gafx::experiments
