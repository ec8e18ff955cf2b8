#include "data/catalog.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace gafx::data {

const char* to_string(TrackStatus s) {
    switch (s) {
    case TrackStatus::Valid: return "valid";
    case TrackStatus::Invalid: return "invalid";
    case TrackStatus::Missing: return "missing";
    }
    return "invalid";
}

TrackStatus track_status_from_string(const std::string& s) {
    if (s == "valid") return TrackStatus::Valid;
    if (s == "invalid") return TrackStatus::Invalid;
    if (s == "missing") return TrackStatus::Missing;
    throw Error({}, "unknown track status '" + s + "'");
}

int64_t Catalog::count(TrackStatus s) const {
    return std::count_if(tracks.begin(), tracks.end(), [s](const Track& t) { return t.status == s; });
}

int Catalog::class_index(const std::string& id) const {
    for (size_t i = 0; i < classes.size(); ++i)
        if (classes[i].id == id) return static_cast<int>(i);
    return -1;
}

std::vector<std::string> format_outliers(const Catalog& c, size_t max_listed) {
    std::map<int, int64_t> rates;
    std::vector<double> lengths;
    for (const auto& t : c.tracks)
        if (t.status == TrackStatus::Valid) {
            rates[t.sample_rate]++;
            lengths.push_back(t.duration);
        }
    if (lengths.size() < 3) return {};
    const auto common = std::max_element(rates.begin(), rates.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
    });
    std::nth_element(lengths.begin(), lengths.begin() + long(lengths.size() / 2), lengths.end());
    const double median = lengths[lengths.size() / 2];
    const double slack = std::max(1.0, 0.1 * median);
    std::vector<std::string> out;
    size_t found = 0;
    char buf[160];
    for (const auto& t : c.tracks) {
        if (t.status != TrackStatus::Valid) continue;
        std::string why;
        if (t.sample_rate != common->first) {
            std::snprintf(buf, sizeof buf, "%d Hz where %lld of %zu tracks are %d Hz", t.sample_rate,
                          (long long)common->second, lengths.size(), common->first);
            why = buf;
        }
        if (std::abs(t.duration - median) > slack) {
            std::snprintf(buf, sizeof buf, "%.1f s where the median track is %.1f s", t.duration, median);
            why += (why.empty() ? "" : " and ") + std::string(buf);
        }
        if (why.empty()) continue;
        if (++found <= max_listed)
            out.push_back(t.path + ": " + why + " (check it is the right file; it is used as it is)");
    }
    if (found > max_listed)
        out.push_back(std::to_string(found - max_listed) + " more tracks differ in sample rate or length from the rest");
    return out;
}

} // namespace gafx::data
