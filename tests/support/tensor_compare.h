#pragma once
// Comparing a kernel's tensors with a reference's, for the numerical tests.
#include <torch/types.h>

#include <algorithm>

namespace gafx::test {

// The largest |a - ref| over the largest |ref|, in double.
inline double max_rel_err(const torch::Tensor& a, const torch::Tensor& ref) {
    return (a.to(torch::kDouble) - ref.to(torch::kDouble)).abs().max().item<double>() /
           std::max(ref.abs().max().item<double>(), 1e-30);
}

} // namespace gafx::test
