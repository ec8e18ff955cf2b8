#include "data/catalog.h"

#include "core/error.h"

#include <algorithm>

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

} // namespace gafx::data
