#pragma once
// NumPy's .npy format (version 1.0), so feature maps open with numpy.load as they are.
#include <cstdint>
#include <string>
#include <vector>

namespace gafx {

// Writes a C-order little-endian float32 array; atomically (temp file, then rename).
// Throws gafx::Error naming the file on failure.
void write_npy_f32(const std::string& path, const float* data, const std::vector<int64_t>& shape);

struct NpyArray {
    std::vector<int64_t> shape;
    std::vector<float> data;
};
// Reads what write_npy_f32 writes (little-endian float32, C order); anything else is an error.
NpyArray read_npy_f32(const std::string& path);

} // namespace gafx
