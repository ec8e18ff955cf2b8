#include "core/npy.h"

#include "core/atomic_file.h"
#include "core/error.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

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
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw Error(path, "cannot open");
    // Every size below is checked against the file before anything is allocated for it.
    const std::streamoff file_size = in.tellg();
    in.seekg(0);
    char magic[10];
    if (file_size < 10 || !in.read(magic, 10) || std::memcmp(magic, "\x93NUMPY", 6) != 0 || magic[6] != 1)
        throw Error(path, "not a version-1 .npy file");
    uint16_t len = 0;
    std::memcpy(&len, magic + 8, 2);
    if (10 + std::streamoff(len) > file_size) throw Error(path, "truncated .npy header");
    std::string header(len, '\0');
    if (!in.read(header.data(), len)) throw Error(path, "truncated .npy header");
    if (header.find("'descr': '<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
        throw Error(path, "only little-endian float32 C-order arrays are read");
    // The shape tuple by hand: std::regex recurses per character and a 64 KiB header can
    // exhaust the stack.
    const size_t open = header.find("'shape': (");
    const size_t close = open == std::string::npos ? open : header.find(')', open);
    if (close == std::string::npos) throw Error(path, "no shape in the .npy header");
    const std::string dims = header.substr(open + 10, close - open - 10);
    NpyArray a;
    const uint64_t data_bytes = uint64_t(file_size - 10 - std::streamoff(len));
    const uint64_t room = data_bytes / sizeof(float); // the most elements the file can hold
    uint64_t count = 1;
    bool zero = false, too_big = false;
    for (size_t i = 0; i < dims.size();) {
        const char c = dims[i];
        if (c == ' ' || c == ',') {
            ++i;
            continue;
        }
        if (c < '0' || c > '9') throw Error(path, "the .npy shape (" + dims + ") is not a tuple of sizes");
        size_t j = i;
        while (j < dims.size() && dims[j] >= '0' && dims[j] <= '9') ++j;
        const std::string digits = dims.substr(i, j - i);
        i = j;
        if (a.shape.size() >= 32) throw Error(path, "the .npy shape has more than 32 dimensions");
        const uint64_t d = digits.size() > 18 ? UINT64_MAX : std::stoull(digits);
        a.shape.push_back(int64_t(std::min<uint64_t>(d, uint64_t(INT64_MAX))));
        if (d == 0) zero = true;
        else if (too_big || count > room / d) too_big = true;
        else count *= d;
    }
    if (zero) count = 0;
    else if (too_big)
        throw Error(path, "truncated .npy data: shape (" + dims + ") needs more than the file's " +
                              std::to_string(data_bytes) + " bytes");
    if (count * sizeof(float) != data_bytes)
        throw Error(path, std::string(count * sizeof(float) > data_bytes ? "truncated .npy data: "
                                                                          : "trailing bytes after the .npy data: ") +
                              std::to_string(data_bytes) + " bytes for shape (" + dims + "), which needs " +
                              std::to_string(count * sizeof(float)));
    a.data.resize(size_t(count));
    if (!in.read(reinterpret_cast<char*>(a.data.data()), std::streamsize(count * sizeof(float))))
        throw Error(path, "truncated .npy data");
    return a;
}

} // namespace gafx
