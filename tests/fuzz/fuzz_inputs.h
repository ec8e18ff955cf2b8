#pragma once
// What each fuzzer feeds, shared by the libFuzzer executables (fuzz_main.cpp, built with clang
// under GAFX_FUZZ) and the regression test that replays tests/data/fuzz/ in every build
// (tests/engine/test_fuzz_regressions.cpp). A parser may reject its input only with
// gafx::Error; any other exception escapes the feed and is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gafx::fuzz {

struct Target {
    const char* name;                         // also the folder of its inputs under tests/data/fuzz
    void (*feed)(const uint8_t* data, size_t size);
};

const std::vector<Target>& targets();
const Target* find_target(const std::string& name);

// The front-end key hash the feature_cache feed asks an entry for ("afxfb"): fixed, so that the
// fuzzer learns it from the comparison.
constexpr uint64_t kFeatureFuzzKey = 0x6166786662ULL;

} // namespace gafx::fuzz
