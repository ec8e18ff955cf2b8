#pragma once
// A PRNG whose stream is fixed by this code, not by the standard library: std::shuffle and
// the std distributions differ between libstdc++ and libc++, and a split or a demo
// dataset must come out the same on every machine for the same seed.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace gafx {

class Rng {
public:
    explicit Rng(uint64_t seed);
    uint64_t next();                      // xoshiro256**
    double uniform();                     // [0, 1)
    double uniform(double lo, double hi); // [lo, hi)
    uint64_t below(uint64_t n);           // [0, n), unbiased
    double normal();                      // standard normal (Box-Muller)

    template <typename T> void shuffle(std::vector<T>& v) {
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }

private:
    uint64_t s_[4];
};

// Derives an independent seed from a base seed and a stream label (a track index, an epoch).
uint64_t mix_seed(uint64_t seed, uint64_t stream);

} // namespace gafx
