#pragma once
// Two runs side by side: every setting that decides what a run computes, so a researcher can see
// why two results differ. The config with its defaults filled in (a key one run's file left out
// still shows), then the split it trained on, the device and precision, and the versions of
// gafx, libtorch and BLAS that trained it. `gafx diff` and the Runs page's Compare... show it.
#include "store/run_store.h"

#include <string>
#include <vector>

namespace gafx::experiments {

struct SettingPair {
    std::string key;  // "lr", "split_id", "versions.libtorch"
    std::string a, b; // as JSON writes them (strings without quotes); "" where a run has none
    bool differs = false;
};

// In a fixed order: config keys (as RunConfig lists them), then split_id, device, precision,
// versions.*. A config that no longer parses shows as one row, "config", with its text.
std::vector<SettingPair> compare_settings(const store::RunRecord& a, const store::RunRecord& b);

} // namespace gafx::experiments
