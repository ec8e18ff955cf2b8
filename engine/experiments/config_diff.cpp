#include "experiments/config_diff.h"

#include "experiments/experiment.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace gafx::experiments {
namespace {

using Json = nlohmann::ordered_json;

std::string shown(const Json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<Json> settings_of(const store::RunRecord& r) {
    try {
        return Json::parse(to_json(parse_run_config(r.config)));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

Json versions_of(const store::RunRecord& r) {
    const Json v = Json::parse(r.versions, nullptr, false);
    return v.is_object() ? v : Json::object();
}

} // namespace

std::vector<SettingPair> compare_settings(const store::RunRecord& a, const store::RunRecord& b) {
    std::vector<SettingPair> out;
    const auto add = [&](const std::string& key, const std::string& x, const std::string& y) {
        out.push_back({key, x, y, x != y});
    };
    const auto ca = settings_of(a), cb = settings_of(b);
    if (ca && cb) {
        for (auto it = ca->begin(); it != ca->end(); ++it)
            add(it.key(), shown(it.value()), cb->contains(it.key()) ? shown(cb->at(it.key())) : "");
    } else {
        add("config", a.config, b.config);
    }
    add("split_id", a.split_id ? std::to_string(a.split_id) : "", b.split_id ? std::to_string(b.split_id) : "");
    add("device", a.device, b.device);
    add("precision", a.precision, b.precision);
    const Json va = versions_of(a), vb = versions_of(b);
    std::vector<std::string> keys;
    for (auto it = va.begin(); it != va.end(); ++it) keys.push_back(it.key());
    for (auto it = vb.begin(); it != vb.end(); ++it)
        if (!va.contains(it.key())) keys.push_back(it.key());
    for (const auto& k : keys)
        add("versions." + k, va.contains(k) ? shown(va.at(k)) : "", vb.contains(k) ? shown(vb.at(k)) : "");
    return out;
}

} // namespace gafx::experiments
