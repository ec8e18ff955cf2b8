#include "models/safetensors.h"

#include "core/atomic_file.h"
#include "core/error.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>

namespace gafx::models {
namespace {

const char* kFix = "give a .safetensors file or a state dict saved with torch.save (PyTorch >= 1.6)";
// The safetensors specification's own limit on the JSON header (docs/formats.md).
constexpr uint64_t kMaxSafetensorsHeader = 100u << 20;

torch::Dtype safetensors_dtype(const std::string& d, const std::string& path, const std::string& name) {
    static const std::map<std::string, torch::Dtype> m = {
        {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16}, {"F64", torch::kFloat64},
        {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},     {"I8", torch::kInt8},
        {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
    auto it = m.find(d);
    if (it == m.end()) throw Error(path, "tensor '" + name + "' has unsupported dtype " + d);
    return it->second;
}

} // namespace

StateDict parse_safetensors(const std::vector<char>& bytes, const std::string& path,
                            std::map<std::string, std::string>* metadata) {
    uint64_t n = 0;
    if (bytes.size() < 8) throw Error(path, "file too short for safetensors", kFix);
    std::memcpy(&n, bytes.data(), 8); // little-endian, as the format specifies and x86 is
    if (n > bytes.size() - 8) throw Error(path, "safetensors header runs past the end of the file (truncated?)", kFix);
    if (n > kMaxSafetensorsHeader)
        throw Error(path, "safetensors header of " + std::to_string(n) + " bytes (the format allows " +
                              std::to_string(kMaxSafetensorsHeader) + ")", kFix);
    const nlohmann::json header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n), nullptr, false);
    if (!header.is_object()) throw Error(path, "safetensors header is not valid JSON", kFix);
    const char* data = bytes.data() + 8 + n;
    const size_t data_size = bytes.size() - 8 - n;
    StateDict out;
    std::string name;
    try {
        for (auto it = header.begin(); it != header.end(); ++it) {
            name = it.key();
            if (name == "__metadata__") {
                if (metadata && it.value().is_object())
                    for (auto m = it.value().begin(); m != it.value().end(); ++m)
                        if (m.value().is_string()) (*metadata)[m.key()] = m.value().get<std::string>();
                continue;
            }
            const auto& v = it.value();
            if (!v.is_object()) throw Error(path, "tensor '" + name + "' is not described by an object", kFix);
            const auto dtype = safetensors_dtype(v.at("dtype").get<std::string>(), path, name);
            // Whole numbers only: nlohmann converts 1e23 or 0.5 to an integer type with a cast
            // that is undefined past its range (found by fuzz_safetensors).
            const auto whole = [&](const char* key) {
                const auto& list = v.at(key);
                if (!list.is_array()) return list; // get<> below reports it as malformed
                for (const auto& x : list)
                    if (!x.is_number_integer())
                        throw Error(path, "tensor '" + name + "': " + key + " holds " + x.dump() + ", not a whole number", kFix);
                return list;
            };
            const auto shape = whole("shape").get<std::vector<int64_t>>();
            const auto& offsets = whole("data_offsets");
            for (const auto& x : offsets)
                if (!x.is_number_unsigned())
                    throw Error(path, "tensor '" + name + "' has a negative data offset", kFix);
            const auto off = offsets.get<std::vector<uint64_t>>();
            if (off.size() != 2 || off[1] < off[0] || off[1] > data_size)
                throw Error(path, "tensor '" + name + "' lies outside the file (truncated?)", kFix);
            // The shape's size, overflow-checked, must be the bytes the offsets give before
            // anything is allocated for it.
            const uint64_t item = uint64_t(c10::elementSize(dtype));
            uint64_t want = item;
            std::string dims;
            for (int64_t d : shape) {
                dims += (dims.empty() ? "" : ", ") + std::to_string(d);
                if (d < 0) throw Error(path, "tensor '" + name + "' has a negative dimension (" + dims + ")", kFix);
                want = d == 0 ? 0 : want > data_size / uint64_t(d) ? data_size + 1 : want * uint64_t(d);
            }
            if (shape.size() > 64) throw Error(path, "tensor '" + name + "' has " + std::to_string(shape.size()) + " dimensions", kFix);
            if (want != off[1] - off[0])
                throw Error(path, "tensor '" + name + "' has " + std::to_string(off[1] - off[0]) + " bytes for shape [" +
                                      dims + "]" + (want > data_size ? ", more than the file holds" : ""), kFix);
            const char* src = data + off[0];
            if (dtype == torch::kBool)
                for (uint64_t i = 0; i < want; ++i)
                    if (static_cast<unsigned char>(src[i]) > 1)
                        throw Error(path, "tensor '" + name + "' is BOOL but holds a byte that is neither 0 nor 1", kFix);
            auto t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
            // A tensor with a zero dimension has no storage: data_ptr() is null, and memcpy from or to
            // null is undefined even for 0 bytes (fuzz_safetensors).
            if (want > 0) std::memcpy(t.data_ptr(), src, size_t(want));
            out.emplace_back(name, t);
        }
    } catch (const Error&) {
        throw;
    } catch (const nlohmann::json::exception& e) {
        throw Error(path, "malformed safetensors header at '" + name + "': " + e.what(), kFix);
    } catch (const std::bad_alloc&) {
        throw Error(path, "out of memory reading tensor '" + name + "'", kFix);
    } catch (const std::exception& e) { // c10 underneath
        throw Error(path, "cannot read tensor '" + name + "': " + e.what(), kFix);
    }
    // The JSON object is sorted by name; tensors are stored in offset order, which is the
    // writer's order. Either is fine for matching by name.
    return out;
}

void write_safetensors(const std::string& path, const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata) {
    static const std::map<torch::Dtype, const char*> names = {
        {torch::kFloat32, "F32"}, {torch::kFloat16, "F16"}, {torch::kBFloat16, "BF16"}, {torch::kFloat64, "F64"},
        {torch::kInt64, "I64"},   {torch::kInt32, "I32"},   {torch::kInt16, "I16"},     {torch::kInt8, "I8"},
        {torch::kUInt8, "U8"},    {torch::kBool, "BOOL"}};
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::vector<torch::Tensor> data;
    uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {
        const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
        auto it = names.find(t.scalar_type());
        if (it == names.end()) throw Error(path, "tensor '" + name + "' has a dtype safetensors cannot hold");
        const uint64_t bytes = uint64_t(t.nbytes());
        header[name] = {{"dtype", it->second}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        data.push_back(t);
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' '); // the format aligns the data to 8 bytes
    write_file_atomic(path, [&](const auto& write) {
        const uint64_t n = text.size();
        write(&n, 8);
        write(text.data(), text.size());
        for (const auto& t : data) write(t.data_ptr(), size_t(t.nbytes()));
    });
}

} // namespace gafx::models
