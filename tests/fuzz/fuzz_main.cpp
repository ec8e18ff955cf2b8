// One libFuzzer executable per target: GAFX_FUZZ_TARGET names which feed (fuzz_inputs.cpp).
#include "fuzz_inputs.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const gafx::fuzz::Target* target = [] {
        const auto* t = gafx::fuzz::find_target(GAFX_FUZZ_TARGET);
        if (!t) {
            std::fprintf(stderr, "no fuzz target named %s\n", GAFX_FUZZ_TARGET);
            std::abort();
        }
        return t;
    }();
    target->feed(data, size);
    return 0;
}
