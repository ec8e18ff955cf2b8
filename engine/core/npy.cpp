#include "core/npy.h"

#include "core/atomic_file.h"
#include "core/error.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

namespace gafx {

void write_npy_f32(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
    std::string dims;
    int64_t count = 1;
    for (int64_t d : shape) {
        dims += std::to_string(d) + ", ";
        count *= d;
    }
    if (shape.size() > 1) dims.resize(dims.size() - 2);
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';

    write_file_atomic(path, [&](const auto& write) {
        const uint16_t len = static_cast<uint16_t>(header.size());
        write("\x93NUMPY\x01\x00", 8);
        write(&len, 2);
        write(header.data(), header.size());
        write(data, size_t(count) * sizeof(float));
    });
}

NpyArray read_npy_f32(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path, "cannot open");
    char magic[10];
    if (!in.read(magic, 10) || std::memcmp(magic, "\x93NUMPY", 6) != 0 || magic[6] != 1)
        throw Error(path, "not a version-1 .npy file");
    uint16_t len = 0;
    std::memcpy(&len, magic + 8, 2);
    std::string header(len, '\0');
    if (!in.read(header.data(), len)) throw Error(path, "truncated .npy header");
    if (header.find("'descr': '<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
        throw Error(path, "only little-endian float32 C-order arrays are read");
    std::smatch m;
    if (!std::regex_search(header, m, std::regex("'shape': \\(([0-9, ]*)\\)")))
        throw Error(path, "no shape in the .npy header");
    NpyArray a;
    int64_t count = 1;
    const std::string dims = m[1];
    const std::regex number("[0-9]+");
    for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
        a.shape.push_back(std::stoll(it->str()));
        count *= a.shape.back();
    }
    a.data.resize(size_t(count));
    if (!in.read(reinterpret_cast<char*>(a.data.data()), std::streamsize(count * sizeof(float))))
        throw Error(path, "truncated .npy data");
    return a;
}

} // namespace gafx
